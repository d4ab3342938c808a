import Testing
import MLShEngine
@testable import MLShModels

/// `task=`: every estimator that does both tasks does the one asked for; the others refuse the
/// task they cannot do; classifiers predict in the target's type.
@Suite struct TaskTests {
    /// 40 rows: x separates an int 0/1 target (and the same as bool) except for two rows.
    static func table() throws -> Table {
        let x = (0..<40).map { Double($0) / 4 }
        let y = x.enumerated().map { i, v in Int64((v > 5) != (i % 17 == 3) ? 1 : 0) }
        return try Table(names: ["x", "y", "flag"], columns: [Column(floats: x), Column(ints: y), Column(bools: y.map { $0 == 1 })])
    }

    @Test(arguments: ["tree", "forest", "boost", "knn"])
    func bothTaskModelsFollowTask(_ kind: String) throws {
        let t = try Self.table()
        let spec = PipelineSpec(try ModelSpec.make(kind: kind, settings: [:]))
        #expect(try fit(spec, on: t, target: "y", features: ["x"]).task == .regression)
        #expect(implicitRegressionNote(spec, on: t, target: "y", task: nil)?.contains("task=\"classification\"") == true)
        #expect(implicitRegressionNote(spec, on: t, target: "y", task: .regression) == nil)
        let c = try fit(spec, on: t, target: "y", features: ["x"], task: .classification)
        #expect(c.task == .classification && c.classes == ["0", "1"])
        guard case .int(let predicted, nil) = try c.predict(t).column("prediction").storage else {
            Issue.record("\(kind): predictions are not ints"); return
        }
        #expect(Set(predicted) == [0, 1])
        let b = try fit(spec, on: t, target: "flag", features: ["x"])
        guard case .bool = try b.predict(t).column("prediction").storage else { Issue.record("\(kind): not bools"); return }
        #expect(try crossValidate(spec, on: t, target: "y", features: ["x"], folds: 2, task: .classification)
            .column("metric").value(at: 0) == .string("accuracy"))
        let hint = "tune metric \"auc\" is not reported for \(kind)(); available: rmse, mae, r2 (the target y was treated as regression; pass task=\"classification\" for classification metrics)"
        let grid: [(String, [SettingValue])] = kind == "knn" ? [("k", [.int(3)])] : [("min_leaf", [.int(1)])]
        #expect(throws: ModelError.invalid(hint)) {
            try tune(spec, on: t, target: "y", features: ["x"], grid: grid, folds: 2, metric: "auc")
        }
        #expect(try tune(spec, on: t, target: "y", features: ["x"], grid: grid, folds: 2, metric: "auc", task: .classification)
            .best.task == .classification)
    }

    @Test func tasksAModelCannotDoAreRefused() throws {
        let t = try Self.table()
        #expect(throws: ModelError.invalid("linear() only predicts numbers; task=\"classification\" needs a classifier such as logistic(), tree(), forest(), boost(), knn() or naive_bayes()")) {
            try fit(PipelineSpec(.linear(LinearSpec())), on: t, target: "y", features: ["x"], task: .classification)
        }
        #expect(throws: ModelError.invalid("naive_bayes() only classifies; task=\"regression\" needs a regressor such as ridge(), tree(), forest(), boost() or knn()")) {
            try crossValidate(PipelineSpec(.naiveBayes(NaiveBayesSpec())), on: t, target: "y", features: ["x"], task: .regression)
        }
        #expect(throws: ModelError.invalid("task= must be \"classification\" or \"regression\", got \"clustering\"")) {
            try ModelTask.parse("clustering")
        }
        // Logistic still classifies an int target without being told, and no note is due.
        let spec = PipelineSpec(.logistic(LogisticSpec()))
        #expect(try fit(spec, on: t, target: "y", features: ["x"]).task == .classification)
        #expect(implicitRegressionNote(spec, on: t, target: "y", task: nil) == nil)
    }
}
