import CLapack
import Foundation

/// Cluster centres, k × features, row-major.
public struct KMeansState: Codable, Sendable, Equatable {
    public var centers: [Double]
    public var k: Int
    public var features: Int
    public var inertia: Double
}

/// Assigns each row to its nearest centre (BLAS distances, both cores); returns labels,
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
        var rng = ModelRandom(seed: spec.seed, stream: UInt64(run))
        var centers = kmeansPlusPlus(x, k: k, rng: &rng)
        var labels: [Int32] = [], dist: [Double] = []
        for _ in 0..<300 {
            (labels, dist) = assignClusters(x, centers: centers, k: k)
            var sums = [Double](repeating: 0, count: k * p), counts = [Double](repeating: 0, count: k)
            for i in 0..<n {
                let c = Int(labels[i]); counts[c] += 1
                for j in 0..<p { sums[c * p + j] += x.data[i * p + j] }
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
            best = KMeansState(centers: centers, k: k, features: p, inertia: inertia)
        }
    }
    return best ?? KMeansState(centers: [], k: 0, features: p, inertia: 0)
}

func kmeansPlusPlus(_ x: Dense, k: Int, rng: inout ModelRandom) -> [Double] {
    let n = x.rows, p = x.cols
    var centers = [Double](repeating: 0, count: k * p)
    let trials = 2 + Int(log(Double(k)))
    func sqdist(_ i: Int, _ c: UnsafePointer<Double>) -> Double {
        var s = 0.0
        for j in 0..<p { let d = x.data[i * p + j] - c[j]; s += d * d }
        return s
    }
    let first = rng.below(n)
    for j in 0..<p { centers[j] = x.data[first * p + j] }
    var closest = [Double](repeating: 0, count: n)
    x.data.withUnsafeBufferPointer { xp in
        for i in 0..<n { closest[i] = sqdist(i, xp.baseAddress! + first * p) }
    }
    var pot = closest.reduce(0, +)
    for c in 1..<max(k, 1) {
        var cumsum = [Double](repeating: 0, count: n)
        var acc = 0.0
        for i in 0..<n { acc += closest[i]; cumsum[i] = acc }
        var bestCand = 0, bestPot = Double.infinity
        var bestDist: [Double] = []
        for _ in 0..<trials {
            let r = rng.uniform() * pot
            var lo = 0, hi = n - 1
            while lo < hi { let mid = (lo + hi) / 2; if cumsum[mid] < r { lo = mid + 1 } else { hi = mid } }
            let cand = lo
            var newDist = closest
            var s = 0.0
            x.data.withUnsafeBufferPointer { xp in
                let cp = xp.baseAddress! + cand * p
                for i in 0..<n { let d = sqdist(i, cp); if d < newDist[i] { newDist[i] = d }; s += newDist[i] }
            }
            if s < bestPot { bestPot = s; bestCand = cand; bestDist = newDist }
        }
        for j in 0..<p { centers[c * p + j] = x.data[bestCand * p + j] }
        closest = bestDist; pot = bestPot
    }
    return centers
}
