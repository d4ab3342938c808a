import MLShCommon
import MLShEngine

/// Keeps the `k` numeric columns with the highest F statistic against the target
/// (`SelectKBest(f_regression)` / `f_classif`).
public struct SelectFeaturesSpec: Codable, Sendable, Equatable {
    public var k: Int, columns: [String]?
    public init(k: Int = 10, columns: [String]? = nil) { self.k = k; self.columns = columns }
}

extension SelectFeaturesSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "select_features", codingKey: "selectFeatures",
        summary: "Keeps the k features with the best F-statistic against the target.",
        example: "select_features(k=5)", positional: "k",
        fitted: FittedSelect.self, defaults: SelectFeaturesSpec(),
        settings: [.int("k", \.k, min: 1, help: "the number of columns kept")])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var scores: [(String, Double)] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name)
            scores.append((c, fScore(v, target)))
        }
        let order = scores.enumerated().sorted { a, b in
            let x = a.element.1.isNaN ? -Double.infinity : a.element.1
            let y = b.element.1.isNaN ? -Double.infinity : b.element.1
            return x > y || (x == y && a.offset < b.offset)
        }
        let drop = order.dropFirst(k).map(\.element.0)
        return .select(drop: drop)
    }
}

extension TransformSpec {
    /// A `select_features()` transform of these settings.
    public static func selectFeatures(_ spec: SelectFeaturesSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What select_features learned: the columns it drops.
public struct FittedSelect: FittedStep {
    public var drop: [String]
    static let codingKey = "select"
    enum CodingKeys: String, StepKeys { case drop; static let caseName = "Select" }

    var inputColumns: [String] { drop }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        let d = Set(drop)
        let keep = f.names.indices.filter { !d.contains(f.names[$0]) }
        f.names = keep.map { f.names[$0] }
        f.columns = keep.map { f.columns[$0] }
        return f
    }
    func validate() throws(ModelError) {}
}

extension FittedTransform {
    /// What `select_features()` learns.
    public static func select(drop: [String]) -> FittedTransform { FittedTransform(FittedSelect(drop: drop)) }
}
