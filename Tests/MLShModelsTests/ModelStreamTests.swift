import Testing
import MLShEngine

/// The models draw from the engine's `SeededRandom` with their own stream mixing, modulo
/// draws and shuffle: these values were drawn by the models' generator before it was merged
/// into the engine's (xoshiro256** seeded by SplitMix64), so seeded models reproduce.
@Suite struct ModelStreamTests {
    @Test func modelStreamsDrawTheValuesTheyAlwaysDrew() {
        var r = SeededRandom(seed: 42, modelStream: 7)
        #expect((0..<3).map { _ in r.next() } == [16732254045150296482, 3998227259967908292, 10038748326033322054])
        #expect((0..<5).map { _ in r.nextInt(modulo: 10) } == [5, 8, 9, 2, 8])
        var a = Array(0..<8)
        r.shuffleByModulo(&a)
        #expect(a == [6, 2, 4, 1, 5, 0, 7, 3])
        var plain = SeededRandom(seed: 5)
        #expect([plain.next(), plain.next()] == [5320248114040590185, 11106458710588138716])
        #expect(plain.nextInt(modulo: 0) == 0)
    }
}
