import Testing
import MLShEngine
@testable import MLShModels

/// Every bad input gives one exact, helpful message.
@Suite struct ErrorMessageTests {
    static func small() throws -> Table {
        try Table(names: ["x0", "x1", "name", "y", "label"], columns: [
            Column(floats: [1, .nan, 3, .nan, 5, .nan, 7, 8]),
            Column(floats: [1, 2, 3, 4, 5, 6, 7, 8]),
            Column(strings: ["a", "b", "a", "b", "a", "b", "a", "b"]),
            Column(floats: [1, 2, 3, 4, 5, 6, 7, 9]),
            Column(strings: ["p", "p", "p", "p", "p", "p", "p", "p"]),
        ])
    }

    func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as ModelError { return e.message } catch { return "\(error)" }
    }

    @Test func missingValuesInFeatures() throws {
        let t = try Self.small()
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: "y", features: ["x0", "x1"]) }
                == "column x0 has 3 missing values; add impute() before the model")
        // With impute in front it fits.
        let spec = try PipelineSpec.compose(PipelineSpec(.impute(ImputeSpec())), PipelineSpec(.ridge(RidgeSpec())))
        #expect(message { _ = try fit(spec, on: t, target: "y", features: ["x0", "x1"]) } == nil)
    }

    @Test func oneClassTarget() throws {
        #expect(message { _ = try fit(PipelineSpec(.logistic(LogisticSpec())), on: try Self.small(), target: "label", features: ["x1"]) }
                == "target column label has only one class ('p'); a classifier needs at least two")
    }

    @Test func emptyTable() throws {
        let t = try Table(names: ["x", "y"], columns: [Column(floats: []), Column(floats: [])])
        #expect(message { _ = try fit(PipelineSpec(.linear(LinearSpec())), on: t, target: "y", features: nil) }
                == "the training table has no rows")
    }

    @Test func stringFeatureWithoutOnehot() throws {
        #expect(message { _ = try fit(PipelineSpec(.linear(LinearSpec())), on: try Self.small(), target: "y", features: ["x1", "name"]) }
                == "feature column name is a string; add onehot($name) before the model or leave it out of features")
        let spec = PipelineSpec(steps: [.onehot(OneHotSpec())], model: .linear(LinearSpec()))
        #expect(message { _ = try fit(spec, on: try Self.small(), target: "y", features: ["x1", "name"]) } == nil)
    }

    @Test func predictWithoutATrainingColumn() throws {
        let m = try fit(PipelineSpec(.linear(LinearSpec())), on: try Self.small(), target: "y", features: ["x1"])
        let t = try Table(names: ["x_1"], columns: [Column(floats: [1, 2])])
        #expect(message { _ = try m.predict(t) } == "the model was trained with column x1, which this table lacks (did you mean x_1?)")
    }

    @Test func predictWithTheWrongType() throws {
        let m = try fit(PipelineSpec(.linear(LinearSpec())), on: try Self.small(), target: "y", features: ["x1"])
        let t = try Table(names: ["x1"], columns: [Column(strings: ["1", "2"])])
        #expect(message { _ = try m.predict(t) } == "column x1 is string, but the model was trained on float")
        // int where float was seen is fine.
        let ti = try Table(names: ["x1"], columns: [Column(ints: [1, 2])])
        #expect(message { _ = try m.predict(ti) } == nil)
    }

    @Test func kLargerThanRows() throws {
        let t = try Self.small()
        #expect(message { _ = try fit(PipelineSpec(.knn(KNNSpec(k: 20))), on: t, target: "y", features: ["x1"]) }
                == "knn(k=20) needs at least 20 rows, the table has 8")
        #expect(message { _ = try fit(PipelineSpec(.kmeans(KMeansSpec(k: 9))), on: t, target: nil, features: ["x1"]) }
                == "kmeans(k=9) needs at least 9 rows, the table has 8")
    }

    @Test func unknownSettingSuggestsAndLists() {
        #expect(message { _ = try ModelSpec.make(kind: "ridge", settings: ["alpah": .number(1)]) }
                == "ridge() has no setting 'alpah' (did you mean 'alpha'?); accepted: alpha")
        #expect(message { _ = try ModelSpec.make(kind: "forest", settings: ["depth": .int(3)]) }
                == "forest() has no setting 'depth'; accepted: trees, max_depth, min_leaf, seed")
        #expect(message { _ = try ModelSpec.make(kind: "linear", settings: ["alpha": .number(1)]) }
                == "linear() has no setting 'alpha'; accepted: none")
        #expect(message { _ = try TransformSpec.make(kind: "impute", settings: ["stratgy": .string("mean")]) }
                == "impute() has no setting 'stratgy' (did you mean 'strategy'?); accepted: strategy, value")
    }

    @Test func wrongSettingType() {
        #expect(message { _ = try ModelSpec.make(kind: "ridge", settings: ["alpha": .string("big")]) }
                == "ridge(alpha=...) expects a number, got a string")
        #expect(message { _ = try ModelSpec.make(kind: "forest", settings: ["trees": .number(2.5)]) }
                == "forest(trees=...) expects an int, got 2.5")
        #expect(message { _ = try ModelSpec.make(kind: "knn", settings: ["k": .int(0)]) }
                == "knn(k=...) must be at least 1, got 0")
        #expect(message { _ = try TransformSpec.make(kind: "impute", settings: ["strategy": .string("meen")]) }
                == "impute(strategy=...) must be one of \"mean\", \"median\", \"most_frequent\", \"constant\", got \"meen\" (did you mean \"mean\"?)")
    }

    @Test func unknownKind() {
        #expect(message { _ = try ModelSpec.make(kind: "ridg", settings: [:]) }
                == "unknown model or transform 'ridg' (did you mean 'ridge'?); accepted: linear, ridge, lasso, logistic, kmeans, tree, forest, boost, knn, naive_bayes, isolation_forest")
    }

    @Test func modelMustBeLast() {
        #expect(message { _ = try PipelineSpec.compose(PipelineSpec(.ridge(RidgeSpec())), PipelineSpec(.standardize(StandardizeSpec()))) }
                == "a model must be the last step")
        #expect(message { _ = try PipelineSpec.compose(PipelineSpec(.ridge(RidgeSpec())), PipelineSpec(.ridge(RidgeSpec()))) }
                == "a model must be the last step")
    }

    @Test func pipelineWithoutModel() throws {
        #expect(message { _ = try fit(PipelineSpec(.standardize(StandardizeSpec())), on: try Self.small(), target: "y", features: ["x1"]) }
                == "the pipeline has no model; end it with one, such as >> ridge()")
    }

    @Test func targetProblems() throws {
        let t = try Self.small()
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: nil, features: ["x1"]) }
                == "ridge() needs a target column: fit(model, table, target=$column)")
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: "name", features: ["x1"]) }
                == "ridge() predicts numbers, but target name is string; use a classifier such as logistic()")
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: "x0", features: ["x1"]) }
                == "target column x0 has 3 missing values; drop those rows before fitting")
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: "y", features: ["y", "x1"]) }
                == "the target y is also listed among the features")
        #expect(message { _ = try fit(PipelineSpec(.ridge(RidgeSpec())), on: t, target: "y", features: ["x2"]) }
                == "unknown column $x2 (did you mean $x0?)")
        #expect(message { _ = try fit(PipelineSpec(.logistic(LogisticSpec())), on: t, target: "name", features: ["x1"], positive: "c") }
                == "positive class \"c\" is not a class of name; classes: a, b")
    }

    @Test func transformNamesAnAbsentColumn() throws {
        let spec = PipelineSpec(steps: [.standardize(StandardizeSpec(columns: ["x2"]))], model: .linear(LinearSpec()))
        #expect(message { _ = try fit(spec, on: try Self.small(), target: "y", features: ["x1"]) }
                == "standardize() names column x2, which is not among the features (did you mean x1?)")
    }

    @Test func importanceForAModelWithout() throws {
        let m = try fit(PipelineSpec(.knn(KNNSpec(k: 2))), on: try Self.small(), target: "y", features: ["x1"])
        #expect(message { _ = try m.importance() } == "importance() is not defined for knn(); use explain(model, table) for permutation importance")
    }
}
