import Testing
import MLShEngine
@testable import MLShModels

/// Quality on data larger than the bundled sets, where trees take the code paths of large
/// nodes. (A boosting speed-up once broke forests — binary gini histograms counted rows instead
/// of adding bootstrap weights — and this test still passed on it, in debug as in release: it
/// takes the broken path, but synth's two classes sit at opposite corners and even the skewed
/// splits separate them, 0.968 instead of 0.989. TreeWeightTests compares weighted trees with
/// repeated rows exactly and catches it; `scripts/bench models` prints training quality too.)
@Suite struct LargeDataQualityTests {
    @Test func forestAndTreeLearnTwentyThousandRows() throws {
        let t = try synth("classification", rows: 20_000, features: 20, classes: 2, noise: 0.01, seed: 0)
        for spec in [ModelSpec.forest(ForestSpec(trees: 10, maxDepth: 10, seed: 0)), .tree(TreeSpec(maxDepth: 10))] {
            let m = try fit(PipelineSpec(spec), on: t, target: "y", features: nil)
            let accuracy = try #require(m.evaluate(t)["accuracy"])
            #expect(accuracy > 0.9, "\(spec.description) training accuracy \(accuracy)")
        }
    }
}
