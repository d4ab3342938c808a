import Foundation
import MLShCommon

/// The engine's column-expression IR: what the runtime lowers a `$` expression to and
/// what `KernelProgram.compile` turns into a block program.
public indirect enum KExpr: Sendable, Equatable, Hashable {
    /// A column reference `$name`.
    case column(String)
    /// A float constant (a captured scalar).
    case float(Double)
    /// An int constant.
    case int(Int64)
    /// A bool constant.
    case bool(Bool)
    /// A string constant.
    case string(String)
    /// `none`: a missing value of the type its context needs (NaN, an invalid int or
    /// bool, a missing string), float NaN when nothing decides.
    case missing
    /// An operator or element-wise function by name (`add`, `sqrt`, `if_else`, ...).
    case call(String, [KExpr])
    /// A reduction (`sum`, `mean`, `quantile`, ...) over the table or per group, broadcast
    /// to every row; the array holds extra arguments such as the quantile's `q`.
    case reduce(String, KExpr, [KExpr])
}

extension KExpr {
    /// The element-wise functions a column expression calls by name; the operators are
    /// `ExprSyntax`'s (`add`, `neg`, ...). `KernelProgram.compile` lowers each of them.
    public static let elementwiseFunctions = [
        "abs", "sign", "floor", "ceil", "round", "sqrt", "exp", "log", "log1p", "log2", "log10", "sin", "cos", "tan",
        "min2", "max2", "clip", "is_nan", "fill_nan", "if_else", "cast", "trim", "lower", "upper", "replace", "split_text",
    ]
    /// The reductions (`.reduce` nodes): computed once per table or group, then broadcast.
    public static let reductionFunctions = ReductionKind.allCases.map(\.rawValue)
}

extension KExpr: CustomStringConvertible {
    /// The expression in mls surface syntax, used in error messages and listings.
    public var description: String { kernelRender(self) }

    /// Whether the expression contains a reduction anywhere.
    var kernelContainsReduction: Bool {
        switch self {
        case .reduce: return true
        case .call(_, let args): return args.contains { $0.kernelContainsReduction }
        default: return false
        }
    }

    /// Column names referenced outside any reduction.
    var kernelFreeColumns: [String] {
        switch self {
        case .column(let n): return [n]
        case .call(_, let args): return args.flatMap { $0.kernelFreeColumns }
        default: return []
        }
    }
}

/// Nesting deeper than this is rejected before any recursive pass runs (a script can
/// build an expression in a loop; recursion that deep would overflow the stack).
let kernelMaxDepth = 2_000

/// Checks the nesting depth without recursion.
func kernelCheckDepth(_ e: KExpr) throws(EngineError) {
    var stack: [(KExpr, Int)] = [(e, 1)]
    while let (x, d) = stack.popLast() {
        guard d <= kernelMaxDepth else {
            throw EngineError.invalidArgument("column expression nested more than \(kernelMaxDepth) levels deep")
        }
        switch x {
        case .call(_, let args): for a in args { stack.append((a, d + 1)) }
        case .reduce(_, let a, let extra): stack.append((a, d + 1)); for x in extra { stack.append((x, d + 1)) }
        default: break
        }
    }
}

/// The expression as mls source, through the language's one operator table.
private func kernelRender(_ e: KExpr) -> String {
    ExprSyntax.render(e) { e in
        switch e {
        case .column(let n): return .leaf(ExprSyntax.column(n))
        case .float(let v): return .leaf(ExprSyntax.float(v))
        case .int(let v): return .leaf(String(v))
        case .bool(let v): return .leaf(v ? "true" : "false")
        case .missing: return .leaf("none")
        case .string(let s): return .leaf(ExprSyntax.string(s))
        case .call(let name, let args): return .call(name, args)
        case .reduce(let name, let arg, let extra): return .call(name, [arg] + extra)
        }
    }
}
