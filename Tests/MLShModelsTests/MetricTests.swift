import Testing
import MLShEngine
@testable import MLShModels

@Suite struct MetricTests {
    /// Lower is better for errors and losses however users name them; higher for scores;
    /// a `neg` part turns it round; nil when the name says neither.
    @Test(arguments: [
        ("rmse", true), ("cv_rmse", true), ("val_loss", true), ("test_mae", true), ("cv_logloss", true), ("train-mse", true),
        ("val.error", true), ("valloss", true), ("MAPE", true), ("inertia", true), ("fit_time", true), ("cv_rmse_std", true),
        ("mean_squared_error", true), ("r2", false), ("cv_r2", false), ("test_auc", false), ("roc_auc", false),
        ("accuracy", false), ("val_acc", false), ("f1", false), ("precision", false), ("recall", false), ("silhouette", false),
        ("ari", false), ("neg_mean_squared_error", false), ("neg_log_loss", false), ("explained_variance", false),
    ])
    func metricDirectionFromItsName(_ name: String, _ lower: Bool) {
        #expect(Metrics.lowerIsBetter(name) == lower, "\(name)")
    }

    @Test func metricNamesThatSayNeither() {
        for name in ["gizmo", "x", "", "my_metric", "epochs"] { #expect(Metrics.lowerIsBetter(name) == nil, "\(name)") }
    }

    @Test func regressionMetricsOnColumns() throws {
        let a = Column(floats: [3, -0.5, 2, 7]), p = Column(floats: [2.5, 0.0, 2, 8])
        // scikit-learn: mean_squared_error ** 0.5 = 0.612372, mae = 0.5, r2 = 0.948608
        #expect(abs(try MetricFunctions.rmse(actual: a, predicted: p) - 0.612372) < 1e-6)
        #expect(try MetricFunctions.mae(actual: a, predicted: p) == 0.5)
        #expect(abs(try MetricFunctions.r2(actual: a, predicted: p) - 0.948608) < 1e-6)
        #expect(abs(try MetricFunctions.rmse(actual: Column(ints: [3, 0, 2, 7]), predicted: p) - 0.5590169943749475) < 1e-12)
    }

    @Test func classificationMetricsOnColumns() throws {
        let a = Column(strings: ["cat", "dog", "dog", "cat", "dog", "bird"])
        let p = Column(strings: ["cat", "dog", "cat", "cat", "dog", "dog"])
        #expect(abs(try MetricFunctions.accuracy(actual: a, predicted: p) - 4.0 / 6) < 1e-12)
        // Macro over actual classes (bird 0, cat p=2/3 r=1, dog p=2/3 r=2/3), like scikit-learn's average="macro".
        #expect(abs(try MetricFunctions.recall(actual: a, predicted: p) - (0 + 1 + 2.0 / 3) / 3) < 1e-12)
        let yb = Column(ints: [0, 0, 1, 1]), score = Column(floats: [0.1, 0.4, 0.35, 0.8])
        #expect(try MetricFunctions.auc(actual: yb, score: score) == 0.75)       // sklearn roc_auc_score: 0.75
        #expect(abs(try MetricFunctions.logloss(actual: yb, probability: score) - 0.472288) < 1e-6)   // sklearn log_loss: 0.472288
        #expect(try MetricFunctions.accuracy(actual: Column(ints: [1, 2]), predicted: Column(floats: [1, 3])) == 0.5)
        let c = try MetricFunctions.confusion(actual: a, predicted: p)
        #expect(c.names == ["actual", "bird", "cat", "dog"])
        #expect(c.columns[2].modelDoubles == [0, 2, 1])
    }

    @Test func adjustedRandIndex() throws {
        // sklearn adjusted_rand_score([0,0,1,1], [1,1,0,0]) = 1; ([0,0,1,2], [0,0,1,1]) = 0.571429
        #expect(try MetricFunctions.ari(actual: Column(ints: [0, 0, 1, 1]), predicted: Column(ints: [1, 1, 0, 0])) == 1)
        #expect(abs(try MetricFunctions.ari(actual: Column(ints: [0, 0, 1, 2]), predicted: Column(ints: [0, 0, 1, 1])) - 0.571429) < 1e-6)
    }

    @Test func binaryPositiveClassIsLastUnlessNamed() throws {
        let (train, test) = try TestCSV.load("breast_cancer").fixedSplit()
        let spec = PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec()))
        let m = try fit(spec, on: train, target: "diagnosis", features: nil)
        #expect(m.classes == ["benign", "malignant"])
        let m2 = try fit(spec, on: train, target: "diagnosis", features: nil, positive: "benign")
        #expect(m2.classes == ["malignant", "benign"])
        let out = try m2.predict(test)
        #expect(out.names.suffix(2) == ["proba_malignant", "proba_benign"])
        #expect(abs((try m.evaluate(test)["accuracy"] ?? 0) - (try m2.evaluate(test)["accuracy"] ?? 1)) < 1e-12)
    }

    @Test func intTargetsClassifyOnlyForClassifiers() throws {
        let (train, _) = try TestCSV.load("digits").fixedSplit()
        let nb = try fit(PipelineSpec(.naiveBayes(NaiveBayesSpec())), on: train, target: "digit", features: nil)
        #expect(nb.task == .classification)
        #expect(nb.classes == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"])
        let tree = try fit(PipelineSpec(.tree(TreeSpec(maxDepth: 3))), on: train, target: "digit", features: nil)
        #expect(tree.task == .regression)
    }
}
