import Testing
import MLShEngine
@testable import MLShModels

@Suite struct TransformTests {
    static func frame() throws -> Table {
        try Table(names: ["a", "b", "c", "s", "y"], columns: [
            Column(floats: [1, 2, 3, 4]),
            Column(floats: [5, 5, 5, 5]),
            Column(floats: [1, .nan, 3, 8]),
            Column(strings: ["x", "y", nil, "x"]),
            Column(floats: [1, 2, 3, 5]),
        ])
    }

    func fitted(_ t: TransformSpec, on table: Table, target: TargetValues = .none) throws -> (FittedTransform, Frame) {
        let f = Frame(names: table.names, columns: table.columns, rowCount: table.rowCount)
        let ft = try t.fitTransform(f, target: target)
        return (ft, try ft.apply(f))
    }

    @Test func standardizeUsesPopulationStdAndLeavesConstantColumnsAtScaleOne() throws {
        let (_, f) = try fitted(.standardize(StandardizeSpec(columns: ["a", "b"])), on: try Self.frame())
        let a = f.columns[0].modelDoubles, b = f.columns[1].modelDoubles
        let sd = (1.25).squareRoot()
        #expect(a.map { ($0 * 1e12).rounded() } == [-1.5 / sd, -0.5 / sd, 0.5 / sd, 1.5 / sd].map { ($0 * 1e12).rounded() })
        #expect(b == [0, 0, 0, 0])
    }

    @Test func minmaxScalesToUnitRange() throws {
        let (_, f) = try fitted(.minmax(MinMaxSpec(columns: ["a", "b"])), on: try Self.frame())
        #expect(f.columns[0].modelDoubles == [0, 1.0 / 3, 2.0 / 3, 1])
        #expect(f.columns[1].modelDoubles == [0, 0, 0, 0])
    }

    @Test func imputeStrategies() throws {
        let t = try Self.frame()
        #expect(try fitted(.impute(ImputeSpec(strategy: "mean", columns: ["c"])), on: t).1.columns[2].modelDoubles == [1, 4, 3, 8])
        #expect(try fitted(.impute(ImputeSpec(strategy: "median", columns: ["c"])), on: t).1.columns[2].modelDoubles == [1, 3, 3, 8])
        #expect(try fitted(.impute(ImputeSpec(strategy: "constant", value: .number(-1), columns: ["c"])), on: t).1.columns[2].modelDoubles == [1, -1, 3, 8])
        let mf = try fitted(.impute(ImputeSpec(strategy: "most_frequent", columns: ["s"])), on: t).1
        #expect(mf.columns[3].modelLabels == ["x", "y", "x", "x"])
        let cs = try fitted(.impute(ImputeSpec(strategy: "constant", columns: ["s"])), on: t).1
        #expect(cs.columns[3].modelLabels == ["x", "y", "missing", "x"])
        // Default columns: every numeric column.
        let all = try fitted(.impute(ImputeSpec()), on: t).1
        #expect(all.columns[2].modelMissingCount == 0)
    }

    @Test func onehotNamesColumnsAndZeroesUnseenCategories() throws {
        let (ft, f) = try fitted(.onehot(OneHotSpec()), on: try Self.frame())
        #expect(f.names == ["a", "b", "c", "s_x", "s_y", "y"])
        #expect(f.columns[3].modelDoubles == [1, 0, 0, 1])
        #expect(f.columns[4].modelDoubles == [0, 1, 0, 0])
        let unseen = Frame(names: ["a", "b", "c", "s", "y"],
                           columns: [Column(floats: [1]), Column(floats: [1]), Column(floats: [1]), Column(strings: ["z"]), Column(floats: [1])],
                           rowCount: 1)
        let g = try ft.apply(unseen)
        #expect(g.columns[3].modelDoubles == [0] && g.columns[4].modelDoubles == [0])
    }

    @Test func polyAddsProductsInScikitLearnOrder() throws {
        let (_, f) = try fitted(.poly(PolySpec(degree: 2, columns: ["a", "y"])), on: try Self.frame())
        #expect(f.names == ["a", "b", "c", "s", "y", "a^2", "a*y", "y^2"])
        #expect(f.columns[6].modelDoubles == [1, 4, 9, 20])
        let (_, g) = try fitted(.poly(PolySpec(degree: 3, columns: ["a", "y"])), on: try Self.frame())
        #expect(g.names.suffix(4) == ["a^3", "a^2*y", "a*y^2", "y^3"])
    }

    @Test func binGivesQuantileBinIndices() throws {
        let t = try Table(names: ["v"], columns: [Column(floats: (0..<100).map { Double($0) })])
        let (_, f) = try fitted(.bin(BinSpec(bins: 4, columns: ["v"])), on: t)
        let v = f.columns[0].modelDoubles
        #expect(v[0] == 0 && v[24] == 0 && v[25] == 1 && v[99] == 3)
        #expect(Set(v).count == 4)
    }

    /// scikit-learn SelectKBest(f_regression, k=3) on the diabetes training split keeps bmi, s4, s5;
    /// SelectKBest(f_classif, k=2) on iris keeps the petal columns.
    @Test func selectFeaturesMatchesScikitLearn() throws {
        let (train, _) = try TestCSV.load("diabetes").fixedSplit()
        let spec = PipelineSpec(steps: [.selectFeatures(SelectFeaturesSpec(k: 3))], model: .linear(LinearSpec()))
        let m = try fit(spec, on: train, target: "progression", features: nil)
        #expect(m.inputColumns == ["bmi", "s4", "s5"])
        let x = train.names.filter { $0 != "progression" }
        let scores = try x.map { try fScore(train.column($0).modelDoubles, .numbers(train.column("progression").modelDoubles)) }
        #expect(abs(scores[2] - 198.0672) < 1e-3 && abs(scores[1] - 0.86) < 1e-3)
        let iris = try TestCSV.load("iris")
        let mi = try fit(PipelineSpec(steps: [.selectFeatures(SelectFeaturesSpec(k: 2))], model: .naiveBayes(NaiveBayesSpec())),
                         on: iris, target: "species", features: nil)
        #expect(mi.inputColumns == ["petal_length", "petal_width"])
    }

    /// scikit-learn PCA(n_components=3) on the standardised wine training split
    /// (scripts/sklearn_reference.py): explained variance, loadings (signs included) and a
    /// projected test row agree to 1e-6; the inputs give way to pc1…pc3.
    @Test func pcaMatchesScikitLearn() throws {
        let (train, test) = try TestCSV.load("wine").fixedSplit()
        let x = try train.drop(["cultivar"]), xt = try test.drop(["cultivar"])
        let (std, scaled) = try fitted(.standardize(StandardizeSpec()), on: x)
        let (pca, projected) = try fitted(.pca(PCASpec(k: 3)), on: try scaled.table())
        let step = try #require(pca.step(as: FittedPCA.self))
        let close = { (a: [Double], b: [Double]) in a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) < 1e-6 } }
        #expect(close(step.variance, [4.863635, 2.518563, 1.468573]), "\(step.variance)")
        let sklearn: [[Double]] = [[0.150885, -0.267709, 0.002515, -0.227092], [0.467205, 0.239068, 0.334709, -0.005648],
                                   [-0.24863, -0.023782, 0.607569, 0.606795]]
        #expect(zip(step.components, sklearn).allSatisfy { close(Array($0.prefix(4)), $1) }, "\(step.components.map { $0.prefix(4) })")
        #expect(projected.names == ["pc1", "pc2", "pc3"])
        let row = try pca.apply(try std.apply(Frame(names: xt.names, columns: xt.columns, rowCount: xt.rowCount)))
        #expect(close(row.columns.map { $0.modelDoubles[0] }, [1.070357, 0.893174, 2.056819]), "\(row.columns.map { $0.modelDoubles[0] })")
        // k larger than the columns, missing values and a name clash are errors.
        let small = try Table(names: ["a", "b", "pc1"], columns: [Column(floats: [1, 2, 3]), Column(floats: [2, .nan, 1]), Column(floats: [0, 0, 1])])
        #expect(throws: ModelError.invalid("pca(k=4) needs at least 4 columns and rows; it has 3 columns and 3 rows")) {
            try fitted(.pca(PCASpec(k: 4)), on: small)
        }
        #expect(throws: ModelError.invalid("pca() needs finite values; column b has missing or infinite ones (impute() before it)")) {
            try fitted(.pca(PCASpec(columns: ["a", "b"])), on: small)
        }
        #expect(throws: ModelError.invalid("pca() names its components pc1…; the column pc1 is already there (rename it)")) {
            try fitted(.pca(PCASpec(k: 1, columns: ["a", "b"])), on: try small.setting("b", Column(floats: [2, 0, 1])))
        }
    }

    @Test func pipelineDescriptionsAndComposition() throws {
        let prep = try PipelineSpec.compose(PipelineSpec(try TransformSpec.make(kind: "impute", settings: ["strategy": .string("median")])),
                                            PipelineSpec(try TransformSpec.make(kind: "standardize", settings: [:], columns: ["a", "b"])))
        let spec = try PipelineSpec.compose(prep, PipelineSpec(try ModelSpec.make(kind: "logistic", settings: ["l2": .int(2)])))
        #expect(spec.description == "impute(strategy=\"median\") >> standardize($a, $b) >> logistic(l2=2.0, max_iter=100)")
        #expect(try ModelSpec.make(kind: "ridge", settings: [:]).description == "ridge(alpha=1.0)")
        #expect(try ModelSpec.make(kind: "tree", settings: [:]).description == "tree(max_depth=none, min_leaf=1)")
        #expect(try ModelSpec.make(kind: "forest", settings: ["max_depth": .none]).settings.map(\.0) == ["trees", "max_depth", "min_leaf", "seed"])
    }

    @Test func transformsAreReplayedAtPredict() throws {
        let t = try Self.frame()
        let spec = PipelineSpec(steps: [.impute(ImputeSpec()), .onehot(OneHotSpec()), .standardize(StandardizeSpec())],
                                model: .ridge(RidgeSpec(alpha: 0.1)))
        let m = try fit(spec, on: t, target: "y", features: ["a", "c", "s"])
        #expect(m.inputColumns == ["a", "c", "s_x", "s_y"])
        let out = try m.predict(t)
        #expect(out.names == ["a", "b", "c", "s", "y", "prediction"])
        #expect(try out.column("prediction").modelMissingCount == 0)
    }
}
