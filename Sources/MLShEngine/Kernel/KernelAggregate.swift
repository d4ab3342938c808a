/// Aggregates: one value per group for an expression of reductions.
public enum KernelAggregate {
    /// One value per group (or one row if groups == nil) for an expression whose top level
    /// is a reduction, e.g. `sum($a*$b)`, `mean($x)`, `count($x)`, or any expression of
    /// reductions like `max($x) - min($x)`.
    ///
    /// Each reduction is computed per group (sharing moment passes), becomes a column of a
    /// one-row-per-group table, and the expression around the reductions is compiled and
    /// run over that table. A column used outside any reduction is an error.
    public static func aggregate(_ e: KExpr, on table: Table, groups: Grouping?) throws(EngineError) -> Column {
        try kernelCheckDepth(e)
        if let free = e.kernelFreeColumns.first {
            _ = try table.column(free)   // an unknown column reports as such
            throw EngineError.invalidArgument("aggregate expression uses $\(free) outside a reduction (wrap it in sum, mean, ...)")
        }
        let g = try KGroups(groups, rows: table.rowCount)
        let groupCount = g?.count ?? 1
        var found: [KExpr] = []
        let rewritten = kernelReplaceReductions(e, &found)
        let cache = KReductionCache()
        var names = ["\u{1}rows"]
        var columns = [Column(ints: [Int64](repeating: 0, count: groupCount))]
        for (k, r) in found.enumerated() {
            guard case .reduce(let name, let arg, let extra) = r else { continue }
            let plan = try KReductionPlan(name: name, arg: arg, extra: extra, table: table, expr: r)
            names.append("\u{1}r\(k)")
            columns.append(try plan.evaluate(table, g, cache).column)
        }
        let summary = try Table(names: names, columns: columns, label: table.label)
        return try KernelProgram.compile(rewritten, for: summary).run(on: summary)
    }
}

/// Replaces each distinct reduction by a reference to its summary column.
func kernelReplaceReductions(_ e: KExpr, _ found: inout [KExpr]) -> KExpr {
    switch e {
    case .reduce:
        if let k = found.firstIndex(of: e) { return .column("\u{1}r\(k)") }
        found.append(e); return .column("\u{1}r\(found.count - 1)")
    case .call(let n, let args):
        var out: [KExpr] = []
        for a in args { out.append(kernelReplaceReductions(a, &found)) }
        return .call(n, out)
    default: return e
    }
}

/// Convenience: an expression whose value is a single reduction (or an expression of
/// reductions) over the whole table → a number; nil when the result is missing.
public func evaluateScalar(_ e: KExpr, on table: Table) throws(EngineError) -> Double? {
    let c = try KernelAggregate.aggregate(e, on: table, groups: nil)
    guard c.count == 1 else { return nil }
    switch c.storage {
    case .float(let v): return v[0]
    case .int(let v, let m): return (m?[0] ?? true) ? Double(v[0]) : nil
    case .bool(let v, let m): return (m?[0] ?? true) ? (v[0] ? 1 : 0) : nil
    case .string: throw EngineError.typeMismatch("expected a number, got a string")
    }
}
