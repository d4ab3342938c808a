#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded pseudo-random generator (xoshiro256**, state filled by SplitMix64): the same
/// seed gives the same sequence on every machine.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareGaussian: Double?

    /// A generator seeded with `seed`.
    public init(seed: UInt64) {
        var x = seed
        func splitmix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitmix(); s1 = splitmix(); s2 = splitmix(); s3 = splitmix()
    }

    /// A generator for stream `stream` of `seed` (independent streams for parallel chunks).
    public init(seed: UInt64, stream: UInt64) {
        self.init(seed: seed ^ (stream &* 0xD1B5_4A32_D192_ED03 &+ 0x8CB9_2BA7_2F3D_8DD7))
    }

    /// A generator for stream `stream` of `seed` as the models draw them (trees, folds,
    /// k-means starts, permutations): a different mixing from `init(seed:stream:)`, kept so
    /// every seeded model reproduces bit for bit.
    public init(seed: UInt64, modelStream stream: UInt64) {
        self.init(seed: (seed ^ (stream &* 0xD1B5_4A32_D192_ED03)) &+ stream)
    }

    @inline(__always) private static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    @inline(__always)
    public mutating func next() -> UInt64 {
        let result = SeededRandom.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
        s2 ^= t
        s3 = SeededRandom.rotl(s3, 45)
        return result
    }

    /// A uniform Double in [0, 1).
    @inline(__always)
    public mutating func nextDouble() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// A uniform integer in `0..<n` (0 when `n` ≤ 0), without modulo bias.
    public mutating func nextInt(below n: Int) -> Int {
        guard n > 1 else { return 0 }
        let bound = UInt64(n)
        var m = next().multipliedFullWidth(by: bound)
        if m.low < bound {
            let threshold = (0 &- bound) % bound
            while m.low < threshold { m = next().multipliedFullWidth(by: bound) }
        }
        return Int(m.high)
    }

    /// An integer in `0..<n` as `next() % n` (0 when `n` ≤ 0): the models' draw, with a
    /// modulo bias below n/2⁶⁴, kept so every seeded model reproduces bit for bit.
    @inline(__always)
    public mutating func nextInt(modulo n: Int) -> Int {
        guard n > 0 else { return 0 }
        return Int(next() % UInt64(n))
    }

    /// Shuffles `a` in place (Fisher–Yates) drawing with `nextInt(modulo:)`: the models' shuffle.
    public mutating func shuffleByModulo<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, nextInt(modulo: i + 1))
        }
    }

    /// A standard normal value (polar Box–Muller; values come in pairs).
    public mutating func nextGaussian() -> Double {
        if let g = spareGaussian { spareGaussian = nil; return g }
        while true {
            let u = 2 * nextDouble() - 1
            let v = 2 * nextDouble() - 1
            let s = u * u + v * v
            if s > 0 && s < 1 {
                let f = (-2 * log(s) / s).squareRoot()
                spareGaussian = v * f
                return u * f
            }
        }
    }

    /// Shuffles `a` in place (Fisher–Yates).
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            a.swapAt(i, nextInt(below: i + 1))
        }
    }
}
