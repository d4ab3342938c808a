import Foundation
import Testing
import MLShEngine
import MLShModels
@testable import MLShStore

/// The model file format round-trips every estimator and pipeline bit for bit: the
/// decoded state equals the fitted one and predicts exactly the same values; version 1
/// files still load.
@Suite struct ModelFileTests {
    /// 200 rows: four numeric features, a string feature, a float target and a label.
    static func data() throws -> Table {
        var x: [[Double]] = Array(repeating: [], count: 4)
        var y: [Double] = [], label: [String?] = [], colour: [String?] = []
        var state: UInt64 = 42
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53) * 2 - 1
        }
        for i in 0..<200 {
            let v = (0..<4).map { _ in next() }
            for j in 0..<4 { x[j].append(v[j]) }
            y.append(3 * v[0] - 2 * v[1] + 0.5 * v[2] + 0.1 * next())
            label.append(v[0] + v[3] > 0.3 ? "high" : (v[0] + v[3] < -0.3 ? "low" : "mid"))
            colour.append(["red", "green", "blue"][i % 3])
        }
        return try Table(names: ["x0", "x1", "x2", "x3", "colour", "y", "label"],
                         columns: x.map { Column(floats: $0) } + [Column(strings: colour), Column(floats: y), Column(strings: label)])
    }

    static let cases: [(String, String?, [TransformSpec])] = [
        ("linear", "y", []), ("ridge", "y", []), ("lasso", "y", []), ("logistic", "label", []),
        ("kmeans", nil, []), ("tree", "label", []), ("tree", "y", []), ("forest", "label", []),
        ("forest", "y", []), ("boost", "label", []), ("boost", "y", []), ("knn", "label", []),
        ("knn", "y", []), ("naive_bayes", "label", []), ("isolation_forest", nil, []),
        ("logistic", "label", [.standardize(StandardizeSpec()), .poly(PolySpec(degree: 2, columns: nil))]),
    ]

    @Test(arguments: 0..<cases.count)
    func roundTripsBitForBit(_ i: Int) throws {
        let (kind, target, steps) = Self.cases[i]
        var t = try Self.data()
        // Models that take numbers only see the numeric features; one pipeline one-hot encodes.
        let features = ["x0", "x1", "x2", "x3"]
        if target == nil { t = try t.select(features) }
        var spec = PipelineSpec(try ModelSpec.make(kind: kind, settings: kind == "kmeans" ? ["k": .int(3)] : [:]))
        spec.steps = steps
        let m = try fit(spec, on: t, target: target, features: target == nil ? nil : features)
        let bytes = try ModelFile.encode(m, mlshVersion: "test")
        #expect(try ModelFile.encode(m, mlshVersion: "test") == bytes, "\(kind) writes the same bytes twice")
        let back = try ModelFile.decode(bytes)
        #expect(back.encodeParameters() == m.encodeParameters(), "\(kind) state")
        Self.expectSame(try m.predict(t), try back.predict(t), kind)
        // Every number array of eight or more values lives in the data section, none in the header.
        let header = try #require(String(bytes: try Self.header(of: bytes), encoding: .utf8))
        #expect(header.firstMatch(of: /\[-?[0-9][^\[\]"{}]*(,[^\[\]"{}]*){7,}\]/) == nil, "\(kind) header holds a long number array")
    }

    /// The header bytes of a version 2 file (bytes 32 ..< 32 + H).
    static func header(of bytes: [UInt8]) throws -> [UInt8] {
        let length = try #require(ByteReader(bytes: bytes).uint64(at: 16))
        return Array(bytes[32..<(32 + Int(length))])
    }

    /// Two prediction tables agree: names, and every value (floats bit for bit).
    static func expectSame(_ a: Table, _ b: Table, _ what: String) {
        #expect(a.names == b.names, "\(what) prediction columns")
        for (ca, cb) in zip(a.columns, b.columns) {
            switch (ca.storage, cb.storage) {
            case (.float(let x), .float(let y)):
                #expect(x.map(\.bitPattern) == y.map(\.bitPattern), "\(what) predictions")
            default:
                #expect(ca.count == cb.count && (0..<ca.count).allSatisfy { ca.value(at: $0) == cb.value(at: $0) }, "\(what) predictions")
            }
        }
    }

    /// A fixture: a version 1 (JSON) file written by the mlsh of main at a1f3927, the last
    /// to write that format (`standardize() >> forest(trees=5, max_depth=4)` fitted on iris,
    /// logged with `log_model`), and the predictions that mlsh made with it on iris.
    static func fixture(_ name: String) throws -> [UInt8] {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/fixtures/" + name
        return [UInt8](try #require(FileManager.default.contents(atPath: path)))
    }

    @Test func version1FileLoadsAndPredictsTheSame() throws {
        let v1 = try Self.fixture("v1-forest-iris.json")
        #expect(v1.first == UInt8(ascii: "{"))
        let m = try ModelFile.decode(v1)
        #expect(m.state.spec.model?.kind == "forest" && m.state.classes == ["setosa", "versicolor", "virginica"])
        // Its training sample holds the 150 iris rows; predict on them.
        let csv = try #require(m.state.reference)
        var types: [String: DType] = [:]
        for f in m.features { types[f.name] = f.dtype }
        let rows = try CSV.read(data: Array(csv.utf8), name: "iris", options: CSVOptions(types: types))
        #expect(rows.rowCount == 150)
        let expected = try CSV.read(data: try Self.fixture("v1-forest-iris.predictions.csv"), name: "expected")
        let predicted = try m.predict(rows).select(expected.names)
        Self.expectSame(predicted, expected, "v1 forest")
        // Written again, it is a version 2 file holding the same state.
        let v2 = try ModelFile.encode(m, mlshVersion: "test")
        #expect(Array(v2.prefix(8)) == Array("MLSHMODL".utf8))
        #expect(try ModelFile.decode(v2).encodeParameters() == m.encodeParameters())
    }

    /// Values JSON or a naive integer test could alter: -0.0 (integral, but not an integer),
    /// subnormals, the extremes, and integers beyond 2^53 in a Float64 array.
    @Test func awkwardNumbersRoundTripBitForBit() throws {
        let x = (0..<12).map { Double($0) }
        let t = try Table(names: ["x", "y"], columns: [Column(floats: x), Column(floats: x.map { $0 * 0.5 })])
        let m = try fit(PipelineSpec(try ModelSpec.make(kind: "knn", settings: [:])), on: t, target: "y", features: nil)
        var state = m.encodeParameters()
        guard var s = state.estimator.learned(as: KNNState.self) else { Issue.record("not a knn state"); return }
        s.x = [-0.0, 5e-324, 2.2250738585072009e-308, Double.leastNormalMagnitude, Double.greatestFiniteMagnitude,
               -Double.greatestFiniteMagnitude, 0.1, 1e300, 9007199254740993, 0x1p60, -1, 3]
        s.y = [-0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0x1p62]
        state.estimator = .knn(s)
        let model = FittedModel(state: state)
        let bytes = try ModelFile.encode(model, mlshVersion: "t")
        let back = try ModelFile.decode(bytes).encodeParameters()
        guard let b = back.estimator.learned(as: KNNState.self) else { Issue.record("not a knn state"); return }
        #expect(b.x.map(\.bitPattern) == s.x.map(\.bitPattern))
        #expect(b.y.map(\.bitPattern) == s.y.map(\.bitPattern))
        #expect(back == state)
        // -0.0 keeps y a Float64 array; a class-free integral array would be Int64.
        let header = try JSONDecoder().decode(ModelFile.Header.self, from: Data(try Self.header(of: bytes)))
        #expect(header.arrays.map(\.dtype) == ["f64", "f64"])
        #expect(header.arrays.map(\.path) == ["estimator.knn._0.x", "estimator.knn._0.y"])
        #expect(header.kind == "knn" && header.version == 2 && header.mlsh_version == "t")

        // Short arrays stay in the header as JSON, just as exact.
        var small = try smallModel().encodeParameters()
        guard var linear = small.estimator.learned(as: LinearState.self) else { Issue.record("not a linear state"); return }
        linear.coef = [-0.0]
        linear.intercept = [5e-324]
        small.estimator = .linear(linear)
        small.trainingMetricValues = [-0.0, 0.1, 1e-310]
        let smallBytes = try ModelFile.encode(FittedModel(state: small), mlshVersion: "t")
        #expect(try JSONDecoder().decode(ModelFile.Header.self, from: Data(try Self.header(of: smallBytes))).arrays.isEmpty)
        let smallBack = try ModelFile.decode(smallBytes).encodeParameters()
        guard let l = smallBack.estimator.learned(as: LinearState.self) else { Issue.record("not a linear state"); return }
        #expect(l.coef.map(\.bitPattern) == [(-0.0).bitPattern] && l.intercept.map(\.bitPattern) == [(5e-324).bitPattern])
        #expect(smallBack.trainingMetricValues.map(\.bitPattern) == small.trainingMetricValues.map(\.bitPattern))
    }

    /// Integers above Int64.max (a UInt64 seed) and below 2^53's reach of Float64 keep every digit.
    @Test func largeIntegersKeepEveryDigit() throws {
        let t = try Self.data()
        let seeds: [UInt64] = [.max, UInt64(Int64.max), (1 << 63) + 1, 9007199254740993]
        for seed in seeds {
            let spec = PipelineSpec(.forest(ForestSpec(trees: 2, maxDepth: 2, seed: seed)))
            let m = try fit(spec, on: t, target: "y", features: ["x0", "x1"])
            let back = try ModelFile.decode(try ModelFile.encode(m, mlshVersion: "t"))
            #expect(back.encodeParameters() == m.encodeParameters())
            guard let f = back.encodeParameters().spec.model?.spec(as: ForestSpec.self) else { Issue.record("not a forest"); return }
            #expect(f.seed == seed)
        }
    }

    @Test func nonFiniteNumbersAreRefused() throws {
        var state = try smallModel().encodeParameters()
        guard var l = state.estimator.learned(as: LinearState.self) else { Issue.record("not a linear state"); return }
        l.coef = [.nan]
        state.estimator = .linear(l)
        #expect(throws: StoreError("cannot encode the model: it holds nan at estimator.coef.0; model files hold finite numbers only")) {
            try ModelFile.encode(FittedModel(state: state), mlshVersion: "t")
        }
    }

    @Test func integerArraysAreInt64() throws {
        let t = try Self.data()
        let m = try fit(PipelineSpec(try ModelSpec.make(kind: "tree", settings: [:])), on: t, target: "label", features: ["x0", "x1"])
        let bytes = try ModelFile.encode(m, mlshVersion: "t")
        let header = try JSONDecoder().decode(ModelFile.Header.self, from: Data(try Self.header(of: bytes)))
        let dtypes = Dictionary(header.arrays.map { ($0.path, $0.dtype) }, uniquingKeysWith: { a, _ in a })
        #expect(dtypes["estimator.trees._0.trees.0.feature"] == "i64")
        #expect(dtypes["estimator.trees._0.trees.0.left"] == "i64")
        #expect(dtypes["estimator.trees._0.trees.0.threshold"] == "f64")
        #expect(dtypes["estimator.trees._0.trees.0.value"] == "f64")
        // Arrays lie back to back from offset 0, and the file is prefix + header + data + checksum.
        var next = 0
        for a in header.arrays { #expect(a.offset == next); next += 8 * a.count }
        #expect(bytes.count == 32 + (try Self.header(of: bytes)).count + next + 32)
    }
}
