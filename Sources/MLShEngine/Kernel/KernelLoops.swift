/// The tight per-op loops the executor dispatches to once per block. Float maps run on
/// `SIMD8<Double>` (AVX-512 with `-target-cpu native`); the last partial vector is padded
/// so every row takes the same code path and gets bit-identical results. The other loops
/// are plain indexed loops over raw pointers, which LLVM vectorizes.
enum KLoop {
    typealias V = SIMD8<Double>
    typealias PF = UnsafeMutablePointer<Double>

    @inline(__always) static func load(_ p: PF, _ i: Int) -> V {
        UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
    }
    @inline(__always) static func store(_ v: V, _ p: PF, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: V.self)
    }
    @inline(__always) static func loadPartial(_ p: PF, _ i: Int, _ k: Int, pad: Double) -> V {
        var v = V(repeating: pad)
        for j in 0..<k { v[j] = p[i + j] }
        return v
    }
    @inline(__always) static func storePartial(_ v: V, _ p: PF, _ i: Int, _ k: Int) {
        for j in 0..<k { p[i + j] = v[j] }
    }

    /// d = f(a), element-wise.
    @inline(__always) static func map1(_ n: Int, _ d: PF, _ a: PF, _ f: (V) -> V) {
        var i = 0
        while i + 8 <= n { store(f(load(a, i)), d, i); i += 8 }
        if i < n { storePartial(f(loadPartial(a, i, n - i, pad: 0)), d, i, n - i) }
    }

    /// d = f(a, b), element-wise.
    @inline(__always) static func map2(_ n: Int, _ d: PF, _ a: PF, _ b: PF, _ f: (V, V) -> V) {
        var i = 0
        while i + 8 <= n { store(f(load(a, i), load(b, i)), d, i); i += 8 }
        if i < n {
            let k = n - i
            storePartial(f(loadPartial(a, i, k, pad: 1), loadPartial(b, i, k, pad: 1)), d, i, k)
        }
    }

    /// d = f(a, b, c), element-wise.
    @inline(__always) static func map3(_ n: Int, _ d: PF, _ a: PF, _ b: PF, _ c: PF, _ f: (V, V, V) -> V) {
        var i = 0
        while i + 8 <= n { store(f(load(a, i), load(b, i), load(c, i)), d, i); i += 8 }
        if i < n {
            let k = n - i
            storePartial(f(loadPartial(a, i, k, pad: 1), loadPartial(b, i, k, pad: 1), loadPartial(c, i, k, pad: 1)), d, i, k)
        }
    }

    /// NaN-propagating minimum (numpy `minimum`).
    @inline(__always) static func min2(_ a: V, _ b: V) -> V {
        let m = a.replacing(with: b, where: b .< a)
        return m.replacing(with: .nan, where: (a .!= a) .| (b .!= b))
    }
    /// NaN-propagating maximum (numpy `maximum`).
    @inline(__always) static func max2(_ a: V, _ b: V) -> V {
        let m = a.replacing(with: b, where: b .> a)
        return m.replacing(with: .nan, where: (a .!= a) .| (b .!= b))
    }
    /// Floored modulo with the divisor's sign (Python `%`); NaN for b = 0.
    @inline(__always) static func modF(_ a: Double, _ b: Double) -> Double {
        let r = a.truncatingRemainder(dividingBy: b)
        if r == 0 { return b < 0 ? -0.0 : 0.0 }   // Python: a zero takes the divisor's sign
        if (r < 0) != (b < 0) { return r + b }
        return r
    }
    /// -1, 0 (keeping ±0) or 1; NaN stays NaN.
    @inline(__always) static func sign(_ a: V) -> V {
        var s = a   // 0, -0 and NaN keep themselves
        s = s.replacing(with: 1, where: a .> 0)
        s = s.replacing(with: -1, where: a .< 0)
        return s
    }

    /// Floored int modulo (Python `%`); 0 when b = 0 (the compiler marks those rows missing).
    @inline(__always) static func modI(_ a: Int64, _ b: Int64) -> Int64 {
        if b == 0 { return 0 }
        let (r, o) = a.remainderReportingOverflow(dividingBy: b)
        if o { return 0 }   // Int64.min % -1 == 0
        if r != 0 && ((r < 0) != (b < 0)) { return r &+ b }
        return r
    }

    /// a^b by squaring for b ≥ 0, reporting overflow; b < 0 gives 0 (never emitted).
    @inline(__always) static func powI(_ a: Int64, _ b: Int64) -> (Int64, Bool) {
        if b < 0 { return (0, false) }
        var result: Int64 = 1, base = a, e = b, overflow = false
        while e > 0 {
            if e & 1 == 1 {
                let (r, o) = result.multipliedReportingOverflow(by: base); result = r; overflow = overflow || o
            }
            e >>= 1
            if e > 0 {
                // e > 0 means this square is multiplied in later, so its overflow is real.
                let (sq, o) = base.multipliedReportingOverflow(by: base); base = sq; overflow = overflow || o
            }
        }
        return (result, overflow)
    }

    /// numpy `round(x, digits)`: half to even at `digits` decimals.
    @inline(__always) static func round(_ x: Double, digits: Int64) -> Double {
        if digits == 0 { return x.rounded(.toNearestOrEven) }
        if digits > 0 {
            let s = kernelPow10(Int(min(digits, 308)))
            let y = (x * s).rounded(.toNearestOrEven) / s
            return y.isFinite || !x.isFinite ? y : x
        }
        let s = kernelPow10(Int(min(-digits, 308)))
        return (x / s).rounded(.toNearestOrEven) * s
    }
}

/// 10^k for 0 ≤ k ≤ 308, exactly where representable.
func kernelPow10(_ k: Int) -> Double {
    var r = 1.0
    for _ in 0..<k { r *= 10 }
    return r
}
