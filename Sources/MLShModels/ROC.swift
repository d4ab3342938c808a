import MLShEngine

/// One ROC curve: the points (false positive rate, true positive rate) from the highest
/// threshold to the lowest, starting at (0, 0) and ending at (1, 1), and the area under it.
public struct ROCCurve: Sendable, Equatable {
    /// The class scored as positive.
    public var label: String
    public var fpr: [Double]
    public var tpr: [Double]
    public var auc: Double
}

/// The ROC curve of `score` against `positive` labels: one point per distinct score
/// (ties move in one step, as scikit-learn's `roc_curve` does); nil when one side is absent.
func rocCurve(_ positive: [Bool], _ score: [Double], label: String) -> ROCCurve? {
    let rows = (0..<positive.count).filter { !score[$0].isNaN }.sorted { score[$0] > score[$1] }
    let p = Double(rows.filter { positive[$0] }.count), n = Double(rows.count) - p
    guard p > 0, n > 0 else { return nil }
    var fpr = [0.0], tpr = [0.0]
    var tp = 0.0, fp = 0.0, i = 0
    while i < rows.count {
        let s = score[rows[i]]
        while i < rows.count && score[rows[i]] == s {
            if positive[rows[i]] { tp += 1 } else { fp += 1 }
            i += 1
        }
        fpr.append(fp / n); tpr.append(tp / p)
    }
    return ROCCurve(label: label, fpr: fpr, tpr: tpr, auc: aucOf(rows.map { positive[$0] }, rows.map { score[$0] }))
}

extension FittedModel {
    /// ROC curves of a classifier on a table holding its target: for two classes one curve
    /// of the positive (last) class; for more, one one-vs-rest curve per class present.
    public func rocCurves(_ t: Table) throws(ModelError) -> [ROCCurve] {
        let (actual, proba) = try classifierOutput(t, verb: "roc")
        let k = classes.count
        let scored = k == 2 ? [1] : Array(0..<k)
        let known = actual.indices.filter { actual[$0] >= 0 }
        let curves = scored.compactMap { c in
            rocCurve(known.map { actual[$0] == c }, known.map { proba.data[$0 * k + c] }, label: classes[c])
        }
        guard !curves.isEmpty else {
            throw .invalid("roc needs rows of at least two classes of \(target ?? "the target") in the table")
        }
        return curves
    }

    /// The confusion counts of a classifier on a table holding its target:
    /// `counts[actual][predicted]` over `classes`.
    public func confusionCounts(_ t: Table) throws(ModelError) -> [[Double]] {
        let (actual, proba) = try classifierOutput(t, verb: "confusion_plot")
        let k = classes.count
        var counts = [[Double]](repeating: [Double](repeating: 0, count: k), count: k)
        for (i, a) in actual.enumerated() where a >= 0 && a < k {
            var best = 0
            for c in 1..<k where proba.data[i * k + c] > proba.data[i * k + best] { best = c }
            counts[a][best] += 1
        }
        guard counts.contains(where: { $0.contains { $0 > 0 } }) else {
            throw .invalid("confusion_plot needs rows with a known class of \(target ?? "the target") in the table")
        }
        return counts
    }

    /// The true class ids (-1 when missing or unknown) and the class probabilities.
    private func classifierOutput(_ t: Table, verb: String) throws(ModelError) -> ([Int], Dense) {
        guard task == .classification, classes.count >= 2 else {
            throw .invalid("\(verb) needs a fitted classifier; this \(kind)() model does \(task.rawValue)")
        }
        guard let target, let i = t.index(of: target) else {
            throw .invalid("\(verb) needs the target column \(target ?? "") in the table")
        }
        let proba = estimate(try design(t))
        return (classIndices(t.columns[i], classes: classes).map { Int($0) }, proba)
    }
}
