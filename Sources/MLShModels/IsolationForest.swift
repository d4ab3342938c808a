import Foundation
import MLShEngine

/// scikit-learn's IsolationForest: each tree isolates a sample of `sample` rows (fewer when the
/// table is smaller) drawn without replacement, splitting on a random feature at a uniform
/// point between its smallest and largest value in the node, down to ⌈log₂ sample⌉ levels.
/// A row's score is `-2^(-mean path length / c(sample))` (scikit-learn's `score_samples`:
/// lower is more abnormal); it is an outlier when its score is below the offset, -0.5 for
/// `contamination="auto"` (nil here), else that quantile of the training scores.
public struct IsolationForestSpec: Codable, Sendable, Equatable {
    public var trees: Int, sample: Int, contamination: Double?, seed: UInt64
    public init(trees: Int = 100, sample: Int = 256, contamination: Double? = nil, seed: UInt64 = 0) {
        self.trees = trees; self.sample = sample; self.contamination = contamination; self.seed = seed
    }
}

extension IsolationForestSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "isolation_forest", codingKey: "isolationForest", tasks: [.outlierDetection],
        summary: "An isolation forest (scikit-learn's IsolationForest), fitted without a target: predict adds prediction (true for an outlier) and score (lower is more abnormal).",
        example: "isolation_forest(trees=100, sample=256, contamination=\"auto\", seed=0)",
        state: IsolationForestState.self, defaults: IsolationForestSpec(),
        settings: [.int("trees", \.trees, min: 1, help: "the number of trees"),
                   .int("sample", \.sample, min: 1, help: "the rows each tree isolates, drawn without replacement (at most the table's rows)"),
                   .autoOrFraction("contamination", \.contamination, max: 0.5,
                                   help: "the share of training rows flagged as outliers (\"auto\": rows scoring below -0.5)"),
                   .seed(\.seed, help: "the seed of the rows drawn and of the splits")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .isolationForest(fitIsolationForest(x, spec: self)))
    }
}

extension ModelSpec {
    /// An `isolation_forest()` model of these settings.
    public static func isolationForest(_ spec: IsolationForestSpec) -> ModelSpec { ModelSpec(spec) }
}

/// One isolation tree, its nodes in arrays (children after their parent).
public struct IsolationTree: Codable, Sendable, Equatable {
    /// The feature split on, -1 at a leaf.
    public var feature: [Int32]
    /// Rows with `x[feature] <= threshold` go left.
    public var threshold: [Double]
    public var left: [Int32]
    public var right: [Int32]
    /// At a leaf, its depth plus `c(training rows in the leaf)`; 0 elsewhere.
    public var pathLength: [Double]
}

/// A fitted isolation forest: its trees, the rows each isolated (`max_samples_`), and the
/// score below which a row is an outlier (`offset_`).
public struct IsolationForestState: Codable, Sendable, Equatable {
    public var trees: [IsolationTree]
    public var features: Int
    public var maxSamples: Int
    public var offset: Double
}

/// The average path length of an unsuccessful search in a binary search tree of `n` rows,
/// `c(n) = 2H(n-1) - 2(n-1)/n` with `H(i) ≈ ln i + γ`; `c(1) = 0`, `c(2) = 1`
/// (scikit-learn's `_average_path_length`).
func averagePathLength(_ n: Int) -> Double {
    if n <= 1 { return 0 }
    if n == 2 { return 1 }
    let m = Double(n - 1)
    return 2 * (log(m) + 0.5772156649015329) - 2 * m / Double(n)
}

/// Features whose range in a node is at most this are constant there (scikit-learn's `FEATURE_THRESHOLD`).
private let constantFeatureRange = 1e-7

/// Grows the trees in parallel, each from its own seeded stream, then sets the offset.
func fitIsolationForest(_ x: Dense, spec: IsolationForestSpec) -> IsolationForestState {
    let n = x.rows, p = x.cols
    let psi = max(1, min(spec.sample, n))
    let maxDepth = Int(ceil(log2(Double(max(psi, 2)))))
    let count = spec.trees
    let parts = chunks(count, workerCount)
    let built = filledArray(count: count, zero: IsolationTree(feature: [], threshold: [], left: [], right: [], pathLength: [])) { box in
        parallelFor(parts.count) { part in
            for t in parts[part] {
                var rng = SeededRandom(seed: spec.seed, modelStream: UInt64(t))
                box.value[t] = growIsolationTree(x, rows: drawWithoutReplacement(n, psi, &rng), maxDepth: maxDepth, rng: &rng)
            }
        }
    }
    var state = IsolationForestState(trees: built, features: p, maxSamples: psi, offset: -0.5)
    if let c = spec.contamination {
        state.offset = percentile(state.scores(x), c)
    }
    return state
}

/// `k` distinct indices of `0..<n` (Floyd's algorithm), in the order drawn.
func drawWithoutReplacement(_ n: Int, _ k: Int, _ rng: inout SeededRandom) -> [Int] {
    if k >= n { return Array(0..<n) }
    var seen = Set<Int>(minimumCapacity: k), out: [Int] = []
    out.reserveCapacity(k)
    for j in (n - k)..<n {
        let t = rng.nextInt(modulo: j + 1)
        let pick = seen.contains(t) ? j : t
        seen.insert(pick); out.append(pick)
    }
    return out
}

/// One tree on the training rows `rows`: each node splits on a feature drawn uniformly among
/// those not constant in it, at a uniform point in [min, max); a node of one row, of constant
/// features or at `maxDepth` is a leaf.
func growIsolationTree(_ x: Dense, rows: [Int], maxDepth: Int, rng: inout SeededRandom) -> IsolationTree {
    let p = x.cols, m = rows.count
    // The sampled rows, copied: nodes are ranges of `order` over this small matrix.
    var local = [Double](repeating: 0, count: m * p)
    for (i, r) in rows.enumerated() { for j in 0..<p { local[i * p + j] = x.data[r * p + j] } }
    var order = Array(0..<m)
    var tree = IsolationTree(feature: [], threshold: [], left: [], right: [], pathLength: [])
    struct Pending { var start: Int, end: Int, depth: Int, parent: Int, isLeft: Bool }
    var stack = [Pending(start: 0, end: m, depth: 0, parent: -1, isLeft: false)]
    var candidates = Array(0..<p)
    while let node = stack.popLast() {
        let id = tree.feature.count
        if node.parent >= 0 {
            if node.isLeft { tree.left[node.parent] = Int32(id) } else { tree.right[node.parent] = Int32(id) }
        }
        let size = node.end - node.start
        var split: (feature: Int, threshold: Double)?
        if node.depth < maxDepth && size >= 2 {
            var remaining = p
            while remaining > 0 && split == nil {
                let k = rng.nextInt(modulo: remaining)
                let f = candidates[k]
                var lo = Double.infinity, hi = -Double.infinity
                for i in node.start..<node.end { let v = local[order[i] * p + f]; lo = min(lo, v); hi = max(hi, v) }
                if hi <= lo + constantFeatureRange {
                    candidates.swapAt(k, remaining - 1)
                    remaining -= 1
                } else {
                    var threshold = lo + rng.nextDouble() * (hi - lo)
                    if threshold >= hi { threshold = lo }
                    split = (f, threshold)
                }
            }
        }
        guard let (f, threshold) = split else {
            tree.feature.append(-1); tree.threshold.append(0); tree.left.append(-1); tree.right.append(-1)
            tree.pathLength.append(Double(node.depth) + averagePathLength(size))
            continue
        }
        var mid = node.start
        for i in node.start..<node.end where local[order[i] * p + f] <= threshold {
            order.swapAt(i, mid); mid += 1
        }
        tree.feature.append(Int32(f)); tree.threshold.append(threshold); tree.left.append(-1); tree.right.append(-1)
        tree.pathLength.append(0)
        stack.append(Pending(start: mid, end: node.end, depth: node.depth + 1, parent: id, isLeft: false))
        stack.append(Pending(start: node.start, end: mid, depth: node.depth + 1, parent: id, isLeft: true))
    }
    return tree
}

/// numpy's default (linear) percentile of `values` at `q` in [0, 1].
func percentile(_ values: [Double], _ q: Double) -> Double {
    let s = values.sorted()
    guard let first = s.first else { return .nan }
    let pos = q * Double(s.count - 1)
    let i = min(Int(pos.rounded(.down)), s.count - 1), j = min(i + 1, s.count - 1)
    return s.count == 1 ? first : s[i] + (pos - Double(i)) * (s[j] - s[i])
}

extension IsolationForestState {
    /// scikit-learn's `score_samples` for each row: `-2^(-mean path length / c(maxSamples))`.
    /// The trees are laid end to end (children as absolute node numbers) for the walk.
    func scores(_ x: Dense) -> [Double] {
        let n = x.rows, p = x.cols
        let denominator = Double(trees.count) * averagePathLength(maxSamples)
        var roots: [Int] = [], feature: [Int32] = [], threshold: [Double] = [], next: [Int] = [], length: [Double] = []
        for t in trees {
            let base = feature.count
            roots.append(base)
            feature += t.feature; threshold += t.threshold; length += t.pathLength
            for i in t.left.indices { next.append(base + Int(t.left[i])); next.append(base + Int(t.right[i])) }
        }
        let parts = chunks(n, n >= 2048 ? workerCount : 1)
        let data = x.data
        let (fs, ts, ns, ls, rs) = (feature, threshold, next, length, roots)
        return filledArray(count: n, zero: 0.0) { out in
            parallelFor(parts.count) { part in
                data.withUnsafeBufferPointer { xp in
                fs.withUnsafeBufferPointer { f in
                ts.withUnsafeBufferPointer { th in
                ns.withUnsafeBufferPointer { nx in
                ls.withUnsafeBufferPointer { len in
                    for r in parts[part] {
                        var total = 0.0
                        for root in rs {
                            var i = root
                            while f[i] >= 0 { i = nx[2 * i + (xp[r * p + Int(f[i])] <= th[i] ? 0 : 1)] }
                            total += len[i]
                        }
                        out.value[r] = denominator > 0 ? -exp2(-total / denominator) : -0.5
                    }
                }
                }
                }
                }
                }
            }
        }
    }
}

extension IsolationForestState: LearnedParameters {
    static let codingKey = "isolationForest"

    /// n × 2: the outlier flag (1 or 0), then the score.
    func estimate(_ x: Dense, model: FittedState) -> Dense {
        let s = scores(x)
        var data = [Double](repeating: 0, count: s.count * 2)
        for (i, v) in s.enumerated() { data[2 * i] = v < offset ? 1 : 0; data[2 * i + 1] = v }
        return Dense(rows: s.count, cols: 2, data: data)
    }

    /// One path per tree, ⌈log₂ maxSamples⌉ levels deep.
    var scoringCost: Int { trees.count * Int(ceil(log2(Double(max(maxSamples, 2))))) }

    func validate(in model: FittedState) throws(ModelError) {
        guard model.task == .outlierDetection, features == model.inputs.count, !trees.isEmpty, maxSamples >= 1,
              offset.isFinite else { throw FittedState.inconsistent("isolation forest shapes") }
        for t in trees {
            let n = t.feature.count
            guard n > 0, t.threshold.count == n, t.left.count == n, t.right.count == n, t.pathLength.count == n
            else { throw FittedState.inconsistent("isolation tree node arrays differ in size") }
            for i in 0..<n where t.feature[i] >= 0 {
                // Children come after their parent, so a walk always ends.
                guard Int(t.feature[i]) < features, Int(t.left[i]) > i, Int(t.left[i]) < n,
                      Int(t.right[i]) > i, Int(t.right[i]) < n
                else { throw FittedState.inconsistent("isolation tree node \(i) points outside the tree") }
            }
        }
    }
}

extension EstimatorState {
    /// The parameters isolation_forest learns.
    public static func isolationForest(_ state: IsolationForestState) -> EstimatorState { EstimatorState(state) }
}

/// An outlier detector's metrics on its output (flag, score per row): the share of rows
/// flagged (`outlier_rate`), the mean score, and with true flags the ROC AUC of the score
/// (lower scores ranked as more abnormal).
func outlierMetrics(_ out: Dense, labels: [Bool]?) -> Metrics {
    let n = Double(max(out.rows, 1))
    let flags = out.column(0), scores = out.column(1)
    var values: [(String, Double)] = [("outlier_rate", flags.reduce(0, +) / n), ("mean_score", scores.reduce(0, +) / n)]
    if let labels, labels.contains(true), labels.contains(false) {
        values.append(("auc", aucOf(labels, scores.map { -$0 })))
    }
    return Metrics(task: .outlierDetection, values: values, confusion: nil)
}
