import MLShEngine
import MLShLanguage

/// Lowers the language's `$` expressions to engine IR. The kernel compiler never sees
/// the language's AST; reductions become `.reduce` nodes that run as a first pass.
enum ExprLowering {
    /// Reductions: inside an expression they are computed once per table (or group).
    static let reductions = Set(KExpr.reductionFunctions)

    static func lower(_ e: ColumnExpr) throws(MLShError) -> KExpr {
        switch e {
        case .column(let c): return .column(c)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .missing: return .missing
        case .call("col", let args):
            guard args.count == 1, case .string(let name) = args[0] else {
                throw MLShError.type("col needs a column name string")
            }
            return .column(name)
        case .call(let name, let args):
            var lowered: [KExpr] = []
            lowered.reserveCapacity(args.count)
            for a in args { lowered.append(try lower(a)) }
            if reductions.contains(name) {
                guard let first = lowered.first else { throw MLShError.type("\(name) needs a column") }
                return .reduce(name, first, Array(lowered.dropFirst()))
            }
            return .call(name, lowered)
        }
    }

    /// A value usable inside a verb as an expression: `$x`, a scalar constant.
    static func expression(_ v: Value, _ what: String) throws(MLShError) -> KExpr {
        switch v {
        case .expr(let e): return try lower(e)
        default:
            guard let e = ColumnExpr(v) else {
                throw MLShError.type("\(what) must be a column expression like $x * 2, got \(v.typeName)")
            }
            return try lower(e)
        }
    }

    /// Evaluates an expression over a table to a full-length column.
    static func evaluate(_ e: KExpr, on table: Table, groups: Grouping? = nil) throws(MLShError) -> Column {
        try engine { () throws(EngineError) in
            try KernelProgram.compile(e, for: table).run(on: table, groups: groups)
        }
    }
}

/// Arithmetic, comparisons and functions on whole columns outside verbs
/// (`iris.sepal_length * 2`, `sqrt(t.x)`, `mean(t.x)`) run through the same kernel
/// compiler, over a scratch table of the operands.
enum ColumnMath {
    /// Binds the operands as columns `__0`, `__1`, ... of a scratch table.
    static func operands(_ args: [Value], _ what: String) throws(MLShError) -> (Table, [KExpr], ColumnValue?)? {
        var names: [String] = [], cols: [Column] = [], exprs: [KExpr] = []
        var first: ColumnValue?
        for v in args {
            switch v {
            case .object(let o as ColumnValue):
                if first == nil { first = o }
                if let n = cols.first?.count, n != o.column.count {
                    throw MLShError.value("\(what): columns have different lengths (\(n) and \(o.column.count))")
                }
                let n = "__\(names.count)"
                names.append(n); cols.append(o.column); exprs.append(.column(n))
            case .expr:
                throw MLShError.type("\(what): a column value cannot be mixed with a $column expression; use a verb such as derive")
            case .object:
                return nil
            default:
                guard let e = ColumnExpr(v) else { return nil }
                exprs.append(try ExprLowering.lower(e))
            }
        }
        guard first != nil else { return nil }
        let t = try engine { () throws(EngineError) in try Table(names: names, columns: cols) }
        return (t, exprs, first)
    }

    static func apply(_ name: String, _ args: [Value]) throws(MLShError) -> Value? {
        guard let (t, exprs, first) = try operands(args, name), let head = exprs.first else { return nil }
        if ExprLowering.reductions.contains(name) {
            let e = KExpr.reduce(name, head, Array(exprs.dropFirst()))
            let c = try engine { () throws(EngineError) in try KernelAggregate.aggregate(e, on: t, groups: nil) }
            return c.language(at: 0)
        }
        let out = try ExprLowering.evaluate(.call(name, exprs), on: t)
        return .object(ColumnValue(out, name: first?.name ?? name))
    }

    /// An operator with a column operand; `operands` in source order.
    static func binary(_ op: BinaryOp, _ operands: [Value]) throws(MLShError) -> Value? {
        guard op != .compose else { return nil }
        return try apply(op.opName, operands)
    }
}
