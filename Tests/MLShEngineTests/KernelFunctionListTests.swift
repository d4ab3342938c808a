import MLShCommon
import Testing
@testable import MLShEngine

/// The function names the engine exports are exactly what its compiler lowers, and the
/// opcode table names nothing the language cannot reach.
@Suite struct KernelFunctionListTests {
    let table: Table = {
        do {
            return try Table(names: ["x", "s", "b"], columns: [
                Column(floats: [1.5, -2, .nan]), Column(strings: ["a-b", " C ", nil]), Column(bools: [true, false, true]),
            ])
        } catch { preconditionFailure("fixture table: \(error)") }
    }()

    /// A well-formed call of each exported element-wise function.
    func call(_ name: String) -> KExpr {
        let x = KExpr.column("x"), s = KExpr.column("s"), b = KExpr.column("b")
        switch name {
        case "trim", "lower", "upper": return .call(name, [s])
        case "replace": return .call(name, [s, .string("-"), .string("+")])
        case "split_text": return .call(name, [s, .string("-"), .int(0)])
        case "cast": return .call(name, [x, .string("string")])
        case "if_else": return .call(name, [b, x, .float(0)])
        case "fill_nan", "min2", "max2": return .call(name, [x, .float(0)])
        case "clip": return .call(name, [x, .float(-1), .float(1)])
        default: return .call(name, [x])
        }
    }

    @Test func everyExportedFunctionCompilesAndRuns() throws {
        for name in KExpr.elementwiseFunctions {
            let c = try KernelProgram.compile(call(name), for: table).run(on: table)
            #expect(c.count == 3, "\(name)")
        }
        for name in KExpr.reductionFunctions {
            let e: KExpr = .reduce(name, .column("x"), name == "quantile" ? [.float(0.25)] : [])
            #expect(try KernelProgram.compile(e, for: table).run(on: table).count == 3, "\(name)")
        }
        #expect(throws: EngineError.invalidArgument("unknown column function 'nosuch'")) {
            try KernelProgram.compile(.call("nosuch", [.column("x")]), for: table)
        }
    }

    @Test func theOpcodeTableNamesOnlyOperatorsExportedFunctionsAndInternalOps() {
        // Made by the compiler's own passes (fusion, masks, gathers), never named in an expression.
        let internalOps: Set = ["copy", "fma", "gather", "lut", "nanmask", "valid", "zeromask", "nonzero"]
        let operators = Set(ExprSyntax.infixOperators.map(\.name) + ExprSyntax.prefixOperators.map(\.name))
        let exported = Set(KExpr.elementwiseFunctions)
        for row in KOp.table where !row.call.isEmpty {
            #expect(operators.contains(row.call) || exported.contains(row.call) || internalOps.contains(row.call),
                    "opcode \(row.name) implements '\(row.call)', which is neither an operator nor an exported function")
        }
        #expect(KLowering.floatFunctions.isSubset(of: exported))
    }
}
