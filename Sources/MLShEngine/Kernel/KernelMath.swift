/// Vectorizable transcendental functions: branch-free scalar code (range reduction, a
/// polynomial with FMA through `addingProduct`, bit tricks instead of conversions, selects
/// instead of branches) that LLVM's loop vectorizer turns into AVX-512/AVX2 code when the
/// executor maps it over a block. Accuracy ≤ 2 ulp against libm across the whole range,
/// including subnormal results and inputs; inf, NaN, ±0 and negative inputs follow C99
/// Annex F (tested in KernelMathTests).
enum KernelMath {
    /// 1.5 · 2^52: adding it rounds a double of magnitude < 2^51 to an integer held in the
    /// low mantissa bits.
    static let roundingMagic: Double = 6755399441055744.0
    static let log2e: Double = 1.4426950408889634
    /// ln 2 split so that n · ln2Hi is exact for |n| < 2^11 (fdlibm).
    static let ln2Hi: Double = 6.93147180369123816490e-01
    static let ln2Lo: Double = 1.90821492927058770002e-10

    /// e^x.
    @inline(__always) static func exp(_ x: Double) -> Double {
        // Clamp so the reduction stays finite; out-of-range lanes are fixed at the end.
        var xc = x.isNaN ? 0 : x
        xc = xc > 710 ? 710 : xc
        xc = xc < -746 ? -746 : xc
        let t = roundingMagic.addingProduct(xc, log2e)
        let nd = t - roundingMagic
        // r = x - n·ln2 in two steps; |r| ≤ 0.35.
        var r = xc.addingProduct(-nd, ln2Hi)
        r = r.addingProduct(-nd, ln2Lo)
        // e^r: Taylor to degree 13 (truncation < 1e-17 relative), in Estrin's scheme: the
        // coefficients pairwise, then by r², r⁴, r⁸ — a chain of 5 FMAs instead of Horner's 12,
        // so the vectorized loop is not bound by FMA latency.
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let a0 = (1.0 / 2.0).addingProduct(r, 1.0 / 6.0)
        let a1 = (1.0 / 24.0).addingProduct(r, 1.0 / 120.0)
        let a2 = (1.0 / 720.0).addingProduct(r, 1.0 / 5040.0)
        let a3 = (1.0 / 40320.0).addingProduct(r, 1.0 / 362880.0)
        let a4 = (1.0 / 3628800.0).addingProduct(r, 1.0 / 39916800.0)
        let a5 = (1.0 / 479001600.0).addingProduct(r, 1.0 / 6227020800.0)
        let b0 = a0.addingProduct(r2, a1), b1 = a2.addingProduct(r2, a3), b2 = a4.addingProduct(r2, a5)
        let p = b0.addingProduct(r4, b1).addingProduct(r8, b2)
        let er = 1 + r.addingProduct(r2, p)
        // Scale by 2^n as 2^n1 · 2^n2 so subnormal results round once.
        let n = t.bitPattern &- roundingMagic.bitPattern   // n, two's complement
        let n1 = UInt64(bitPattern: Int64(bitPattern: n) &>> 1)
        let n2 = n &- n1
        let s1 = Double(bitPattern: (n1 &+ 1023) &<< 52)
        let s2 = Double(bitPattern: (n2 &+ 1023) &<< 52)
        var y = er * s1 * s2
        y = x > 709.782712893384 ? .infinity : y
        y = x < -745.1332191019412 ? 0 : y
        return x.isNaN ? x : y
    }

    static let lg1 = 6.666666666666735130e-01, lg2 = 3.999999999940941908e-01
    static let lg3 = 2.857142874366239149e-01, lg4 = 2.222219843214978396e-01
    static let lg5 = 1.818357216161805012e-01, lg6 = 1.531383769920937332e-01
    static let lg7 = 1.479819860511658591e-01

    /// x = m · 2^k with m in [√2/2, √2), for positive normal x: (m, k as an integer).
    @inline(__always) static func split(_ x: Double) -> (m: Double, k: UInt64) {
        let ix = x.bitPattern &+ (UInt64(0x3ff00000 - 0x3fe6a09e) &<< 32)
        return (Double(bitPattern: (ix & 0x000f_ffff_ffff_ffff) &+ (UInt64(0x3fe6a09e) &<< 32)), (ix &>> 52) &- 0x3ff)
    }

    /// k as a double (k in two's complement, |k| < 2^51).
    @inline(__always) static func double(_ k: UInt64) -> Double {
        Double(bitPattern: 0x4338_0000_0000_0000 &+ k) - roundingMagic
    }

    /// fdlibm's log(m · 2^k) from f = m - 1, s = f / (2 + f), k and a low-order term
    /// added before the final rounding.
    @inline(__always) static func logPolynomial(f: Double, s: Double, kd: Double, low: Double) -> Double {
        let z = s * s
        let w = z * z
        let t1 = w * lg2.addingProduct(w, lg4.addingProduct(w, lg6))
        let t2 = z * lg1.addingProduct(w, lg3.addingProduct(w, lg5.addingProduct(w, lg7)))
        let hfsq = 0.5 * f * f
        return kd * ln2Hi - ((hfsq - (s * (hfsq + (t2 + t1)) + (kd * ln2Lo + low))) - f)
    }

    /// Natural log (fdlibm's e_log.c reduction and polynomial, < 1 ulp).
    @inline(__always) static func log(_ x: Double) -> Double {
        let subnormal = x < 2.2250738585072014e-308
        let (m, k) = split(subnormal ? x * 18014398509481984.0 : x)   // · 2^54
        let f = m - 1
        var y = logPolynomial(f: f, s: f / (2 + f), kd: double(k) + (subnormal ? -54 : 0), low: 0)
        y = x == .infinity ? .infinity : y
        y = x == 0 ? -.infinity : y
        y = x < 0 ? .nan : y
        return x.isNaN ? x : y
    }

    /// log(1 + x): log(u) for u = 1 + x plus the rounding error of u, (x - (u - 1)) / u
    /// (fdlibm's s_log1p correction), exact at ±0. With u = m · 2^k, one division serves
    /// both quotients: q = 1 / ((2 + f) · m) gives s = f / (2 + f) = f · m · q and
    /// c / u = c · (2 + f) · q · 2^-k (each within 2 ulp, which moves the result by well
    /// under one; 2^-k is capped at 2^-1022, where c / u is far below the result's ulp).
    @inline(__always) static func log1p(_ x: Double) -> Double {
        let u = 1 + x   // for x > -1, u ≥ 2^-53: never subnormal
        let c = u >= 2 ? 1 - (u - x) : x - (u - 1)
        let (m, k) = split(u)
        let f = m - 1
        let twoF = 2 + f
        let q = 1 / (twoF * m)
        let scale = Double(bitPattern: UInt64(bitPattern: 1023 &- Swift.min(Int64(bitPattern: k), 1022)) &<< 52)
        var y = logPolynomial(f: f, s: f * m * q, kd: double(k), low: c * twoF * q * scale)
        y = x == 0 ? x : y
        y = x == .infinity ? .infinity : y
        y = x == -1 ? -.infinity : y
        y = x < -1 ? .nan : y
        return x.isNaN ? x : y
    }
}
