/// The tight per-op loops the executor dispatches to once per block: plain indexed loops
/// over raw pointers with branch-free bodies, which LLVM vectorizes (AVX-512/AVX2 with
/// `-target-cpu native`). Explicit `SIMD8<Double>` code was measured 3–5× slower here:
/// the stdlib's generic SIMD operations lower lane by lane.
enum KLoop {
    typealias PF = UnsafeMutablePointer<Double>

    // The register allocator never gives an op a destination that aliases an operand,
    // so LLVM's runtime alias check passes and these loops run vectorized.

    /// d = f(a), element-wise.
    @inline(__always) static func map1(_ n: Int, _ d: PF, _ a: PF, _ f: (Double) -> Double) {
        for k in 0..<n { d[k] = f(a[k]) }
    }
    /// d = f(a, b), element-wise.
    @inline(__always) static func map2(_ n: Int, _ d: PF, _ a: PF, _ b: PF, _ f: (Double, Double) -> Double) {
        for k in 0..<n { d[k] = f(a[k], b[k]) }
    }
    /// d = f(a, b, c), element-wise.
    @inline(__always) static func map3(_ n: Int, _ d: PF, _ a: PF, _ b: PF, _ c: PF, _ f: (Double, Double, Double) -> Double) {
        for k in 0..<n { d[k] = f(a[k], b[k], c[k]) }
    }

    /// `m ? a : b` on bit patterns for a 0/1 byte `m`, without a branch.
    @inline(__always) static func blend(_ m: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        let w = 0 &- UInt64(m)
        return (a & w) | (b & ~w)
    }

    /// Square root. `squareRoot()` lowers to libm `sqrt` with an errno branch that blocks
    /// vectorization; with the operand provably ≥ 0 LLVM emits `vsqrtpd`.
    @inline(__always) static func sqrt(_ x: Double) -> Double {
        let s = (x >= 0 ? x : 0).squareRoot()
        return x >= 0 ? s : .nan
    }

    /// NaN-propagating minimum (numpy `minimum`).
    @inline(__always) static func min2(_ a: Double, _ b: Double) -> Double {
        let m = b < a ? b : a
        return a.isNaN || b.isNaN ? .nan : m
    }
    /// NaN-propagating maximum (numpy `maximum`).
    @inline(__always) static func max2(_ a: Double, _ b: Double) -> Double {
        let m = b > a ? b : a
        return a.isNaN || b.isNaN ? .nan : m
    }
    /// -1, 0 (keeping ±0) or 1; NaN stays NaN.
    @inline(__always) static func sign(_ a: Double) -> Double {
        a > 0 ? 1 : a < 0 ? -1 : a
    }

    /// Floored modulo with the divisor's sign (Python `%`); NaN for b = 0.
    @inline(__always) static func modF(_ a: Double, _ b: Double) -> Double {
        let r = a.truncatingRemainder(dividingBy: b)
        if r == 0 { return b < 0 ? -0.0 : 0.0 }   // Python: a zero takes the divisor's sign
        if (r < 0) != (b < 0) { return r + b }
        return r
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
