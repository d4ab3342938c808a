import MLShEngine
import MLShModels

/// Anomalies among the rows a version answered: an isolation forest (seed 0, scikit-learn's
/// defaults) fitted once on the model's training sample, kept in its model file, scoring the
/// monitor's window of recent inputs; the share flagged is what a server's `status` and
/// `/metrics` report, and what the UI charts per span of logged rows.
public final class AnomalyDetector: Sendable {
    public let model: FittedModel
    /// The sample's numeric columns the forest uses.
    public let features: [String]

    /// Fits the forest on `reference`'s numeric columns; nil when it has none, or fewer
    /// than two complete rows.
    public init?(reference: Table) {
        let numeric = reference.names.indices.filter {
            let c = reference.columns[$0]
            return (c.dtype == .int || c.dtype == .float) && !Drift.requestLogColumns.contains(reference.names[$0])
        }
        guard !numeric.isEmpty else { return nil }
        let names = numeric.map { reference.names[$0] }
        let complete = AnomalyDetector.completeRows(reference, names)
        guard complete.count >= 2,
              let spec = try? ModelSpec.make(kind: "isolation_forest", settings: [:]),
              let m = try? fit(PipelineSpec(spec), on: reference.take(complete), target: nil, features: names) else { return nil }
        model = m
        features = names
    }

    /// The rows with a value in every one of `names`.
    static func completeRows(_ t: Table, _ names: [String]) -> [Int] {
        let columns = names.compactMap { t.index(of: $0).map { t.columns[$0] } }
        return (0..<t.rowCount).filter { r in !columns.contains { $0.isMissing(r) } }
    }

    /// The share of `window`'s complete rows the forest flags as anomalous; nil when none.
    public func share(_ window: Table) -> Double? {
        guard features.allSatisfy({ window.index(of: $0) != nil }) else { return nil }
        let rows = AnomalyDetector.completeRows(window, features)
        guard !rows.isEmpty, let out = try? model.predictions(window.take(rows)),
              let flags = out.first(where: { $0.name == "prediction" })?.column,
              case .bool(let v, _) = flags.storage else { return nil }
        return Double(v.filter { $0 }.count) / Double(v.count)
    }
}
