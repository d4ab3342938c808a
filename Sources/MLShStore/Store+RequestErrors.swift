import Foundation

/// A request a server refused (`request_errors`): when, the HTTP status, the route asked
/// for, the version it was meant for (nil before one was chosen), the error's stable code
/// (`schema_mismatch`) and a short reason (its message, cut to `maxReason` characters).
public struct RequestErrorRecord: Sendable, Equatable {
    public var deployment: Int64
    public var at: Double
    public var status: Int
    public var route: String
    public var model: String?
    public var code: String
    public var reason: String

    /// Characters of the route and the reason kept: enough to tell what went wrong, never a
    /// whole body echoed back.
    public static let maxReason = 200

    public init(deployment: Int64, at: Double, status: Int, route: String, model: String?, code: String, reason: String) {
        self.deployment = deployment; self.at = at; self.status = status
        self.route = String(route.prefix(RequestErrorRecord.maxReason)); self.model = model
        self.code = String(code.prefix(64)); self.reason = String(reason.prefix(RequestErrorRecord.maxReason))
    }
}

extension Store {
    /// Appends refused requests in one transaction.
    public func logRequestErrors(_ rows: [RequestErrorRecord]) throws(StoreError) {
        guard !rows.isEmpty else { return }
        try Store.guarded("logging refused requests") {
            try db.write { db in
                let statement = try db.statement(sql: """
                    INSERT INTO request_errors (deployment, at, status, route, model, code, reason) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """)
                for r in rows {
                    try statement.execute(arguments: [r.deployment, r.at, r.status, r.route, r.model, r.code, r.reason])
                }
            }
        }
    }

    /// A deployment's refused requests, oldest first; with `latest`, only that many of the
    /// newest.
    public func requestErrors(deployment: Int64, latest: Int? = nil) throws(StoreError) -> [RequestErrorRecord] {
        try Store.guarded("reading refused requests") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT deployment, at, status, route, model, code, reason FROM request_errors
                    WHERE deployment = ? ORDER BY at DESC, rowid DESC LIMIT ?
                    """, arguments: [deployment, max(0, latest ?? Int.max)]).reversed().map { r in
                    RequestErrorRecord(deployment: r[0], at: r[1], status: r[2], route: r[3], model: r[4], code: r[5], reason: r[6])
                }
            }
        }
    }

    /// When each of a deployment's refused requests came, with its status (two columns
    /// only: a page of counts over time reads no text).
    public func requestErrorTimes(deployment: Int64) throws(StoreError) -> [(at: Double, status: Int)] {
        try Store.guarded("reading refused requests") {
            try db.read { db in
                var out: [(at: Double, status: Int)] = []
                try db.forEach(sql: "SELECT at, status FROM request_errors WHERE deployment = ?", arguments: [deployment]) { r in
                    out.append((r[0], r[1]))
                }
                return out
            }
        }
    }
}
