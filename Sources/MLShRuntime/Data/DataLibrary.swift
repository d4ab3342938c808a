import Foundation
import MLShEngine
import MLShLanguage

/// Tables, columns and column expressions: loading, verbs, quality checks (§4, §5).
struct DataLibrary: Library {
    func register(into interp: Interpreter) {
        for b in sources + verbs + shapes + QualityChecks.builtins { interp.register(b) }
    }

    /// The first argument of the table overloads (`filter`, `save`): a table, or a grouped
    /// one (which a verb may refuse with a hint).
    static let table = ArgumentType.object("table") { $0 is TableValue || $0 is GroupedValue }

    static func wrap(_ t: Table) -> Value { .object(TableValue(t)) }

    /// Whether `load` and `save` treat a path as a Parquet file (by its extension).
    static func isParquet(_ path: String) -> Bool {
        ["parquet", "pq", "parq"].contains((path as NSString).pathExtension.lowercased())
    }

    /// A file error naming the file as the user wrote it (`given`), not as resolved.
    static func naming(_ error: EngineError, _ given: String) -> EngineError {
        switch error {
        case .malformedFile(_, let line, let column, let message):
            return .malformedFile(path: given, line: line, column: column, message: message)
        case .malformedData(_, let offset, let message): return .malformedData(path: given, offset: offset, message: message)
        case .unsupportedFile(_, let message): return .unsupportedFile(path: given, message: message)
        case .io(_, let message): return .io(path: given, message: message)
        default: return error
        }
    }

    /// `load`'s CSV options from its arguments.
    static func csvOptions(_ a: Arguments) throws(MLShError) -> CSVOptions {
        var options = CSVOptions()
        if let s = a["sep"] {
            guard case .string(let sep) = s, sep.utf8.count == 1, let byte = sep.utf8.first else {
                throw MLShError.value("load: sep must be one character, like \"\\t\"")
            }
            options.separator = byte
        }
        if let t = a["types"] {
            guard case .record(let r) = t else { throw MLShError.type("load: types must be a record like {zip: \"string\"}") }
            for (k, v) in zip(r.keys, r.values) {
                guard case .string(let name) = v, let d = DType(rawValue: name) else {
                    throw MLShError.value("load: type of \(k) must be one of float, int, bool, string; got \(v.inline())")
                }
                options.types[k] = d
            }
        }
        if let na = a["na"] {
            guard case .list(let xs) = na else { throw MLShError.type("load: na must be a list of strings") }
            options.na = try xs.map { x throws(MLShError) in
                guard case .string(let s) = x else { throw MLShError.type("load: na must be a list of strings") }
                return s
            }
        }
        return options
    }

    // MARK: sources

    var sources: [Builtin] { [
        Builtin("load", ["path", "sep=none", "types=none", "na=none", "columns=none"], category: "data",
                summary: "Reads a CSV or TSV file (header row; int, float, bool and string types inferred) or a Parquet file (.parquet: types from the file); columns= reads only those.",
                example: #"load("data/iris.csv", types={species: "string"}, na=["", "NA"])  # or load("x.parquet", columns=["a", "b"])"#) { a, interp throws(MLShError) in
            let given = try a.string("path")
            let path = DataArgs.resolve(given, interp)
            let columns: [String]? = try a["columns"].map { v throws(MLShError) in
                guard case .list(let xs) = v else { throw MLShError.type("load: columns must be a list of names, like [\"a\", \"b\"]") }
                guard !xs.isEmpty else { throw MLShError.value("load: columns= names no column; leave it out to read them all") }
                return try DataArgs.columnNames(xs, "load")
            }
            var t: Table
            if DataLibrary.isParquet(path) {
                for option in ["sep", "types", "na"] where a[option] != nil {
                    throw MLShError.value("load: \(option)= applies to CSV and TSV files, not to Parquet (whose file says its columns' types and missing values)")
                }
                t = try engine { () throws(EngineError) in
                    do throws(EngineError) { return try Parquet.read(path: path, columns: columns) } catch {
                        throw DataLibrary.naming(error, given)
                    }
                }
            } else {
                var options = try DataLibrary.csvOptions(a)
                // A large file read on a terminal shows a progress bar on stderr.
                let bar = LoadProgress.start(path: path)
                if let bar { options.progress = { bar.add($0) } }
                defer { bar?.finish() }
                // Messages name the file as the user wrote it.
                t = try engine { () throws(EngineError) in
                    do throws(EngineError) {
                        let all = try CSV.read(path: path, options: options)
                        guard let columns else { return all }
                        var picked = try all.select(columns)
                        picked.label = all.label
                        return picked
                    } catch {
                        throw DataLibrary.naming(error, given)
                    }
                }
            }
            t.label = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            return DataLibrary.wrap(t)
        },
        Builtin("save", ["value", "path", "compression=none"], first: DataLibrary.table, category: "data",
                summary: "Writes a table to CSV (TSV for .tsv) or Parquet (.parquet; compression \"zstd\" by default, or \"snappy\", \"gzip\", \"none\"), atomically.",
                example: #"save(t, "clean.csv")  # or save(t, "clean.parquet", compression="snappy")"#) { a, interp throws(MLShError) in
            let path = try a.string("path")
            let t = try a.table("value")
            let ext = (path as NSString).pathExtension.lowercased()
            if DataLibrary.isParquet(path) {
                let name = try a.string("compression", "zstd")
                guard let compression = ParquetCompression(rawValue: name) else {
                    throw MLShError.value("save: compression must be one of \(ParquetCompression.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")); got \"\(name)\"")
                }
                try engine { () throws(EngineError) in try Parquet.write(t, to: path, compression: compression) }
                return .none
            }
            guard ["", "csv", "tsv", "txt"].contains(ext) else {
                throw MLShError.value("save writes a table as .csv, .tsv or .parquet, not .\(ext)")
            }
            if a["compression"] != nil { throw MLShError.value("save: compression= applies to .parquet files") }
            let sep: UInt8 = ext == "tsv" ? 9 : 44
            try engine { () throws(EngineError) in try CSV.write(t, to: path, separator: sep) }
            return .none
        },
        Builtin("dataset", ["name"], category: "data",
                summary: "A bundled dataset: iris, wine, breast_cancer, diabetes, digits.",
                example: #"dataset("iris")"#) { a, _ throws(MLShError) in
            let name = try a.string("name")
            return DataLibrary.wrap(try engine { () throws(EngineError) in try bundledDataset(name) })
        },
        Builtin("synth", ["kind", "rows=1000", "features=10", "classes=2", "centers=8", "noise=0.1", "informative=none", "seed=0"],
                category: "data",
                summary: "A synthetic table: \"regression\", \"classification\" or \"blobs\", reproducible from its seed.",
                example: #"synth("classification", rows=100_000, features=20, classes=2, seed=0)"#) { a, _ throws(MLShError) in
            let kind = try a.string("kind")
            let rows = try a.int("rows", 1000), features = try a.int("features", 10)
            let classes = try a.int("classes", 2), centers = try a.int("centers", 8)
            let noise = try a.double("noise", 0.1)
            let informative: Int? = a["informative"] == nil ? nil : try a.int("informative")
            let seed = try a.seed()
            return DataLibrary.wrap(try engine { () throws(EngineError) in
                try synth(kind, rows: rows, features: features, classes: classes, centers: centers,
                          noise: noise, informative: informative, seed: seed)
            })
        },
        Builtin("column", ["values"], category: "data",
                summary: "A column from a list (type inferred: int, float, bool or string).",
                example: "column([1.5, 2.0, nan])") { a, _ throws(MLShError) in
            let v = try a.value("values")
            switch v {
            case .list(let xs): return .object(ColumnValue(try DataArgs.columnFromList(xs, "column"), name: "column"))
            case .object(let c as ColumnValue): return .object(c)
            default:
                let xs = try CoreLibrary.items(v, "column")
                return .object(ColumnValue(try DataArgs.columnFromList(xs, "column"), name: "column"))
            }
        },
        Builtin("table", ["columns"], category: "data",
                summary: "A table from a record of equal-length lists or columns.",
                example: #"table({a: [1, 2], b: ["x", "y"]})"#) { a, _ throws(MLShError) in
            guard case .record(let r) = try a.value("columns") else {
                throw MLShError.type("table needs a record of lists, like table({a: [1, 2]})")
            }
            var cols: [Column] = []
            for (k, v) in zip(r.keys, r.values) {
                switch v {
                case .list(let xs): cols.append(try DataArgs.columnFromList(xs, "table: column \(k)"))
                case .object(let c as ColumnValue): cols.append(c.column)
                default: throw MLShError.type("table: column \(k) must be a list or a column, got \(v.typeName)")
                }
            }
            return DataLibrary.wrap(try engine { () throws(EngineError) in try Table(names: r.keys, columns: cols) })
        },
        Builtin("col", ["name"], category: "expressions",
                summary: "The column reference $name, from a name computed at run time.",
                example: #"filter(t, col("petal length") > 2)"#) { a, _ throws(MLShError) in
            .expr(.column(try a.string("name")))
        },
    ] }

    // MARK: shapes

    var shapes: [Builtin] { [
        Builtin("shape", ["t"], category: "tables", summary: "[rows, columns] of a table.",
                example: #"shape(dataset("iris"))  # [150, 5]"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            return .list([.int(Int64(t.rowCount)), .int(Int64(t.names.count))])
        },
        Builtin("columns", ["t"], category: "tables", summary: "The column names of a table, in order.",
                example: #"columns(dataset("iris"))"#) { a, _ throws(MLShError) in
            .list(try a.table("t").names.map { .string($0) })
        },
        Builtin("schema", ["t"], category: "tables", summary: "A table of column names, types and missing counts.",
                example: #"schema(dataset("iris"))"#) { a, _ throws(MLShError) in
            DataLibrary.wrap(try a.table("t").schema())
        },
        Builtin("describe", ["t"], category: "tables",
                summary: "Count, missing, mean, std, min, quartiles and max per numeric column; top values per string column.",
                example: #"dataset("iris") |> describe"#) { a, _ throws(MLShError) in
            DataLibrary.wrap(try a.table("t").describe())
        },
        Builtin("fingerprint", ["t"], category: "tables",
                summary: "\"sha256:...\" of a table's schema and values (order-sensitive).",
                example: #"fingerprint(dataset("iris"))"#) { a, _ throws(MLShError) in
            .string(try a.table("t").fingerprint())
        },
        Builtin("explain_kernel", ["t", "e"], category: "expressions",
                summary: "Prints the kernel program a column expression compiles to over a table.",
                example: #"explain_kernel(iris, ($petal_length - mean($petal_length)) / std($petal_length))"#) { a, interp throws(MLShError) in
            let t = try a.table("t")
            let e = try ExprLowering.expression(try a.value("e"), "explain_kernel")
            let text = try engine { () throws(EngineError) in try KernelProgram.compile(e, for: t).disassembly() }
            interp.output(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            return .none
        },
    ] }
}
