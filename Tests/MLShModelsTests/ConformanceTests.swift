import Foundation
import Testing
import MLShEngine
@testable import MLShModels

/// One conformance suite run over every estimator (scikit-learn's estimator_checks in spirit).
@Suite struct ConformanceTests {
    struct Estimator: Sendable, CustomStringConvertible {
        var spec: PipelineSpec, data: String, target: String?
        var description: String { "\(spec) on \(data)" }
    }

    static let std: [TransformSpec] = [.standardize(StandardizeSpec())]
    static let estimators: [Estimator] = [
        Estimator(spec: PipelineSpec(.linear(LinearSpec())), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(.ridge(RidgeSpec(alpha: 2))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(.lasso(LassoSpec(alpha: 0.5))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(steps: std, model: .logistic(LogisticSpec())), data: "iris", target: "species"),
        Estimator(spec: PipelineSpec(steps: std, model: .logistic(LogisticSpec())), data: "breast_cancer", target: "diagnosis"),
        Estimator(spec: PipelineSpec(steps: std, model: .kmeans(KMeansSpec(k: 3, seed: 7, inits: 2))), data: "iris", target: nil),
        Estimator(spec: PipelineSpec(.tree(TreeSpec(maxDepth: 4))), data: "wine", target: "cultivar"),
        Estimator(spec: PipelineSpec(.tree(TreeSpec(maxDepth: 4))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(.forest(ForestSpec(trees: 20, seed: 3))), data: "iris", target: "species"),
        Estimator(spec: PipelineSpec(.forest(ForestSpec(trees: 10, maxDepth: 5, seed: 3))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(.boost(BoostSpec(rounds: 20))), data: "wine", target: "cultivar"),
        Estimator(spec: PipelineSpec(.boost(BoostSpec(rounds: 20))), data: "breast_cancer", target: "diagnosis"),
        Estimator(spec: PipelineSpec(.boost(BoostSpec(rounds: 20))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(steps: std, model: .knn(KNNSpec(k: 3))), data: "wine", target: "cultivar"),
        Estimator(spec: PipelineSpec(steps: std, model: .knn(KNNSpec(k: 3))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(.naiveBayes(NaiveBayesSpec())), data: "wine", target: "cultivar"),
        Estimator(spec: PipelineSpec(.isolationForest(IsolationForestSpec(trees: 20, contamination: 0.1, seed: 3))),
                  data: "iris", target: nil),
        // Every transform kind, so each one's learned state round-trips too.
        Estimator(spec: PipelineSpec(steps: [.impute(ImputeSpec(strategy: "median")), .bin(BinSpec(bins: 5, columns: ["age"])),
                                             .poly(PolySpec(degree: 2, columns: ["bmi", "bp"])), .minmax(MinMaxSpec()),
                                             .selectFeatures(SelectFeaturesSpec(k: 6))],
                                     model: .ridge(RidgeSpec(alpha: 0.5))), data: "diabetes", target: "progression"),
        Estimator(spec: PipelineSpec(steps: [.onehot(OneHotSpec(columns: ["sex"])), .standardize(StandardizeSpec())],
                                     model: .lasso(LassoSpec(alpha: 0.1))), data: "diabetes_sex", target: "progression"),
        Estimator(spec: PipelineSpec(steps: std + [.pca(PCASpec(k: 4))], model: .logistic(LogisticSpec())), data: "wine", target: "cultivar"),
    ]

    static func fitted(_ e: Estimator) throws -> (FittedModel, Table, Table) {
        let (train, test) = try Self.load(e.data).fixedSplit()
        let features = e.target == nil ? train.names.filter { $0 != "species" } : nil
        return (try fit(e.spec, on: train, target: e.target, features: features), train, test)
    }

    static func predictionColumns(_ t: Table) -> [[Double]] {
        zip(t.names, t.columns).filter { $0.0 == "prediction" || $0.0 == "score" || $0.0.hasPrefix("proba_") }.map { name, c in
            if case .string(let codes, _) = c.storage { return codes.map { Double($0) } }
            return c.modelDoubles
        }
    }

    /// A bundled dataset; `diabetes_sex` has `sex` as a string column.
    static func load(_ name: String) throws -> Table {
        guard name == "diabetes_sex" else { return try TestCSV.load(name) }
        let t = try TestCSV.load("diabetes")
        let sex = try t.column("sex").modelLabels.map { $0.map { $0 == "1" ? "f" : "m" } }
        return try t.modelReplacing("sex", with: Column(strings: sex))
    }

    /// Trees of unlimited depth grow on worker threads without recursion.
    @Test func unlimitedDepthForestOnManyRows() throws {
        let n = 20_000
        var rng = SeededRandom(seed: 5)
        let x = (0..<n).map { _ in rng.nextDouble() }
        let y = x.map { ($0 * 1000).rounded() + rng.nextDouble() }
        let t = try Table(names: ["x", "y"], columns: [Column(floats: x), Column(floats: y)])
        let m = try fit(PipelineSpec(.forest(ForestSpec(trees: 4, seed: 1))), on: t, target: "y", features: nil)
        #expect((m.trainingMetrics.first { $0.0 == "r2" }?.1 ?? 0) > 0.99)
    }

    @Test(arguments: estimators)
    func fittingTwiceGivesIdenticalPredictions(_ e: Estimator) throws {
        let (a, _, test) = try Self.fitted(e)
        let (b, _, _) = try Self.fitted(e)
        let pa = Self.predictionColumns(try a.predict(test)), pb = Self.predictionColumns(try b.predict(test))
        #expect(!pa.isEmpty)
        #expect(pa.map { $0.map(\.bitPattern) } == pb.map { $0.map(\.bitPattern) })
        #expect(a.encodeParameters() == b.encodeParameters())
    }

    @Test(arguments: estimators)
    func specIsUnchangedByFit(_ e: Estimator) throws {
        let before = e.spec
        let (m, _, _) = try Self.fitted(e)
        #expect(e.spec == before)
        #expect(m.spec == before)
    }

    @Test(arguments: estimators)
    func predictNeedsEveryTrainingColumn(_ e: Estimator) throws {
        let (m, _, test) = try Self.fitted(e)
        let missing = m.features[0].name
        let keep = test.names.indices.filter { test.names[$0] != missing }
        let t = try Table(names: keep.map { test.names[$0] }, columns: keep.map { test.columns[$0] })
        #expect(throws: ModelError.missingColumn(missing, suggestion: nil)) { _ = try m.predict(t) }
    }

    @Test(arguments: estimators)
    func predictKeepsEveryInputColumnAndAddsPredictions(_ e: Estimator) throws {
        let (m, _, test) = try Self.fitted(e)
        let out = try m.predict(test)
        #expect(Array(out.names.prefix(test.names.count)) == test.names)
        #expect(out.rowCount == test.rowCount)
        #expect(out.names.contains("prediction"))
        if m.task == .classification {
            #expect(out.names.suffix(m.classes.count) == m.classes.map { "proba_\($0)" }[...])
            #expect(try out.column("prediction").dtype == .string)
        } else if m.task == .regression {
            #expect(try out.column("prediction").dtype == .float)
        } else if m.task == .outlierDetection {
            #expect(out.names.suffix(2) == ["prediction", "score"])
            #expect(try out.column("prediction").dtype == .bool && out.column("score").dtype == .float)
        } else {
            #expect(try out.column("prediction").dtype == .int)
        }
    }

    @Test(arguments: estimators)
    func stateRoundTripsThroughJSONBitForBit(_ e: Estimator) throws {
        let (m, _, test) = try Self.fitted(e)
        let data = try JSONEncoder().encode(m.encodeParameters())
        let state = try JSONDecoder().decode(FittedState.self, from: data)
        #expect(state == m.encodeParameters())
        let back = try FittedModel(checked: state)
        let pa = Self.predictionColumns(try m.predict(test)), pb = Self.predictionColumns(try back.predict(test))
        #expect(pa.map { $0.map(\.bitPattern) } == pb.map { $0.map(\.bitPattern) })
    }

    @Test(arguments: estimators)
    func evaluateReportsTheTaskMetrics(_ e: Estimator) throws {
        let (m, _, test) = try Self.fitted(e)
        let metrics = try m.evaluate(test)
        switch m.task {
        case .regression: #expect(metrics.values.map(\.0) == ["rmse", "mae", "r2"])
        case .classification:
            #expect(metrics.values.map(\.0) == ["accuracy", "precision", "recall", "f1", "auc", "logloss"])
            #expect(metrics.confusion?.names == ["actual"] + m.classes)
        case .clustering: #expect(metrics.values.map(\.0) == ["inertia", "silhouette"])
        case .outlierDetection: #expect(metrics.values.map(\.0) == ["outlier_rate", "mean_score"])
        }
        #expect(!m.trainingMetrics.isEmpty)
    }

    @Test func damagedStatesAreRejected() throws {
        let (train, _) = try TestCSV.load("wine").fixedSplit()
        let tree = try fit(PipelineSpec(.tree(TreeSpec(maxDepth: 3))), on: train, target: "cultivar", features: nil)
        var s = tree.encodeParameters()
        if var e = s.estimator.learned(as: EnsembleState.self) {
            e.trees[0].left[0] = 0 // a cycle
            s.estimator = .trees(e)
        }
        #expect(throws: ModelError.invalid("the model file is inconsistent: tree node 0 points outside the tree")) {
            _ = try FittedModel(checked: s)
        }
        let ridge = try fit(PipelineSpec(.ridge(RidgeSpec())), on: train, target: "alcohol", features: ["malic_acid", "ash"])
        var r = ridge.encodeParameters()
        r.inputs.append("extra")
        #expect(throws: ModelError.invalid("the model file is inconsistent: linear coefficient shapes")) {
            _ = try FittedModel(checked: r)
        }
    }

    @Test func seedsReproduceAndDiffer() throws {
        let (train, test) = try TestCSV.load("iris").fixedSplit()
        func run(_ seed: UInt64) throws -> [[Double]] {
            let m = try fit(PipelineSpec(.forest(ForestSpec(trees: 5, seed: seed))), on: train, target: "species", features: nil)
            return Self.predictionColumns(try m.predict(test))
        }
        #expect(try run(1) == run(1))
        #expect(try run(1) != run(2))
    }
}
