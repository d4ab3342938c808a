import Testing
import MLShEngine
@testable import MLShModels

/// Quality on data larger than the bundled sets, where trees take the code paths of large
/// nodes. (A reverted boosting speed-up broke forests on the release-built 20k×20 bench
/// data; this debug-build test still passed on that code — `scripts/bench models` prints
/// the training quality that caught it.)
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
