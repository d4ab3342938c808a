/// Vectorized transcendental functions on `SIMD8<Double>`: range reduction plus a
/// polynomial, FMA through `addingProduct` (one instruction with `-target-cpu native`).
/// Accuracy ≤ 2 ulp against libm across the whole range, including subnormal results and
/// inputs; inf, NaN, 0 and negative inputs follow C99 Annex F (tested in KernelMathTests).
enum KernelMath {
    typealias V = SIMD8<Double>
    typealias U = SIMD8<UInt64>

    @inline(__always) static func bits(_ v: V) -> U { unsafeBitCast(v, to: U.self) }
    @inline(__always) static func double(_ u: U) -> V { unsafeBitCast(u, to: V.self) }

    /// 1.5 · 2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the
    /// low mantissa bits.
    static let roundingMagic: Double = 6755399441055744.0
    static let log2e: Double = 1.4426950408889634
    /// ln 2 split so that n · ln2Hi is exact for |n| < 2^11 (fdlibm).
    static let ln2Hi: Double = 6.93147180369123816490e-01
    static let ln2Lo: Double = 1.90821492927058770002e-10

    /// e^x for eight lanes.
    @inline(__always) static func exp(_ x: V) -> V {
        // Clamp so the reduction stays finite; the out-of-range lanes are fixed at the end.
        var xc = x.replacing(with: 0, where: x .!= x)
        xc = xc.replacing(with: 710, where: xc .> 710)
        xc = xc.replacing(with: -746, where: xc .< -746)
        let t = V(repeating: roundingMagic).addingProduct(xc, V(repeating: log2e))
        let nd = t - V(repeating: roundingMagic)
        // r = x - n·ln2, in two steps.
        var r = xc.addingProduct(-nd, V(repeating: ln2Hi))
        r = r.addingProduct(-nd, V(repeating: ln2Lo))
        // e^r on |r| ≤ 0.35: Taylor to degree 13 (truncation < 1e-17 relative).
        var p = V(repeating: 1.0 / 479001600.0).addingProduct(r, V(repeating: 1.0 / 6227020800.0))
        p = V(repeating: 1.0 / 39916800.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 3628800.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 362880.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 40320.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 5040.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 720.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 120.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 24.0).addingProduct(r, p)
        p = V(repeating: 1.0 / 6.0).addingProduct(r, p)
        p = V(repeating: 0.5).addingProduct(r, p)
        let r2 = r * r
        let er = V(repeating: 1) + (r + r2 * p)
        // Scale by 2^n as 2^n1 · 2^n2 so subnormal results round once.
        let n = bits(t) &- bits(V(repeating: roundingMagic))   // two's complement n in the low bits
        let n1 = U(truncatingIfNeeded: SIMD8<Int64>(truncatingIfNeeded: n) &>> 1)
        let n2 = n &- n1
        let s1 = double((n1 &+ 1023) &<< 52)
        let s2 = double((n2 &+ 1023) &<< 52)
        var y = er * s1 * s2
        y = y.replacing(with: .infinity, where: x .> 709.782712893384)
        y = y.replacing(with: 0, where: x .< -745.1332191019412)
        y = y.replacing(with: x, where: x .!= x)
        return y
    }

    static let lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01
    static let lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01
    static let lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01
    static let lg7 = 1.479819860511658591e-01

    /// log(x) for eight lanes (fdlibm's e_log.c reduction and polynomial).
    @inline(__always) static func log(_ x: V) -> V {
        let subnormal = x .< 2.2250738585072014e-308
        let xs = x.replacing(with: x * 18014398509481984.0, where: subnormal)   // · 2^54
        let kAdjust = V(repeating: 0).replacing(with: -54, where: subnormal)
        // Shift the exponent so the mantissa lands in [√2/2, √2).
        let ix = bits(xs) &+ U(repeating: UInt64(0x3ff00000 - 0x3fe6a09e) << 32)
        let kInt = (ix &>> 52) &- 0x3ff
        let m = double((ix & 0x000f_ffff_ffff_ffff) &+ U(repeating: UInt64(0x3fe6a09e) << 32))
        let kd = double(U(repeating: 0x4338_0000_0000_0000) &+ kInt) - V(repeating: roundingMagic) + kAdjust
        let f = m - 1
        let s = f / (V(repeating: 2) + f)
        let z = s * s
        let w = z * z
        let t1 = w * V(repeating: lg2).addingProduct(w, V(repeating: lg4).addingProduct(w, V(repeating: lg6)))
        let t2 = z * V(repeating: lg1).addingProduct(w, V(repeating: lg3).addingProduct(w, V(repeating: lg5).addingProduct(w, V(repeating: lg7))))
        let rr = t2 + t1
        let hfsq = 0.5 * f * f
        var y = kd * ln2Hi - ((hfsq - (s * (hfsq + rr) + kd * ln2Lo)) - f)
        y = y.replacing(with: .infinity, where: x .== .infinity)
        y = y.replacing(with: -.infinity, where: x .== 0)
        y = y.replacing(with: .nan, where: x .< 0)
        y = y.replacing(with: x, where: x .!= x)
        return y
    }

    /// log(1 + x) for eight lanes: log(u) for u = 1 + x plus the rounding error of u,
    /// (x - (u - 1)) / u (Goldberg), exact at 0 and -0.
    @inline(__always) static func log1p(_ x: V) -> V {
        let u = V(repeating: 1) + x
        let big = u .>= 2
        let cSmall = x - (u - V(repeating: 1))
        let cBig = V(repeating: 1) - (u - x)
        let c = cSmall.replacing(with: cBig, where: big) / u
        var y = log(u) + c
        y = y.replacing(with: x, where: x .== 0)
        y = y.replacing(with: .infinity, where: x .== .infinity)
        y = y.replacing(with: -.infinity, where: x .== -1)
        y = y.replacing(with: .nan, where: x .< -1)
        y = y.replacing(with: x, where: x .!= x)
        return y
    }
}
