import MLShEngine
import MLShLanguage
import Synchronization

/// Where a table came from when it was read whole, for lineage and stage reasons.
enum TableOrigin: Sendable, Equatable {
    /// A stored version, `name@N`.
    case snapshot(String)
    /// A file `load` read: the path as written and as resolved.
    case file(shown: String, path: String)
    /// The cached value of a stage.
    case stage(String)
}

/// A table as a language value: columns are members (`t.price`, `t["odd name"]`).
final class TableValue: DomainObject {
    let table: Table
    /// Rows to display when they were asked for (`head(t, 30)`, `show(t, rows=30)`).
    let rows: Int?
    /// Where the table came from, when known.
    let origin: TableOrigin?
    /// The fingerprint, once computed (or known from the store).
    private let knownFingerprint: Mutex<String?>

    init(_ table: Table, rows: Int? = nil, origin: TableOrigin? = nil, fingerprint: String? = nil) {
        self.table = table; self.rows = rows; self.origin = origin
        self.knownFingerprint = Mutex(fingerprint)
    }

    /// `table.fingerprint()`, computed once per value.
    var fingerprint: String {
        if let known = knownFingerprint.withLock({ $0 }) { return known }
        let f = table.fingerprint()
        knownFingerprint.withLock { $0 = f }
        return f
    }

    var typeName: String { "table" }
    /// The rows asked for, else the first and last 5, or all of a table of up to 15 (a
    /// describe or check report).
    func render() -> String {
        TableFormatter(maxRows: rows ?? (table.rowCount <= 15 ? 15 : 10)).render(table, name: table.label)
    }
    func showing(rows: Int) -> (any DomainObject)? {
        TableValue(table, rows: rows, origin: origin, fingerprint: knownFingerprint.withLock { $0 })
    }
    var summary: String { "<table \(table.rowCount)×\(table.names.count)>" }
    var memberNames: [String] { table.names }
    var length: Int? { table.rowCount }

    func member(_ name: String) throws(MLShError) -> Value? {
        guard let i = table.index(of: name) else { return nil }
        return .object(ColumnValue(table.columns[i], name: name))
    }

    func element(_ key: Value) throws(MLShError) -> Value? {
        guard case .string(let name) = key else {
            throw MLShError.type("a table is indexed by a column name, got \(key.typeName)")
        }
        let c = try engine { () throws(EngineError) in try table.column(name) }
        return .object(ColumnValue(c, name: name))
    }

    func isEqual(to other: any DomainObject) -> Bool {
        guard let o = other as? TableValue else { return false }
        return table.names == o.table.names && fingerprint == o.fingerprint
    }
}

/// One named column as a language value: `c[i]`, `len(c)`, `for v in c`, arithmetic.
final class ColumnValue: DomainObject {
    let column: Column
    let name: String

    /// Values to display when they were asked for (`show(c, rows=30)`).
    let rows: Int?

    init(_ column: Column, name: String, rows: Int? = nil) { self.column = column; self.name = name; self.rows = rows }

    var typeName: String { "column" }
    func render() -> String { TableFormatter(maxRows: rows ?? 10).render(column, name: name) }
    func showing(rows: Int) -> (any DomainObject)? { ColumnValue(column, name: name, rows: rows) }
    var summary: String { "<column \(name): \(column.dtype.rawValue)[\(column.count)]>" }
    var length: Int? { column.count }
    var memberNames: [String] { ["name", "dtype"] }

    func member(_ m: String) throws(MLShError) -> Value? {
        switch m {
        case "name": return .string(name)
        case "dtype": return .string(column.dtype.rawValue)
        default: return nil
        }
    }

    func element(_ key: Value) throws(MLShError) -> Value? {
        guard case .int(let i) = key else {
            throw MLShError.type("a column is indexed by an int, got \(key.typeName)")
        }
        let n = Int64(column.count)
        let j = i < 0 ? i + n : i
        guard j >= 0, j < n else { throw MLShError.value("index \(i) out of range for a column of \(n) values") }
        return column.language(at: Int(j))
    }

    func iterate() -> [Value]? { (0..<column.count).map { column.language(at: $0) } }

    /// Arithmetic and comparisons with a column or a scalar, element-wise.
    func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value? {
        try ColumnMath.binary(op, side == .left ? [.object(self), other] : [other, .object(self)])
    }

    func unary(_ op: UnaryOp) throws(MLShError) -> Value? { try ColumnMath.apply(op.opName, [.object(self)]) }

    /// Element-wise functions and reductions (`sqrt(c)`, `mean(c)`).
    func apply(_ function: String, _ arguments: [Value]) throws(MLShError) -> Value? {
        try ColumnMath.apply(function, arguments)
    }

    func isEqual(to other: any DomainObject) -> Bool {
        guard let o = other as? ColumnValue, o.column.count == column.count, o.column.dtype == column.dtype else { return false }
        for i in 0..<column.count where column.value(at: i) != o.column.value(at: i) {
            if case .float(let a) = column.value(at: i), case .float(let b) = o.column.value(at: i), a.isNaN, b.isNaN { continue }
            return false
        }
        return true
    }
}

/// A table with a grouping, made by `group` and consumed by `agg` and `derive`.
final class GroupedValue: DomainObject {
    let table: Table
    let keyNames: [String]
    let grouping: Grouping
    let keys: Table

    init(_ table: Table, keyNames: [String], grouping: Grouping, keys: Table) {
        self.table = table; self.keyNames = keyNames; self.grouping = grouping; self.keys = keys
    }

    var typeName: String { "grouped table" }
    var summary: String { "<\(table.label ?? "table") grouped by \(keyNames.joined(separator: ", ")): \(grouping.count) groups>" }
    func render() -> String {
        summary + "\n" + TableFormatter().render(keys, name: nil)
    }
    var memberNames: [String] { table.names }
    var length: Int? { grouping.count }
}

extension Column {
    /// Value `i` as a language value: a missing float is `nan`, other missing values `none`.
    func language(at i: Int) -> Value {
        let v = value(at: i)
        if case .missing = v, dtype == .float { return .float(.nan) }
        return v.language
    }
}

extension Scalar {
    /// The scalar as a language value (a missing int, bool or string is `none`).
    var language: Value {
        switch self {
        case .float(let d): return .float(d)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .missing: return .none
        }
    }
}

extension Value {
    /// The value as an engine scalar, or nil when it is not a scalar.
    var scalar: Scalar? {
        switch self {
        case .float(let d): return .float(d)
        case .int(let i): return .int(i)
        case .bool(let b): return .bool(b)
        case .string(let s): return .string(s)
        case .none: return .missing
        default: return nil
        }
    }
}
