import MLShEngine

/// What a model predicts.
public enum ModelTask: String, Codable, Sendable, Equatable {
    case regression, classification, clustering
}

/// The learned parameters of one estimator: data only (the case names are the keys model
/// files store).
public enum EstimatorState: Codable, Sendable, Equatable {
    /// linear, ridge, lasso and logistic.
    case linear(LinearState)
    case naiveBayes(NaiveBayesState)
    case knn(KNNState)
    case kmeans(KMeansState)
    /// tree, forest and boost.
    case trees(EnsembleState)

    /// The parameters the case holds.
    var learned: any LearnedParameters {
        switch self {
        case .linear(let s): s
        case .naiveBayes(let s): s
        case .knn(let s): s
        case .kmeans(let s): s
        case .trees(let s): s
        }
    }
}

/// One kind of learned parameters (a case of `EstimatorState`): how they score a design
/// matrix, what scoring a row costs, and the checks a state read from a file must pass.
protocol LearnedParameters: Sendable {
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

    /// Rows kept in `reference`: Evidently's small-sample regime (KS and chi-squared tests).
    public static let referenceRows = 1000
}
