import Foundation
import MLShCommon
import MLShEngine
import MLShModels
import MLShMonitor
import MLShStore

/// How well a served version does on the rows whose true labels were fed back: over its
/// latest `window` labeled rows, rmse, mae and r2 (regression) or accuracy and f1
/// (classification; f1 of the positive class for two classes, else macro; auc too for
/// two classes), with the number of labeled rows they are computed on.
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
        return of(model, rows: rows)
    }

    /// The quality of `model` on labeled rows (auc when every row kept its positive-class
    /// probability).
    static func of(_ model: ServedModel, rows: [LabeledRow]) -> LiveQuality {
        let predicted = rows.map { (try? JSONParser.parse($0.prediction)) ?? .null }
        let actual = rows.map { (try? JSONParser.parse($0.label)) ?? .null }
        let scores = rows.compactMap(\.score)
        return LiveQuality(labeled: rows.count, metrics: rows.isEmpty ? [] : QualityFigures.of(
            model.model, actual: actual, predicted: predicted, positiveProbability: scores.count == rows.count ? scores : nil))
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

extension QualityFigures {
    /// A model's figures on logged requests whose labels were fed back: their inputs
    /// answered as a server answers them (a missing or mistyped input is an error).
    public static func of(_ model: FittedModel, requests: [RequestRecord]) throws(ServeError) -> [(String, Double)] {
        let served = ServedModel(name: "holdout", version: 0, model: model)
        let rows: [JSON] = requests.map { (try? JSONParser.parse($0.inputs)) ?? .object([]) }
        let answer = try served.answer(try Inputs.rows(.object([("rows", .array(rows))]), schema: served.schema))
        let actual = requests.map { r in r.label.flatMap { try? JSONParser.parse($0) } ?? .null }
        var positive: [Double]?
        if model.task == .classification, model.classes.count == 2, let p = answer.probabilities {
            let name = model.classes[1]
            positive = p.map { $0[name]?.double ?? .nan }
        }
        return of(model, actual: actual, predicted: answer.predictions, positiveProbability: positive)
    }
}
