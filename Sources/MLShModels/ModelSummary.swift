import MLShCommon
import MLShEngine

/// What a fitted model is, read from its state: the pipeline as written, the estimator, its
/// task, target, input features with their types, classes, hyperparameters, transforms,
/// metrics on the training data, the rows it was fitted on and the rows of training sample
/// kept for monitoring. The
/// prompt prints it for a model value; `mlsh ui` shows it for a run's model artifact.
public struct ModelSummary: Sendable {
    /// The pipeline as written (`standardize() >> ridge(alpha=1.0)`).
    public var spec: String
    /// The estimator (`ridge`), or `pipeline` for transforms alone.
    public var kind: String
    public var task: String
    public var target: String?
    public var features: [(name: String, type: String)]
    public var classes: [String]
    /// The estimator's settings, defaults included, as written.
    public var hyperparameters: [(name: String, value: String)]
    /// Each transform before the estimator, as written.
    public var transforms: [String]
    public var trainingMetrics: [(name: String, value: Double)]
    /// The rows the estimator was fitted on; nil in files written before mlsh kept it.
    public var trainingRows: Int?
    /// Training rows kept in the file as the drift and anomaly reference; nil in files
    /// written before mlsh kept them.
    public var referenceRows: Int?

    /// The summary as a JSON object.
    public var json: JSON {
        .object([
            ("spec", .string(spec)), ("kind", .string(kind)), ("task", .string(task)),
            ("target", target.map { .string($0) } ?? .null),
            ("features", .array(features.map { .object([("name", .string($0.name)), ("type", .string($0.type))]) })),
            ("classes", .array(classes.map { .string($0) })),
            ("hyperparameters", .object(hyperparameters.map { ($0.name, .string($0.value)) })),
            ("transforms", .array(transforms.map { .string($0) })),
            ("training_metrics", .object(trainingMetrics.map { ($0.name, .number($0.value)) })),
            ("training_rows", trainingRows.map { .number(Double($0)) } ?? .null),
            ("reference_rows", referenceRows.map { .number(Double($0)) } ?? .null),
        ])
    }
}

extension FittedModel {
    /// What this model is (`ModelSummary`).
    public var summary: ModelSummary {
        ModelSummary(
            spec: spec.description, kind: kind, task: task.rawValue, target: target,
            features: features.map { ($0.name, $0.dtype.rawValue) }, classes: classes,
            hyperparameters: (spec.model?.settings ?? []).map { ($0.0, $0.1.description) },
            transforms: spec.steps.map(\.description), trainingMetrics: trainingMetrics.map { ($0.0, $0.1) },
            trainingRows: state.trainingRows,
            referenceRows: state.reference.map { csv in max(csv.utf8.split(separator: UInt8(ascii: "\n")).count - 1, 0) })
    }
}
