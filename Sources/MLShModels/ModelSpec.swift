import MLShCommon
import MLShEngine

/// Any model's parameters: one estimator's spec (a `RidgeSpec`, ...), made by a call
/// (`ModelSpec.make`) or by the factory beside each spec (`.ridge(RidgeSpec(alpha: 1))`).
public struct ModelSpec: Codable, Sendable, Equatable, CustomStringConvertible, CaseCoded {
    /// The spec itself.
    let parameters: any Estimator

    /// Every estimator, in the order `:help` and the messages list them.
    public static let estimators: [EstimatorDescriptor] = [
        LinearSpec.descriptor, RidgeSpec.descriptor, LassoSpec.descriptor, LogisticSpec.descriptor,
        KMeansSpec.descriptor, TreeSpec.descriptor, ForestSpec.descriptor, BoostSpec.descriptor,
        KNNSpec.descriptor, NaiveBayesSpec.descriptor, IsolationForestSpec.descriptor,
    ]

    /// The spec if it is an `S` (`model.spec(as: ForestSpec.self)`), nil otherwise.
    public func spec<S>(as type: S.Type) -> S? { parameters as? S }

    /// The coding keys of every estimator.
    static let caseKeys = Set(estimators.map(\.codingKey))

    /// The model of spec `parameters`.
    init(_ parameters: any Estimator) { self.parameters = parameters }

    /// Two models are equal when their specs are of one type and equal.
    public static func == (a: ModelSpec, b: ModelSpec) -> Bool { a.parameters.isEqual(to: b.parameters) }

    /// Reads the form model files store, `{"<codingKey>": {"_0": <spec>}}` (see `CaseCoded`).
    public init(from decoder: any Decoder) throws {
        parameters = try ModelSpec.decodeCase(from: decoder) { key, payload, at in
            try ModelSpec.estimators.first { $0.codingKey == key }.map { try payload.decode($0.specType, forKey: at) }
        }
    }

    /// Writes `{"<codingKey>": {"_0": <spec>}}`.
    public func encode(to encoder: any Encoder) throws {
        try ModelSpec.encodeCase(descriptor.codingKey, parameters, to: encoder)
    }

    /// Every model name, as called in mlsh.
    public static let kinds = estimators.map(\.name)

    /// The estimator called `name`, if there is one.
    public static func descriptor(named name: String) -> EstimatorDescriptor? {
        estimators.first { $0.name == name }
    }

    /// Builds a spec from a call's name and named settings; unknown names and wrong types are errors.
    public static func make(kind: String, settings: [String: SettingValue]) throws(ModelError) -> ModelSpec {
        guard let d = descriptor(named: kind) else {
            throw .unknownKind(kind, accepted: kinds, suggestion: closestName(to: kind, in: kinds))
        }
        return try d.make(settings)
    }

    /// The estimator's descriptor.
    public var descriptor: EstimatorDescriptor { type(of: parameters).descriptor }

    /// The model's name as called in mlsh.
    public var kind: String { descriptor.name }

    /// Every setting with its value (defaults included), in call order.
    public var settings: [(String, SettingValue)] {
        let d = descriptor
        return Array(zip(d.settings.map(\.key), d.values(parameters)))
    }

    /// Checks the settings as a call would (a spec built in Swift is not checked when built);
    /// `fit` does this first, as scikit-learn checks its parameters in `fit`.
    func validate() throws(ModelError) {
        let d = descriptor
        try checkValues(d.values(parameters), kind: d.name, rows: d.settings)
    }

    /// The call as written in mlsh, e.g. `ridge(alpha=1.0)`.
    public var description: String {
        kind + "(" + settings.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + ")"
    }

    /// This spec with some settings replaced (used by `tune`).
    public func with(_ changes: [String: SettingValue]) throws(ModelError) -> ModelSpec {
        var d = Dictionary(settings, uniquingKeysWith: { a, _ in a })
        for (k, v) in changes { d[k] = v }
        return try ModelSpec.make(kind: kind, settings: d)
    }

    /// Whether the model only classifies (so an int target means classes).
    var onlyClassifies: Bool { descriptor.tasks == [.classification] }

    /// Whether the model only regresses.
    var onlyRegresses: Bool { descriptor.tasks == [.regression] }

    /// The task of a model fitted without a target (clustering or outlier detection), nil for supervised models.
    var unsupervisedTask: ModelTask? { descriptor.tasks.first { $0 == .clustering || $0 == .outlierDetection } }

    /// Refuses a `task=` the model cannot do (kmeans takes none: it has no target).
    func check(task: ModelTask?) throws(ModelError) {
        switch task {
        case .classification? where onlyRegresses:
            throw .invalid("\(kind)() only predicts numbers; task=\"classification\" needs a classifier such as logistic(), tree(), forest(), boost(), knn() or naive_bayes()")
        case .regression? where onlyClassifies:
            throw .invalid("\(kind)() only classifies; task=\"regression\" needs a regressor such as ridge(), tree(), forest(), boost() or knn()")
        case .clustering?, .outlierDetection?:
            throw .invalid("task= is \"classification\" or \"regression\"; \(kind)() \(unsupervisedTask == .outlierDetection ? "flags outliers" : "clusters") without it")
        default: break
        }
    }

    /// Whether the model can both classify and regress, so an int target's task is a choice.
    var choosesTask: Bool { descriptor.tasks.isSuperset(of: [.classification, .regression]) }
}

extension ModelTask {
    /// `task="classification" | "regression"` as written in a call.
    public static func parse(_ text: String) throws(ModelError) -> ModelTask {
        let accepted = ["classification", "regression"]
        guard accepted.contains(text), let t = ModelTask(rawValue: text) else {
            throw .invalid("task= must be \"classification\" or \"regression\", got \"\(text)\""
                           + (closestName(to: text, in: accepted).map { " (did you mean \"\($0)\"?)" } ?? ""))
        }
        return t
    }
}

/// The note `fit`, `cv` and `tune` show when an int target with few distinct values (20 at
/// most) is treated as a regression target without `task=` saying so; nil otherwise.
public func implicitRegressionNote(_ spec: PipelineSpec, on table: Table, target: String?, task: ModelTask?) -> String? {
    guard task == nil, let model = spec.model, model.choosesTask, let target, let i = table.index(of: target) else { return nil }
    let col = table.columns[i]
    guard case .int(let v, let m) = col.storage else { return nil }
    var seen = Set<Int64>()
    for r in v.indices where m.map({ $0[r] }) ?? true {
        seen.insert(v[r])
        if seen.count > implicitRegressionMaxClasses { return nil }
    }
    return "note: \(model.kind)() treats the int target \(target) (\(seen.count) distinct values) as regression; "
        + "pass task=\"classification\" to predict classes, or task=\"regression\" to keep numbers and silence this note"
}

/// An int target with at most this many distinct values may be classes.
let implicitRegressionMaxClasses = 20
