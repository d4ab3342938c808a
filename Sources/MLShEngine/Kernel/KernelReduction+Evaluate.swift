/// Evaluating one reduction plan: run the argument program with a sink per kind.
extension KReductionPlan {
    typealias V = SIMD8<Double>

    func evaluate(_ table: Table, _ g: KGroups?, _ cache: KReductionCache) throws(EngineError) -> KReduced {
        let groups = g?.count ?? 1
        let ranges = KernelExecutor.partition(rows: table.rowCount, groups: groups)
        let argReduced = try arg.evaluateReductions(table, g, cache)
        let vSlot = arg.rootSlots[0]
        let mSlot = arg.rootSlots.count > 1 ? arg.rootSlots[1] : nil
        let t = arg.resultKType
        let ids = g?.ids ?? []

        /// Runs the argument with `body(worker, start, n, values, validity)` per block.
        func sink(_ body: @escaping (Int, Int, Int, UnsafeMutableRawPointer, UnsafeMutablePointer<UInt8>?) -> Void) throws(EngineError) {
            let failure = arg.execute(table, g, argReduced, output: nil, validity: nil, stateGroups: groups) { w, start, n, slots in
                body(w, start, n, slots[vSlot], mSlot.map { slots[$0].assumingMemoryBound(to: UInt8.self) })
            }
            if let failure { throw failure }
        }

        switch kind {
        case .mean, .std, .variance:
            let m = try moments(cache, groups, ranges.count, ids, sink)
            var out = [Double](repeating: .nan, count: groups)
            for k in 0..<groups {
                let n = m.n[k]
                switch kind {
                case .mean: out[k] = n > 0 ? m.sum[k] / n : .nan   // sum/n: exact with ±inf
                case .variance: out[k] = n > 1 ? m.m2[k] / (n - 1) : .nan
                default: out[k] = n > 1 ? (m.m2[k] / (n - 1)).squareRoot() : .nan
                }
            }
            return .f(out)

        case .sum where t == .f:
            let acc = KPerWorker(ranges.count) { [Double](repeating: 0, count: groups) }
            try sink { w, start, n, v, _ in
                let p = v.assumingMemoryBound(to: Double.self)
                if ids.isEmpty { acc[w][0] += KReduceLoop.sumSkippingNaN(p, n) } else {
                    ids.withUnsafeBufferPointer { gi in
                        acc.update(w) { a in
                            a.withUnsafeMutableBufferPointer { ab in
                                guard let sums = ab.baseAddress, let g0 = gi.baseAddress else { return }
                                let gs = g0 + start   // ids were checked against the group count
                                for k in 0..<n { let x = p[k]; if !x.isNaN { sums[Int(gs[k])] += x } }
                            }
                        }
                    }
                }
            }
            return .f(acc.merged(groups) { $0 + $1 })

        case .sum:
            let acc = KPerWorker(ranges.count) { [Int64](repeating: 0, count: groups) }
            let overflow = KPerWorker(ranges.count) { [false] }
            try sink { w, start, n, v, m in
                let p = v.assumingMemoryBound(to: Int64.self)
                var ov = false
                acc.update(w) { a in
                    ids.withUnsafeBufferPointer { gi in
                        for k in 0..<n where m.map({ $0[k] != 0 }) ?? true {
                            let gk = gi.isEmpty ? 0 : Int(gi[start + k])
                            let (s, o) = a[gk].addingReportingOverflow(p[k]); a[gk] = s; ov = ov || o
                        }
                    }
                }
                if ov { overflow[w][0] = true }
            }
            var total = [Int64](repeating: 0, count: groups)
            for w in 0..<ranges.count {
                if overflow[w][0] { throw EngineError.invalidArgument("integer overflow in \(expr)") }
                for k in 0..<groups {
                    let (s, o) = total[k].addingReportingOverflow(acc[w][k])
                    if o { throw EngineError.invalidArgument("integer overflow in \(expr)") }
                    total[k] = s
                }
            }
            return .i(total, valid: nil)

        case .count, .countMissing:
            let wantMissing = kind == .countMissing
            let acc = KPerWorker(ranges.count) { [Int64](repeating: 0, count: groups) }
            try sink { w, start, n, v, m in
                // One 0/1 "counts" flag per row, by type, then a plain (vectorizing) sum or
                // a per-group scatter.
                let flags = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
                defer { flags.deallocate() }
                let want: UInt8 = wantMissing ? 1 : 0
                switch t {
                case .f: let p = v.assumingMemoryBound(to: Double.self); for k in 0..<n { flags[k] = (p[k].isNaN ? 1 : 0) ^ want ^ 1 }
                case .c: let p = v.assumingMemoryBound(to: Int32.self); for k in 0..<n { flags[k] = (p[k] < 0 ? 1 : 0) ^ want ^ 1 }
                case .i, .b:
                    if let m { for k in 0..<n { flags[k] = m[k] ^ want } } else { for k in 0..<n { flags[k] = want ^ 1 } }
                }
                acc.update(w) { a in
                    if ids.isEmpty {
                        var c: Int64 = 0
                        for k in 0..<n { c &+= Int64(flags[k]) }
                        a[0] += c
                    } else {
                        ids.withUnsafeBufferPointer { gi in
                            for k in 0..<n { a[Int(gi[start + k])] += Int64(flags[k]) }
                        }
                    }
                }
            }
            return .i(acc.merged(groups) { $0 + $1 }, valid: nil)

        case .min where t == .f, .max where t == .f:
            let isMin = kind == .min
            let acc = KPerWorker(ranges.count) { [Double](repeating: isMin ? .infinity : -.infinity, count: groups) }
            let seen = KPerWorker(ranges.count) { [Bool](repeating: false, count: groups) }
            try sink { w, start, n, v, _ in
                let p = v.assumingMemoryBound(to: Double.self)
                if ids.isEmpty {
                    let (r, any) = KReduceLoop.extremum(p, n, min: isMin)
                    if any { seen[w][0] = true; acc[w][0] = isMin ? Swift.min(acc[w][0], r) : Swift.max(acc[w][0], r) }
                } else {
                    ids.withUnsafeBufferPointer { gi in
                        for k in 0..<n where !p[k].isNaN {
                            let gk = Int(gi[start + k])
                            seen[w][gk] = true
                            acc[w][gk] = isMin ? Swift.min(acc[w][gk], p[k]) : Swift.max(acc[w][gk], p[k])
                        }
                    }
                }
            }
            var out = [Double](repeating: .nan, count: groups)
            for k in 0..<groups {
                for w in 0..<ranges.count where seen[w][k] {
                    out[k] = out[k].isNaN ? acc[w][k] : (isMin ? Swift.min(out[k], acc[w][k]) : Swift.max(out[k], acc[w][k]))
                }
            }
            return .f(out)

        case .min, .max:
            let isMin = kind == .min
            let acc = KPerWorker(ranges.count) { [Int64](repeating: isMin ? .max : .min, count: groups) }
            let seen = KPerWorker(ranges.count) { [Bool](repeating: false, count: groups) }
            try sink { w, start, n, v, m in
                let p = v.assumingMemoryBound(to: Int64.self)
                ids.withUnsafeBufferPointer { gi in
                    for k in 0..<n where m.map({ $0[k] != 0 }) ?? true {
                        let gk = gi.isEmpty ? 0 : Int(gi[start + k])
                        seen[w][gk] = true
                        acc[w][gk] = isMin ? Swift.min(acc[w][gk], p[k]) : Swift.max(acc[w][gk], p[k])
                    }
                }
            }
            var out = [Int64](repeating: 0, count: groups)
            var valid = [UInt8](repeating: 0, count: groups)
            for k in 0..<groups {
                for w in 0..<ranges.count where seen[w][k] {
                    out[k] = valid[k] == 0 ? acc[w][k] : (isMin ? Swift.min(out[k], acc[w][k]) : Swift.max(out[k], acc[w][k]))
                    valid[k] = 1
                }
            }
            return .i(out, valid: valid)

        case .median, .quantile:
            let values = try materialize(table.rowCount, sink)
            var (present, offsets) = KReduceLoop.byGroup(values, groups, g == nil ? nil : ids)
            return .f(KReduceLoop.quantiles(&present, offsets, q))

        case .nUnique:
            let values = try materialize(table.rowCount, sink)
            return .i(KReduceLoop.distinctCounts(values, groups, g == nil ? nil : ids), valid: nil)
        }
    }

    /// Count, mean and M2 of the argument per group, computed once per argument.
    private func moments(_ cache: KReductionCache, _ groups: Int, _ workers: Int, _ ids: [Int32],
                         _ sink: (@escaping (Int, Int, Int, UnsafeMutableRawPointer, UnsafeMutablePointer<UInt8>?) -> Void) throws(EngineError) -> Void) throws(EngineError) -> KMoments {
        if let m = cache.moments[arg.expression] { return m }
        let grouped = !ids.isEmpty
        let acc = KPerWorker(workers) { KMoments(groups: grouped ? 0 : groups) }
        let shifted = KPerWorker(grouped ? workers : 0) { KShiftedMoments(groups: grouped ? groups : 0) }
        try sink { w, start, n, v, _ in
            let p = v.assumingMemoryBound(to: Double.self)
            if !grouped {
                let (cnt, sum, m2) = KReduceLoop.blockMoments(p, n)
                acc.update(w) { $0.merge(0, cnt, sum, m2) }
            } else {
                ids.withUnsafeBufferPointer { gi in
                    guard let g0 = gi.baseAddress else { return }
                    shifted.update(w) { $0.add(p, g0 + start, n) }
                }
            }
        }
        var total = KMoments(groups: groups)
        for w in 0..<workers {
            if grouped { shifted[w].mergeInto(&total) } else {
                for k in 0..<groups { total.merge(k, acc[w].n[k], acc[w].sum[k], acc[w].m2[k]) }
            }
        }
        cache.moments[arg.expression] = total
        return total
    }

    /// The argument's values for every row (quantiles and distinct counts need them all).
    private func materialize(_ rows: Int, _ sink: (@escaping (Int, Int, Int, UnsafeMutableRawPointer, UnsafeMutablePointer<UInt8>?) -> Void) throws(EngineError) -> Void) throws(EngineError) -> KMaterialized {
        let t = arg.resultKType
        let out = KMaterialized(type: t, rows: rows)
        try sink { _, start, n, v, m in
            switch t {
            case .f: (out.f + start).update(from: v.assumingMemoryBound(to: Double.self), count: n)
            case .i, .b:
                let p = v.assumingMemoryBound(to: Int64.self)
                for k in 0..<n { out.i[start + k] = p[k]; out.valid[start + k] = m.map { $0[k] } ?? 1 }
            case .c:
                let p = v.assumingMemoryBound(to: Int32.self)
                for k in 0..<n { out.i[start + k] = Int64(p[k]); out.valid[start + k] = p[k] >= 0 ? 1 : 0 }
            }
        }
        return out
    }
}

/// Full-length argument values; workers fill disjoint ranges.
final class KMaterialized {
    let type: KType
    let count: Int
    let f: UnsafeMutablePointer<Double>
    let i: UnsafeMutablePointer<Int64>
    let valid: UnsafeMutablePointer<UInt8>

    init(type: KType, rows: Int) {
        self.type = type; count = rows
        f = .allocate(capacity: type == .f ? max(rows, 1) : 1)
        i = .allocate(capacity: type == .f ? 1 : max(rows, 1))
        valid = .allocate(capacity: type == .f ? 1 : max(rows, 1))
    }
    deinit { f.deallocate(); i.deallocate(); valid.deallocate() }

    enum Value { case f(Double), i(Int64), missing }
    func at(_ r: Int) -> Value {
        if type == .f { return .f(f[r]) }
        return valid[r] != 0 ? .i(i[r]) : .missing
    }
}

/// Per-chunk accumulator state; each chunk touches only its own element, in place
/// (addressors, so `acc[w][g] += x` neither copies the inner array nor shares a Swift
/// array between threads).
final class KPerWorker<T> {
    private let items: UnsafeMutablePointer<T>
    let count: Int

    init(_ workers: Int, _ make: () -> T) {
        count = max(workers, 1)
        items = .allocate(capacity: count)
        for w in 0..<count { (items + w).initialize(to: make()) }
    }
    deinit { items.deinitialize(count: count); items.deallocate() }

    subscript(w: Int) -> T {
        unsafeAddress { UnsafePointer(items + w) }
        unsafeMutableAddress { items + w }
    }
    func update(_ w: Int, _ body: (inout T) -> Void) { body(&items[w]) }
}

extension KPerWorker where T == [Double] {
    func merged(_ groups: Int, _ f: (Double, Double) -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: groups)
        for w in 0..<count { for k in 0..<groups { out[k] = f(out[k], self[w][k]) } }
        return out
    }
}
extension KPerWorker where T == [Int64] {
    func merged(_ groups: Int, _ f: (Int64, Int64) -> Int64) -> [Int64] {
        var out = [Int64](repeating: 0, count: groups)
        for w in 0..<count { for k in 0..<groups { out[k] = f(out[k], self[w][k]) } }
        return out
    }
}

/// Reduction inner loops.
enum KReduceLoop {
    typealias V = SIMD8<Double>

    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }
    /// All-ones lanes where v is a number (builtin vector compare, no per-lane code).
    @inline(__always) static func present(_ v: V) -> SIMD8<UInt64> { unsafeBitCast(v .== v, to: SIMD8<UInt64>.self) }
    /// v with NaN lanes zeroed, by masking bits.
    @inline(__always) static func clean(_ v: V) -> V {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt64>.self) & present(v), to: V.self)
    }

    /// Sum of the non-NaN values, four SIMD accumulators (a plain `s += x` would not vectorize).
    @inline(__always) static func sumSkippingNaN(_ p: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        var i = 0
        while i + 32 <= n {
            a0 += clean(load(p, i)); a1 += clean(load(p, i + 8))
            a2 += clean(load(p, i + 16)); a3 += clean(load(p, i + 24))
            i += 32
        }
        while i + 8 <= n { a0 += clean(load(p, i)); i += 8 }
        var s = ((a0 + a1) + (a2 + a3)).sum()
        while i < n { if !p[i].isNaN { s += p[i] }; i += 1 }
        return s
    }

    /// Rows per sub-block of `blockMoments`: 4 KiB, so a span that must be read again is in L1.
    static let momentsSpan = 512

    /// Count, sum and M2 of a block's non-NaN values: one pass per 512-row span (the
    /// fallbacks of `spanMoments` re-read it from L1), the spans merged as blocks are
    /// (`KMoments.combine`).
    @inline(__always) static func blockMoments(_ p: UnsafeMutablePointer<Double>, _ n: Int) -> (Double, Double, Double) {
        var total = (0.0, 0.0, 0.0)
        for start in stride(from: 0, to: n, by: momentsSpan) {
            total = KMoments.combine(total, spanMoments(p + start, Swift.min(momentsSpan, n - start)))
        }
        return total
    }

    /// Count, sum and M2 of a span's non-NaN values. One pass sums their deviations d from
    /// a shift K (the span's first finite value) and d²: sum = n·K + Σd, M2 = Σd² − (Σd)²/n.
    /// The rounding error grows with Σd²/M2, which K being one of the values bounds by n + 1;
    /// past 2⁸ (an outlier first) or with infinities the span takes the two-pass sums, still
    /// in L1. The pass runs without NaN masks first: a NaN shows in the result, and only then
    /// is the span summed again with them. One pass, not two, keeps this loop as fast as a
    /// plain sum: it is memory-bound, where the two-pass version was not.
    @inline(__always) static func spanMoments(_ p: UnsafeMutablePointer<Double>, _ n: Int) -> (Double, Double, Double) {
        var f = 0
        while f < n && !p[f].isFinite { f += 1 }
        guard f < n else { return twoPassMoments(p, n) }
        var (m, sawNaN) = shiftedMoments(p, n, p[f], masked: false)
        if m == nil && sawNaN { m = shiftedMoments(p, n, p[f], masked: true).0 }
        return m ?? twoPassMoments(p, n)
    }

    /// `spanMoments`' one pass; nil when M2 came out inexact (or, unmasked, NaN: `sawNaN`).
    @inline(__always) static func shiftedMoments(_ p: UnsafeMutablePointer<Double>, _ n: Int, _ shift: Double,
                                                 masked useMasks: Bool) -> ((Double, Double, Double)?, sawNaN: Bool) {
        let kv = V(repeating: shift)
        var d0 = V(), d1 = V(), q0 = V(), q1 = V(), negCount = SIMD8<UInt64>()
        var i = 0
        while i + 16 <= n {
            let v = load(p, i), w = load(p, i + 8)
            var dv = v - kv, dw = w - kv
            if useMasks {
                let mv = present(v), mw = present(w)
                dv = masked(dv, mv); dw = masked(dw, mw)
                negCount &+= mv &+ mw   // an all-ones lane is -1
            }
            d0 += dv; d1 += dw
            q0 += dv * dv; q1 += dw * dw
            i += 16
        }
        var d = (d0 + d1).sum(), q = (q0 + q1).sum()
        var count = useMasks ? Double(0 &- negCount.wrappedSum()) : Double(i)
        for k in i..<n where !(useMasks && p[k].isNaN) { let x = p[k] - shift; d += x; q += x * x; count += 1 }
        if q.isNaN { return (nil, true) }
        let m2 = q - d * d / count
        guard m2 >= 0, q.isFinite, q <= m2 * 256 else { return (nil, false) }
        return ((count, shift * count + d, m2), false)
    }

    @inline(__always) static func masked(_ v: V, _ m: SIMD8<UInt64>) -> V {
        unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt64>.self) & m, to: V.self)
    }

    /// Count, sum and M2 of a span's non-NaN values in two passes: the mean, then the
    /// squared deviations from it.
    static func twoPassMoments(_ p: UnsafeMutablePointer<Double>, _ n: Int) -> (Double, Double, Double) {
        var s0 = V(), s1 = V(), c = SIMD8<UInt64>()
        var i = 0
        while i + 16 <= n {
            let v = load(p, i), w = load(p, i + 8)
            s0 += clean(v); s1 += clean(w)
            c &+= (present(v) & 1) &+ (present(w) & 1)
            i += 16
        }
        var sum = (s0 + s1).sum(), count = Double(c.wrappedSum())
        for k in i..<n where !p[k].isNaN { sum += p[k]; count += 1 }
        guard count > 0 else { return (0, 0, 0) }
        let mean = sum / count
        let mv = V(repeating: mean)
        var m0 = V(), m1 = V()
        i = 0
        while i + 16 <= n {
            let d = clean(load(p, i) - mv), e = clean(load(p, i + 8) - mv)
            m0 += d * d; m1 += e * e
            i += 16
        }
        var m2 = (m0 + m1).sum()
        for k in i..<n where !p[k].isNaN { let d = p[k] - mean; m2 += d * d }
        return (count, sum, m2)
    }

    /// Minimum or maximum of the non-NaN values, and whether there was any.
    @inline(__always) static func extremum(_ p: UnsafeMutablePointer<Double>, _ n: Int, min: Bool) -> (Double, Bool) {
        var r = min ? Double.infinity : -.infinity, found = false
        for k in 0..<n {
            let v = p[k]
            found = found || !v.isNaN
            r = min ? (v < r ? v : r) : (v > r ? v : r)   // NaN compares false: skipped
        }
        return (r, found)
    }

    /// Row indices per group.
    /// The present values of each group, contiguous: group k's are
    /// `values[offsets[k]..<offsets[k + 1]]`, in row order (a counting sort by group).
    static func byGroup(_ m: KMaterialized, _ groups: Int, _ ids: [Int32]?) -> (values: [Double], offsets: [Int]) {
        func value(_ r: Int) -> Double? {
            if m.type == .f { let v = m.f[r]; return v.isNaN ? nil : v }
            return m.valid[r] != 0 ? Double(m.i[r]) : nil
        }
        var offsets = [Int](repeating: 0, count: groups + 1)
        guard let ids else {
            let xs = (0..<m.count).compactMap(value)
            offsets[groups] = xs.count
            return (xs, offsets)
        }
        for r in 0..<m.count where value(r) != nil { offsets[Int(ids[r]) + 1] += 1 }
        for k in 0..<groups { offsets[k + 1] += offsets[k] }
        var next = offsets
        let total = offsets[groups]
        let xs = [Double](unsafeUninitializedCapacity: total) { out, count in
            for r in 0..<m.count {
                guard let v = value(r) else { continue }
                let k = Int(ids[r])
                out.initializeElement(at: next[k], to: v)
                next[k] += 1
            }
            count = total
        }
        return (xs, offsets)
    }

    /// The `q` quantile of each group's values (`byGroup`; reordered within each group),
    /// groups spread over the workers.
    static func quantiles(_ xs: inout [Double], _ offsets: [Int], _ q: Double) -> [Double] {
        let groups = offsets.count - 1, total = xs.count
        let parts = total >= 1 << 16 && groups > 1 ? dataWorkerCount : 1
        // Contiguous runs of groups with about as many values each.
        var cuts = [0]
        for p in 1..<parts {
            let target = total * p / parts
            var k = cuts[cuts.count - 1]
            while k < groups && offsets[k] < target { k += 1 }
            cuts.append(k)
        }
        cuts.append(groups)
        return xs.withUnsafeMutableBufferPointer { buffer in
            let box = DataUncheckedBox(buffer)
            return dataParallelChunks(count: parts) { p in
                (cuts[p]..<max(cuts[p], cuts[p + 1])).map { k in
                    quantile(UnsafeMutableBufferPointer(rebasing: box.value[offsets[k]..<offsets[k + 1]]), q)
                }
            }.flatMap { $0 }
        }
    }

    /// Linear-interpolation quantile (numpy default, R type 7) of `xs` (reordered in
    /// place, by selection rather than a sort); NaN when empty.
    static func quantile(_ xs: UnsafeMutableBufferPointer<Double>, _ q: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let pos = q * Double(xs.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, xs.count - 1)
        let t = pos - Double(lo)
        select(xs, lo)
        let a = xs[lo]
        // After selecting lo, the hi-th smallest is the least of what lies above it.
        var b = a
        if hi > lo { b = xs[hi]; for i in (hi + 1)..<xs.count where xs[i] < b { b = xs[i] } }
        // numpy's _lerp: exact at both ends.
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    /// Reorders `xs` so `xs[k]` is its k-th smallest, nothing larger before it and nothing
    /// smaller after (quickselect, median-of-three pivots; a range that will not shrink
    /// fast is sorted instead, so the worst case stays n log n).
    static func select(_ xs: UnsafeMutableBufferPointer<Double>, _ k: Int) {
        var lo = 0, hi = xs.count - 1
        var budget = 2 * (Int.bitWidth - xs.count.leadingZeroBitCount) + 8
        while hi > lo {
            if hi - lo < 16 || budget == 0 {
                var rest = UnsafeMutableBufferPointer(rebasing: xs[lo...hi])
                rest.sort()
                return
            }
            budget -= 1
            let mid = lo + (hi - lo) / 2
            if xs[mid] < xs[lo] { xs.swapAt(mid, lo) }
            if xs[hi] < xs[lo] { xs.swapAt(hi, lo) }
            if xs[hi] < xs[mid] { xs.swapAt(hi, mid) }
            let pivot = xs[mid]
            // Hoare partition: [lo, j] <= pivot <= [i, hi].
            var i = lo, j = hi
            while i <= j {
                while xs[i] < pivot { i += 1 }
                while pivot < xs[j] { j -= 1 }
                if i <= j { xs.swapAt(i, j); i += 1; j -= 1 }
            }
            if k <= j { hi = j } else if k >= i { lo = i } else { return }
        }
    }

    /// The number of distinct present values in each group: one hash table of
    /// (value, group) pairs, a group's count growing with each pair first seen.
    static func distinctCounts(_ m: KMaterialized, _ groups: Int, _ ids: [Int32]?) -> [Int64] {
        var out = [Int64](repeating: 0, count: groups)
        let table = DataKeyTable(capacity: Swift.min(m.count, 1 << 16))
        var seen: Int32 = 0
        for r in 0..<m.count {
            let bits: UInt64
            if m.type == .f {
                let v = m.f[r]
                if v.isNaN { continue }
                bits = (v == 0 ? 0.0 : v).bitPattern
            } else {
                if m.valid[r] == 0 { continue }
                bits = UInt64(bitPattern: m.i[r])
            }
            let k = ids.map { Int($0[r]) } ?? 0
            if table.findOrInsert(bits, UInt32(k), next: seen).new { seen &+= 1; out[k] += 1 }
        }
        return out
    }
}
