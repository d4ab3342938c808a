import MLShCommon
import MLShEngine

/// Columns computed by column expressions, `features(bmi2 = $bmi ^ 2, ratio = $a / $b)`: in
/// order, each adds a column (or replaces the one of its name, as `derive` does); the others
/// pass through. Reductions inside (`$x - mean($x)`) are computed on the training rows when
/// fitted and kept as constants. The expressions are data (engine IR), never code.
public struct FeaturesSpec: Codable, Sendable, Equatable {
    public var names: [String], exprs: [KExpr]
    public init(names: [String], exprs: [KExpr]) { self.names = names; self.exprs = exprs }

    /// The columns the expressions read that they do not compute themselves, in first-use order.
    public var reads: [String] {
        var out: [String] = [], made: Set<String> = []
        for (name, e) in zip(names, exprs) {
            for c in e.referencedColumns where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.insert(name)
        }
        return out
    }
}

extension TransformSpec {
    /// A `features(...)` step of these expressions.
    public static func features(_ spec: FeaturesSpec) -> TransformSpec { TransformSpec(features: spec) }
}

/// What features learned: column expressions computed in order, reductions already replaced
/// by their training values.
public struct FittedFeatures: FittedStep {
    public var names: [String], exprs: [KExpr]
    static let codingKey = "features"
    enum CodingKeys: String, StepKeys { case names, exprs; static let caseName = "Features" }

    var inputColumns: [String] {
        var out: [String] = []
        for e in exprs { for c in e.referencedColumns where !out.contains(c) { out.append(c) } }
        return out
    }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var table = try frame.table()
        for (j, (name, e)) in zip(names, exprs).enumerated() {
            let column = try engineCall { () throws(EngineError) -> Column in
                if let programs, j < programs.count { return try programs[j].run(on: table) }
                return try KernelProgram.compile(e, for: table).run(on: table)
            }
            table = try engineCall { () throws(EngineError) -> Table in try table.setting(name, column) }
        }
        return Frame(names: table.names, columns: table.columns, rowCount: frame.rowCount)
    }
    func validate() throws(ModelError) {
        guard names.count == exprs.count, !names.isEmpty, !names.contains(""),
              !exprs.contains(where: \.containsReduction) else { throw FittedState.inconsistent("feature expressions") }
    }
}

extension FittedTransform {
    /// What `features()` learns.
    public static func features(names: [String], exprs: [KExpr]) -> FittedTransform {
        FittedTransform(FittedFeatures(names: names, exprs: exprs))
    }
}
