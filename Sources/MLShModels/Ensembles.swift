import Foundation
import MLShEngine

/// A decision tree (Gini / squared error) on 256 quantile bins per feature.
public struct TreeSpec: Codable, Sendable, Equatable {
    public var maxDepth: Int?, minLeaf: Int
    public init(maxDepth: Int? = nil, minLeaf: Int = 1) { self.maxDepth = maxDepth; self.minLeaf = minLeaf }
}

extension TreeSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "tree", tasks: [.regression, .classification],
        summary: "A decision tree (Gini or squared error): classification for a string or bool target, regression for numbers unless fit(..., task=\"classification\").",
        example: "tree(max_depth=4)",
        state: EnsembleState.self, defaults: TreeSpec(),
        settings: [.optionalInt("max_depth", \.maxDepth, min: 1, help: "the most levels of splits (none: no limit)"),
                   .int("min_leaf", \.minLeaf, min: 1, help: "the fewest training rows in a leaf")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .trees(fitTree(x, y: y.values, classIds: y.classIds, classes: y.classes.count, spec: self)))
    }
}

extension ModelSpec {
    /// A `tree()` model of these settings.
    public static func tree(_ spec: TreeSpec) -> ModelSpec { ModelSpec(spec) }
}

/// A random forest: bootstrap samples, √features per split for classification, all for regression.
public struct ForestSpec: Codable, Sendable, Equatable {
    public var trees: Int, maxDepth: Int?, minLeaf: Int, seed: UInt64
    public init(trees: Int = 100, maxDepth: Int? = nil, minLeaf: Int = 1, seed: UInt64 = 0) {
        self.trees = trees; self.maxDepth = maxDepth; self.minLeaf = minLeaf; self.seed = seed
    }
}

extension ForestSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "forest", tasks: [.regression, .classification],
        summary: "A random forest of histogram trees (a number target is regressed unless fit(..., task=\"classification\")).",
        example: "forest(trees=100, seed=0)",
        state: EnsembleState.self, defaults: ForestSpec(),
        settings: [.int("trees", \.trees, min: 1, help: "the number of trees"),
                   .optionalInt("max_depth", \.maxDepth, min: 1, help: "the most levels of splits per tree (none: no limit)"),
                   .int("min_leaf", \.minLeaf, min: 1, help: "the fewest training rows in a leaf"),
                   .seed(\.seed, help: "the seed of the bootstrap samples and of the features tried per split")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .trees(fitForest(x, y: y.values, classIds: y.classIds, classes: y.classes.count, spec: self)))
    }
}

extension ModelSpec {
    /// A `forest()` model of these settings.
    public static func forest(_ spec: ForestSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Gradient boosting on histograms (log-loss, softmax or squared error), Newton leaf values,
/// no L2. `subsample` < 1 grows each round's trees on that fraction of the rows, drawn without
/// replacement from `seed` (stochastic gradient boosting); at 1 (the default, as scikit-learn's
/// HistGradientBoosting, which never subsamples rows) every row is used and `seed` changes nothing.
public struct BoostSpec: Codable, Sendable, Equatable {
    public var rounds: Int, lr: Double, maxDepth: Int, minLeaf: Int, subsample: Double, seed: UInt64
    public init(rounds: Int = 100, lr: Double = 0.1, maxDepth: Int = 3, minLeaf: Int = 1, subsample: Double = 1, seed: UInt64 = 0) {
        self.rounds = rounds; self.lr = lr; self.maxDepth = maxDepth; self.minLeaf = minLeaf; self.subsample = subsample; self.seed = seed
    }

    enum CodingKeys: String, CodingKey { case rounds, lr, maxDepth, minLeaf, subsample, seed }

    /// Models saved before `subsample` existed read as 1 (every row, as they were fitted).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(rounds: try c.decode(Int.self, forKey: .rounds), lr: try c.decode(Double.self, forKey: .lr),
                  maxDepth: try c.decode(Int.self, forKey: .maxDepth), minLeaf: try c.decode(Int.self, forKey: .minLeaf),
                  subsample: try c.decodeIfPresent(Double.self, forKey: .subsample) ?? 1,
                  seed: try c.decode(UInt64.self, forKey: .seed))
    }
}

extension BoostSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "boost", tasks: [.regression, .classification],
        summary: "Gradient boosting on histograms (log-loss, softmax or squared error). subsample < 1 grows each round on that fraction of the rows, drawn from seed; at the default 1 every row is used and seed has no effect.",
        example: "boost(rounds=100, lr=0.1, subsample=0.8, seed=1)",
        state: EnsembleState.self, defaults: BoostSpec(),
        settings: [.int("rounds", \.rounds, min: 1, help: "the number of rounds (one tree per round, one per class above two classes)"),
                   .positive("lr", \.lr, help: "the learning rate each tree's values are scaled by"),
                   .int("max_depth", \.maxDepth, min: 1, help: "the most levels of splits per tree"),
                   .int("min_leaf", \.minLeaf, min: 1, help: "the fewest training rows in a leaf"),
                   .fraction("subsample", \.subsample, help: "the fraction of the rows each round grows on (1: every row)"),
                   .seed(\.seed, help: "the seed of the rows drawn when subsample < 1")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        let (state, raw) = fitBoost(x, y: y.values, classIds: y.classIds, classes: y.classes.count, spec: self)
        return FittedEstimator(state: .trees(state), trainingScores: raw)
    }
}

extension ModelSpec {
    /// A `boost()` model of these settings.
    public static func boost(_ spec: BoostSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Fitted trees of a forest or a boosted model.
public struct EnsembleState: Codable, Sendable, Equatable {
    /// Boosting: the initial raw score per output; forest: empty.
    public var initial: [Double]
    /// Forest: one tree each; boosting: `outputs` trees per round, in order.
    public var trees: [TreeModel]
    /// Raw outputs per row (class count for forests, 1 or class count for boosting).
    public var outputs: Int
    /// Impurity (or gain) importance per feature, normalised to sum 1.
    public var importance: [Double]
}

func normalised(_ v: [Double]) -> [Double] {
    let s = v.reduce(0, +)
    return s > 0 ? v.map { $0 / s } : v
}

/// Per-sample statistics for tree building on a target.
func treeStats(mode: TreeMode, y: [Double], classIds: [Int32], weights: [Double]?) -> [Double] {
    let n = max(y.count, classIds.count), S = mode.width
    var st = [Double](repeating: 0, count: n * S)
    for i in 0..<n {
        let w = weights?[i] ?? 1
        switch mode {
        case .gini(let k): st[i * S + Int(classIds[i])] = w; st[i * S + k] = w
        case .mse: st[i * S] = w * y[i]; st[i * S + 1] = w
        case .newton: break
        }
    }
    return st
}

/// One decision tree.
func fitTree(_ x: Dense, y: [Double], classIds: [Int32], classes: Int, spec: TreeSpec) -> EnsembleState {
    let binned = Binned(x)
    let mode: TreeMode = classes > 0 ? .gini(classes: classes) : .mse
    let params = TreeParams(maxDepth: spec.maxDepth ?? Int.max, minLeaf: Double(spec.minLeaf), mtry: x.cols, mode: mode, parallel: true)
    var b = TreeBuilder(binned: binned, params: params, stats: treeStats(mode: mode, y: y, classIds: classIds, weights: nil),
                        samples: (0..<Int32(x.rows)).map { $0 }, seed: 0, stream: 0, trackLeaves: false)
    let (tree, imp) = b.build()
    return EnsembleState(initial: [], trees: [tree], outputs: mode.outputs, importance: normalised(imp))
}

/// A random forest: bootstrap counts as weights, √p features per split for classification,
/// all for regression; trees grown in parallel, each from its own seeded stream.
func fitForest(_ x: Dense, y: [Double], classIds: [Int32], classes: Int, spec: ForestSpec) -> EnsembleState {
    let binned = Binned(x)
    let n = x.rows, p = x.cols
    let mode: TreeMode = classes > 0 ? .gini(classes: classes) : .mse
    let mtry = classes > 0 ? max(1, Int(Double(p).squareRoot())) : p
    let params = TreeParams(maxDepth: spec.maxDepth ?? Int.max, minLeaf: Double(spec.minLeaf), mtry: mtry, mode: mode, parallel: false)
    let count = spec.trees
    let treesBox = Unchecked(UnsafeMutablePointer<TreeModel?>.allocate(capacity: count))
    treesBox.value.initialize(repeating: nil, count: count)
    let impBox = Unchecked(UnsafeMutablePointer<[Double]>.allocate(capacity: count))
    impBox.value.initialize(repeating: [], count: count)
    let parts = chunks(count, workerCount)
    parallelFor(parts.count) { part in
        for t in parts[part] {
            var rng = SeededRandom(seed: spec.seed, modelStream: UInt64(t) &* 2 &+ 1)
            var w = [Double](repeating: 0, count: n)
            for _ in 0..<n { w[rng.nextInt(modulo: n)] += 1 }
            var samples: [Int32] = []
            samples.reserveCapacity(n)
            for i in 0..<n where w[i] > 0 { samples.append(Int32(i)) }
            var b = TreeBuilder(binned: binned, params: params,
                                stats: treeStats(mode: mode, y: y, classIds: classIds, weights: w),
                                samples: samples, seed: spec.seed, stream: UInt64(t) &* 2 &+ 2, trackLeaves: false)
            let (tree, imp) = b.build()
            treesBox.value[t] = tree
            impBox.value[t] = normalised(imp)
        }
    }
    var trees: [TreeModel] = []
    var importance = [Double](repeating: 0, count: p)
    for t in 0..<count {
        if let tree = treesBox.value[t] { trees.append(tree) }
        for j in 0..<min(p, impBox.value[t].count) { importance[j] += impBox.value[t][j] }
    }
    treesBox.value.deinitialize(count: count); treesBox.value.deallocate()
    impBox.value.deinitialize(count: count); impBox.value.deallocate()
    return EnsembleState(initial: [], trees: trees, outputs: mode.outputs, importance: normalised(importance))
}

/// Gradient boosting with Newton leaf values on histograms: squared error (regression),
/// log-loss (two classes, one tree per round) or softmax (one tree per class per round).
/// Also returns the raw scores of the training rows (n × outputs) that the fit keeps anyway:
/// exactly what predicting `x` sums (the same leaves, since `x <= edge` ⇔ bin ≤ edge's bin for
/// the finite values a design matrix holds, and the same order), without walking the trees again.
func fitBoost(_ x: Dense, y: [Double], classIds: [Int32], classes: Int, spec: BoostSpec) -> (state: EnsembleState, raw: [Double]) {
    let binned = Binned(x)
    trace("binning")
    let n = x.rows, p = x.cols
    let outs = classes == 0 || classes == 2 ? 1 : classes
    var initial = [Double](repeating: 0, count: outs)
    if classes == 0 {
        initial[0] = y.reduce(0, +) / Double(max(n, 1))
    } else {
        var cnt = [Double](repeating: 0, count: classes)
        for c in classIds { cnt[Int(c)] += 1 }
        if classes == 2 {
            let pr = min(max(cnt[1] / Double(n), 1e-15), 1 - 1e-15)
            initial[0] = log(pr / (1 - pr))
        } else {
            for k in 0..<classes { initial[k] = log(max(cnt[k] / Double(n), 1e-15)) }
        }
    }
    var raw = [Double](repeating: 0, count: n * outs)
    for i in 0..<n { for k in 0..<outs { raw[i * outs + k] = initial[k] } }
    let params = TreeParams(maxDepth: spec.maxDepth, minLeaf: Double(spec.minLeaf), mtry: p, mode: .newton(lambda: 0), parallel: true)
    var trees: [TreeModel] = []
    var importance = [Double](repeating: 0, count: p)
    var st = [Double](repeating: 0, count: n * 3)
    let all = (0..<Int32(n)).map { $0 }
    // Rows per round: all of them, or a seeded draw without replacement (selection sampling:
    // ascending, so the trees read rows in memory order).
    let drawn = spec.subsample < 1 ? min(n, max(1, Int((spec.subsample * Double(n)).rounded()))) : n
    var prob = [Double](repeating: 0, count: n * outs)
    for round in 0..<spec.rounds {
        var samples = all
        if drawn < n {
            var rng = SeededRandom(seed: spec.seed, modelStream: UInt64(round) &* 2 &+ 1)
            samples = []
            samples.reserveCapacity(drawn)
            for i in 0..<n where Double(drawn - samples.count) > rng.nextDouble() * Double(n - i) { samples.append(Int32(i)) }
        }
        if outs > 1 {
            for i in 0..<n {
                var m = -Double.infinity
                for k in 0..<outs { m = max(m, raw[i * outs + k]) }
                var s = 0.0
                for k in 0..<outs { let e = exp(raw[i * outs + k] - m); prob[i * outs + k] = e; s += e }
                for k in 0..<outs { prob[i * outs + k] /= s }
            }
        }
        for k in 0..<outs {
            // Gradients and hessians, rows split over the cores (each row independent).
            let rawNow = raw, probNow = prob
            st.withUnsafeMutableBufferPointer { sb in
                let stBox = Unchecked(sb.baseAddress!)
                let parts = chunks(n, n >= 20_000 ? workerCount : 1)
                parallelFor(parts.count) { part in
                    let sp = stBox.value
                    for i in parts[part] {
                        let f = rawNow[i * outs + k]
                        var g: Double, h: Double
                        if classes == 0 {
                            g = f - y[i]; h = 1
                        } else if classes == 2 {
                            let e = exp(-abs(f))
                            let pr = f >= 0 ? 1 / (1 + e) : e / (1 + e)
                            g = pr - (classIds[i] == 1 ? 1 : 0); h = max(pr * (1 - pr), 1e-16)
                        } else {
                            let pr = probNow[i * outs + k]
                            g = pr - (Int(classIds[i]) == k ? 1 : 0); h = max(pr * (1 - pr), 1e-16)
                        }
                        sp[i * 3] = g; sp[i * 3 + 1] = h; sp[i * 3 + 2] = 1
                    }
                }
            }
            var b = TreeBuilder(binned: binned, params: params, stats: st, samples: samples,
                                seed: spec.seed, stream: UInt64(round * outs + k), trackLeaves: drawn == n, identitySamples: drawn == n)
            var (tree, imp) = b.build()
            for v in tree.value.indices { tree.value[v] *= spec.lr }
            if drawn < n {
                // Rows left out of the draw have no leaf yet: every row walks the tree.
                tree.accumulateRows(x, column: k, of: outs, into: &raw)
            } else if let leafOf = b.leafOf {
                let values = tree.value
                raw.withUnsafeMutableBufferPointer { rb in
                    let rawBox = Unchecked(rb)
                    let parts = chunks(n, n >= 20_000 ? workerCount : 1)
                    parallelFor(parts.count) { part in
                        for i in parts[part] { let l = Int(leafOf[i]); if l >= 0 { rawBox.value[i * outs + k] += values[l] } }
                    }
                }
            }
            for j in 0..<p { importance[j] += imp[j] }
            trees.append(tree)
        }
    }
    return (EnsembleState(initial: initial, trees: trees, outputs: outs, importance: normalised(importance)), raw)
}

extension EnsembleState {
    /// Forest: averaged tree outputs. Boosting: raw scores mapped to probabilities (or values).
    func predict(_ x: Dense, boosted: Bool, classes: Int) -> Dense {
        var out = [Double](repeating: 0, count: x.rows * outputs)
        if boosted {
            for i in 0..<x.rows { for k in 0..<outputs { out[i * outputs + k] = initial[k] } }
            if outputs == 1 {
                accumulateSingleOutput(x, into: &out)
            } else {
                var col = [Double](repeating: 0, count: x.rows)
                for t in trees.indices {
                    let k = t % outputs
                    for i in 0..<x.rows { col[i] = 0 }
                    trees[t].accumulate(x, into: &col)
                    for i in 0..<x.rows { out[i * outputs + k] += col[i] }
                }
            }
            return boostedOutput(raw: out, rows: x.rows, classes: classes)
        }
        for tree in trees { tree.accumulate(x, into: &out) }
        let inv = 1 / Double(max(trees.count, 1))
        for i in out.indices { out[i] *= inv }
        return Dense(rows: x.rows, cols: outputs, data: out)
    }
}

extension EnsembleState {
    /// Boosting's raw scores (`rows` × outputs) as predictions: values, or class probabilities.
    func boostedOutput(raw out: [Double], rows: Int, classes: Int) -> Dense {
        if classes == 0 { return Dense(rows: rows, cols: 1, data: out) }
        if classes == 2 {
            var pr = Dense(rows: rows, cols: 2)
            for i in 0..<rows {
                let f = out[i]
                let s = f >= 0 ? 1 / (1 + exp(-f)) : exp(f) / (1 + exp(f))
                pr.data[i * 2] = 1 - s; pr.data[i * 2 + 1] = s
            }
            return pr
        }
        let z = Dense(rows: rows, cols: outputs, data: out)
        var pr = z
        softmaxRows(z, into: &pr)
        return pr
    }

    /// Adds every (single-output) tree's leaf value into `out[i]`, tree by tree in order, with the
    /// rows outermost so each row stays in cache while all the trees read it; rows split over the cores.
    func accumulateSingleOutput(_ x: Dense, into out: inout [Double]) {
        var feat: [Int32] = [], thr: [Double] = [], lf: [Int32] = [], rt: [Int32] = [], val: [Double] = []
        var roots: [Int] = []
        for t in trees {
            let base = Int32(feat.count)
            roots.append(Int(base))
            feat += t.feature; thr += t.threshold; val += t.value
            lf += t.left.map { $0 + base }; rt += t.right.map { $0 + base }
        }
        let p = x.cols, n = x.rows
        let parts = chunks(n, n >= 20_000 ? workerCount : 1)
        let xdata = x.data
        let f = Unchecked(feat), th = Unchecked(thr), l = Unchecked(lf), r = Unchecked(rt), v = Unchecked(val)
        let rootsBox = Unchecked(roots)
        out.withUnsafeMutableBufferPointer { ob in
            guard let obase = ob.baseAddress else { return }
            let outBox = Unchecked(obase)
            parallelFor(parts.count) { part in
                xdata.withUnsafeBufferPointer { xp in
                f.value.withUnsafeBufferPointer { fp in
                th.value.withUnsafeBufferPointer { tp in
                l.value.withUnsafeBufferPointer { lp in
                r.value.withUnsafeBufferPointer { rp in
                v.value.withUnsafeBufferPointer { vp in
                rootsBox.value.withUnsafeBufferPointer { rootp in
                    guard let xb = xp.baseAddress else { return }
                    for i in parts[part] {
                        let row = xb + i * p
                        var s = outBox.value[i]
                        for root in rootp {
                            var node = root
                            while fp[node] >= 0 {
                                node = Int(row[Int(fp[node])] <= tp[node] ? lp[node] : rp[node])
                            }
                            s += vp[node]
                        }
                        outBox.value[i] = s
                    }
                }}}}}}}
            }
        }
    }
}

extension EnsembleState: LearnedParameters {
    static let codingKey = "trees"

    func estimate(_ x: Dense, model: FittedState) -> Dense {
        predict(x, boosted: model.isBoosted, classes: model.task == .classification ? model.classes.count : 0)
    }

    /// One path per tree, at most a generous depth of 64.
    var scoringCost: Int { trees.reduce(0) { $0 + min($1.feature.count, 64) * max(1, $1.outputs) } }

    func validate(in model: FittedState) throws(ModelError) {
        let p = model.inputs.count, k = model.classes.count, boosted = model.isBoosted
        let outs = model.task == .classification ? (boosted ? (k == 2 ? 1 : k) : k) : 1
        guard outputs == outs, !trees.isEmpty, importance.count == p else { throw FittedState.inconsistent("ensemble shapes") }
        if boosted { guard initial.count == outs, trees.count % outs == 0 else { throw FittedState.inconsistent("boosting shapes") } }
        for t in trees {
            let n = t.feature.count
            let treeOuts = boosted ? 1 : outs
            guard n > 0, t.outputs == treeOuts, t.threshold.count == n, t.left.count == n, t.right.count == n,
                  t.value.count == n * treeOuts else { throw FittedState.inconsistent("tree node arrays differ in size") }
            for i in 0..<n where t.feature[i] >= 0 {
                // Children come after their parent, so a walk always ends.
                guard Int(t.feature[i]) < p, Int(t.left[i]) > i, Int(t.left[i]) < n, Int(t.right[i]) > i, Int(t.right[i]) < n
                else { throw FittedState.inconsistent("tree node \(i) points outside the tree") }
            }
        }
    }
}

extension EstimatorState {
    /// The parameters tree, forest and boost learn.
    public static func trees(_ state: EnsembleState) -> EstimatorState { EstimatorState(state) }
}
