import MLShCommon
import MLShEngine
import MLShModels

/// A model's quality on rows whose true labels are known, as live quality and retraining
/// gates report it: rmse, mae and r2 (regression); accuracy and f1 (f1 of the positive
/// class for two classes, else macro), and auc for two classes when the positive class's
/// probabilities are given (classification).
public enum QualityFigures {
    public static func of(_ model: FittedModel, actual: [JSON], predicted: [JSON], positiveProbability: [Double]? = nil) -> [(String, Double)] {
        var out: [(String, Double)] = []
        switch model.task {
        case .regression:
            let p = Column(floats: predicted.map { $0.double ?? .nan }), a = Column(floats: actual.map { $0.double ?? .nan })
            for (name, f) in [("rmse", MetricFunctions.rmse), ("mae", MetricFunctions.mae), ("r2", MetricFunctions.r2)] {
                if let v = try? f(a, p) { out.append((name, v)) }
            }
        default:
            let p = Column(strings: predicted.map(text)), a = Column(strings: actual.map(text))
            let classes = model.classes
            if let v = try? MetricFunctions.accuracy(actual: a, predicted: p) { out.append(("accuracy", v)) }
            if let v = try? MetricFunctions.f1(actual: a, predicted: p, positive: classes.count == 2 ? classes.last : nil) {
                out.append(("f1", v))
            }
            if classes.count == 2, let scores = positiveProbability, scores.count == actual.count,
               let v = try? MetricFunctions.auc(actual: a, score: Column(floats: scores), positive: classes.last) {
                out.append(("auc", v))
            }
        }
        return out
    }

    /// A label as the text classes are compared by.
    public static func text(_ j: JSON) -> String? {
        switch j {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return nil
        default: return JSONWriter.text(j)
        }
    }

    /// Figures as a JSON object.
    public static func json(_ figures: [(String, Double)]) -> String {
        JSONWriter.text(.object(figures.map { ($0.0, .number($0.1)) }))
    }

    /// Figures from a JSON object's text.
    public static func parse(_ text: String?) -> [(String, Double)] {
        guard let text, case .object(let members)? = try? JSONParser.parse(text) else { return [] }
        return members.compactMap { k, v in v.double.map { (k, $0) } }
    }
}
