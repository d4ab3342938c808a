import Testing
import MLShEngine
import MLShModels
@testable import MLShStore

/// The model file format round-trips every estimator and pipeline bit for bit: the
/// decoded state equals the fitted one and predicts exactly the same values.
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
        ("knn", "y", []), ("naive_bayes", "label", []),
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
        let back = try ModelFile.decode(bytes)
        #expect(back.encodeParameters() == m.encodeParameters(), "\(kind) state")
        let a = try m.predict(t), b = try back.predict(t)
        #expect(a.names == b.names)
        for (ca, cb) in zip(a.columns, b.columns) {
            switch (ca.storage, cb.storage) {
            case (.float(let x), .float(let y)):
                #expect(x.map(\.bitPattern) == y.map(\.bitPattern), "\(kind) predictions")
            default:
                #expect((0..<ca.count).allSatisfy { ca.value(at: $0) == cb.value(at: $0) }, "\(kind) predictions")
            }
        }
    }
}
