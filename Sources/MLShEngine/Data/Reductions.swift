/// Column and list reductions. NaN (missing) values are skipped; `std` and `variance`
/// divide by n − 1; `quantile` interpolates linearly (numpy's default). A reduction
/// with no values left gives NaN (and 0 for `count`). String columns are a `typeMismatch`
/// except for `count`, `countMissing` and `nUnique`.
public enum Reductions {
    /// Sum of the values.
    public static func sum(_ c: Column) throws(EngineError) -> Double {
        if case .int(let v, nil) = c.storage { return v.reduce(0.0) { $0 + Double($1) } }
        return sum(try numeric(c, "sum"))
    }
    /// Mean of the values.
    public static func mean(_ c: Column) throws(EngineError) -> Double { mean(try numeric(c, "mean")) }
    /// Sample standard deviation (n − 1).
    public static func std(_ c: Column) throws(EngineError) -> Double { std(try numeric(c, "std")) }
    /// Sample variance (n − 1).
    public static func variance(_ c: Column) throws(EngineError) -> Double { variance(try numeric(c, "var")) }
    /// Smallest value.
    public static func min(_ c: Column) throws(EngineError) -> Double { min(try numeric(c, "min")) }
    /// Largest value.
    public static func max(_ c: Column) throws(EngineError) -> Double { max(try numeric(c, "max")) }
    /// Median (the 0.5 quantile).
    public static func median(_ c: Column) throws(EngineError) -> Double { try quantile(try numeric(c, "median"), 0.5) }
    /// Linear-interpolation quantile, `q` in 0...1.
    public static func quantile(_ c: Column, _ q: Double) throws(EngineError) -> Double {
        try quantile(try numeric(c, "quantile"), q)
    }
    /// Number of non-missing values.
    public static func count(_ c: Column) -> Int { c.count - c.missingCount }
    /// Number of missing values.
    public static func countMissing(_ c: Column) -> Int { c.missingCount }
    /// Number of distinct non-missing values (strings by value).
    public static func nUnique(_ c: Column) -> Int {
        switch c.storage {
        case .float(let v):
            var s = Set<UInt64>()
            for d in v where !d.isNaN { s.insert(d == 0 ? 0 : d.bitPattern) }
            return s.count
        case .int(let v, let m):
            var s = Set<Int64>()
            for i in v.indices where m?[i] ?? true { s.insert(v[i]) }
            return s.count
        case .bool(let v, let m):
            var s = Set<Bool>()
            for i in v.indices where m?[i] ?? true { s.insert(v[i]) }
            return s.count
        case .string(let codes, let d):
            var used = [Bool](repeating: false, count: d.count)
            for k in codes where k >= 0 && Int(k) < d.count { used[Int(k)] = true }
            var s = Set<String>()
            for (k, u) in used.enumerated() where u { s.insert(d[k]) }
            return s.count
        }
    }

    static func numeric(_ c: Column, _ what: String) throws(EngineError) -> [Double] {
        if case .string = c.storage {
            throw EngineError.typeMismatch("\(what) needs a numeric column, got string")
        }
        return try c.doubles()
    }

    // MARK: lists of numbers

    /// Sum, NaN skipped (block-wise SIMD accumulation, blocks combined pairwise).
    public static func sum(_ v: [Double]) -> Double { v.withUnsafeBufferPointer { dataSumCount($0).sum } }

    /// Number of non-NaN values.
    public static func count(_ v: [Double]) -> Int { v.withUnsafeBufferPointer { dataSumCount($0).count } }

    /// Mean, NaN skipped.
    public static func mean(_ v: [Double]) -> Double {
        let (s, n) = v.withUnsafeBufferPointer { dataSumCount($0) }
        return n == 0 ? .nan : s / Double(n)
    }

    /// Sample variance (n − 1), NaN skipped; two passes for accuracy.
    public static func variance(_ v: [Double]) -> Double {
        let (s, n) = v.withUnsafeBufferPointer { dataSumCount($0) }
        guard n > 1 else { return .nan }
        let m = s / Double(n)
        let ss = v.withUnsafeBufferPointer { dataSumSquaredDeviations($0, m) }
        return ss / Double(n - 1)
    }

    /// Sample standard deviation (n − 1), NaN skipped.
    public static func std(_ v: [Double]) -> Double { variance(v).squareRoot() }

    /// Smallest non-NaN value.
    public static func min(_ v: [Double]) -> Double {
        var best = Double.nan
        for x in v where !x.isNaN && !(x >= best) { best = x }
        return best
    }

    /// Largest non-NaN value.
    public static func max(_ v: [Double]) -> Double {
        var best = Double.nan
        for x in v where !x.isNaN && !(x <= best) { best = x }
        return best
    }

    /// Number of NaN values.
    public static func countMissing(_ v: [Double]) -> Int { v.count - count(v) }

    /// Number of distinct non-NaN values (0.0 and -0.0 count as one).
    public static func nUnique(_ v: [Double]) -> Int { nUnique(Column(floats: v)) }

    /// Median, NaN skipped.
    public static func median(_ v: [Double]) -> Double { (try? quantile(v, 0.5)) ?? .nan }

    /// Linear-interpolation quantile (numpy's default, R type 7), NaN skipped.
    public static func quantile(_ v: [Double], _ q: Double) throws(EngineError) -> Double {
        guard q >= 0, q <= 1 else {
            throw EngineError.invalidArgument("quantile: q must be in 0...1, got \(dataFormatFloat(q))")
        }
        return dataQuantileSorted(dataSortedNonNaN(v), q)
    }
}

/// The non-NaN values in ascending order (radix sort on order-preserving keys; -0.0 before 0.0).
func dataSortedNonNaN(_ v: [Double]) -> [Double] {
    var keys: [UInt64] = []
    keys.reserveCapacity(v.count)
    for d in v where !d.isNaN {
        let b = d.bitPattern
        keys.append(b & (1 << 63) != 0 ? ~b : b | (1 << 63))
    }
    if keys.count < 512 {
        return v.filter { !$0.isNaN }.sorted()
    }
    var payload = [Int](repeating: 0, count: keys.count)
    var tk = [UInt64](repeating: 0, count: keys.count), tp = [Int](repeating: 0, count: keys.count)
    dataRadixSort(&keys, &payload, &tk, &tp)
    return keys.map { k in Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k) }
}

/// The q-quantile of sorted values, linear interpolation; NaN when empty.
func dataQuantileSorted(_ xs: [Double], _ q: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let h = Double(xs.count - 1) * q
    let lo = Int(h.rounded(.down))
    let hi = Swift.min(lo + 1, xs.count - 1)
    let frac = h - Double(lo)
    if frac == 0 || xs[lo] == xs[hi] { return xs[lo] }
    return xs[lo] + (xs[hi] - xs[lo]) * frac
}

/// Sum and count of the non-NaN values: SIMD lanes per block of 4096, blocks summed pairwise.
func dataSumCount(_ v: UnsafeBufferPointer<Double>) -> (sum: Double, count: Int) {
    let block = 4096
    var partial: [Double] = []
    var count = 0
    var start = 0
    while start < v.count {
        let end = Swift.min(start + block, v.count)
        var acc0 = SIMD8<Double>(repeating: 0), acc1 = SIMD8<Double>(repeating: 0)
        var cnt = SIMD8<Int64>(repeating: 0)
        var i = start
        while i + 16 <= end {
            let a = SIMD8<Double>(v[i], v[i+1], v[i+2], v[i+3], v[i+4], v[i+5], v[i+6], v[i+7])
            let b = SIMD8<Double>(v[i+8], v[i+9], v[i+10], v[i+11], v[i+12], v[i+13], v[i+14], v[i+15])
            let ma = a .== a, mb = b .== b
            acc0 += a.replacing(with: 0, where: .!ma)
            acc1 += b.replacing(with: 0, where: .!mb)
            cnt &+= SIMD8<Int64>(repeating: 0).replacing(with: 1, where: ma)
            cnt &+= SIMD8<Int64>(repeating: 0).replacing(with: 1, where: mb)
            i += 16
        }
        var s = (acc0 + acc1).sum()
        count += Int(cnt.wrappedSum())
        while i < end {
            let x = v[i]
            if !x.isNaN { s += x; count += 1 }
            i += 1
        }
        partial.append(s)
        start = end
    }
    return (dataPairwiseSum(partial[...]), count)
}

func dataPairwiseSum(_ xs: ArraySlice<Double>) -> Double {
    if xs.count <= 8 { return xs.reduce(0, +) }
    let mid = xs.startIndex + xs.count / 2
    return dataPairwiseSum(xs[..<mid]) + dataPairwiseSum(xs[mid...])
}

/// Σ (x − m)² over the non-NaN values.
func dataSumSquaredDeviations(_ v: UnsafeBufferPointer<Double>, _ m: Double) -> Double {
    let block = 4096
    var partial: [Double] = []
    var start = 0
    while start < v.count {
        let end = Swift.min(start + block, v.count)
        var acc = SIMD8<Double>(repeating: 0)
        var i = start
        let mm = SIMD8<Double>(repeating: m)
        while i + 8 <= end {
            let a = SIMD8<Double>(v[i], v[i+1], v[i+2], v[i+3], v[i+4], v[i+5], v[i+6], v[i+7])
            let d = a - mm
            acc += (d * d).replacing(with: 0, where: .!(a .== a))
            i += 8
        }
        var s = acc.sum()
        while i < end {
            let x = v[i]
            if !x.isNaN { s += (x - m) * (x - m) }
            i += 1
        }
        partial.append(s)
        start = end
    }
    return dataPairwiseSum(partial[...])
}
