import Testing
import MLShEngine
@testable import MLShModels

/// Sample weights in tree histograms. Forests pass bootstrap counts as weights; a tree grown with
/// integer weights must be exactly the tree grown on each row repeated that many times (unit
/// weights). A boosting speed-up once let binary gini (class 0, class 1, weight — the same width
/// as boosting's gradient, hessian, weight) take the boosting path that counts rows instead of
/// adding weights; forests on 20k rows fell to 0.53 training accuracy, and quality tests on easy
/// data did not notice. This compares whole trees, so any weight mistake on any node shows.
@Suite struct TreeWeightTests {
    /// `rows` rows of integer features in 0..<200 (so both tables bin identically), a noisy
    /// non-linear integer target, and bootstrap-like weights 0...3.
    struct Weighted {
        var x: Dense, y: [Double], ids: [Int32], w: [Double]
    }

    static func weighted(rows: Int, cols: Int, classes: Int, seed: UInt64) -> Weighted {
        var rng = SeededRandom(seed: seed)
        var x = Dense(rows: rows, cols: cols)
        var y = [Double](repeating: 0, count: rows), ids = [Int32](repeating: 0, count: rows)
        var w = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            for j in 0..<cols { x.data[i * cols + j] = Double(rng.nextInt(modulo: 200)) }
            let s = x.data[i * cols] + (x.data[i * cols + 1] > 100 ? 60 : -60) + Double(rng.nextInt(modulo: 120))
            let c = min(classes - 1, max(0, Int(s) * classes / 320))
            ids[i] = Int32(c); y[i] = Double(c * 3 + rng.nextInt(modulo: 3))
            w[i] = Double(rng.nextInt(modulo: 4))
        }
        return Weighted(x: x, y: y, ids: ids, w: w)
    }

    /// The same rows repeated `w` times (rows of weight 0 dropped), unit weights.
    static func repeated(_ d: Weighted) -> (x: Dense, y: [Double], ids: [Int32]) {
        let p = d.x.cols
        var xs: [Double] = [], ys: [Double] = [], ids: [Int32] = []
        for i in 0..<d.x.rows {
            for _ in 0..<Int(d.w[i]) {
                xs += d.x.data[(i * p)..<((i + 1) * p)]; ys.append(d.y[i]); ids.append(d.ids[i])
            }
        }
        return (Dense(rows: ys.count, cols: p, data: xs), ys, ids)
    }

    static func grow(_ x: Dense, stats: [Double], samples: [Int32], params: TreeParams) -> TreeModel {
        var b = TreeBuilder(binned: Binned(x), params: params, stats: stats, samples: samples,
                            seed: 7, stream: 1, trackLeaves: false)
        return b.build().0
    }

    /// The first node where two trees differ, described; nil when they are equal.
    static func firstDifference(_ a: TreeModel, _ b: TreeModel) -> String? {
        for i in 0..<min(a.feature.count, b.feature.count) {
            let va = a.value[(i * a.outputs)..<((i + 1) * a.outputs)], vb = b.value[(i * b.outputs)..<((i + 1) * b.outputs)]
            if a.feature[i] != b.feature[i] || a.threshold[i] != b.threshold[i] || va != vb {
                return "node \(i): feature \(a.feature[i]) ≤ \(a.threshold[i]) value \(Array(va)) vs feature \(b.feature[i]) ≤ \(b.threshold[i]) value \(Array(vb))"
            }
        }
        return a == b ? nil : "node counts \(a.feature.count) vs \(b.feature.count)"
    }

    /// Binary and three-class gini and squared error; all features with the large-node paths
    /// (thresholds lowered: histogram subtraction, partition, gather and histograms on every
    /// core — single trees' path) and with the defaults on one core; for gini also a random
    /// subset of features per split (forests' path; squared-error forests use all features, and a
    /// single weighted row stops a node before drawing features while its copies do not).
    @Test(arguments: [TreeMode.gini(classes: 2), .gini(classes: 3), .mse])
    func weightsEqualRepetition(mode: TreeMode) throws {
        let p = 8
        let d = Self.weighted(rows: 3_000, cols: p, classes: mode.outputs == 1 ? 2 : mode.outputs, seed: 1)
        let r = Self.repeated(d)
        #expect(Binned(d.x).edges == Binned(r.x).edges, "both tables bin alike")
        let weightedStats = treeStats(mode: mode, y: d.y, classIds: d.ids, weights: d.w)
        let unitStats = treeStats(mode: mode, y: r.y, classIds: r.ids, weights: nil)
        let drawn = (0..<Int32(d.x.rows)).filter { d.w[Int($0)] > 0 }
        var large = TreeParams(maxDepth: 8, minLeaf: 1, mtry: p, mode: mode, parallel: true)
        large.parallelMinRows = 500; large.parallelMinCells = 4_000; large.subtractionMinRows = 200
        var configs = [("large-node paths", large), ("defaults, one core", TreeParams(maxDepth: 8, minLeaf: 1, mtry: p, mode: mode, parallel: false))]
        if mode.outputs > 1 { configs.append(("3 features per split", TreeParams(maxDepth: 8, minLeaf: 1, mtry: 3, mode: mode, parallel: false))) }
        for (name, params) in configs {
            let a = Self.grow(d.x, stats: weightedStats, samples: drawn, params: params)
            let b = Self.grow(r.x, stats: unitStats, samples: (0..<Int32(r.ids.count)).map { $0 }, params: params)
            #expect(a.feature.count > 50, "a deep tree (\(a.feature.count) nodes)")
            #expect(Self.firstDifference(a, b) == nil, "\(mode), \(name): weighted tree differs from the repeated-rows tree")
        }
    }

    /// The forest end to end on binary data whose classes need many splits: with weights
    /// mishandled its training accuracy collapses, while a correct forest fits it closely.
    @Test func binaryForestOnBootstrapWeights() throws {
        let d = Self.weighted(rows: 3_000, cols: 8, classes: 2, seed: 2)
        let forest = fitForest(d.x, y: d.y, classIds: d.ids, classes: 2, spec: ForestSpec(trees: 5, maxDepth: 8, seed: 0))
        let pr = forest.predict(d.x, boosted: false, classes: 2)
        var right = 0
        for i in 0..<d.x.rows where (pr.data[i * 2 + 1] > 0.5 ? 1 : 0) == d.ids[i] { right += 1 }
        let accuracy = Double(right) / Double(d.x.rows)
        #expect(accuracy > 0.85, "forest training accuracy \(accuracy)")
    }
}

/// Boosting's training metrics come from the raw scores the fit keeps, not from predicting the
/// training rows again: they must be exactly what evaluating the model on those rows gives —
/// two classes, several, regression, and above 20,000 rows (metrics on an evenly spaced sample).
@Suite struct BoostTrainingScoreTests {
    @Test(arguments: [("classification", 2, 3_000), ("classification", 4, 3_000), ("regression", 0, 3_000), ("classification", 2, 20_003)])
    func trainingMetricsEqualEvaluation(kind: String, classes: Int, rows: Int) throws {
        let t = try synth(kind, rows: rows, features: 6, classes: max(classes, 2), noise: kind == "regression" ? 5 : 0.1, seed: 3)
        let m = try fit(PipelineSpec(.boost(BoostSpec(rounds: 10, maxDepth: 3))), on: t, target: "y", features: nil)
        let sampled = Set((0..<20_000).map { $0 * rows / 20_000 })
        let sample = rows > 20_000 ? try t.testRows { sampled.contains($0) } : t
        let evaluated = try m.evaluate(sample).values
        #expect(!m.trainingMetrics.isEmpty)
        for (name, value) in m.trainingMetrics {
            let e = try #require(evaluated.first { $0.0 == name }?.1, "metric \(name)")
            #expect(value == e, "\(kind) \(classes) classes, \(rows) rows: training \(name) \(value), evaluated \(e)")
        }
    }
}

/// Boosting's tree paths (root read in place, (g, h) histograms without counts, children's totals
/// from the parent's histogram, leaves at the depth limit assigned without a partition) against
/// the generic squared-error path: with gradient −y and hessian 1 the Newton gain and leaf value
/// are squared error's, so on integer targets (exact sums) the trees and every row's leaf agree.
@Suite struct NewtonPathTests {
    /// min_leaf 1 (histograms without a count lane) and 20 (with one).
    @Test(arguments: [2, 3, 5], [1, 20])
    func newtonEqualsSquaredError(maxDepth: Int, minLeaf: Int) throws {
        let d = TreeWeightTests.weighted(rows: 3_000, cols: 8, classes: 2, seed: 4)
        let n = d.x.rows
        var newtonStats = [Double](repeating: 1, count: n * 3)
        for i in 0..<n { newtonStats[i * 3] = -d.y[i] }
        let mseStats = treeStats(mode: .mse, y: d.y, classIds: d.ids, weights: nil)
        let binned = Binned(d.x), all = (0..<Int32(n)).map { $0 }
        for parallel in [false, true] {
            func grow(_ mode: TreeMode, _ stats: [Double], identity: Bool) -> (TreeModel, [Int32]?) {
                var params = TreeParams(maxDepth: maxDepth, minLeaf: Double(minLeaf), mtry: 8, mode: mode, parallel: parallel)
                params.parallelMinRows = 500; params.parallelMinCells = 4_000; params.subtractionMinRows = 200
                var b = TreeBuilder(binned: binned, params: params, stats: stats, samples: all, seed: 0, stream: 0,
                                    trackLeaves: true, identitySamples: identity)
                return (b.build().0, b.leafOf)
            }
            let (a, leavesA) = grow(.newton(lambda: 0), newtonStats, identity: true)
            let (b, leavesB) = grow(.mse, mseStats, identity: false)
            #expect(a.feature.count > 2 * maxDepth, "a grown tree (\(a.feature.count) nodes)")
            #expect(TreeWeightTests.firstDifference(a, b) == nil, "depth \(maxDepth), min_leaf \(minLeaf), parallel \(parallel)")
            let la = try #require(leavesA), lb = try #require(leavesB)
            let moved = zip(la, lb).filter { $0 != $1 }.count
            #expect(la.count == n && lb.count == n && moved == 0, "\(moved) rows in another leaf (depth \(maxDepth), min_leaf \(minLeaf), parallel \(parallel))")
        }
    }
}
