import Foundation
import NIOCore
import PostgresNIO

/// A store's PostgreSQL database: the store's queries (written for both backends, with `?`
/// placeholders) run on a `PostgresPool`'s connections. Reads see one snapshot
/// (`REPEATABLE READ`); writers take turns through a transaction-scoped advisory lock,
/// as SQLite's writers do through its write lock, so a writer's reads stay current
/// until it commits.
struct PostgresDatabase: StoreDatabase {
    let pool: PostgresPool

    /// The advisory lock every write transaction holds (any constant both sides agree on:
    /// "mlsh" in ASCII).
    static let writeLock: Int64 = 0x6D6C_7368

    func read<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", lock: false, body)
    }

    func write<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try transaction("BEGIN", lock: true, body)
    }

    /// A write transaction that does not take the writers' turn: for statements that lock
    /// the rows they change themselves (`FOR UPDATE SKIP LOCKED`).
    func withRowLocks<T>(_ body: (any StoreSQL) throws -> T) throws -> T {
        try transaction("BEGIN", lock: false, body)
    }

    /// Runs `body` between `begin` and `COMMIT` (`ROLLBACK` when it throws), after taking
    /// the writers' lock when `lock`. A pooled connection found lost at `BEGIN` (nothing ran
    /// yet; the server restarted while it was idle) is replaced once by a new one.
    private func transaction<T>(_ begin: String, lock: Bool, _ body: (any StoreSQL) throws -> T) throws -> T {
        for round in 0..<2 {
            let outcome = try pool.withConnection { session throws(StoreError) -> T? in
                do throws(StoreError) {
                    try session.execute(begin)
                } catch where error.unreachable && round == 0 {
                    return nil
                }
                do {
                    if lock { try session.execute("SELECT pg_advisory_xact_lock($1)", [.int(Self.writeLock)]) }
                    let result = try body(PostgresStoreSQL(session))
                    try session.execute("COMMIT")
                    return result
                } catch {
                    try? session.execute("ROLLBACK")
                    throw StoreError.wrapping(error)
                }
            }
            if let outcome { return outcome }
        }
        throw StoreError("the store at \(pool.url.redacted) did not begin a transaction")
    }
}

/// One PostgreSQL session as `StoreSQL`: `?` placeholders become `$1`, `$2`, …; values come
/// back as the store's (integers, doubles, text, bytes; booleans as 0 or 1).
final class PostgresStoreSQL: StoreSQL {
    let session: PostgresSession
    private(set) var changesCount = 0

    init(_ session: PostgresSession) { self.session = session }

    var dialect: StoreDialect { .postgres }

    func execute(sql: String, arguments: StoreArguments) throws {
        if arguments.values.isEmpty && sql.contains(";") {
            // Several statements: PostgreSQL's extended protocol takes one at a time.
            for statement in PostgresSchema.statements(sql) { try session.execute(statement) }
            return
        }
        _ = try run(sql, arguments)
    }

    func fetchAll(sql: String, arguments: StoreArguments) throws -> [StoreRow] {
        try run(sql, arguments)
    }

    /// A query's rows a batch at a time through a cursor (a read of a whole table, or of
    /// millions of logged points, is never held at once): the next batch is asked for
    /// before this one is read. Statements other than a `SELECT` run whole.
    func forEach(sql: String, arguments: StoreArguments, _ body: (StoreRow) throws -> Void) throws {
        guard sql.drop(while: \.isWhitespace).prefix(6).uppercased() == "SELECT" else {
            for row in try run(sql, arguments) { try body(row) }
            return
        }
        cursors += 1
        let cursor = "mlsh_rows_\(cursors)", fetch = "FETCH FORWARD \(Self.rowsPerFetch) FROM \(cursor)"
        let declared = session.send("DECLARE \(cursor) NO SCROLL CURSOR FOR \(Self.numbered(sql))", arguments.values)
        var next = session.send(fetch, [])
        _ = try session.answer(declared)
        while true {
            let rows = try session.answer(next).rows
            let more = rows.count == Self.rowsPerFetch
            if more { next = session.send(fetch, []) }
            for row in try Self.rows(rows) { try body(row) }
            guard more else { break }
        }
        // The cursor closes with the transaction.
    }

    /// Rows a cursor's `FETCH` asks for.
    static let rowsPerFetch = 10_000
    /// Cursors opened on this session so far (each is named by its number).
    private var cursors = 0

    func statement(sql: String) throws -> any StoreStatement { PostgresStoreStatement(sql: sql, connection: self) }

    var lastInsertedRowID: Int64 {
        get throws {
            guard let id = try fetchOne(Int64.self, sql: "SELECT lastval()") else {
                throw StoreError("the store's database gave no id for the row just inserted")
            }
            return id
        }
    }

    /// Appends metric points to a run with one prepared statement, their columns bound as
    /// arrays (in order); each metric's first key among them.
    func insertMetrics(run: Int64, _ points: ArraySlice<MetricPoint>) throws -> [(name: String, first: Int64)] {
        try session.execute(InsertMetricPoints(run: run, points: points)).map { (name: $0.0, first: $0.1) }
    }

    /// Runs `sql` with `arguments` and decodes its rows.
    func run(_ sql: String, _ arguments: StoreArguments) throws -> [StoreRow] {
        let (rows, changed) = try session.query(Self.numbered(sql), arguments.values)
        changesCount = changed ?? 0
        return try Self.rows(rows)
    }

    /// Result rows as the store's.
    static func rows(_ rows: [PostgresRow]) throws -> [StoreRow] {
        guard let first = rows.first else { return [] }
        let columns = StoreColumns(first.map(\.columnName))
        var out: [StoreRow] = []
        out.reserveCapacity(rows.count)
        for row in rows {
            var values: [SQLValue] = []
            values.reserveCapacity(columns.names.count)
            for cell in row { values.append(try Self.value(cell)) }
            out.append(StoreRow(columns: columns, values: values))
        }
        return out
    }

    /// `sql` with its `?` placeholders numbered `$1`, `$2`, … and its `?N` ones as `$N`
    /// (none inside quoted text or names).
    static func numbered(_ sql: String) -> String {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var n = 0
        var quote: Character?
        var chars = sql.makeIterator()
        var pending = chars.next()
        while let c = pending {
            pending = chars.next()
            if let q = quote {
                if c == q { quote = nil }
                out.append(c)
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "?" {
                if let d = pending, d.isASCII, d.isNumber {
                    out.append("$")
                    while let d = pending, d.isASCII, d.isNumber {
                        out.append(d)
                        pending = chars.next()
                    }
                } else {
                    n += 1
                    out += "$\(n)"
                }
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// A result cell as the store's value.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        // The common binary cells read straight from their bytes (listings read hundreds
        // of thousands of them); anything else through PostgresNIO's decoding.
        if cell.format == .binary {
            let at = bytes.readerIndex, n = bytes.readableBytes
            switch cell.dataType {
            case .int8 where n == 8: if let v = bytes.getInteger(at: at, as: Int64.self) { return .int(v) }
            case .int4 where n == 4: if let v = bytes.getInteger(at: at, as: Int32.self) { return .int(Int64(v)) }
            case .float8 where n == 8: if let v = bytes.getInteger(at: at, as: UInt64.self) { return .double(Double(bitPattern: v)) }
            case .text, .varchar: if let v = bytes.getString(at: at, length: n) { return .text(v) }
            default: break
            }
        }
        do {
            switch cell.dataType {
            case .int8, .int4, .int2: return .int(try cell.decode(Int64.self))
            case .float8, .float4: return .double(try cell.decode(Double.self))
            case .numeric:
                let text = try cell.decode(String.self)
                return Double(text).map(SQLValue.double) ?? .text(text)
            case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
            case .bytea:
                var buffer = try cell.decode(ByteBuffer.self)
                return .bytes(buffer.readBytes(length: buffer.readableBytes) ?? [])
            default: return .text(try cell.decode(String.self))
            }
        } catch {
            throw StoreError("cannot read column \(cell.columnName) (type \(cell.dataType)): \(PostgresPool.describe(error))")
        }
    }
}

/// A statement run many times on one PostgreSQL session (the server plans each run).
struct PostgresStoreStatement: StoreStatement {
    let sql: String
    let connection: PostgresStoreSQL

    func execute(arguments: StoreArguments) throws { try connection.execute(sql: sql, arguments: arguments) }
}
