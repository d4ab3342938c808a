import Foundation
import Testing
import MLShEngine
@testable import MLShModels

/// `boost(subsample=, seed=)`: with every row (the default) the seed changes nothing; with a
/// fraction each round draws its rows from the seed, reproducibly, and the model still learns.
@Suite struct BoostSubsampleTests {
    static func trees(_ m: FittedModel) throws -> [TreeModel] {
        guard let e = m.state.estimator.learned(as: EnsembleState.self) else { throw ModelError.invalid("not a tree ensemble") }
        return e.trees
    }

    @Test func seedMattersOnlyWithSubsampling() throws {
        let t = try TestCSV.load("breast_cancer")
        func boost(_ subsample: Double, _ seed: UInt64) throws -> FittedModel {
            try fit(PipelineSpec(.boost(BoostSpec(rounds: 15, subsample: subsample, seed: seed))), on: t, target: "diagnosis", features: nil)
        }
        #expect(try Self.trees(boost(1, 0)) == Self.trees(boost(1, 7)), "all rows: the seed changes nothing")
        let a = try boost(0.7, 1), b = try boost(0.7, 1), c = try boost(0.7, 2)
        #expect(try Self.trees(a) == Self.trees(b), "same seed, same model")
        #expect(try Self.trees(a) != Self.trees(c), "another seed draws other rows")
        #expect(try Self.trees(a) != Self.trees(boost(1, 1)), "subsampling changes the fit")
        let accuracy = try #require(a.evaluate(t)["accuracy"])
        #expect(accuracy > 0.95, "subsampled boost training accuracy \(accuracy)")
        // Training metrics come from the fit's scores; rows left out of a draw must still be scored.
        #expect(a.trainingMetrics.first { $0.0 == "accuracy" }?.1 == accuracy)
    }

    @Test func subsampleMustBeAFraction() throws {
        for bad in [0.0, -0.5, 1.5] {
            #expect(throws: ModelError.self) { _ = try ModelSpec.make(kind: "boost", settings: ["subsample": .number(bad)]) }
        }
        #expect(try ModelSpec.make(kind: "boost", settings: ["subsample": .number(0.5)]) == .boost(BoostSpec(subsample: 0.5)))
    }

    /// Boost specs saved before `subsample` existed decode as every row.
    @Test func oldSpecsDecodeWithEveryRow() throws {
        let json = #"{"rounds":20,"lr":0.1,"maxDepth":3,"minLeaf":1,"seed":4}"#
        let spec = try JSONDecoder().decode(BoostSpec.self, from: Data(json.utf8))
        #expect(spec == BoostSpec(rounds: 20, subsample: 1, seed: 4))
        let again = try JSONDecoder().decode(BoostSpec.self, from: JSONEncoder().encode(BoostSpec(subsample: 0.25)))
        #expect(again.subsample == 0.25)
    }
}
