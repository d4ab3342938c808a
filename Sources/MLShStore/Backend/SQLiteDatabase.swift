import Foundation
import GRDB
import GRDBSQLite

/// A store's SQLite database (`store.sqlite` in WAL mode): GRDB's pool of one writer and
/// several readers; rows are read straight from SQLite's statements.
struct SQLiteDatabase: StoreDatabase {
    let pool: DatabasePool

    func read<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try pool.read { db in try body(SQLiteConnection(db)) }
    }

    /// GRDB's pool writes in `BEGIN IMMEDIATE` transactions.
    func write<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try pool.write { db in try body(SQLiteConnection(db)) }
    }
}

/// GRDB's connection as `StoreSQL`.
final class SQLiteConnection: StoreSQL {
    let db: Database

    init(_ db: Database) { self.db = db }

    var dialect: StoreDialect { .sqlite }

    func execute(sql: String, arguments: StoreArguments) throws {
        if arguments.values.isEmpty {
            try db.execute(sql: sql)
        } else {
            try db.execute(sql: sql, arguments: Self.grdb(arguments))
        }
    }

    func fetchAll(sql: String, arguments: StoreArguments) throws -> [StoreRow] {
        var rows: [StoreRow] = []
        try forEach(sql: sql, arguments: arguments) { rows.append($0) }
        return rows
    }

    func forEach(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws {
        let statement = try db.cachedStatement(sql: sql)
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        defer { sqlite3_reset(s) }
        try Self.bind(s, arguments, db)
        let count = sqlite3_column_count(s)
        let columns = StoreColumns((0..<count).map { String(cString: sqlite3_column_name(s, $0)) })
        var row = StoreRow(columns: columns, values: [])
        row.values.reserveCapacity(Int(count))
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw Self.failure(db, rc) }
            row.values.removeAll(keepingCapacity: true)
            for i in 0..<count { row.values.append(Self.column(s, i)) }
            try body(row)
        }
    }

    func statement(sql: String) throws -> any StoreStatement {
        SQLiteStatement(statement: try db.cachedStatement(sql: sql), db: db)
    }

    var lastInsertedRowID: Int64 { db.lastInsertedRowID }
    var changesCount: Int { db.changesCount }

    /// Binds `arguments` to `s`'s placeholders in order.
    static func bind(_ s: OpaquePointer, _ arguments: StoreArguments, _ db: Database) throws {
        let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)
        for (k, v) in arguments.values.enumerated() {
            let i = Int32(k + 1)
            let rc: Int32
            switch v {
            case .null: rc = sqlite3_bind_null(s, i)
            case .int(let x): rc = sqlite3_bind_int64(s, i, x)
            case .double(let x): rc = sqlite3_bind_double(s, i, x)
            case .text(let x): rc = sqlite3_bind_text(s, i, x, -1, transient)
            case .bytes(let x): rc = x.withUnsafeBytes { sqlite3_bind_blob(s, i, $0.baseAddress, Int32($0.count), transient) }
            }
            guard rc == SQLITE_OK else { throw failure(db, rc) }
        }
    }

    /// Column `i` of the current row of `s`.
    static func column(_ s: OpaquePointer, _ i: Int32) -> SQLValue {
        switch sqlite3_column_type(s, i) {
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(s, i))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(s, i))
        case SQLITE_TEXT:
            guard let p = sqlite3_column_text(s, i) else { return .text("") }
            let n = Int(sqlite3_column_bytes(s, i))
            return .text(String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self))
        case SQLITE_BLOB:
            let n = Int(sqlite3_column_bytes(s, i))
            guard n > 0, let p = sqlite3_column_blob(s, i) else { return .bytes([]) }
            return .bytes(Array(UnsafeRawBufferPointer(start: p, count: n)))
        default: return .null
        }
    }

    /// The error of a raw SQLite call that returned `rc`, with the connection's message.
    static func failure(_ db: Database, _ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// `arguments` as GRDB's.
    static func grdb(_ arguments: StoreArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { v -> DatabaseValue in
            switch v {
            case .null: .null
            case .int(let x): x.databaseValue
            case .double(let x): x.databaseValue
            case .text(let x): x.databaseValue
            case .bytes(let x): Data(x).databaseValue
            }
        })
    }
}

/// A cached SQLite statement run with different arguments.
struct SQLiteStatement: StoreStatement {
    let statement: Statement
    let db: Database

    func execute(arguments: StoreArguments) throws {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        sqlite3_clear_bindings(s)
        try SQLiteConnection.bind(s, arguments, db)
        let rc = sqlite3_step(s)
        sqlite3_reset(s)
        guard rc == SQLITE_DONE || rc == SQLITE_ROW else { throw SQLiteConnection.failure(db, rc) }
    }
}
