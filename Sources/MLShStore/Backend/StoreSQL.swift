import Foundation

/// A value bound to a store statement or read from a result row.
public enum SQLValue: Sendable, Equatable {
    case null, int(Int64), double(Double), text(String), bytes([UInt8])
}

/// The database behind a store: transactions of statements over one connection at a time.
/// SQLite (a folder's `store.sqlite`) and PostgreSQL implement it; the store's queries are
/// written once, with `?` placeholders, against `StoreSQL`.
protocol StoreDatabase: Sendable {
    /// Runs `body` on a connection that sees one consistent state of the store.
    func read<T>(_ body: (any StoreSQL) throws -> T) throws -> T
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    /// Writers take turns from their transaction's first statement (SQLite's `BEGIN
    /// IMMEDIATE`), so what a writer reads stays current until it commits: numbering
    /// versions and claiming work need nothing more.
    func write<T>(_ body: (any StoreSQL) throws -> T) throws -> T
}

/// The SQL a backend speaks, where the store's queries must differ.
enum StoreDialect {
    case sqlite, postgres

    /// A join of `left` to `right` that SQLite must run in that order (its `CROSS JOIN`
    /// with `ON`); PostgreSQL's planner chooses the order of an inner join itself.
    func orderedJoin(_ left: String, _ right: String, on condition: String) -> String {
        switch self {
        case .sqlite: "\(left) CROSS JOIN \(right) ON \(condition)"
        case .postgres: "\(left) JOIN \(right) ON \(condition)"
        }
    }
}

/// One connection's statements inside `StoreDatabase.read` or `write`.
protocol StoreSQL: AnyObject {
    /// The SQL this connection speaks.
    var dialect: StoreDialect { get }
    /// Runs a statement (or several, separated by `;`, without arguments).
    func execute(sql: String, arguments: StoreArguments) throws
    /// Runs a query and returns every row.
    func fetchAll(sql: String, arguments: StoreArguments) throws -> [StoreRow]
    /// Runs a query and calls `body` with each row as it is read (a row is valid only
    /// during the call).
    func forEach(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws
    /// A statement to run many times with different arguments (prepared once).
    func statement(sql: String) throws -> any StoreStatement
    /// The id the last `INSERT` into a table with an `id` key gave its row.
    var lastInsertedRowID: Int64 { get throws }
    /// The rows the last `INSERT`, `UPDATE` or `DELETE` changed.
    var changesCount: Int { get }
}

/// A statement prepared once and run with different arguments.
protocol StoreStatement {
    /// Runs the statement with `arguments`.
    func execute(arguments: StoreArguments) throws
}

extension StoreSQL {
    /// Runs a statement without arguments.
    func execute(sql: String) throws { try execute(sql: sql, arguments: []) }

    /// Every row of a query without arguments.
    func fetchAll(sql: String) throws -> [StoreRow] { try fetchAll(sql: sql, arguments: []) }

    /// The first row of a query, nil when it has none.
    func fetchOne(sql: String, arguments: StoreArguments = []) throws -> StoreRow? {
        try fetchAll(sql: sql, arguments: arguments).first
    }

    /// The first column of the first row, nil when there is no row or it holds NULL.
    func fetchOne<T: StoreValueDecodable>(_: T.Type, sql: String, arguments: StoreArguments = []) throws -> T? {
        guard let row = try fetchOne(sql: sql, arguments: arguments) else { return nil }
        return T(sqlValue: row.value(at: 0))
    }

    /// The first column of every row (rows where it is NULL left out).
    func fetchAll<T: StoreValueDecodable>(_: T.Type, sql: String, arguments: StoreArguments = []) throws -> [T] {
        var out: [T] = []
        try forEach(sql: sql, arguments: arguments) { row in
            if let v = T(sqlValue: row.value(at: 0)) { out.append(v) }
        }
        return out
    }
}

/// The names of a result's columns, shared by its rows.
final class StoreColumns: Sendable {
    let names: [String]
    let index: [String: Int]

    init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (i, n) in names.enumerated() where index[n] == nil { index[n] = i }
        self.index = index
    }
}

/// One result row: values by column name or position, decoded to the type asked for.
/// A column that is NULL or missing reads as nil through an optional type, and as the
/// type's zero (`0`, `""`, `false`) through a non-optional one.
struct StoreRow {
    let columns: StoreColumns
    var values: [SQLValue]

    /// The value at `i` (NULL past the end).
    func value(at i: Int) -> SQLValue { i >= 0 && i < values.count ? values[i] : .null }

    /// The value of column `name` (NULL when there is no such column).
    func value(named name: String) -> SQLValue { columns.index[name].map { value(at: $0) } ?? .null }

    /// Column `i` as an integer (0 for NULL).
    func int(_ i: Int) -> Int64 { Int64(sqlValue: value(at: i)) ?? 0 }
    /// Column `i` as a double, nil for NULL.
    func double(_ i: Int) -> Double? { Double(sqlValue: value(at: i)) }
    /// Column `i` as text, nil for NULL.
    func text(_ i: Int) -> String? { String(sqlValue: value(at: i)) }
    /// Whether column `i` is NULL.
    func isNull(_ i: Int) -> Bool { value(at: i) == .null }

    subscript<T: StoreValueDecodable>(_ name: String) -> T? { T(sqlValue: value(named: name)) }
    subscript<T: StoreValueDecodable>(_ name: String) -> T { T(sqlValue: value(named: name)) ?? T.zero }
    subscript<T: StoreValueDecodable>(_ i: Int) -> T? { T(sqlValue: value(at: i)) }
    subscript<T: StoreValueDecodable>(_ i: Int) -> T { T(sqlValue: value(at: i)) ?? T.zero }
}

/// A type a result column decodes to.
protocol StoreValueDecodable {
    /// The value, nil for NULL or a value of another kind.
    init?(sqlValue: SQLValue)
    /// What a non-optional read of NULL gives.
    static var zero: Self { get }
}

extension Int64: StoreValueDecodable {
    init?(sqlValue v: SQLValue) {
        switch v {
        case .int(let i): self = i
        case .double(let d): guard let i = Int64(exactly: d) else { return nil }; self = i
        case .text(let s): guard let i = Int64(s) else { return nil }; self = i
        default: return nil
        }
    }
    static var zero: Int64 { 0 }
}

extension Int: StoreValueDecodable {
    init?(sqlValue v: SQLValue) {
        guard let i = Int64(sqlValue: v) else { return nil }
        self = Int(i)
    }
    static var zero: Int { 0 }
}

extension Double: StoreValueDecodable {
    init?(sqlValue v: SQLValue) {
        switch v {
        case .double(let d): self = d
        case .int(let i): self = Double(i)
        case .text(let s): guard let d = Double(s) else { return nil }; self = d
        default: return nil
        }
    }
    static var zero: Double { 0 }
}

extension Bool: StoreValueDecodable {
    init?(sqlValue v: SQLValue) {
        switch v {
        case .int(let i): self = i != 0
        case .double(let d): self = d != 0
        default: return nil
        }
    }
    static var zero: Bool { false }
}

extension String: StoreValueDecodable {
    init?(sqlValue v: SQLValue) {
        switch v {
        case .text(let s): self = s
        case .int(let i): self = String(i)
        case .double(let d): self = String(d)
        case .bytes(let b): self = String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }
    static var zero: String { "" }
}

extension Array: StoreValueDecodable where Element == UInt8 {
    init?(sqlValue v: SQLValue) {
        switch v {
        case .bytes(let b): self = b
        case .text(let s): self = Array(s.utf8)
        default: return nil
        }
    }
    static var zero: [UInt8] { [] }
}

/// A Swift value a statement binds.
protocol StoreBindable {
    /// The value as bound.
    var sqlValue: SQLValue { get }
}

extension Int64: StoreBindable { var sqlValue: SQLValue { .int(self) } }
extension Int: StoreBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Int32: StoreBindable { var sqlValue: SQLValue { .int(Int64(self)) } }
extension Double: StoreBindable { var sqlValue: SQLValue { .double(self) } }
extension Bool: StoreBindable { var sqlValue: SQLValue { .int(self ? 1 : 0) } }
extension String: StoreBindable { var sqlValue: SQLValue { .text(self) } }
extension Array: StoreBindable where Element == UInt8 { var sqlValue: SQLValue { .bytes(self) } }
extension SQLValue: StoreBindable { var sqlValue: SQLValue { self } }

/// The values bound to a statement's `?` placeholders, in order.
struct StoreArguments: ExpressibleByArrayLiteral {
    var values: [SQLValue]

    init(_ values: [SQLValue]) { self.values = values }
    init(_ values: [(any StoreBindable)?]) { self.values = values.map { $0?.sqlValue ?? .null } }
    init(arrayLiteral elements: (any StoreBindable)?...) { self.init(elements) }

    /// These arguments followed by `other`'s.
    static func + (lhs: StoreArguments, rhs: StoreArguments) -> StoreArguments { StoreArguments(lhs.values + rhs.values) }
}
