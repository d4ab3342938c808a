import Testing
import MLShEngine
@testable import MLShModels

/// ROC curves: the points scikit-learn's `roc_curve` gives (without its extra first
/// threshold), areas equal to the `auc` metric, and one-vs-rest curves for more classes.
@Suite struct ROCTests {
    @Test func curveOfAScore() throws {
        // sklearn roc_curve([0,0,1,1], [0.1,0.4,0.35,0.8]): fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1]
        let c = try #require(rocCurve([false, false, true, true], [0.1, 0.4, 0.35, 0.8], label: "1"))
        #expect(c.fpr == [0, 0, 0.5, 0.5, 1])
        #expect(c.tpr == [0, 0.5, 0.5, 1, 1])
        #expect(c.auc == 0.75)
        // Tied scores move in one step.
        let tied = try #require(rocCurve([false, true, false, true], [0.5, 0.5, 0.2, 0.9], label: "1"))
        #expect(tied.fpr == [0, 0, 0.5, 1] && tied.tpr == [0, 0.5, 1, 1])
        #expect(rocCurve([true, true], [0.1, 0.2], label: "1") == nil)
    }

    @Test func binaryAndMulticlassModels() throws {
        let (train, test) = try TestCSV.load("breast_cancer").fixedSplit()
        let spec = PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec()))
        let m = try fit(spec, on: train, target: "diagnosis", features: nil)
        let curves = try m.rocCurves(test)
        #expect(curves.map(\.label) == ["malignant"])
        let auc = try #require(try m.evaluate(test)["auc"])
        #expect(abs((curves.first?.auc ?? 0) - auc) < 1e-12)
        #expect(curves.first?.fpr.first == 0 && curves.first?.tpr.last == 1)

        let (itrain, itest) = try TestCSV.load("iris").fixedSplit()
        let im = try fit(PipelineSpec(.logistic(LogisticSpec())), on: itrain, target: "species", features: nil)
        #expect(try im.rocCurves(itest).map(\.label) == ["setosa", "versicolor", "virginica"])
        let counts = try im.confusionCounts(itest)
        #expect(counts.count == 3 && counts.allSatisfy { $0.count == 3 })
        #expect(counts.flatMap { $0 }.reduce(0, +) == Double(itest.rowCount))
        let none = try itest.testRows { _ in false }
        #expect(throws: ModelError.self) { try im.confusionCounts(none) }
        #expect(throws: ModelError.self) { try im.rocCurves(none) }
        let accuracy = try #require(try im.evaluate(itest)["accuracy"])
        #expect(abs((counts[0][0] + counts[1][1] + counts[2][2]) / Double(itest.rowCount) - accuracy) < 1e-12)
    }

    @Test func refusesRegressionModels() throws {
        let (train, test) = try TestCSV.load("diabetes").fixedSplit()
        let m = try fit(PipelineSpec(.ridge(RidgeSpec())), on: train, target: "progression", features: nil)
        #expect(throws: ModelError.self) { try m.rocCurves(test) }
        #expect(throws: ModelError.self) { try m.confusionCounts(test) }
    }
}
