import Foundation
import Testing
@testable import MLShEngine

/// The vectorizable exp/log/log1p against glibc's, in ulps, across their whole ranges.
@Suite struct KernelMathTests {
    func ulps(_ got: Double, _ want: Double) -> Double {
        if got.isNaN && want.isNaN { return 0 }
        if got == want { return got == 0 ? (got.sign == want.sign ? 0 : .infinity) : 0 }
        if got.isInfinite || want.isInfinite || got.isNaN || want.isNaN { return .infinity }
        return abs(got - want) / max(want.ulp, Double.leastNonzeroMagnitude)
    }

    func worst(_ xs: [Double], _ f: (Double) -> Double, _ g: (Double) -> Double) -> (Double, Double) {
        var w = (0.0, 0.0)
        for x in xs { let u = ulps(f(x), g(x)); if u > w.0 { w = (u, x) } }
        return w
    }

    func samples(_ n: Int, seed: UInt64, _ make: (inout KTestRandom) -> Double) -> [Double] {
        var r = KTestRandom(state: seed)
        return (0..<n).map { _ in make(&r) }
    }

    static let specials: [Double] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, .leastNonzeroMagnitude,
                                     -.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude,
                                     -.greatestFiniteMagnitude, 1e-300, -1e-300, 0.5, 2, 1e-320]

    @Test func expWithinTwoUlps() {
        var xs = Self.specials + [709.782712893384, 709.7827128933841, 709.79, -745.1332191019411, -745.1332191019412,
                                  -745.14, -708.4, -708.39, 1e-17, -1e-17]
        xs += samples(200_000, seed: 1) { -745.2 + $0.unit() * 1455.1 }
        xs += samples(50_000, seed: 2) { -745.14 + $0.unit() * 37 }             // subnormal results
        xs += samples(50_000, seed: 3) { ($0.unit() - 0.5) * 1e-6 }
        let (u, x) = worst(xs, KernelMath.exp, Foundation.exp)
        #expect(u <= 2, "exp(\(x)) is \(u) ulp off: \(KernelMath.exp(x)) vs \(Foundation.exp(x))")
    }

    @Test func logWithinTwoUlps() {
        var xs = Self.specials + [1 + 1e-15, 1 - 1e-16, 0.7071067811865476, 1.4142135623730951]
        xs += samples(200_000, seed: 4) { Double(bitPattern: $0.next() & 0x7fef_ffff_ffff_ffff) }   // every exponent
        xs += samples(50_000, seed: 5) { 0.5 + $0.unit() }
        xs += samples(20_000, seed: 6) { -$0.unit() * 10 }
        let (u, x) = worst(xs, KernelMath.log, Foundation.log)
        #expect(u <= 2, "log(\(x)) is \(u) ulp off: \(KernelMath.log(x)) vs \(Foundation.log(x))")
    }

    @Test func log1pWithinTwoUlps() {
        var xs = Self.specials + [-1 + 1e-16, -0.9999999999, 1e-16, -1e-16, 1e-200, -1e-200, 2.2e-16, 1.1e-16, -1.5]
        xs += samples(200_000, seed: 7) { -1 + $0.unit() * 2 }
        xs += samples(50_000, seed: 8) { (($0.chance(0.5) ? 1 : -1) * Foundation.pow(10, -20 + $0.unit() * 19)) }
        xs += samples(50_000, seed: 9) { Foundation.pow(10, $0.unit() * 300) }
        let (u, x) = worst(xs, KernelMath.log1p, Foundation.log1p)
        #expect(u <= 2, "log1p(\(x)) is \(u) ulp off: \(KernelMath.log1p(x)) vs \(Foundation.log1p(x))")
    }

    @Test func specialValuesExactly() {
        #expect(KernelMath.exp(.infinity) == .infinity)
        #expect(KernelMath.exp(-.infinity) == 0)
        #expect(KernelMath.exp(.nan).isNaN)
        #expect(KernelMath.exp(0) == 1 && KernelMath.exp(-0.0) == 1)
        #expect(KernelMath.exp(710) == .infinity && KernelMath.exp(-746) == 0)
        #expect(KernelMath.log(0) == -.infinity && KernelMath.log(-0.0) == -.infinity)
        #expect(KernelMath.log(-1).isNaN && KernelMath.log(.nan).isNaN && KernelMath.log(-.infinity).isNaN)
        #expect(KernelMath.log(.infinity) == .infinity && KernelMath.log(1) == 0)
        #expect(KernelMath.log(.leastNonzeroMagnitude) == Foundation.log(.leastNonzeroMagnitude))
        #expect(KernelMath.log1p(-1) == -.infinity && KernelMath.log1p(-2).isNaN)
        #expect(KernelMath.log1p(-0.0).sign == .minus && KernelMath.log1p(-0.0) == 0)
        #expect(KernelMath.log1p(.infinity) == .infinity && KernelMath.log1p(.nan).isNaN)
    }
}
