import CLapack
import Foundation
import MLShEngine

/// k-means with k-means++ seeding; `inits` runs (default 1, like scikit-learn's `n_init="auto"`), best inertia kept.
public struct KMeansSpec: Codable, Sendable, Equatable {
    public var k: Int, seed: UInt64, inits: Int
    public init(k: Int = 8, seed: UInt64 = 0, inits: Int = 1) { self.k = k; self.seed = seed; self.inits = inits }
}

extension KMeansSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "kmeans", tasks: [.clustering],
        summary: "k-means clustering with k-means++ starts.", example: "kmeans(k=3, seed=0)",
        state: KMeansState.self, defaults: KMeansSpec(),
        settings: [.int("k", \.k, min: 1, help: "the number of clusters"),
                   .seed(\.seed, help: "the seed of the k-means++ starts"),
                   .int("inits", \.inits, min: 1, help: "runs from different starts; the one of least inertia is kept")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        guard k <= x.rows else { throw .kTooLarge(kind: "kmeans", k: k, rows: x.rows) }
        return FittedEstimator(state: .kmeans(fitKMeans(x, spec: self)))
    }
}

extension ModelSpec {
    /// A `kmeans()` model of these settings.
    public static func kmeans(_ spec: KMeansSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Cluster centres, k × features, row-major, with scikit-learn's `inertia_` (the sum of
/// squared distances of the training rows to their nearest centre) and `n_iter_` (the Lloyd
/// iterations of the kept start; absent in files written before it was kept).
public struct KMeansState: Codable, Sendable, Equatable {
    public var centers: [Double]
    public var k: Int
    public var features: Int
    public var inertia: Double
    public var nIter: Int? = nil
}

/// Assigns each row to its nearest centre (BLAS distances, in parallel); returns labels,
/// per-row squared distances.
func assignClusters(_ x: Dense, centers: [Double], k: Int) -> ([Int32], [Double]) {
    let n = x.rows, p = x.cols
    var cnorm = [Double](repeating: 0, count: k)
    for c in 0..<k { var s = 0.0; for j in 0..<p { s += centers[c * p + j] * centers[c * p + j] }; cnorm[c] = s }
    let block = 2048
    let cn = cnorm
    let nblocks = (n + block - 1) / block
    let parts = chunks(nblocks, workerCount)
    let xdata = x.data
    var dists: [Double] = []
    let labels = filledArray(count: n, zero: Int32(0)) { labelBox in
    dists = filledArray(count: n, zero: 0.0) { distBox in
        parallelFor(parts.count) { part in
            var d = [Double](repeating: 0, count: block * k)
            for b in parts[part] {
                let r0 = b * block, m = min(n, r0 + block) - r0
                xdata.withUnsafeBufferPointer { xp in
                    centers.withUnsafeBufferPointer { cp in
                        d.withUnsafeMutableBufferPointer { dp in
                            if p > 0 {
                                gemm(xp.baseAddress! + r0 * p, false, cp.baseAddress!, true, dp.baseAddress!,
                                     m: m, n: k, k: p, lda: p, ldb: p, ldc: k, alpha: -2)
                            }
                        }
                    }
                    for r in 0..<m {
                        var best = Double.infinity, bi = 0
                        for c in 0..<k { let v = d[r * k + c] + cn[c]; if v < best { best = v; bi = c } }
                        var xn = 0.0
                        let base = (r0 + r) * p
                        for j in 0..<p { xn += xp[base + j] * xp[base + j] }
                        labelBox.value[r0 + r] = Int32(bi)
                        distBox.value[r0 + r] = max(best + xn, 0)
                    }
                }
            }
        }
    }
    }
    return (labels, dists)
}

/// k-means: k-means++ seeding (scikit-learn's greedy variant, 2 + ⌊ln k⌋ trials), Lloyd
/// iterations until the centre shift falls under 1e-4 × mean feature variance; best of `inits`.
func fitKMeans(_ x: Dense, spec: KMeansSpec) -> KMeansState {
    let n = x.rows, p = x.cols, k = spec.k
    let means = x.columnMeans()
    var varSum = 0.0
    for i in 0..<n { for j in 0..<p { let d = x.data[i * p + j] - means[j]; varSum += d * d } }
    let tol = 1e-4 * varSum / Double(max(n * max(p, 1), 1))
    var best: KMeansState?
    for run in 0..<spec.inits {
        var rng = SeededRandom(seed: spec.seed, modelStream: UInt64(run))
        trace("kmeans setup")
        var centers = kmeansPlusPlus(x, k: k, rng: &rng)
        trace("kmeans++")
        var labels: [Int32] = [], dist: [Double] = []
        var iterations = 0
        for _ in 0..<300 {
            iterations += 1
            (labels, dist) = assignClusters(x, centers: centers, k: k)
            var sums = [Double](repeating: 0, count: k * p), counts = [Double](repeating: 0, count: k)
            x.data.withUnsafeBufferPointer { xp in
                sums.withUnsafeMutableBufferPointer { sp in
                    for i in 0..<n {
                        let c = Int(labels[i]); counts[c] += 1
                        let row = xp.baseAddress! + i * p, dst = sp.baseAddress! + c * p
                        for j in 0..<p { dst[j] += row[j] }
                    }
                }
            }
            // An empty cluster takes the point farthest from its centre.
            for c in 0..<k where counts[c] == 0 {
                var far = 0
                for i in 0..<n where dist[i] > dist[far] { far = i }
                for j in 0..<p { sums[c * p + j] = x.data[far * p + j] }
                counts[c] = 1; dist[far] = 0
            }
            var shift = 0.0
            for c in 0..<k {
                for j in 0..<p {
                    let v = sums[c * p + j] / counts[c]
                    shift += (v - centers[c * p + j]) * (v - centers[c * p + j])
                    centers[c * p + j] = v
                }
            }
            if shift <= tol { break }
        }
        (labels, dist) = assignClusters(x, centers: centers, k: k)
        let inertia = dist.reduce(0, +)
        if best.map({ inertia < $0.inertia }) ?? true {
            best = KMeansState(centers: centers, k: k, features: p, inertia: inertia, nIter: iterations)
        }
    }
    return best ?? KMeansState(centers: [], k: 0, features: p, inertia: 0)
}

/// k-means++ seeding as scikit-learn does it: each new centre is the best (lowest resulting
/// potential) of `2 + ⌊ln k⌋` candidates drawn proportionally to the squared distance. Distance
/// passes run in fixed row blocks on every core; block sums are added in block order.
func kmeansPlusPlus(_ x: Dense, k: Int, rng: inout SeededRandom) -> [Double] {
    let n = x.rows, p = x.cols
    var centers = [Double](repeating: 0, count: k * p)
    let trials = 2 + Int(log(Double(k)))
    let block = 4096
    let nblocks = (n + block - 1) / block
    let parts = chunks(nblocks, n >= 20_000 ? workerCount : 1)
    let xdata = x.data

    // ‖x_i‖², once; distances to candidates then come from one BLAS product per block.
    var xnorm = [Double](repeating: 0, count: n)
    xdata.withUnsafeBufferPointer { xp in
        for i in 0..<n { var d = 0.0; let row = xp.baseAddress! + i * p; for j in 0..<p { d += row[j] * row[j] }; xnorm[i] = d }
    }
    let xn = xnorm

    /// Squared distances of the block's rows to `cands` (block rows × cands), via −2 X Cᵀ + norms.
    @Sendable func blockDistances(_ xp: UnsafePointer<Double>, _ blk: Int, _ cands: [Int], _ cbuf: [Double], into d: inout [Double]) {
        let r0 = blk * block, m = min(n, r0 + block) - r0, t = cands.count
        d.withUnsafeMutableBufferPointer { dp in
            cbuf.withUnsafeBufferPointer { cp in
                if p > 0 {
                    gemm(xp + r0 * p, false, cp.baseAddress!, true, dp.baseAddress!, m: m, n: t, k: p, lda: p, ldb: p, ldc: t, alpha: -2)
                }
                for i in 0..<m {
                    for c in 0..<t { dp[i * t + c] = max(dp[i * t + c] + xn[r0 + i] + xn[cands[c]], 0) }
                }
            }
        }
    }

    /// For each candidate row, Σ_i min(closest_i, ‖x_i − x_cand‖²) (per block, then summed).
    func potentials(_ cands: [Int], closest: [Double]) -> [Double] {
        let m = cands.count
        var cbuf = [Double](repeating: 0, count: m * p)
        for (t, c) in cands.enumerated() { for j in 0..<p { cbuf[t * p + j] = xdata[c * p + j] } }
        let cb = cbuf
        let partial = filledArray(count: nblocks * m, zero: 0.0) { out in
            parallelFor(parts.count) { part in
                var d = [Double](repeating: 0, count: block * m)
                xdata.withUnsafeBufferPointer { xp in
                    for blk in parts[part] {
                        blockDistances(xp.baseAddress!, blk, cands, cb, into: &d)
                        let r0 = blk * block, rows = min(n, r0 + block) - r0
                        for t in 0..<m {
                            var sum = 0.0
                            for i in 0..<rows { sum += min(d[i * m + t], closest[r0 + i]) }
                            out.value[blk * m + t] = sum
                        }
                    }
                }
            }
        }
        var pots = [Double](repeating: 0, count: m)
        for blk in 0..<nblocks { for t in 0..<m { pots[t] += partial[blk * m + t] } }
        return pots
    }

    /// closest_i ← min(closest_i, ‖x_i − x_c‖²).
    func lower(_ closest: inout [Double], to c: Int) {
        let cb = Array(xdata[(c * p)..<((c + 1) * p)])
        closest.withUnsafeMutableBufferPointer { cbp in
            let box = Unchecked(cbp.baseAddress!)
            parallelFor(parts.count) { part in
                var d = [Double](repeating: 0, count: block)
                xdata.withUnsafeBufferPointer { xp in
                    for blk in parts[part] {
                        blockDistances(xp.baseAddress!, blk, [c], cb, into: &d)
                        let r0 = blk * block, rows = min(n, r0 + block) - r0
                        for i in 0..<rows where d[i] < box.value[r0 + i] { box.value[r0 + i] = d[i] }
                    }
                }
            }
        }
    }

    let first = rng.nextInt(modulo: n)
    for j in 0..<p { centers[j] = x.data[first * p + j] }
    var closest = [Double](repeating: .infinity, count: n)
    lower(&closest, to: first)
    var pot = 0.0
    for blk in 0..<nblocks {
        var s = 0.0
        for i in (blk * block)..<min(n, (blk + 1) * block) { s += closest[i] }
        pot += s
    }
    var cumsum = [Double](repeating: 0, count: n)
    for c in 1..<max(k, 1) {
        var acc = 0.0
        for i in 0..<n { acc += closest[i]; cumsum[i] = acc }
        var cands: [Int] = []
        for _ in 0..<trials {
            let r = rng.nextDouble() * pot
            var lo = 0, hi = n - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumsum[mid] < r { lo = mid + 1 } else { hi = mid } }
            cands.append(lo)
        }
        let pots = potentials(cands, closest: closest)
        var best = 0
        for t in 1..<cands.count where pots[t] < pots[best] { best = t }
        for j in 0..<p { centers[c * p + j] = x.data[cands[best] * p + j] }
        lower(&closest, to: cands[best])
        pot = pots[best]
    }
    return centers
}

extension KMeansState: LearnedParameters {
    static let codingKey = "kmeans"

    func estimate(_ x: Dense, model: FittedState) -> Dense {
        let (labels, _) = assignClusters(x, centers: centers, k: k)
        return Dense(rows: x.rows, cols: 1, data: labels.map { Double($0) })
    }

    var scoringCost: Int { centers.count }

    func validate(in model: FittedState) throws(ModelError) {
        guard model.task == .clustering, features == model.inputs.count, k >= 1, centers.count == k * features else {
            throw FittedState.inconsistent("kmeans centre shapes")
        }
        guard inertia >= 0, (nIter ?? 1) >= 1 else { throw FittedState.inconsistent("kmeans inertia or iteration count") }
    }
}

extension EstimatorState {
    /// The parameters kmeans learn.
    public static func kmeans(_ state: KMeansState) -> EstimatorState { EstimatorState(state) }
}
