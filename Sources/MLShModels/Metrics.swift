import Foundation
import MLShEngine

/// A model's scores on one table, in display order.
public struct Metrics: Sendable {
    public var task: ModelTask
    /// Regression: rmse mae r2. Classification: accuracy precision recall f1 auc logloss.
    /// Clustering: inertia silhouette (ari with a label column). Outlier detection:
    /// outlier_rate mean_score (auc with a label column).
    public var values: [(String, Double)]
    /// Classification: column `actual`, then one count column per predicted class.
    public var confusion: Table?

    public init(task: ModelTask, values: [(String, Double)], confusion: Table?) {
        self.task = task; self.values = values; self.confusion = confusion
    }

    /// A metric by name.
    public subscript(_ name: String) -> Double? { values.first { $0.0 == name }?.1 }

    /// Whether a lower value of the named metric is better (`best_run`, `tune`, `mlsh runs
    /// --sort` all rank by this), read from the words users put in metric names: the name
    /// is split on `_`, `-`, `.`, `/` and spaces, and the last part that names an error
    /// (`cv_rmse`, `val_loss`, `test-mae`, `valloss`) or a score (`test_auc`, `cv_r2`) decides;
    /// a `neg` part (`neg_mean_squared_error`, as scikit-learn names negated errors) turns it
    /// round. Nil when no part says either.
    public static func lowerIsBetter(_ name: String) -> Bool? {
        let parts = name.lowercased().split(whereSeparator: { "_-./ ".contains($0) }).map(String.init)
        let negated = parts.contains { $0 == "neg" || $0 == "negative" }
        for part in parts.reversed() {
            let lower: Bool
            if errorWords.contains(part) { lower = true }
            else if scoreWords.contains(part) { lower = false }
            else if errorWords.contains(where: { $0.count >= 3 && part.hasSuffix($0) }) { lower = true }
            else if scoreWords.contains(where: { $0.count >= 3 && part.hasSuffix($0) }) { lower = false }
            else { continue }
            return lower != negated
        }
        return nil
    }

    /// Words of metric names where lower is better.
    static let errorWords: Set<String> = [
        "rmse", "mse", "mae", "mape", "smape", "rmsle", "msle", "medae", "mad", "loss", "logloss", "nll", "error", "err",
        "errors", "inertia", "deviance", "brier", "hinge", "perplexity", "cost", "regret", "wer", "cer", "fpr", "fnr",
        "latency", "time", "seconds", "distance",
    ]
    /// Words of metric names where higher is better.
    static let scoreWords: Set<String> = [
        "accuracy", "acc", "auc", "roc", "f1", "f2", "fbeta", "r2", "precision", "recall", "prec", "ap", "map", "ndcg", "mrr",
        "silhouette", "ari", "nmi", "ami", "score", "iou", "dice", "bleu", "rouge", "specificity", "sensitivity", "tpr",
        "tnr", "kappa", "mcc", "likelihood", "elbo", "reward", "return", "throughput", "correlation", "corr", "pearson",
        "spearman", "top1", "top5", "hits", "gain", "explained",
    ]
}

func regressionMetrics(actual: [Double], predicted: [Double]) -> Metrics {
    Metrics(task: .regression, values: [("rmse", rmseOf(actual, predicted)), ("mae", maeOf(actual, predicted)),
                                        ("r2", r2Of(actual, predicted))], confusion: nil)
}

func rmseOf(_ a: [Double], _ p: [Double]) -> Double {
    var s = 0.0, n = 0.0
    for i in 0..<min(a.count, p.count) where !a[i].isNaN && !p[i].isNaN { s += (a[i] - p[i]) * (a[i] - p[i]); n += 1 }
    return n > 0 ? (s / n).squareRoot() : .nan
}

func maeOf(_ a: [Double], _ p: [Double]) -> Double {
    var s = 0.0, n = 0.0
    for i in 0..<min(a.count, p.count) where !a[i].isNaN && !p[i].isNaN { s += abs(a[i] - p[i]); n += 1 }
    return n > 0 ? s / n : .nan
}

func r2Of(_ a: [Double], _ p: [Double]) -> Double {
    var idx: [Int] = []
    for i in 0..<min(a.count, p.count) where !a[i].isNaN && !p[i].isNaN { idx.append(i) }
    guard !idx.isEmpty else { return .nan }
    var m = 0.0
    for i in idx { m += a[i] }
    m /= Double(idx.count)
    var ssr = 0.0, sst = 0.0
    for i in idx { ssr += (a[i] - p[i]) * (a[i] - p[i]); sst += (a[i] - m) * (a[i] - m) }
    return sst > 0 ? 1 - ssr / sst : (ssr == 0 ? 1 : 0)
}

/// Precision, recall and F1 for one class from label ids (-1 = unknown).
func prf(_ actual: [Int], _ pred: [Int], _ c: Int) -> (Double, Double, Double) {
    var tp = 0.0, fp = 0.0, fn = 0.0
    for i in 0..<actual.count {
        if pred[i] == c { if actual[i] == c { tp += 1 } else { fp += 1 } } else if actual[i] == c { fn += 1 }
    }
    let p = tp + fp > 0 ? tp / (tp + fp) : 0
    let r = tp + fn > 0 ? tp / (tp + fn) : 0
    let f = p + r > 0 ? 2 * p * r / (p + r) : 0
    return (p, r, f)
}

/// Scores from label ids and probabilities (n × classes); binary metrics use the last class
/// as positive, more classes use macro averages and one-vs-rest macro AUC.
func classificationMetrics(actual: [Int], proba: Dense, classes: [String]) -> Metrics {
    let k = classes.count, n = actual.count
    var pred = [Int](repeating: 0, count: n)
    for i in 0..<n {
        var best = 0
        for c in 1..<k where proba.data[i * k + c] > proba.data[i * k + best] { best = c }
        pred[i] = best
    }
    var correct = 0.0
    for i in 0..<n where actual[i] == pred[i] { correct += 1 }
    var precision = 0.0, recall = 0.0, f1 = 0.0, auc = 0.0
    if k == 2 {
        (precision, recall, f1) = prf(actual, pred, 1)
        auc = aucOf(actual.map { $0 == 1 }, proba.column(1))
    } else {
        var aucs = 0.0, aucCount = 0.0
        for c in 0..<k {
            let (p, r, f) = prf(actual, pred, c)
            precision += p / Double(k); recall += r / Double(k); f1 += f / Double(k)
            let a = aucOf(actual.map { $0 == c }, proba.column(c))
            if !a.isNaN { aucs += a; aucCount += 1 }
        }
        auc = aucCount > 0 ? aucs / aucCount : .nan
    }
    var ll = 0.0, lln = 0.0
    let eps = Double.ulpOfOne
    for i in 0..<n where actual[i] >= 0 {
        ll -= log(min(max(proba.data[i * k + actual[i]], eps), 1 - eps)); lln += 1
    }
    let confusion = confusionTable(actual: actual, predicted: pred, classes: classes)
    return Metrics(task: .classification,
                   values: [("accuracy", n > 0 ? correct / Double(n) : .nan), ("precision", precision), ("recall", recall),
                            ("f1", f1), ("auc", auc), ("logloss", lln > 0 ? ll / lln : .nan)],
                   confusion: confusion)
}

func confusionTable(actual: [Int], predicted: [Int], classes: [String]) -> Table? {
    let k = classes.count
    var counts = [[Int64]](repeating: [Int64](repeating: 0, count: k), count: k)
    for i in 0..<actual.count where actual[i] >= 0 && actual[i] < k && predicted[i] >= 0 && predicted[i] < k {
        counts[actual[i]][predicted[i]] += 1
    }
    var cols = [Column(strings: classes)]
    for c in 0..<k { cols.append(Column(ints: (0..<k).map { counts[$0][c] })) }
    return try? Table(names: ["actual"] + classes, columns: cols)
}

/// Area under the ROC curve (Mann–Whitney, ties averaged); NaN when one class is absent.
func aucOf(_ positive: [Bool], _ score: [Double]) -> Double {
    let n = positive.count
    var pairs = (0..<n).map { (score[$0], positive[$0]) }
    pairs.sort { $0.0 < $1.0 }
    var np = 0.0, sum = 0.0
    var i = 0
    while i < n {
        var j = i
        while j + 1 < n && pairs[j + 1].0 == pairs[i].0 { j += 1 }
        let r = Double(i + j) / 2 + 1
        for t in i...j where pairs[t].1 { np += 1; sum += r }
        i = j + 1
    }
    let nn = Double(n) - np
    guard np > 0, nn > 0 else { return .nan }
    return (sum - np * (np + 1) / 2) / (np * nn)
}

/// Adjusted Rand index between two labelings.
func adjustedRandIndex(_ a: [String], _ b: [String]) -> Double {
    var ia: [String: Int] = [:], ib: [String: Int] = [:]
    let ca = a.map { x in ia[x] ?? { let v = ia.count; ia[x] = v; return v }() }
    let cb = b.map { x in ib[x] ?? { let v = ib.count; ib[x] = v; return v }() }
    var table = [Int: Double]()
    var ra = [Double](repeating: 0, count: ia.count), rb = [Double](repeating: 0, count: ib.count)
    for i in 0..<ca.count { table[ca[i] * ib.count + cb[i], default: 0] += 1; ra[ca[i]] += 1; rb[cb[i]] += 1 }
    func c2(_ x: Double) -> Double { x * (x - 1) / 2 }
    let sumComb = table.values.reduce(0) { $0 + c2($1) }
    let sa = ra.reduce(0) { $0 + c2($1) }, sb = rb.reduce(0) { $0 + c2($1) }
    let total = c2(Double(ca.count))
    guard total > 0 else { return 1 }
    let expected = sa * sb / total
    let maxIndex = (sa + sb) / 2
    if maxIndex == expected { return 1 }
    return (sumComb - expected) / (maxIndex - expected)
}

/// Mean silhouette coefficient (Euclidean); on more than 5,000 rows, on a fixed seeded sample of 5,000.
func silhouette(_ x: Dense, labels: [Int32], k: Int) -> Double {
    var rows = Array(0..<x.rows)
    if rows.count > 5000 {
        var rng = SeededRandom(seed: 0)
        rng.shuffleByModulo(&rows)
        rows = Array(rows[0..<5000]).sorted()
    }
    let sub = x.rows(rows)
    let lab = rows.map { Int(labels[$0]) }
    let m = rows.count, p = x.cols
    var sizes = [Double](repeating: 0, count: k)
    for l in lab { sizes[l] += 1 }
    guard sizes.filter({ $0 > 0 }).count >= 2 else { return .nan }
    var total = 0.0
    var sums = [Double](repeating: 0, count: k)
    for i in 0..<m {
        for c in 0..<k { sums[c] = 0 }
        for j in 0..<m where j != i {
            var d = 0.0
            for f in 0..<p { let t = sub.data[i * p + f] - sub.data[j * p + f]; d += t * t }
            sums[lab[j]] += d.squareRoot()
        }
        let own = lab[i]
        guard sizes[own] > 1 else { continue }
        let a = sums[own] / (sizes[own] - 1)
        var b = Double.infinity
        for c in 0..<k where c != own && sizes[c] > 0 { b = min(b, sums[c] / sizes[c]) }
        total += (b - a) / max(a, b)
    }
    return total / Double(m)
}

/// Every metric as a function on columns (numbers or labels), like `accuracy(test.y, pred.prediction)`.
public enum MetricFunctions {
    static func numbers(_ a: Column, _ b: Column) throws(ModelError) -> ([Double], [Double]) {
        guard a.count == b.count else { throw .invalid("the columns have \(a.count) and \(b.count) values") }
        guard a.modelIsNumeric, b.modelIsNumeric else { throw .invalid("this metric needs numeric columns") }
        return (a.modelDoubles, b.modelDoubles)
    }

    static func labelIds(_ a: Column, _ b: Column, positive: String?) throws(ModelError) -> ([Int], [Int], [String]) {
        guard a.count == b.count else { throw .invalid("the columns have \(a.count) and \(b.count) values") }
        let la = a.modelLabels, lb = b.modelLabels
        var classes = Set(la.compactMap { $0 }).union(lb.compactMap { $0 }).sorted()
        if let positive, classes.count <= 2 {
            if !classes.contains(positive) { classes.append(positive) }
            classes = classes.filter { $0 != positive } + [positive]
        }
        var lookup: [String: Int] = [:]
        for (i, c) in classes.enumerated() { lookup[c] = i }
        return (la.map { $0.flatMap { lookup[$0] } ?? -1 }, lb.map { $0.flatMap { lookup[$0] } ?? -2 }, classes)
    }

    /// Root mean squared error.
    public static func rmse(actual: Column, predicted: Column) throws(ModelError) -> Double {
        let (a, p) = try numbers(actual, predicted); return rmseOf(a, p)
    }
    /// Mean absolute error.
    public static func mae(actual: Column, predicted: Column) throws(ModelError) -> Double {
        let (a, p) = try numbers(actual, predicted); return maeOf(a, p)
    }
    /// Coefficient of determination.
    public static func r2(actual: Column, predicted: Column) throws(ModelError) -> Double {
        let (a, p) = try numbers(actual, predicted); return r2Of(a, p)
    }
    /// Fraction of equal labels.
    public static func accuracy(actual: Column, predicted: Column) throws(ModelError) -> Double {
        let (a, p, _) = try labelIds(actual, predicted, positive: nil)
        guard !a.isEmpty else { return .nan }
        return Double(zip(a, p).filter { $0 == $1 }.count) / Double(a.count)
    }
    /// Precision (binary: of the positive class, the last label unless named; else macro).
    public static func precision(actual: Column, predicted: Column, positive: String? = nil) throws(ModelError) -> Double {
        try averaged(actual, predicted, positive) { $0.0 }
    }
    /// Recall (binary: of the positive class; else macro).
    public static func recall(actual: Column, predicted: Column, positive: String? = nil) throws(ModelError) -> Double {
        try averaged(actual, predicted, positive) { $0.1 }
    }
    /// F1 (binary: of the positive class; else macro).
    public static func f1(actual: Column, predicted: Column, positive: String? = nil) throws(ModelError) -> Double {
        try averaged(actual, predicted, positive) { $0.2 }
    }

    static func averaged(_ actual: Column, _ predicted: Column, _ positive: String?,
                         _ pick: ((Double, Double, Double)) -> Double) throws(ModelError) -> Double {
        let (a, p, classes) = try labelIds(actual, predicted, positive: positive)
        if classes.count <= 2 { return pick(prf(a, p, classes.count - 1)) }
        var s = 0.0
        let present = Set(a.filter { $0 >= 0 })
        for c in present { s += pick(prf(a, p, c)) }
        return present.isEmpty ? .nan : s / Double(present.count)
    }

    /// ROC AUC of a score column against binary labels (positive: the last label unless named).
    public static func auc(actual: Column, score: Column, positive: String? = nil) throws(ModelError) -> Double {
        guard actual.count == score.count else { throw .invalid("the columns have \(actual.count) and \(score.count) values") }
        guard score.modelIsNumeric else { throw .invalid("auc needs a numeric score column") }
        let labels = actual.modelLabels
        let classes = Set(labels.compactMap { $0 }).sorted()
        guard classes.count <= 2 else { throw .invalid("auc on columns needs two classes; got \(classes.count) (use evaluate for one-vs-rest)") }
        let pos = positive ?? classes.last ?? ""
        return aucOf(labels.map { $0 == pos }, score.modelDoubles)
    }

    /// Log loss of a positive-class probability column against binary labels.
    public static func logloss(actual: Column, probability: Column, positive: String? = nil) throws(ModelError) -> Double {
        guard actual.count == probability.count else { throw .invalid("the columns have \(actual.count) and \(probability.count) values") }
        let labels = actual.modelLabels
        let classes = Set(labels.compactMap { $0 }).sorted()
        let pos = positive ?? classes.last ?? ""
        let p = probability.modelDoubles
        let eps = Double.ulpOfOne
        var s = 0.0
        for i in 0..<p.count {
            let q = min(max(p[i], eps), 1 - eps)
            s -= labels[i] == pos ? log(q) : log(1 - q)
        }
        return p.isEmpty ? .nan : s / Double(p.count)
    }

    /// Adjusted Rand index between two labelings.
    public static func ari(actual: Column, predicted: Column) throws(ModelError) -> Double {
        guard actual.count == predicted.count else { throw .invalid("the columns have \(actual.count) and \(predicted.count) values") }
        return adjustedRandIndex(actual.modelLabels.map { $0 ?? "" }, predicted.modelLabels.map { $0 ?? "" })
    }

    /// The confusion table: column `actual`, then one count column per predicted label.
    public static func confusion(actual: Column, predicted: Column) throws(ModelError) -> Table {
        let (a, p, classes) = try labelIds(actual, predicted, positive: nil)
        guard let t = confusionTable(actual: a, predicted: p, classes: classes) else { throw .invalid("cannot build the confusion table") }
        return t
    }
}
