import Foundation
import MLShEngine

/// A fitted decision tree, as flat node arrays. Node 0 is the root; a leaf has feature -1.
/// A row goes left when `x[feature] <= threshold`.
public struct TreeModel: Codable, Sendable, Equatable {
    public var feature: [Int32]
    public var threshold: [Double]
    public var left: [Int32]
    public var right: [Int32]
    /// `outputs` values per node: class probabilities, a mean, or a boosting leaf value.
    public var value: [Double]
    public var outputs: Int

    /// The leaf reached by row `r` of `x`.
    @inline(__always)
    func leaf(_ x: UnsafePointer<Double>) -> Int {
        var node = 0
        while feature[node] >= 0 {
            node = Int(x[Int(feature[node])] <= threshold[node] ? left[node] : right[node])
        }
        return node
    }
}

/// Features quantised to at most 256 bins each, column-major, with the raw thresholds
/// between bins (`x <= edges[j][b]` ⇔ bin ≤ b).
struct Binned: Sendable {
    var n: Int
    var p: Int
    var codes: [UInt8]
    var edges: [[Double]]

    init(_ x: Dense, maxBins: Int = 256) {
        let (c, e) = Binned.quantise(x, maxBins: maxBins)
        n = x.rows; p = x.cols; codes = c; edges = e
    }

    /// `a` in ascending order with each sorted value's original position: LSD radix sort (8-bit
    /// digits, stable) on order-preserving bit keys; the same order as `<` for non-NaN values, and
    /// much faster than a comparison sort for a binning pass.
    static func radixSorted(_ a: [Double]) -> (sorted: [Double], order: [Int32]) {
        let n = a.count
        let sign: UInt64 = 1 << 63
        var keys = [UInt64](repeating: 0, count: n), tmp = [UInt64](repeating: 0, count: n)
        var ord = (0..<Int32(n)).map { $0 }, ordTmp = [Int32](repeating: 0, count: n)
        var counts = [Int](repeating: 0, count: 256)
        keys.withUnsafeMutableBufferPointer { kb0 in
        tmp.withUnsafeMutableBufferPointer { tb0 in
        ord.withUnsafeMutableBufferPointer { ob0 in
        ordTmp.withUnsafeMutableBufferPointer { otb0 in
            counts.withUnsafeMutableBufferPointer { cb in
                var kb = kb0, tb = tb0, ob = ob0, otb = otb0
                for i in 0..<n {
                    let b = a[i].bitPattern
                    kb[i] = b & sign != 0 ? ~b : b | sign
                }
                var inPlace = true
                for pass in 0..<8 {
                    let shift = UInt64(pass * 8)
                    for c in 0..<256 { cb[c] = 0 }
                    for i in 0..<n { cb[Int((kb[i] >> shift) & 255)] += 1 }
                    if cb.contains(n) { continue }
                    var sum = 0
                    for c in 0..<256 { let t = cb[c]; cb[c] = sum; sum += t }
                    for i in 0..<n {
                        let k = kb[i], d = Int((k >> shift) & 255), at = cb[d]
                        tb[at] = k; otb[at] = ob[i]; cb[d] = at + 1
                    }
                    swap(&kb, &tb); swap(&ob, &otb)
                    inPlace.toggle()
                }
                // Leave the result in `keys` and `ord`.
                if !inPlace { for i in 0..<n { tb[i] = kb[i]; otb[i] = ob[i] } }
            }
        }}}}
        return (keys.map { k in Double(bitPattern: k & sign != 0 ? k & ~sign : ~k) }, ord)
    }

    static func quantise(_ x: Dense, maxBins: Int) -> ([UInt8], [[Double]]) {
        let p = x.cols, n = x.rows
        var edges = [[Double]](repeating: [], count: p)
        var codes = [UInt8](repeating: 0, count: n * p)
        let xd = x.data, nn = n, pp = p
        let edgeBox = Unchecked(UnsafeMutablePointer<[Double]>.allocate(capacity: max(p, 1)))
        edgeBox.value.initialize(repeating: [], count: max(p, 1))
        codes.withUnsafeMutableBufferPointer { cb in
            let codeBox = Unchecked(cb.baseAddress)
            parallelFor(p) { j in
                var col = [Double](repeating: 0, count: nn)
                for i in 0..<nn { col[i] = xd[i * pp + j] }
                let (sorted, order) = Binned.radixSorted(col)
                var distinct: [Double] = []
                distinct.reserveCapacity(min(nn, 1024))
                var overflow = false
                for v in sorted where distinct.last != v {
                    distinct.append(v)
                    if distinct.count > maxBins { overflow = true; break }
                }
                var e: [Double] = []
                if !overflow {
                    for b in 0..<max(distinct.count - 1, 0) { e.append((distinct[b] + distinct[b + 1]) / 2) }
                } else {
                    for b in 1..<maxBins {
                        let q = quantileSorted(sorted, Double(b) / Double(maxBins))
                        if e.last.map({ q > $0 }) ?? true { e.append(q) }
                    }
                    if let last = sorted.last, let le = e.last, le >= last { e.removeLast() }
                }
                guard let base = codeBox.value else { return }
                e.withUnsafeBufferPointer { eb in
                    guard let ep = eb.baseAddress, eb.count > 0 else {
                        for i in 0..<nn { base[j * nn + i] = 0 }
                        return
                    }
                    // Codes in sorted order: the number of edges < x only grows along it (NaN: 0).
                    let ec = eb.count
                    var b = 0
                    for s in 0..<nn {
                        let v = sorted[s]
                        while b < ec && ep[b] < v { b += 1 }
                        base[j * nn + Int(order[s])] = v.isNaN ? 0 : UInt8(b)
                    }
                }
                edgeBox.value[j] = e
            }
        }
        for j in 0..<p { edges[j] = edgeBox.value[j] }
        edgeBox.value.deinitialize(count: max(p, 1))
        edgeBox.value.deallocate()
        return (codes, edges)
    }
}

/// How a tree scores splits. Per-sample statistics have `width` entries; the last is the weight.
enum TreeMode: Sendable {
    /// Class counts then weight; Gini impurity.
    case gini(classes: Int)
    /// w·y then weight; squared error.
    case mse
    /// gradient, hessian, weight; Newton gain with L2 `lambda`. Weights must be 1 (histograms count rows).
    case newton(lambda: Double)

    /// Every sample's weight is 1, so histograms count rows in the weight lane instead of adding
    /// it (boosting). Not gini or mse: forests carry bootstrap counts as weights, and a binary
    /// gini's (class 0, class 1, weight) has the same width as newton's (g, h, weight).
    var unitWeights: Bool {
        if case .newton = self { return true }
        return false
    }

    var width: Int {
        switch self {
        case .gini(let k): return k + 1
        case .mse: return 2
        case .newton: return 3
        }
    }
    var outputs: Int {
        if case .gini(let k) = self { return k }
        return 1
    }

    /// The quantity whose increase a split maximises (minus the node's weighted impurity).
    @inline(__always)
    func score(_ s: UnsafePointer<Double>) -> Double {
        switch self {
        case .gini(let k):
            let w = s[k]
            guard w > 0 else { return 0 }
            var q = 0.0
            for c in 0..<k { q += s[c] * s[c] }
            return q / w
        case .mse:
            return s[1] > 0 ? s[0] * s[0] / s[1] : 0
        case .newton(let lambda):
            return s[0] * s[0] / (s[1] + lambda)
        }
    }
}

struct TreeParams: Sendable {
    var maxDepth: Int
    var minLeaf: Double
    /// Features tried per split (p: all).
    var mtry: Int
    var mode: TreeMode
    var parallel: Bool
    /// With `parallel`: nodes of at least this many rows partition and gather on every core.
    var parallelMinRows = 16_384
    /// With `parallel`: histograms of at least this many rows × features are built on every core.
    var parallelMinCells = 100_000
    /// Nodes of at least this many rows get their histograms by subtraction (parent − smaller
    /// sibling). Tests lower these three to take the large-node paths on small data.
    var subtractionMinRows = 1024
}

/// Grows one tree depth-first on binned features.
struct TreeBuilder {
    let binned: Binned
    let params: TreeParams
    let stats: [Double]
    var rng: SeededRandom
    var idx: [Int32]
    var feature: [Int32] = [], threshold: [Double] = [], left: [Int32] = [], right: [Int32] = [], value: [Double] = []
    var importance: [Double]
    /// When requested, the leaf each training sample ends in.
    var leafOf: [Int32]?
    var featureOrder: [Int]
    /// Partition staging (right-hand rows), reused across nodes.
    var scratch: [Int32]
    /// `samples` is exactly 0..<n in order (boosting): the root histogram reads rows directly.
    let identitySamples: Bool
    /// Statistics per histogram bin: the mode's width, or 2 — (gradient, hessian) without the
    /// row count — for unit weights with `minLeaf` ≤ 1, where the count decides nothing: a side
    /// without rows has hessian sum ≈ 0 and fails the hessian guard of the split scan anyway.
    let histWidth: Int

    init(binned: Binned, params: TreeParams, stats: [Double], samples: [Int32], seed: UInt64, stream: UInt64, trackLeaves: Bool, identitySamples: Bool = false) {
        self.binned = binned; self.params = params; self.stats = stats
        self.rng = SeededRandom(seed: seed, modelStream: stream)
        self.idx = samples
        self.importance = [Double](repeating: 0, count: binned.p)
        self.leafOf = trackLeaves ? [Int32](repeating: -1, count: binned.n) : nil
        self.featureOrder = Array(0..<binned.p)
        self.scratch = [Int32](repeating: 0, count: samples.count)
        self.identitySamples = identitySamples && samples.count == binned.n
        self.histWidth = params.mode.unitWeights && params.minLeaf <= 1 ? 2 : params.mode.width
        // Histograms of unit-weight modes count rows: weights other than 1 would be ignored.
        assert(!params.mode.unitWeights || stride(from: params.mode.width - 1, to: stats.count, by: params.mode.width).allSatisfy { stats[$0] == 1 },
               "tree mode \(params.mode) needs unit weights")
    }

    /// A node waiting to be grown; `parent` < 0 for the root.
    struct Pending {
        var lo: Int, hi: Int, depth: Int
        var hist: [Double]?
        /// Newton mode: the node's statistic totals, from the parent's histogram.
        var total: [Double]? = nil
        var parent: Int32
        var isLeft: Bool
    }

    /// Grows the tree depth-first with an explicit stack (no recursion: unlimited depth is safe
    /// on worker threads' small stacks).
    mutating func build() -> (TreeModel, [Double]) {
        var stack = [Pending(lo: 0, hi: idx.count, depth: 0, hist: nil, parent: -1, isLeft: false)]
        while let item = stack.popLast() {
            let node = grow(item.lo, item.hi, depth: item.depth, hist: item.hist, given: item.total, stack: &stack)
            if item.parent >= 0 {
                if item.isLeft { left[Int(item.parent)] = node } else { right[Int(item.parent)] = node }
            }
        }
        return (TreeModel(feature: feature, threshold: threshold, left: left, right: right, value: value,
                          outputs: params.mode.outputs), importance)
    }

    /// `hist`: the node's full histogram (every feature), when the parent derived it.
    private mutating func grow(_ lo: Int, _ hi: Int, depth: Int, hist: [Double]?, given: [Double]? = nil, stack: inout [Pending]) -> Int32 {
        let mode = params.mode, S = mode.width, n = binned.n, p = binned.p
        var total = [Double](repeating: 0, count: S)
        if let given {
            total = given
        } else if let hist {
            // The node's totals are the sums of any one feature's bins (a count not kept: its rows).
            let nb = binned.edges[0].count + 1, hw = histWidth
            for b in 0..<nb { for s in 0..<hw { total[s] += hist[b * hw + s] } }
            if hw < S { total[S - 1] = Double(hi - lo) }
        } else {
            total.withUnsafeMutableBufferPointer { tp in
                stats.withUnsafeBufferPointer { st in
                    idx.withUnsafeBufferPointer { ix in
                        if S == 3 {
                            var a = 0.0, b = 0.0, c = 0.0
                            for t in lo..<hi { let o = Int(ix[t]) * 3; a += st[o]; b += st[o + 1]; c += st[o + 2] }
                            tp[0] = a; tp[1] = b; tp[2] = c
                        } else if S == 2 {
                            var a = 0.0, b = 0.0
                            for t in lo..<hi { let o = Int(ix[t]) * 2; a += st[o]; b += st[o + 1] }
                            tp[0] = a; tp[1] = b
                        } else {
                            for t in lo..<hi { let o = Int(ix[t]) * S; for s in 0..<S { tp[s] += st[o + s] } }
                        }
                    }
                }
            }
        }
        let node = Int32(feature.count)
        feature.append(-1); threshold.append(0); left.append(-1); right.append(-1)
        switch mode {
        case .gini(let k):
            let w = total[k]
            for c in 0..<k { value.append(w > 0 ? total[c] / w : 0) }
        case .mse: value.append(total[1] > 0 ? total[0] / total[1] : 0)
        case .newton(let lambda): value.append(-total[0] / (total[1] + lambda))
        }
        let weight = total[S - 1]
        var pure = false
        if case .gini(let k) = mode { pure = (0..<k).contains { total[$0] == weight } }
        if depth >= params.maxDepth || weight < 2 * params.minLeaf || pure || hi - lo < 2 {
            markLeaf(node, lo, hi)
            return node
        }
        let full = params.mtry >= p
        let feats: [Int]
        if full {
            feats = Array(0..<p)
        } else {
            for t in 0..<params.mtry { let j = t + rng.nextInt(modulo: p - t); featureOrder.swapAt(t, j) }
            feats = Array(featureOrder[0..<params.mtry])
        }
        let nodeHist = hist ?? buildHistogram(lo, hi, feats)
        guard let split = bestSplit(nodeHist, feats, total: total) else { markLeaf(node, lo, hi); return node }
        let f = split.feature, bin = UInt8(split.bin)
        if case .newton(let lambda) = mode, depth + 1 >= params.maxDepth, let t = feats.firstIndex(of: f) {
            // Both children are leaves at the depth limit: their totals come from this node's
            // histogram and each row's leaf from its bin, with no partition (the same tree,
            // numbering and leaves as growing the children).
            let (lt, rt) = childTotals(nodeHist, slot: t, bin: split.bin, total: total, leftRows: nil)
            if histWidth == S && (lt[S - 1] <= 0 || rt[S - 1] <= 0) { markLeaf(node, lo, hi); return node }
            importance[f] += split.gain
            feature[Int(node)] = Int32(f)
            threshold[Int(node)] = binned.edges[f][split.bin]
            let l = Int32(feature.count), r = l + 1
            for side in [lt, rt] {
                feature.append(-1); threshold.append(0); left.append(-1); right.append(-1)
                value.append(-side[0] / (side[1] + lambda))
            }
            left[Int(node)] = l; right[Int(node)] = r
            if var leaves = leafOf {
                leafOf = nil
                binned.codes.withUnsafeBufferPointer { codes in
                    idx.withUnsafeBufferPointer { ix in
                        leaves.withUnsafeMutableBufferPointer { lb in
                            guard let cb = codes.baseAddress, let lp = lb.baseAddress else { return }
                            let col = cb + f * n
                            for q in lo..<hi { let row = Int(ix[q]); lp[row] = col[row] <= bin ? l : r }
                        }
                    }
                }
                leafOf = leaves
            }
            return node
        }
        // Partition idx[lo..<hi]: bin <= split.bin first.
        // Stable and branch-free: left rows compacted in place, right rows staged in `scratch`.
        var mid = lo
        var sc: [Int32] = []
        swap(&sc, &scratch)
        binned.codes.withUnsafeBufferPointer { codes in
            idx.withUnsafeMutableBufferPointer { ix in
                sc.withUnsafeMutableBufferPointer { sb in
                    guard let cb = codes.baseAddress, let ip = ix.baseAddress, let sp = sb.baseAddress else { return }
                    let col = Unchecked(cb + f * n), ipBox = Unchecked(ip), spBox = Unchecked(sp)
                    // Large nodes: each core partitions its own chunk; the chunks' left parts then
                    // their right parts are concatenated in order (the same stable result).
                    let parts = chunks(hi - lo, params.parallel && hi - lo >= params.parallelMinRows ? workerCount : 1)
                    var leftCounts = [Int](repeating: 0, count: parts.count)
                    leftCounts.withUnsafeMutableBufferPointer { lcb in
                        let lcBox = Unchecked(lcb)
                        parallelFor(parts.count) { w in
                            let ip = ipBox.value, sp = spBox.value, col = col.value
                            let start = lo + parts[w].lowerBound
                            var l = start, r = parts[w].lowerBound
                            for i in start..<(lo + parts[w].upperBound) {
                                let v = ip[i]
                                let goLeft = col[Int(v)] <= bin ? 1 : 0
                                ip[l] = v; sp[r] = v
                                l += goLeft; r += 1 - goLeft
                            }
                            lcBox.value[w] = l - start
                        }
                    }
                    var dst = lo + leftCounts[0]
                    for w in 1..<max(parts.count, 1) {
                        let src = lo + parts[w].lowerBound
                        for q in 0..<leftCounts[w] { ip[dst + q] = ip[src + q] }
                        dst += leftCounts[w]
                    }
                    mid = dst
                    for w in 0..<parts.count {
                        let rc = parts[w].count - leftCounts[w], from = parts[w].lowerBound
                        for q in 0..<rc { ip[dst + q] = sp[from + q] }
                        dst += rc
                    }
                }
            }
        }
        scratch = sc
        if mid == lo || mid == hi { markLeaf(node, lo, hi); return node }
        importance[f] += split.gain
        feature[Int(node)] = Int32(f)
        threshold[Int(node)] = binned.edges[f][split.bin]
        var leftHist: [Double]?, rightHist: [Double]?
        if full && depth + 1 < params.maxDepth && hi - lo >= params.subtractionMinRows {
            let leftSmaller = mid - lo <= hi - mid
            let small = leftSmaller ? buildHistogram(lo, mid, feats) : buildHistogram(mid, hi, feats)
            var large = nodeHist
            for i in 0..<large.count { large[i] -= small[i] }
            if leftSmaller { leftHist = small; rightHist = large } else { leftHist = large; rightHist = small }
        }
        // Newton: the children's totals from this node's histogram (no pass over their rows).
        var leftTotal: [Double]?, rightTotal: [Double]?
        if case .newton = mode, let t = feats.firstIndex(of: f) {
            (leftTotal, rightTotal) = childTotals(nodeHist, slot: t, bin: split.bin, total: total, leftRows: mid - lo)
        }
        // Right pushed first so the left subtree is grown first (preorder node numbering).
        stack.append(Pending(lo: mid, hi: hi, depth: depth + 1, hist: rightHist, total: rightTotal, parent: node, isLeft: false))
        stack.append(Pending(lo: lo, hi: mid, depth: depth + 1, hist: leftHist, total: leftTotal, parent: node, isLeft: true))
        return node
    }

    /// A split's left and right statistic totals from the node's histogram: slot `slot`'s bins up
    /// to `bin`, the rest of `total`. A count the histogram does not keep is `leftRows` (NaN when
    /// not known: only leaves, which read no count, get those).
    private func childTotals(_ hist: [Double], slot: Int, bin: Int, total: [Double], leftRows: Int?) -> ([Double], [Double]) {
        let S = params.mode.width, hw = histWidth
        var lt = [Double](repeating: 0, count: S)
        let off = slot * 256 * hw
        for b in 0...bin { for s in 0..<hw { lt[s] += hist[off + b * hw + s] } }
        if hw < S { lt[S - 1] = leftRows.map(Double.init) ?? .nan }
        var rt = total
        for s in 0..<S { rt[s] -= lt[s] }
        return (lt, rt)
    }

    private mutating func markLeaf(_ node: Int32, _ lo: Int, _ hi: Int) {
        guard var leaves = leafOf else { return }
        leafOf = nil
        idx.withUnsafeBufferPointer { ix in
            leaves.withUnsafeMutableBufferPointer { lb in
                for q in lo..<hi { lb[Int(ix[q])] = node }
            }
        }
        leafOf = leaves
    }

    /// Per-feature histograms (256 bins × statistics) of samples `idx[lo..<hi]`, slot t for `feats[t]`.
    private func buildHistogram(_ lo: Int, _ hi: Int, _ feats: [Int]) -> [Double] {
        let S = params.mode.width, n = binned.n, hw = histWidth
        let hsize = 256 * hw
        let count = hi - lo
        // The node's statistics gathered once into row order ("ordered gradients"), so each
        // feature's pass reads them sequentially; only the one-byte bin codes are gathered.
        // Newton (boosting, unit weights): only (gradient, hessian) are gathered; the weight
        // column of the histogram counts rows. Decided by the mode, never by the width alone.
        let counted = params.mode.unitWeights && S == 3
        let W = counted ? 2 : S
        // Root of an identity sample: rows in order, statistics read in place (no gather).
        let direct = counted && identitySamples && lo == 0 && hi == n
        var ordered = [Double](repeating: 0, count: direct ? 2 : count * W)
        ordered.withUnsafeMutableBufferPointer { op in
            stats.withUnsafeBufferPointer { st in
                idx.withUnsafeBufferPointer { ix in
                    if direct {
                    } else if counted {
                        // Large nodes: the gather split over the cores too.
                        let parts = chunks(count, params.parallel && count >= params.parallelMinRows ? workerCount : 1)
                        let opBox = Unchecked(op), stBox = Unchecked(st), ixBox = Unchecked(ix)
                        parallelFor(parts.count) { part in
                            let op = opBox.value, st = stBox.value, ix = ixBox.value
                            for q in parts[part] {
                                let o = Int(ix[lo + q]) * S
                                op[q * 2] = st[o]; op[q * 2 + 1] = st[o + 1]
                            }
                        }
                    } else {
                        for q in 0..<count {
                            let o = Int(ix[lo + q]) * S, d = q * S
                            for s in 0..<S { op[d + s] = st[o + s] }
                        }
                    }
                }
            }
        }
        let codesBox = Unchecked(binned.codes), orderedBox = Unchecked(ordered), idxBox = Unchecked(idx)
        let statsBox = Unchecked(stats)
        let parallel = params.parallel && count * feats.count >= params.parallelMinCells && workerCount > 1
        return filledArray(count: feats.count * hsize, zero: 0.0) { histBox in
            let work: @Sendable (Int) -> Void = { t in
                let f = feats[t]
                let h = histBox.value + t * hsize
                codesBox.value.withUnsafeBufferPointer { codes in
                    orderedBox.value.withUnsafeBufferPointer { st in
                        idxBox.value.withUnsafeBufferPointer { ix in
                            let col = codes.baseAddress! + f * n
                            let sp = st.baseAddress!
                            let ixp = ix.baseAddress! + lo
                            if S == 2 {
                                for q in 0..<count {
                                    let b = Int(col[Int(ixp[q])]) * 2
                                    h[b] += sp[q * 2]; h[b + 1] += sp[q * 2 + 1]
                                }
                            } else if direct {
                                statsBox.value.withUnsafeBufferPointer { stb in
                                    guard let stp = stb.baseAddress else { return }
                                    let hr = UnsafeMutableRawPointer(h), sr = UnsafeRawPointer(stp)
                                    if hw == 2 {
                                        for q in 0..<count {
                                            let b = Int(col[q]) * 16
                                            let gh = sr.loadUnaligned(fromByteOffset: q * 24, as: SIMD2<Double>.self)
                                            hr.storeBytes(of: hr.loadUnaligned(fromByteOffset: b, as: SIMD2<Double>.self) + gh, toByteOffset: b, as: SIMD2<Double>.self)
                                        }
                                    } else {
                                        for q in 0..<count {
                                            let b = Int(col[q]) * 3
                                            let gh = sr.loadUnaligned(fromByteOffset: q * 24, as: SIMD2<Double>.self)
                                            let cur = hr.loadUnaligned(fromByteOffset: b * 8, as: SIMD2<Double>.self)
                                            hr.storeBytes(of: cur + gh, toByteOffset: b * 8, as: SIMD2<Double>.self)
                                            h[b + 2] += 1
                                        }
                                    }
                                }
                            } else if counted {
                                // (gradient, hessian) added as one 2-lane vector, then the count.
                                let hr = UnsafeMutableRawPointer(h), sr = UnsafeRawPointer(sp)
                                if hw == 2 {
                                    for q in 0..<count {
                                        let b = Int(col[Int(ixp[q])]) * 16
                                        let gh = sr.loadUnaligned(fromByteOffset: q * 16, as: SIMD2<Double>.self)
                                        hr.storeBytes(of: hr.loadUnaligned(fromByteOffset: b, as: SIMD2<Double>.self) + gh, toByteOffset: b, as: SIMD2<Double>.self)
                                    }
                                } else {
                                    for q in 0..<count {
                                        let b = Int(col[Int(ixp[q])]) * 3
                                        let gh = sr.loadUnaligned(fromByteOffset: q * 16, as: SIMD2<Double>.self)
                                        let cur = hr.loadUnaligned(fromByteOffset: b * 8, as: SIMD2<Double>.self)
                                        hr.storeBytes(of: cur + gh, toByteOffset: b * 8, as: SIMD2<Double>.self)
                                        h[b + 2] += 1
                                    }
                                }
                            } else if S == 3 {
                                // Weighted three-lane statistics (binary gini): every lane added.
                                for q in 0..<count {
                                    let b = Int(col[Int(ixp[q])]) * 3
                                    h[b] += sp[q * 3]; h[b + 1] += sp[q * 3 + 1]; h[b + 2] += sp[q * 3 + 2]
                                }
                            } else {
                                for q in 0..<count {
                                    let b = Int(col[Int(ixp[q])]) * S, o = q * S
                                    for s in 0..<S { h[b + s] += sp[o + s] }
                                }
                            }
                        }
                    }
                }
            }
            if parallel {
                let parts = chunks(feats.count, workerCount)
                parallelFor(parts.count) { part in for t in parts[part] { work(t) } }
            } else {
                for t in 0..<feats.count { work(t) }
            }
        }
    }

    /// The best split over the histograms: the largest gain with both sides at least `minLeaf`.
    private func bestSplit(_ hist: [Double], _ feats: [Int], total: [Double]) -> (feature: Int, bin: Int, gain: Double)? {
        let S = params.mode.width, mode = params.mode, hw = histWidth
        let hsize = 256 * hw
        let parentScore = total.withUnsafeBufferPointer { mode.score($0.baseAddress!) }
        let minLeaf = params.minLeaf
        var bestT = -1, bestBin = -1
        var bestGain = 1e-12 * max(abs(parentScore), 1e-300)
        if case .newton(let lambda) = mode {
            // Specialised Newton scan (same arithmetic as the generic one below).
            let tg = total[0], th = total[1], tc = total[2]
            hist.withUnsafeBufferPointer { hb in
                guard let hp = hb.baseAddress else { return }
                for t in 0..<feats.count {
                    let h = hp + t * hsize
                    let nb = binned.edges[feats[t]].count + 1
                    var gl = 0.0, hl = 0.0, cl = 0.0
                    for b in 0..<(nb - 1) {
                        gl += h[b * hw]; hl += h[b * hw + 1]
                        if hw == 3 {
                            cl += h[b * 3 + 2]
                            if cl < minLeaf { continue }
                            if tc - cl < minLeaf { break }
                        }
                        let gr = tg - gl, hr = th - hl
                        if hl < 1e-3 || hr < 1e-3 { continue }
                        let g = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parentScore
                        if g > bestGain { bestGain = g; bestT = t; bestBin = b }
                    }
                }
            }
            guard bestT >= 0 else { return nil }
            return (feats[bestT], bestBin, bestGain)
        }
        var leftS = [Double](repeating: 0, count: S), rightS = [Double](repeating: 0, count: S)
        hist.withUnsafeBufferPointer { hp in
            leftS.withUnsafeMutableBufferPointer { lp in
                rightS.withUnsafeMutableBufferPointer { rp in
                    for t in 0..<feats.count {
                        let h = hp.baseAddress! + t * hsize
                        let nb = binned.edges[feats[t]].count + 1
                        for s in 0..<S { lp[s] = 0 }
                        for b in 0..<(nb - 1) {
                            for s in 0..<S { lp[s] += h[b * S + s] }
                            let wl = lp[S - 1], wr = total[S - 1] - wl
                            if wl < minLeaf { continue }
                            if wr < minLeaf { break }
                            for s in 0..<S { rp[s] = total[s] - lp[s] }
                            if case .newton = mode, lp[1] < 1e-3 || rp[1] < 1e-3 { continue }
                            let g = mode.score(lp.baseAddress!) + mode.score(rp.baseAddress!) - parentScore
                            if g > bestGain { bestGain = g; bestT = t; bestBin = b }
                        }
                    }
                }
            }
        }
        guard bestT >= 0 else { return nil }
        return (feats[bestT], bestBin, bestGain)
    }
}

extension TreeModel {
    /// Adds this single-output tree's leaf value of every row of `x` into column `column` of
    /// `out` (n × `width`), rows split over the cores.
    func accumulateRows(_ x: Dense, column: Int, of width: Int, into out: inout [Double]) {
        let p = x.cols, n = x.rows
        let parts = chunks(n, n >= 20_000 ? workerCount : 1)
        let tree = self
        out.withUnsafeMutableBufferPointer { ob in
            let outBox = Unchecked(ob)
            parallelFor(parts.count) { part in
                x.data.withUnsafeBufferPointer { xp in
                    guard let xb = xp.baseAddress else { return }
                    for i in parts[part] { outBox.value[i * width + column] += tree.value[tree.leaf(xb + i * p)] }
                }
            }
        }
    }

    /// Adds `scale` × the leaf values of every row of `x` into `out` (n × outputs), rows split over the cores.
    func accumulate(_ x: Dense, into out: inout [Double], scale: Double = 1) {
        let p = x.cols, k = outputs, n = x.rows
        let parts = chunks(n, n >= 20_000 ? workerCount : 1)
        let xdata = x.data
        out.withUnsafeMutableBufferPointer { ob in
            let outBox = Unchecked(ob.baseAddress!)
            feature.withUnsafeBufferPointer { fp in
            threshold.withUnsafeBufferPointer { tp in
            left.withUnsafeBufferPointer { lp in
            right.withUnsafeBufferPointer { rp in
            value.withUnsafeBufferPointer { vp in
                let f = Unchecked(fp), t = Unchecked(tp), l = Unchecked(lp), r = Unchecked(rp), v = Unchecked(vp)
                parallelFor(parts.count) { part in
                    xdata.withUnsafeBufferPointer { xp in
                        for i in parts[part] {
                            let row = xp.baseAddress! + i * p
                            var node = 0
                            while f.value[node] >= 0 {
                                node = Int(row[Int(f.value[node])] <= t.value[node] ? l.value[node] : r.value[node])
                            }
                            for c in 0..<k { outBox.value[i * k + c] += scale * v.value[node * k + c] }
                        }
                    }
                }
            }}}}}
        }
    }
}
