import MLShEngine

/// An estimator's parameters (a spec struct such as `RidgeSpec`): its descriptor names,
/// documents, checks and builds it, and `fit` learns its state.
protocol Estimator: Codable, Equatable, Sendable {
    static var descriptor: EstimatorDescriptor { get }
    /// Learns the estimator's state from the design matrix and the encoded target.
    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator
}

/// What an estimator's `fit` returns: its learned state and, when it has them at hand (boosting),
/// the training rows' raw scores, row-major, which the training metrics reuse.
struct FittedEstimator {
    var state: EstimatorState
    var trainingScores: [Double]? = nil
}

/// One estimator, described once: its name, what it predicts, its help, its settings, and
/// how a call's settings build its spec. The registry `ModelSpec.estimators` lists them all.
public struct EstimatorDescriptor: Sendable {
    /// The name it is called by (`naive_bayes`).
    public let name: String
    /// The key model files store its spec under (`naiveBayes`).
    let codingKey: String
    /// Its spec's type.
    let specType: any Estimator.Type
    /// The kind of parameters its `fit` learns.
    let stateType: any LearnedParameters.Type
    /// The tasks it does: regression and/or classification, or clustering alone.
    let tasks: Set<ModelTask>
    /// One sentence for `:help`.
    public let summary: String
    /// A call for `:help`.
    public let example: String
    /// Its settings in call order, each with its default (from `defaults`).
    public let settings: [SettingDescriptor]
    /// The spec from checked settings (every key present).
    let build: @Sendable ([String: SettingValue]) -> ModelSpec
    /// The spec's setting values in `settings` order.
    let values: @Sendable (any Estimator) -> [SettingValue]

    /// The descriptor of spec `S`: `defaults` is the spec a call without settings builds;
    /// `codingKey` is `name` unless given; `state` is the kind of parameters `fit` learns.
    init<S: Estimator>(name: String, codingKey: String? = nil, tasks: Set<ModelTask>, summary: String, example: String,
                       state: any LearnedParameters.Type, defaults: S, settings fields: [Setting<S>]) {
        self.name = name; self.codingKey = codingKey ?? name; specType = S.self; stateType = state
        self.tasks = tasks; self.summary = summary; self.example = example
        settings = fields.map { $0.descriptor(defaults: defaults) }
        build = { checked in
            var s = defaults
            for f in fields { if let v = checked[f.key] { f.set(&s, v) } }
            return ModelSpec(s)
        }
        values = { spec in (spec as? S).map { s in fields.map { $0.get(s) } } ?? [] }
    }

    /// Builds the spec of a call's settings; an unknown key, a wrong type or a value out of range is an error.
    public func make(_ settings: [String: SettingValue]) throws(ModelError) -> ModelSpec {
        build(try checkSettings(settings, kind: name, rows: self.settings))
    }
}
