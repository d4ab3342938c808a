import Foundation
import MLShCommon
import MLShEngine
import MLShModels
import MLShStore

/// How well a served version does on the rows whose true labels were fed back: over its
/// latest `window` labeled rows, rmse, mae and r2 (regression) or accuracy and f1
/// (classification; f1 of the positive class for two classes, else macro), with the
/// number of labeled rows they are computed on.
public struct LiveQuality: Sendable {
    /// Labeled rows kept per version.
    public static let window = 1_000
    public var labeled: Int
    public var metrics: [(String, Double)]

    /// The quality of `model` as served by `deployment`; nil without a store.
    static func of(_ model: ServedModel, deployment: Int64?, store: Store?) -> LiveQuality? {
        guard let store, let deployment else { return nil }
        guard let rows = try? store.labeledRows(deployment: deployment, name: model.name, version: model.version,
                                                limit: window) else { return nil }
        var quality = LiveQuality(labeled: rows.count, metrics: [])
        guard !rows.isEmpty else { return quality }
        let predicted = rows.map { (try? JSONParser.parse($0.prediction)) ?? .null }
        let actual = rows.map { (try? JSONParser.parse($0.label)) ?? .null }
        switch model.model.task {
        case .regression:
            let p = Column(floats: predicted.map { $0.double ?? .nan }), a = Column(floats: actual.map { $0.double ?? .nan })
            for (name, f) in [("rmse", MetricFunctions.rmse), ("mae", MetricFunctions.mae), ("r2", MetricFunctions.r2)] {
                if let v = try? f(a, p) { quality.metrics.append((name, v)) }
            }
        default:
            func text(_ j: JSON) -> String? {
                switch j {
                case .string(let s): return s
                case .bool(let b): return b ? "true" : "false"
                case .null: return nil
                default: return JSONWriter.text(j)
                }
            }
            let p = Column(strings: predicted.map(text)), a = Column(strings: actual.map(text))
            let classes = model.model.classes
            if let v = try? MetricFunctions.accuracy(actual: a, predicted: p) { quality.metrics.append(("accuracy", v)) }
            if let v = try? MetricFunctions.f1(actual: a, predicted: p, positive: classes.count == 2 ? classes.last : nil) {
                quality.metrics.append(("f1", v))
            }
        }
        return quality
    }

    var json: JSON {
        .object([("labeled", .number(Double(labeled)))] + metrics.map { ($0.0, .number($0.1)) })
    }
}

extension PredictionService {
    /// Live quality of each served version, by label.
    func liveQuality() -> [(String, LiveQuality)] {
        routes.compactMap { r in LiveQuality.of(r.model, deployment: deployment, store: monitor.store).map { (r.model.label, $0) } }
    }
}
