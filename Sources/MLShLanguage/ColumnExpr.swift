import MLShCommon

/// A column expression tree, built by arithmetic and functions on `$` references.
/// Operators and functions are named as the engine's kernel ops (`add`, `sqrt`, `mean`, ...).
public indirect enum ColumnExpr: Sendable, Hashable {
    case column(String)
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case string(String)
    /// `none`: a missing value of the type its context needs.
    case missing
    case call(String, [ColumnExpr])

    /// Lifts a scalar value into a constant, or nil when it has no column form.
    public init?(_ v: Value) {
        switch v {
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        case .none: self = .missing
        case .expr(let e): self = e
        default: return nil
        }
    }

    /// Every column the expression references, in first-use order.
    public var columns: [String] {
        var out: [String] = []
        func walk(_ e: ColumnExpr) {
            switch e {
            case .column(let c): if !out.contains(c) { out.append(c) }
            case .call(_, let args): args.forEach(walk)
            default: break
            }
        }
        walk(self)
        return out
    }

    /// The expression as source text, with the parentheses precedence needs.
    public var text: String {
        ExprSyntax.render(self) { e in
            switch e {
            case .column(let c): return .leaf(ExprSyntax.column(c))
            case .int(let i): return .leaf(String(i))
            case .float(let d): return .leaf(ExprSyntax.float(d))
            case .bool(let b): return .leaf(b ? "true" : "false")
            case .string(let s): return .leaf(ExprSyntax.string(s))
            case .missing: return .leaf("none")
            case .call("col", let args) where args.count == 1:
                if case .string(let c) = args[0] { return .leaf(ExprSyntax.column(c)) }
                return .call("col", args)
            case .call(let name, let args): return .call(name, args)
            }
        }
    }
}

/// The shortest text that reads back to the same Double (`0.1`, `3.0`, `1e-07`).
public func formatFloat(_ d: Double) -> String { ExprSyntax.float(d) }

/// A string as a literal: quoted, with escapes.
public func quoteString(_ s: String) -> String { ExprSyntax.string(s) }
