import Foundation

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

extension KExpr: CustomStringConvertible {
    /// The expression in mls surface syntax, used in error messages and listings.
    public var description: String { kernelRender(self, parentPrecedence: 0) }

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

/// Infix spellings and precedences (higher binds tighter) of the binary operators, as in
/// LANGUAGE.md §3.
private let kernelInfix: [String: (String, Int)] = [
    "or": ("or", 1), "and": ("and", 2),
    "eq": ("==", 4), "ne": ("!=", 4), "lt": ("<", 4), "le": ("<=", 4), "gt": (">", 4), "ge": (">=", 4),
    "add": ("+", 5), "sub": ("-", 5), "mul": ("*", 6), "div": ("/", 6), "mod": ("%", 6),
    "pow": ("^", 8),
]

private func kernelRender(_ e: KExpr, parentPrecedence: Int) -> String {
    switch e {
    case .column(let n):
        return n.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) && !n.isEmpty ? "$" + n : "col(\"\(n)\")"
    case .float(let v):
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded(), abs(v) < 1e15 { return String(format: "%.1f", v) }
        return "\(v)"
    case .int(let v): return "\(v)"
    case .bool(let v): return v ? "true" : "false"
    case .missing: return "none"
    case .string(let s): return "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    case .call(let name, let args):
        if args.count == 2, let (sym, p) = kernelInfix[name] {
            let l = kernelRender(args[0], parentPrecedence: name == "pow" ? p + 1 : p)
            let r = kernelRender(args[1], parentPrecedence: name == "pow" ? p : p + 1)
            let s = "\(l) \(sym) \(r)"
            return p < parentPrecedence ? "(\(s))" : s
        }
        if args.count == 1, name == "neg" {
            let s = "-" + kernelRender(args[0], parentPrecedence: 7)
            return 7 < parentPrecedence ? "(\(s))" : s
        }
        if args.count == 1, name == "not" {
            let s = "not " + kernelRender(args[0], parentPrecedence: 3)
            return 3 < parentPrecedence ? "(\(s))" : s
        }
        return name + "(" + args.map { kernelRender($0, parentPrecedence: 0) }.joined(separator: ", ") + ")"
    case .reduce(let name, let arg, let extra):
        return name + "(" + ([arg] + extra).map { kernelRender($0, parentPrecedence: 0) }.joined(separator: ", ") + ")"
    }
}
