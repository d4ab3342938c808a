import MLShEngine

/// What a model predicts.
public enum ModelTask: String, Codable, Sendable, Equatable {
    case regression, classification, clustering
    /// Flagging unusual rows without a target (`isolation_forest`).
    case outlierDetection = "outlier_detection"
}

/// The learned parameters of one estimator: data only. Each kind (`LinearState`, ...) has
/// its factory beside it (`.linear(state)`); the estimators' descriptors name the kinds.
public struct EstimatorState: Codable, Sendable, Equatable, CaseCoded {
    /// The parameters themselves.
    let learned: any LearnedParameters

    /// The parameters if they are an `S` (`state.learned(as: KNNState.self)`), nil otherwise.
    public func learned<S>(as type: S.Type) -> S? { learned as? S }

    /// The state of parameters `learned`.
    init(_ learned: any LearnedParameters) { self.learned = learned }

    /// Two states are equal when their parameters are of one kind and equal.
    public static func == (a: EstimatorState, b: EstimatorState) -> Bool { a.learned.isEqual(to: b.learned) }

    /// Every kind of learned parameters, from the estimators that learn them.
    static var kinds: [any LearnedParameters.Type] { ModelSpec.estimators.map(\.stateType) }

    /// The coding keys of every kind.
    static let caseKeys = Set(kinds.map { $0.codingKey })

    /// Reads the form model files store, `{"<codingKey>": {"_0": <parameters>}}` (see `CaseCoded`).
    public init(from decoder: any Decoder) throws {
        learned = try EstimatorState.decodeCase(from: decoder) { key, payload, at in
            try EstimatorState.kinds.first { $0.codingKey == key }.map { try payload.decode($0, forKey: at) }
        }
    }

    /// Writes `{"<codingKey>": {"_0": <parameters>}}`.
    public func encode(to encoder: any Encoder) throws {
        try EstimatorState.encodeCase(type(of: learned).codingKey, learned, to: encoder)
    }
}

/// One kind of learned parameters (what an `EstimatorState` holds): how they score a design
/// matrix, what scoring a row costs, and the checks a state read from a file must pass.
protocol LearnedParameters: Codable, Equatable, Sendable {
    /// The key model files store the parameters under (`linear`, `trees`).
    static var codingKey: String { get }
    /// Raw output on a design matrix of `model`'s inputs: class probabilities (n × classes),
    /// values (n × 1) or cluster ids (n × 1).
    func estimate(_ x: Dense, model: FittedState) -> Dense
    /// Rough arithmetic operations to score one row, besides building it from its features.
    var scoringCost: Int { get }
    /// Throws `FittedState.inconsistent` when an array's size differs from what `model` implies.
    func validate(in model: FittedState) throws(ModelError)
}

/// Everything a fitted model consists of, as plain data a store can serialise and read back
/// (`FittedModel(state:)` rebuilds an identical model).
public struct FittedState: Codable, Sendable, Equatable {
    /// Bumped when the layout changes.
    public var formatVersion: Int
    public var spec: PipelineSpec
    public var task: ModelTask
    public var target: String?
    /// The input schema: column names and their dtypes (`DType.rawValue`).
    public var featureNames: [String]
    public var featureTypes: [String]
    /// Class labels in model order (sorted; for two classes the positive one last).
    public var classes: [String]
    public var transforms: [FittedTransform]
    /// The columns, after the transforms, that the estimator reads, in order.
    public var inputs: [String]
    public var estimator: EstimatorState
    public var trainingMetricNames: [String]
    public var trainingMetricValues: [Double]
    /// An evenly spaced sample of at most `FittedState.referenceRows` training rows of the
    /// feature columns, as CSV: the reference a server's drift monitor compares requests with.
    /// Absent in files written before it existed.
    public var reference: String? = nil
    /// Classifiers: the target column's dtype (`DType.rawValue`), which the `prediction`
    /// column takes (a bool target predicts bools). Absent in files written before it
    /// existed: their predictions are the class labels as strings.
    public var targetType: String? = nil
    /// The rows the estimator was fitted on. Absent in files written before it existed.
    public var trainingRows: Int? = nil

    /// Rows kept in `reference`: Evidently's small-sample regime (KS and chi-squared tests).
    public static let referenceRows = 1000
}
