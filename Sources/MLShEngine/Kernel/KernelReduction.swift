/// Reductions: computed in a first pass by running the argument's own block program with
/// an accumulating sink (so `sum($a*$b)` never materialises `$a*$b`), per worker, then
/// merged. NaN and missing values are skipped; `std`/`var` use n − 1; `quantile` is
/// linear (numpy's default); `median` is `quantile(0.5)`.

extension ReductionKind {
    var usesMoments: Bool { self == .mean || self == .std || self == .variance }
}

/// Per-group (or one) reduction results.
enum KReduced {
    case f([Double])
    case i([Int64], valid: [UInt8]?)

    /// As a column (for aggregates).
    var column: Column {
        switch self {
        case .f(let v): return Column(floats: v)
        case .i(let v, let m): return Column(ints: v, validity: m.map { $0.map { $0 != 0 } })
        }
    }
}

/// A reduction to compute before the main program runs.
struct KReductionPlan: Sendable {
    let kind: ReductionKind
    /// The quantile (0.5 for median).
    let q: Double
    /// The argument's program, compiled in sink mode.
    let arg: KernelProgram
    let resultType: KType
    /// Int min/max of an empty group has no value.
    let hasValidity: Bool
    let expr: KExpr

    init(name: String, arg: KExpr, extra: [KExpr], table: Table, expr: KExpr) throws(EngineError) {
        guard let kind = ReductionKind(rawValue: name) else {
            throw EngineError.invalidArgument("unknown reduction '\(name)'")
        }
        var q = 0.5
        if kind == .quantile {
            guard extra.count == 1 else { throw EngineError.invalidArgument("quantile takes 2 arguments, got \(extra.count + 1)") }
            switch extra[0] {
            case .float(let v): q = v
            case .int(let v): q = Double(v)
            default: throw EngineError.invalidArgument("quantile's q must be a number between 0 and 1")
            }
            guard q >= 0, q <= 1 else { throw EngineError.invalidArgument("quantile's q must be between 0 and 1, got \(q)") }
        } else if !extra.isEmpty {
            throw EngineError.invalidArgument("\(name) takes 1 argument, got \(extra.count + 1)")
        }
        func sink(_ e: KExpr) throws(EngineError) -> KernelProgram {
            try KernelProgram.compile(e, for: table, options: KCompileOptions(), toOutput: false)
        }
        var program = try sink(arg)
        let t = program.resultKType
        var result: KType = .i
        switch kind {
        case .mean, .std, .variance, .median, .quantile:
            if t == .c { throw EngineError.typeMismatch("\(name) expects a number, got string") }
            if t != .f { program = try sink(.call("cast", [arg, .string("float")])) }
            result = .f
        case .sum, .min, .max:
            if t == .c { throw EngineError.typeMismatch("\(name) expects a number, got string") }
            if t == .b { program = try sink(.call("cast", [arg, .string("int")])) }
            result = t == .f ? .f : .i
        case .nUnique:
            if t == .b { program = try sink(.call("cast", [arg, .string("int")])) }
        case .count, .countMissing: break
        }
        self.kind = kind; self.q = q; self.arg = program; self.resultType = result
        self.hasValidity = result == .i && (kind == .min || kind == .max)
        self.expr = expr
    }
}

/// Moments (count, sum, M2) per group, shared by mean/std/var of one argument. The mean
/// is sum / count (exact with infinities); M2 combines by Chan et al.'s formula.
struct KMoments {
    var n: [Double]
    var sum: [Double]
    var m2: [Double]

    init(groups: Int) {
        n = [Double](repeating: 0, count: groups); sum = n; m2 = n
    }

    /// Merges (nb, sumB, m2B) into group g.
    mutating func merge(_ g: Int, _ nb: Double, _ sumB: Double, _ m2B: Double) {
        (n[g], sum[g], m2[g]) = KMoments.combine((n[g], sum[g], m2[g]), (nb, sumB, m2B))
    }

    /// Two parts' (count, sum, M2) as one (Chan et al.); an empty part changes nothing.
    @inline(__always) static func combine(_ a: (Double, Double, Double), _ b: (Double, Double, Double)) -> (Double, Double, Double) {
        let (na, sumA, m2A) = a, (nb, sumB, m2B) = b
        guard nb > 0 else { return a }
        guard na > 0 else { return b }
        let total = na + nb, delta = sumB / nb - sumA / na
        return (total, sumA + sumB, m2A + m2B + delta * delta * na * nb / total)
    }
}

/// Per-group moments for one chunk without a division per element: sums of x − shift
/// and of its square, the shift being the group's first value (close enough to the mean
/// to avoid cancellation), plus the plain sum for the mean (exact with infinities).
struct KShiftedMoments {
    var n: [Double], sum: [Double], shift: [Double], s1: [Double], s2: [Double]

    init(groups: Int) {
        n = [Double](repeating: 0, count: groups); sum = n; shift = n; s1 = n; s2 = n
    }

    /// Adds `count` values with their (checked) group ids.
    mutating func add(_ p: UnsafeMutablePointer<Double>, _ ids: UnsafePointer<Int32>, _ count: Int) {
        n.withUnsafeMutableBufferPointer { nb in sum.withUnsafeMutableBufferPointer { sb in
        shift.withUnsafeMutableBufferPointer { kb in s1.withUnsafeMutableBufferPointer { ab in
        s2.withUnsafeMutableBufferPointer { bb in
            guard let n = nb.baseAddress, let sum = sb.baseAddress, let k = kb.baseAddress,
                  let a = ab.baseAddress, let b = bb.baseAddress else { return }
            for r in 0..<count {
                let x = p[r]
                if x.isNaN { continue }
                let g = Int(ids[r])
                if n[g] == 0 { k[g] = x }
                let d = x - k[g]
                n[g] += 1; sum[g] += x; a[g] += d; b[g] = b[g].addingProduct(d, d)
            }
        } } } } }
    }

    /// Merges this chunk's groups into `total` as (count, sum, M2).
    func mergeInto(_ total: inout KMoments) {
        for g in n.indices where n[g] > 0 {
            let m2 = Swift.max(0, s2[g] - s1[g] * s1[g] / n[g])
            total.merge(g, n[g], sum[g], s2[g].isFinite ? m2 : .nan)
        }
    }
}

/// Shares moment passes between reductions of one evaluation.
final class KReductionCache {
    var moments: [KExpr: KMoments] = [:]
}

/// Validated group ids.
struct KGroups {
    let ids: [Int32]
    let count: Int

    init?(_ g: Grouping?, rows: Int) throws(EngineError) {
        guard let g else { return nil }
        guard g.ids.count == rows else {
            throw EngineError.invalidArgument("grouping has \(g.ids.count) rows, table has \(rows)")
        }
        guard g.count >= 0 else { throw EngineError.invalidArgument("negative group count") }
        let limit = UInt32(truncatingIfNeeded: g.count)
        var bad = false
        g.ids.withUnsafeBufferPointer { p in for v in p where UInt32(bitPattern: v) >= limit { bad = true; break } }
        if bad { throw EngineError.invalidArgument("grouping has a group id outside 0..<\(g.count)") }
        ids = g.ids; count = g.count
    }
}
