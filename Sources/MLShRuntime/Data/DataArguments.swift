import Foundation
import MLShEngine
import MLShLanguage

/// Reading engine values out of builtin arguments.
extension Arguments {
    /// A table argument (a grouped table is refused with a hint).
    func table(_ name: String) throws(MLShError) -> Table {
        let v = try value(name)
        switch v {
        case .object(let t as TableValue): return t.table
        case .object(let g as GroupedValue):
            throw MLShError.type("\(function) needs a table, got a grouped table; use agg(...) after group(...), or pass the table itself (\(g.keyNames.joined(separator: ", ")))")
        default: throw MLShError.type("\(function): '\(name)' must be a table, got \(v.typeName)")
        }
    }

    /// A seed: a non-negative int, as the engine's UInt64.
    func seed(_ name: String = "seed") throws(MLShError) -> UInt64 {
        let s = try int(name, 0)
        guard s >= 0 else { throw MLShError.value("\(function): seed must be a non-negative int, got \(s)") }
        return UInt64(s)
    }
}

enum DataArgs {
    /// A column name from `"name"`, `$name` or `col("name")`.
    static func columnName(_ v: Value, _ fn: String) throws(MLShError) -> String {
        switch v {
        case .string(let s): return s
        case .expr(.column(let c)): return c
        case .expr(.call("col", let args)):
            if args.count == 1, case .string(let c) = args[0] { return c }
        default: break
        }
        throw MLShError.type("\(fn) needs column names (\"name\" or $name), got \(v.typeName) \(v.inline())")
    }

    /// Column names from arguments, each a name, `$name`, or a list of them.
    static func columnNames(_ vs: [Value], _ fn: String) throws(MLShError) -> [String] {
        var out: [String] = []
        for v in vs {
            if case .list(let xs) = v {
                for x in xs { out.append(try columnName(x, fn)) }
            } else { out.append(try columnName(v, fn)) }
        }
        return out
    }

    /// A column built from a list, a column value or a constant, `rows` long.
    static func column(from v: Value, rows: Int, _ what: String) throws(MLShError) -> Column? {
        switch v {
        case .object(let c as ColumnValue):
            guard c.column.count == rows else {
                throw MLShError.value("\(what): column has \(c.column.count) values, the table has \(rows) rows")
            }
            return c.column
        case .list(let xs):
            guard xs.count == rows else {
                throw MLShError.value("\(what): list has \(xs.count) values, the table has \(rows) rows")
            }
            return try columnFromList(xs, what)
        default: return nil
        }
    }

    static func columnFromList(_ xs: [Value], _ what: String) throws(MLShError) -> Column {
        var scalars: [Scalar] = []
        scalars.reserveCapacity(xs.count)
        for x in xs {
            guard let s = x.scalar else {
                throw MLShError.type("\(what): a column holds numbers, bools or strings, got \(x.typeName)")
            }
            scalars.append(s)
        }
        return try engine { () throws(EngineError) in try Column(scalars: scalars) }
    }

    /// The text of an argument as it appears in check names: `$price`, `0`, `["a", "b"]`.
    static func text(_ v: Value) -> String {
        switch v {
        case .expr(let e): return e.text
        default: return v.inline()
        }
    }

    /// A path as the user means it: relative to the working directory, or else to the
    /// running script's folder.
    static func resolve(_ path: String, _ interp: Interpreter) -> String {
        if path.hasPrefix("/") || FileManager.default.fileExists(atPath: path) { return path }
        if let script = interp.scriptPath {
            let dir = (script as NSString).deletingLastPathComponent
            let candidate = (dir as NSString).appendingPathComponent(path)
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return path
    }
}
