import Foundation
import GRDB
import GRDBSQLite

/// One served row: which version answered it, when, how fast, its inputs and its
/// prediction (both as JSON text, so any schema fits one table).
public struct RequestRecord: Sendable, Equatable {
    public var deployment: Int64
    public var name: String
    public var version: Int64
    public var at: Double
    public var latencyMs: Double
    /// A JSON object of the row's input columns.
    public var inputs: String
    /// The prediction as a JSON value (number, string or null).
    public var prediction: String
    /// Scored by a shadow model: logged, never sent to the client.
    public var shadow: Bool
    /// The row's number in its deployment (its id is `deployment-rid`); nil in logs older than ids.
    public var rid: Int64?
    /// The label fed back for it (JSON), when read with `labeled`.
    public var label: String?

    public init(deployment: Int64, name: String, version: Int64, at: Double, latencyMs: Double,
                inputs: String, prediction: String, shadow: Bool = false, rid: Int64? = nil, label: String? = nil) {
        self.deployment = deployment; self.name = name; self.version = version; self.at = at
        self.latencyMs = latencyMs; self.inputs = inputs; self.prediction = prediction; self.shadow = shadow
        self.rid = rid; self.label = label
    }

    /// The row's request id, `deployment-rid` (what the server answered).
    public var id: String? { rid.map { "\(deployment)-\($0)" } }
}

/// Served rows on their way to the log: the fixed fields per row, and every row's inputs
/// and prediction JSON back to back in one buffer (a batch of thousands of rows is a few
/// arrays, not thousands of strings).
public struct RequestLogBatch: Sendable {
    public struct Row: Sendable {
        public var deployment: Int64
        public var name: String
        public var version: Int64
        public var at: Double
        public var latencyMs: Double
        public var shadow: Bool
        /// The inputs' JSON object and the prediction's JSON value in `text`.
        public var inputs: Range<Int>
        public var prediction: Range<Int>
        /// The row's number in its deployment.
        public var rid: Int64
        /// A binary classifier's probability of the positive class; NaN: none.
        public var score: Double

        public init(deployment: Int64, name: String, version: Int64, at: Double, latencyMs: Double, shadow: Bool,
                    inputs: Range<Int>, prediction: Range<Int>, rid: Int64 = 0, score: Double = .nan) {
            self.deployment = deployment; self.name = name; self.version = version; self.at = at
            self.latencyMs = latencyMs; self.shadow = shadow; self.inputs = inputs; self.prediction = prediction
            self.rid = rid; self.score = score
        }
    }
    public var rows: [Row]
    /// UTF-8 JSON texts the rows' ranges point into.
    public var text: [UInt8]

    public init(rows: [Row] = [], text: [UInt8] = []) { self.rows = rows; self.text = text }
}

/// SQLite's SQLITE_TRANSIENT (a C macro Swift does not import): copy the bound value.
private let sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// A logged row whose label was fed back: prediction and label (JSON texts), and a binary
/// classifier's probability of the positive class.
public struct LabeledRow: Sendable {
    public var prediction: String
    public var label: String
    public var score: Double?
    public init(prediction: String, label: String, score: Double? = nil) { self.prediction = prediction; self.label = label; self.score = score }
}

/// Which rows `requests(...)` reads.
public enum RequestFilter: Sendable {
    case deployment(Int64)
    case model(String)
}

extension Store {
    /// Records a server starting; its id tags every request it logs.
    public func startDeployment(url: String, models: [String]) throws(StoreError) -> Int64 {
        try Store.guarded("recording a deployment") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO deployments (url, models, started) VALUES (?, ?, ?)",
                               arguments: [url, models.joined(separator: ","), Date().timeIntervalSince1970])
                return try db.lastInsertedRowID
            }
        }
    }

    /// Records a server stopping.
    public func endDeployment(_ id: Int64) throws(StoreError) {
        try Store.guarded("recording a deployment's end") {
            try db.write { db in
                try db.execute(sql: "UPDATE deployments SET ended = ? WHERE id = ?", arguments: [Date().timeIntervalSince1970, id])
            }
        }
    }

    /// A deployment as the store records it: `ended` is nil while it is recorded as running
    /// (a server killed without stopping gracefully stays so).
    public struct DeploymentRecord: Sendable, Equatable {
        public var id: Int64
        public var url: String
        /// The served versions' labels (`diabetes@4`).
        public var models: [String]
        public var started: Double
        public var ended: Double?
    }

    /// The deployments recorded as running, newest first.
    public func runningDeployments() throws(StoreError) -> [DeploymentRecord] {
        try Store.guarded("reading the deployments") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT id, url, models, started, ended FROM deployments WHERE ended IS NULL ORDER BY id DESC")
                    .map { r in
                        let models: String = r["models"]
                        return DeploymentRecord(id: r["id"], url: r["url"], models: models.split(separator: ",").map(String.init),
                                                started: r["started"], ended: r["ended"])
                    }
            }
        }
    }

    /// Rows one SQLite INSERT statement takes (10 values each, well under its limit of
    /// bound values): the statement's own work is shared by them.
    static let rowsPerInsert = 16
    /// Rows one PostgreSQL `COPY` takes (a round trip per statement).
    static let requestsPerPostgresInsert = 2_000
    /// The INSERT statement for `n` request-log rows.
    static func insertRequestsSQL(rows n: Int) -> String {
        "INSERT INTO requests (deployment, name, version, at, latency_ms, inputs, prediction, shadow, rid, score) VALUES "
            + Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: n).joined(separator: ", ")
    }
    /// SQLite's INSERT statement for 1, 2, ... `rowsPerInsert` rows.
    static let insertRequests: [String] = (1...rowsPerInsert).map { insertRequestsSQL(rows: $0) }

    /// Appends served rows in one transaction: SQLite statements of up to `rowsPerInsert`
    /// rows, PostgreSQL `COPY`s of up to `requestsPerPostgresInsert`. The values are read
    /// straight from the batch (its JSON texts in place): the request
    /// log's writer runs beside the server, and per-row strings and argument arrays cost it
    /// more than SQLite's own work. `pause.action` runs between rows, every `pause.every`
    /// rows (the server's writer sleeps there, inside the one transaction).
    public func logRequests(_ batch: RequestLogBatch, pause: (every: Int, action: () -> Void)? = nil) throws(StoreError) {
        guard !batch.rows.isEmpty else { return }
        try Store.guarded("logging requests") {
            try db.write { db in
                for row in batch.rows {
                    guard row.inputs.lowerBound >= 0, row.inputs.upperBound <= batch.text.count,
                          row.prediction.lowerBound >= 0, row.prediction.upperBound <= batch.text.count,
                          row.inputs.count <= Int(Int32.max), row.prediction.count <= Int(Int32.max) else {
                        throw StoreError("a request log row points outside its batch's text")
                    }
                }
                let every = pause.map { $0.every > 0 ? $0.every : Int.max } ?? Int.max
                func pauseBefore(_ row: Int) { if let pause, row > 0, row % every == 0 { pause.action() } }
                var first = 0
                while first < batch.rows.count {
                    if let lite = db as? SQLiteConnection {
                        // A statement's rows never span a pause (SQLite works as it steps).
                        pauseBefore(first)
                        let end = min(batch.rows.count, first + Store.rowsPerInsert, (first / every + 1).multipliedReportingOverflow(by: every).partialValue)
                        try Store.insertRequests(batch.rows[first..<end], text: batch.text, into: lite.db)
                        first = end
                    } else if let pg = db as? PostgresStoreSQL {
                        // The writer's work is encoding the rows: the pauses fall between rows
                        // of one `COPY`, and the server does the rest in one go.
                        let end = min(batch.rows.count, first + Store.requestsPerPostgresInsert)
                        try pg.insertRequests(batch.rows[first..<end], text: batch.text, before: pauseBefore)
                        first = end
                    } else {
                        throw StoreError("the request log has no writer for this store's database")
                    }
                }
            }
        }
    }

    /// Inserts `rows` (at most `rowsPerInsert`) with one of SQLite's statements, their JSON
    /// texts bound in place from `text`.
    static func insertRequests(_ rows: ArraySlice<RequestLogBatch.Row>, text batchText: [UInt8], into db: Database) throws {
        try batchText.withUnsafeBufferPointer { text in
            guard let base = text.baseAddress else { throw StoreError("a request log batch has rows but no text") }
            let statement = try db.cachedStatement(sql: Store.insertRequests[rows.count - 1])
            let s = statement.sqliteStatement
            // The texts are bound in place (no destructor: SQLite reads them during the
            // step), so the statement lets go of them before this function returns.
            defer { sqlite3_reset(s); sqlite3_clear_bindings(s) }
            sqlite3_reset(s)
            for (k, row) in rows.enumerated() {
                let at = Int32(k * 10)
                let rn = row.name.withCString { sqlite3_bind_text(s, at + 2, $0, Int32(clamping: row.name.utf8.count), sqliteTransient) }
                sqlite3_bind_int64(s, at + 1, row.deployment)
                sqlite3_bind_int64(s, at + 3, row.version)
                sqlite3_bind_double(s, at + 4, row.at)
                sqlite3_bind_double(s, at + 5, row.latencyMs)
                let ri = sqlite3_bind_text(s, at + 6, base + row.inputs.lowerBound, Int32(row.inputs.count), nil)
                let rp = sqlite3_bind_text(s, at + 7, base + row.prediction.lowerBound, Int32(row.prediction.count), nil)
                sqlite3_bind_int64(s, at + 8, row.shadow ? 1 : 0)
                sqlite3_bind_int64(s, at + 9, row.rid)
                if row.score.isNaN { sqlite3_bind_null(s, at + 10) } else { sqlite3_bind_double(s, at + 10, row.score) }
                guard rn == SQLITE_OK, ri == SQLITE_OK, rp == SQLITE_OK else {
                    throw SQLiteConnection.failure(db, rn != SQLITE_OK ? rn : ri != SQLITE_OK ? ri : rp)
                }
            }
            let rc = sqlite3_step(s)
            guard rc == SQLITE_DONE else { throw SQLiteConnection.failure(db, rc) }
        }
    }

    /// Logged rows of one deployment or of every deployment of a model name, oldest first;
    /// the rows shadow models scored when `shadow`, else the answered ones; with `labeled`,
    /// only the rows a label was fed back for, with it; `since` and `until` (Unix times)
    /// keep the rows answered at or after `since` and before `until`.
    public func requests(_ filter: RequestFilter, shadow: Bool = false, labeled: Bool = false,
                         since: Double? = nil, until: Double? = nil) throws(StoreError) -> [RequestRecord] {
        let (condition, argument): (String, any StoreBindable) = switch filter {
        case .deployment(let id): ("r.deployment = ?", id)
        case .model(let name): ("r.name = ?", name)
        }
        return try Store.guarded("reading requests") {
            try db.read { db in
                // Labeled rows are read from the labels (few) into the log (many), in that
                // order: SQLite would otherwise walk every logged row to probe for a label.
                let from = labeled ? db.dialect.orderedJoin("labels l", "requests r", on: "l.deployment = r.deployment AND l.rid = r.rid")
                                   : "requests r LEFT JOIN labels l ON FALSE"
                return try db.fetchAll(sql: """
                    SELECT r.deployment, r.name, r.version, r.at, r.latency_ms, r.inputs, r.prediction, r.shadow, r.rid, l.label
                    FROM \(from)
                    WHERE \(condition) AND r.shadow = ? AND r.at >= ? AND r.at < ? ORDER BY r.rowid
                    """, arguments: [argument, shadow, since ?? -Double.infinity, until ?? Double.infinity]).map { row in
                    RequestRecord(deployment: row[0], name: row[1], version: row[2], at: row[3], latencyMs: row[4],
                                  inputs: row[5], prediction: row[6], shadow: row[7], rid: row[8], label: row[9])
                }
            }
        }
    }

    /// The latest `limit` rows version `version` of `name` answered for a deployment that
    /// have a label: prediction and label (JSON texts), newest first.
    public func labeledRows(deployment: Int64, name: String, version: Int64, limit: Int) throws(StoreError) -> [LabeledRow] {
        try Store.guarded("reading labeled requests") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT r.prediction, l.label, r.score FROM \(db.dialect.orderedJoin("labels l", "requests r", on: "r.deployment = l.deployment AND r.rid = l.rid AND r.shadow = 0"))
                    WHERE l.deployment = ? AND r.name = ? AND r.version = ? ORDER BY l.rid DESC LIMIT ?
                    """, arguments: [deployment, name, version, limit]).map { row in LabeledRow(prediction: row[0], label: row[1], score: row[2]) }
            }
        }
    }

    /// Stores labels fed back for request ids (`deployment`, `rid`), a label given again
    /// replacing the earlier one; one transaction.
    public func storeLabels(_ labels: [(deployment: Int64, rid: Int64, label: String)]) throws(StoreError) {
        guard !labels.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try Store.guarded("storing labels") {
            try db.write { db in
                let statement = try db.statement(sql: "INSERT INTO labels (deployment, rid, label, at) VALUES (?, ?, ?, ?) ON CONFLICT (deployment, rid) DO UPDATE SET label = excluded.label, at = excluded.at")
                for l in labels { try statement.execute(arguments: [l.deployment, l.rid, l.label, now]) }
            }
        }
    }

    /// Which of these request ids (`deployment`, `rid`) a deployment recorded in the store
    /// has answered: logged, or numbered up to what `issued` says it has given out.
    public func knownRequests(_ ids: [(deployment: Int64, rid: Int64)], issued: [Int64: Int64] = [:]) throws(StoreError) -> [Bool] {
        try Store.guarded("reading requests") {
            try db.read { db in
                return try ids.map { id in
                    if let top = issued[id.deployment] { return id.rid >= 1 && id.rid <= top }
                    return try db.fetchOne(Int.self, sql: "SELECT 1 FROM requests WHERE deployment = ? AND rid = ? LIMIT 1",
                                           arguments: [id.deployment, id.rid]) != nil
                }
            }
        }
    }
}
