import Foundation
import GRDB

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

    public init(deployment: Int64, name: String, version: Int64, at: Double, latencyMs: Double,
                inputs: String, prediction: String, shadow: Bool = false) {
        self.deployment = deployment; self.name = name; self.version = version; self.at = at
        self.latencyMs = latencyMs; self.inputs = inputs; self.prediction = prediction; self.shadow = shadow
    }
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
                return db.lastInsertedRowID
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

    /// Appends served rows in one transaction.
    public func logRequests(_ rows: [RequestRecord]) throws(StoreError) {
        guard !rows.isEmpty else { return }
        try Store.guarded("logging requests") {
            try db.write { db in
                let stmt = try db.cachedStatement(sql: """
                    INSERT INTO requests (deployment, name, version, at, latency_ms, inputs, prediction, shadow)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                for r in rows {
                    try stmt.execute(arguments: [r.deployment, r.name, r.version, r.at, r.latencyMs, r.inputs, r.prediction, r.shadow])
                }
            }
        }
    }

    /// Logged rows of one deployment or of every deployment of a model name, oldest first;
    /// the rows shadow models scored when `shadow`, else the answered ones.
    public func requests(_ filter: RequestFilter, shadow: Bool = false) throws(StoreError) -> [RequestRecord] {
        let (condition, argument): (String, DatabaseValueConvertible) = switch filter {
        case .deployment(let id): ("deployment = ?", id)
        case .model(let name): ("name = ?", name)
        }
        return try Store.guarded("reading requests") {
            try db.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT deployment, name, version, at, latency_ms, inputs, prediction, shadow FROM requests
                    WHERE \(condition) AND shadow = ? ORDER BY rowid
                    """, arguments: [argument, shadow]).map { row in
                    RequestRecord(deployment: row[0], name: row[1], version: row[2], at: row[3], latencyMs: row[4],
                                  inputs: row[5], prediction: row[6], shadow: row[7])
                }
            }
        }
    }
}
