import MLShCommon
import MLShEngine
import MLShModels
import MLShMonitor
import MLShStore
import Synchronization

/// A request the server refuses: the HTTP status, a stable code and a message, plus any
/// details (such as the columns that do not match the schema) for the JSON error body.
public struct ServeError: Error, Sendable {
    public var status: Int
    public var code: String
    public var message: String
    public var details: [(String, JSON)] = []

    public init(_ status: Int, _ code: String, _ message: String, details: [(String, JSON)] = []) {
        self.status = status; self.code = code; self.message = message; self.details = details
    }

    /// `{"error": {"code": ..., "message": ..., ...details}}`.
    public var body: JSON {
        .object([("error", .object([("code", .string(code)), ("message", .string(message))] + details))])
    }
}

/// One registered model version as the server answers with it.
public final class ServedModel: Sendable {
    public let name: String
    public let version: Int64
    public let model: FittedModel
    /// The input schema the server enforces: the model's training feature columns.
    public let schema: InputSchema
    /// The training sample (kept in the model file) prepared for scoring request windows;
    /// nil for models saved before mlsh kept one.
    let driftReference: DriftReference?

    /// `name@version`, built once: every answer names it.
    public let label: String
    /// The training sample, parsed once.
    let reference: Table?
    /// Fitted on the training sample on first use (`anomalyDetector`).
    private let detector = Mutex<AnomalyDetector??>(nil)

    /// An isolation forest fitted on the training sample, made once; nil without a sample.
    var anomalyDetector: AnomalyDetector? {
        if let made = detector.withLock({ $0 }) { return made }
        let made = reference.flatMap { AnomalyDetector(reference: $0) }
        detector.withLock { $0 = .some(made) }
        return made
    }

    public init(name: String, version: Int64, model: FittedModel) {
        self.name = name; self.version = version; self.model = model
        label = "\(name)@\(version)"
        let schema = InputSchema(model.features)
        self.schema = schema
        reference = LoggedInputs.trainingSample(model)
        driftReference = reference.map { DriftReference($0) }
    }

    /// A registered version (`name@N`, `name@alias`, `name@latest`) loaded from a store.
    public static func load(_ version: ModelVersionRecord, from store: Store) throws(StoreError) -> ServedModel {
        ServedModel(name: version.name, version: version.version, model: try store.model(version.artifact))
    }

    /// The schema as `/v1/models` lists it.
    public var schemaJSON: JSON {
        .array(schema.columns.map { .object([("name", .string($0.name)), ("type", .string($0.dtype.rawValue))]) })
    }

    /// What the model answered for a table of request rows.
    public struct Answer: Sendable {
        /// One per row: a number (regression, cluster id) or a class label.
        public var predictions: [JSON]
        /// Classifiers: one object of class probabilities per row.
        public var probabilities: [JSON]?
        /// Outlier detectors: each row's score (lower is more abnormal).
        public var scores: [JSON]? = nil
        /// Two-class classifiers: each row's probability of the positive (second) class,
        /// which the request log keeps for live AUC.
        public var positive: [Double]? = nil
    }

    /// Predicts a table already checked against the schema; model errors (a NaN the
    /// model cannot take, say) are 422s naming the column.
    public func answer(_ input: Table) throws(ServeError) -> Answer {
        let out: [(name: String, column: Column)]
        do { out = try model.predictions(input) } catch {
            throw ServeError(422, "invalid_input", error.message)
        }
        guard let first = out.first else { throw ServeError(500, "internal", "the model gave no prediction column") }
        let predictions: [JSON]
        switch first.column.storage {
        case .float(let v): predictions = v.map { .number($0) }
        case .int(let v, _): predictions = v.map { .number(Double($0)) }
        case .bool(let v, _): predictions = v.map { .bool($0) }
        case .string(let codes, let dict):
            predictions = codes.map { $0 >= 0 && Int($0) < dict.count ? .string(dict[Int($0)]) : .null }
        }
        if model.task == .outlierDetection, case .float(let v)? = out.first(where: { $0.name == "score" })?.column.storage {
            return Answer(predictions: predictions, probabilities: nil, scores: v.map { .number($0) })
        }
        guard model.task == .classification else { return Answer(predictions: predictions, probabilities: nil) }
        // After the prediction, one probability column per class, in the model's class order.
        var perClass: [(String, [Double])] = []
        for (c, (_, column)) in zip(model.classes, out.dropFirst()) {
            guard case .float(let p) = column.storage else { continue }
            perClass.append((c, p))
        }
        let probabilities: [JSON] = (0..<input.rowCount).map { r in .object(perClass.map { ($0.0, .number($0.1[r])) }) }
        return Answer(predictions: predictions, probabilities: probabilities,
                      positive: perClass.count == 2 ? perClass[1].1 : nil)
    }
}
