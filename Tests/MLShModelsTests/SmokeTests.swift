import Testing
import MLShEngine
@testable import MLShModels

@Suite struct SmokeTests {
    @Test func everyModelFitsIris() throws {
        let iris = try TestCSV.load("iris")
        let (train, test) = try iris.fixedSplit()
        for kind in ["logistic", "tree", "forest", "boost", "knn", "naive_bayes"] {
            let m = try fit(PipelineSpec(try ModelSpec.make(kind: kind, settings: [:])), on: train, target: "species", features: nil)
            let e = try m.evaluate(test)
            print(kind, e.values)
            #expect((e["accuracy"] ?? 0) > 0.85)
        }
    }
}
