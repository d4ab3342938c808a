import MLShEngine
import MLShLanguage

/// The table verbs of §5: each takes the table first, so it reads well after `|>`.
extension DataLibrary {
    var verbs: [Builtin] { [
        Builtin("head", ["t", "n=10"], category: "verbs", summary: "The first n rows (all of them displayed).",
                example: "iris |> head(30)") { a, _ throws(MLShError) in
            let n = try DataLibrary.count(a, "n")
            return .object(TableValue(try a.table("t").head(n), rows: n))
        },
        Builtin("tail", ["t", "n=10"], category: "verbs", summary: "The last n rows (all of them displayed).",
                example: "iris |> tail(3)") { a, _ throws(MLShError) in
            let n = try DataLibrary.count(a, "n")
            return .object(TableValue(try a.table("t").tail(n), rows: n))
        },
        Builtin("sample", ["t", "n=none", "frac=none", "seed=0"], category: "verbs",
                summary: "n rows (or a fraction) drawn without replacement, reproducibly from the seed.",
                example: "iris |> sample(frac=0.1, seed=1)") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let n: Int? = a["n"] == nil ? nil : try a.int("n")
            let f: Double? = a["frac"] == nil ? nil : try a.double("frac")
            let seed = try a.seed()
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.sample(n: n, fraction: f, seed: seed) })
        },
        Builtin("select", ["t", "..."], category: "verbs", summary: "Keeps the named columns, in the order given.",
                example: #"iris |> select($species, "sepal_length")"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            let names = try DataArgs.columnNames(a.extra, "select")
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.select(names) })
        },
        Builtin("drop", ["t", "..."], category: "verbs", summary: "Removes the named columns.",
                example: "iris |> drop($species)") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let names = try DataArgs.columnNames(a.extra, "drop")
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.drop(names) })
        },
        Builtin("rename", ["t", "**"], category: "verbs", summary: "Renames columns: rename(t, old=\"new\").",
                example: #"iris |> rename(species="kind")"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            var pairs: [(String, String)] = []
            for (k, v) in a.named {
                guard case .string(let new) = v else { throw MLShError.type("rename: the new name for \(k) must be a string") }
                pairs.append((k, new))
            }
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.renamed(pairs) })
        },
        Builtin("filter", ["t", "condition"], first: DataLibrary.table, category: "verbs",
                summary: "Keeps the rows where a true/false column expression holds (per group after group).",
                example: #"iris |> filter($species != "setosa" and $sepal_width >= 3.0)"#) { a, _ throws(MLShError) in
            let (t, groups) = try DataLibrary.tableOrGroups(a, "t")
            let cv = try a.value("condition")
            let e = try ExprLowering.expression(cv, "filter's condition")
            let mask = try ExprLowering.evaluate(e, on: t, groups: groups)
            guard mask.dtype == .bool else {
                throw MLShError.type("filter needs a true/false expression, got a \(mask.dtype.rawValue) expression: \(DataArgs.text(cv))")
            }
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.rows(where: mask) })
        },
        Builtin("derive", ["t", "**"], category: "verbs",
                summary: "Adds or replaces columns from expressions, in order (reductions per group after group).",
                example: "iris |> derive(ratio = $petal_length / $petal_width, wide = $petal_width > 1.5)") { a, _ throws(MLShError) in
            var (t, groups) = try DataLibrary.tableOrGroups(a, "t")
            for (name, v) in a.named {
                let c: Column
                if let given = try DataArgs.column(from: v, rows: t.rowCount, "derive \(name)") {
                    c = given
                } else {
                    c = try ExprLowering.evaluate(try ExprLowering.expression(v, "derive \(name)"), on: t, groups: groups)
                }
                t = try engine { () throws(EngineError) in try t.setting(name, c) }
            }
            return DataLibrary.wrap(t)
        },
        Builtin("sort", ["t", "...", "descending=false"], category: "verbs",
                summary: "Sorts rows by columns or expressions (stable; missing values last).",
                example: "iris |> sort($petal_length, descending=true)") { a, _ throws(MLShError) in
            try DataLibrary.sort(a)
        },
        Builtin("distinct", ["t", "..."], category: "verbs",
                summary: "The first row of each distinct combination of the columns (all columns if none named).",
                example: "iris |> distinct($species)") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let names = try DataArgs.columnNames(a.extra, "distinct")
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.distinct(names) })
        },
        Builtin("group", ["t", "..."], category: "verbs",
                summary: "Groups rows by key columns, for agg (or per-group derive and filter).",
                example: "iris |> group($species) |> agg(n = count($sepal_length), avg = mean($sepal_length))") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let names = try DataArgs.columnNames(a.extra, "group")
            guard !names.isEmpty else { throw MLShError.type("group needs at least one key column") }
            let (g, keys) = try engine { () throws(EngineError) in try t.grouping(by: names) }
            return .object(GroupedValue(t, keyNames: names, grouping: g, keys: keys))
        },
        Builtin("agg", ["t", "**"], category: "verbs",
                summary: "Aggregates: one row per group (or one row), a column per named reduction expression.",
                example: "agg(t, total = sum($price * $qty), n = count($price))") { a, _ throws(MLShError) in
            let (t, groups) = try DataLibrary.tableOrGroups(a, "t")
            var names: [String] = [], cols: [Column] = []
            if case .object(let g as GroupedValue) = try a.value("t") {
                names = g.keys.names; cols = g.keys.columns
            }
            guard !a.named.isEmpty else { throw MLShError.type("agg needs named reductions, like agg(n = count($x))") }
            if let clash = a.named.first(where: { names.contains($0.0) })?.0 {
                throw MLShError.value("agg: '\(clash)' is a key column of the groups; give the reduction another name, like agg(n_\(clash) = ...)")
                    .about(.named(clash))
            }
            for (name, v) in a.named {
                let e = try ExprLowering.expression(v, "agg \(name)")
                let c = try engine { () throws(EngineError) in try KernelAggregate.aggregate(e, on: t, groups: groups) }
                if let i = names.firstIndex(of: name) { cols[i] = c } else { names.append(name); cols.append(c) }
            }
            return DataLibrary.wrap(try engine { () throws(EngineError) in try Table(names: names, columns: cols) })
        },
        Builtin("join", ["a", "b", "on", "how=\"inner\"", "suffix=\"_right\""], category: "verbs",
                summary: "Joins two tables on key columns (one or a list): how is \"inner\", \"left\", \"outer\" (every row of both), \"semi\" (left rows with a match) or \"anti\" (left rows without one); right columns whose names are taken get suffix.",
                example: #"join(orders, customers, on="id", how="left")"#) { a, _ throws(MLShError) in
            let l = try a.table("a"), r = try a.table("b")
            let on = try DataArgs.columnNames([try a.value("on")], "join")
            if let twice = on.enumerated().first(where: { on[..<$0.offset].contains($0.element) })?.element {
                throw MLShError.value("join: key '\(twice)' is named twice in on=").about(.named("on"))
            }
            let text = try a.string("how", "inner")
            guard let how = JoinKind(rawValue: text) else {
                throw MLShError.value("join: how must be \(JoinKind.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(text)\"")
                    .about(.named("how"))
            }
            let suffix = try a.string("suffix", "_right")
            return DataLibrary.wrap(try engine { () throws(EngineError) in try l.joined(r, on: on, how: how, suffix: suffix) })
        },
        Builtin("concat", ["a", "..."], category: "verbs", summary: "Stacks tables with the same columns.",
                example: "concat(train, test)") { a, _ throws(MLShError) in
            var ts: [Table] = []
            for v in [try a.value("a")] + a.extra {
                guard case .object(let t as TableValue) = v else { throw MLShError.type("concat needs tables, got \(v.typeName)") }
                ts.append(t.table)
            }
            return DataLibrary.wrap(try engine { () throws(EngineError) in try Table.concat(ts) })
        },
        Builtin("split", ["t", "frac=0.8", "seed=0", "stratify=none"], category: "verbs",
                summary: "[train, test]: a seeded shuffle split, optionally keeping class proportions.",
                example: "let [train, test] = split(iris, 0.8, seed=7, stratify=$species)") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let f = try a.double("frac", 0.8)
            guard f > 0, f < 1 else { throw MLShError.value("split: frac must be between 0 and 1, got \(formatFloat(f))") }
            let seed = try a.seed()
            let strat = try a["stratify"].map { v throws(MLShError) in try DataArgs.columnName(v, "split") }
            let (x, y) = try engine { () throws(EngineError) in try t.split(fraction: f, seed: seed, stratify: strat) }
            return .list([DataLibrary.wrap(x), DataLibrary.wrap(y)])
        },
        Builtin("kfold", ["t", "k=5", "seed=0", "stratify=none"], category: "verbs",
                summary: "k [train, test] pairs: seeded folds, optionally stratified.",
                example: "for [tr, te] in kfold(iris, k=5, seed=0) { print(len(te)) }") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let k = try a.int("k", 5)
            let seed = try a.seed()
            let strat = try a["stratify"].map { v throws(MLShError) in try DataArgs.columnName(v, "kfold") }
            let folds = try engine { () throws(EngineError) in try t.kfold(k: k, seed: seed, stratify: strat) }
            return .list(folds.map { .list([DataLibrary.wrap($0.train), DataLibrary.wrap($0.test)]) })
        },
    ] }

    static func count(_ a: Arguments, _ name: String) throws(MLShError) -> Int {
        let n = try a.int(name, 10)
        guard n >= 0 else { throw MLShError.value("\(a.function): \(name) must be 0 or more, got \(n)") }
        return n
    }

    /// The table of a verb's first argument, and its grouping when it was grouped.
    static func tableOrGroups(_ a: Arguments, _ name: String) throws(MLShError) -> (Table, Grouping?) {
        if case .object(let g as GroupedValue) = try a.value(name) { return (g.table, g.grouping) }
        return (try a.table(name), nil)
    }

    static func sort(_ a: Arguments) throws(MLShError) -> Value {
        var t = try a.table("t")
        let original = t.names
        let descending: [Bool]
        switch a["descending"] ?? .bool(false) {
        case .bool(let b): descending = Array(repeating: b, count: a.extra.count)
        case .list(let xs):
            guard xs.count == a.extra.count else {
                throw MLShError.value("sort: descending has \(xs.count) values for \(a.extra.count) keys")
            }
            descending = try xs.map { x throws(MLShError) in
                guard case .bool(let b) = x else { throw MLShError.type("sort: descending must be true/false or a list of them") }
                return b
            }
        case let v: throw MLShError.type("sort: descending must be true/false or a list of them, got \(v.typeName)")
        }
        guard !a.extra.isEmpty else { throw MLShError.type("sort needs at least one key, like sort(t, $x)") }
        var keys: [(name: String, descending: Bool)] = []
        for (i, v) in a.extra.enumerated() {
            if let name = try? DataArgs.columnName(v, "sort") {
                keys.append((name, descending[i]))
            } else {
                // An expression key: sort by a scratch column, dropped afterwards.
                let scratch = "__sort\(i)"
                let c = try ExprLowering.evaluate(try ExprLowering.expression(v, "sort key"), on: t)
                t = try engine { () throws(EngineError) in try t.setting(scratch, c) }
                keys.append((scratch, descending[i]))
            }
        }
        let sortKeys = keys
        var sorted = try engine { () throws(EngineError) in try t.sorted(by: sortKeys) }
        if sorted.names != original {
            sorted = try engine { () throws(EngineError) in try sorted.select(original) }
        }
        return wrap(sorted)
    }
}
