import Testing
import MLShEngine
@testable import MLShModels

@Suite struct CrossValidationTests {
    @Test func foldsAreStratifiedAndCoverEveryRow() {
        let classes: [Int32] = (0..<90).map { Int32($0 % 3) }
        let f = foldAssignment(rows: 90, folds: 5, classes: classes, seed: 1)
        for k in 0..<5 {
            for c in Int32(0)..<3 {
                let n = (0..<90).filter { f[$0] == k && classes[$0] == c }.count
                #expect(n == 6)
            }
        }
        #expect(foldAssignment(rows: 90, folds: 5, classes: classes, seed: 1) == f)
        let r = foldAssignment(rows: 11, folds: 3, classes: nil, seed: 0)
        #expect((0..<3).map { k in r.filter { $0 == k }.count }.sorted() == [3, 4, 4])
    }

    @Test func cvReportsMeanAndStdPerMetric() throws {
        let iris = try TestCSV.load("iris")
        let t = try crossValidate(PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec())),
                                  on: iris, target: "species", features: nil, folds: 5, seed: 0)
        #expect(t.names == ["metric", "mean", "std"])
        #expect(t.columns[0].modelLabels == ["accuracy", "precision", "recall", "f1", "auc", "logloss"])
        let acc = t.columns[1].modelDoubles[0]
        #expect(acc > 0.9 && acc <= 1)
        let again = try crossValidate(PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec())),
                                      on: iris, target: "species", features: nil, folds: 5, seed: 0)
        #expect(again.columns[1].modelDoubles == t.columns[1].modelDoubles)
    }

    @Test func tuneRanksCandidatesAndRefitsTheBest() throws {
        let (train, _) = try TestCSV.load("diabetes").fixedSplit()
        let r = try tune(PipelineSpec(.ridge(RidgeSpec())), on: train, target: "progression", features: nil,
                         grid: [("alpha", [.number(0.01), .number(1), .number(100), .number(10000)])], folds: 4, seed: 0, metric: nil)
        #expect(r.results.names == ["alpha", "mean_rmse", "std_rmse", "rank"])
        let means = r.results.columns[1].modelDoubles, ranks = r.results.columns[3].modelDoubles
        let bestRow = try #require(ranks.firstIndex(of: 1))
        #expect(means[bestRow] == means.min())
        #expect(r.bestSettings.map(\.0) == ["alpha"])
        #expect(r.best.spec.model == .ridge(RidgeSpec(alpha: r.bestSettings[0].1 == .number(0.01) ? 0.01 : (r.bestSettings[0].1.asDouble ?? 0))))
        #expect(ranks.last == 4) // alpha=10000 is the worst
    }

    @Test func tuneAcceptsTransformSettingsAndRandomSubsets() throws {
        let iris = try TestCSV.load("iris")
        let spec = PipelineSpec(steps: [.selectFeatures(SelectFeaturesSpec(k: 1))], model: .knn(KNNSpec()))
        let r = try tune(spec, on: iris, target: "species", features: nil,
                         grid: [("select_features.k", [.int(1), .int(2), .int(4)]), ("k", [.int(1), .int(5), .int(15)])],
                         random: 4, folds: 3, seed: 2, metric: "f1")
        #expect(r.results.rowCount == 4)
        #expect(r.results.names == ["select_features.k", "k", "mean_f1", "std_f1", "rank"])
        #expect(throws: ModelError.self) {
            _ = try tune(spec, on: iris, target: "species", features: nil, grid: [("impute.strategy", [.string("mean")])],
                         folds: 3, seed: 0, metric: nil)
        }
    }

    @Test func explainAndImportance() throws {
        let (train, test) = try TestCSV.load("diabetes").fixedSplit()
        let m = try fit(PipelineSpec(.ridge(RidgeSpec(alpha: 0.1))), on: train, target: "progression", features: nil)
        let imp = try m.importance()
        #expect(imp.names == ["feature", "importance"])
        #expect(imp.rowCount == 10)
        let e = try m.explain(test, seed: 0, repeats: 3)
        #expect(e.names == ["feature", "mean", "std"])
        let means = e.columns[1].modelDoubles
        let top = try #require(means.indices.max { means[$0] < means[$1] })
        #expect(["bmi", "s5"].contains(e.columns[0].modelLabels[top] ?? ""))
        #expect(try m.explain(test, seed: 0, repeats: 3).columns[1].modelDoubles == means)
        let iris = try TestCSV.load("iris")
        let lm = try fit(PipelineSpec(.logistic(LogisticSpec())), on: iris, target: "species", features: nil)
        #expect(try lm.importance().names == ["feature", "importance", "coef_setosa", "coef_versicolor", "coef_virginica"])
        let tm = try fit(PipelineSpec(.tree(TreeSpec(maxDepth: 3))), on: iris, target: "species", features: nil)
        let ti = try tm.importance().columns[1].modelDoubles
        #expect(abs(ti.reduce(0, +) - 1) < 1e-9)
    }
}
