import Foundation

/// An alert on a served model: its condition (the text, and its tree as JSON for servers
/// to evaluate), how long it must hold before firing, and where transitions are posted.
public struct AlertRuleRecord: Sendable, Equatable {
    public var model: String
    public var name: String
    public var condition: String
    public var tree: String
    public var hold: Double
    public var notify: String?
    public init(model: String, name: String, condition: String, tree: String, hold: Double, notify: String?) {
        self.model = model; self.name = name; self.condition = condition; self.tree = tree; self.hold = hold; self.notify = notify
    }
}

/// An alert firing or resolving: which, when, the condition's value then, and the server.
public struct AlertEventRecord: Sendable, Equatable {
    public var model: String
    public var name: String
    /// `firing` or `resolved`.
    public var status: String
    public var value: Double?
    public var at: Double
    public var deployment: Int64?
    public init(model: String, name: String, status: String, value: Double?, at: Double, deployment: Int64?) {
        self.model = model; self.name = name; self.status = status; self.value = value; self.at = at; self.deployment = deployment
    }
}

extension Store {
    /// Writes an alert rule, replacing the one of that model and name.
    public func putAlertRule(_ r: AlertRuleRecord) throws(StoreError) {
        try StoreName.validate(r.model, "model")
        try StoreName.validate(r.name, "alert")
        try Store.guarded("writing alert \(r.name)") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO alert_rules (model, name, condition, tree, hold, notify, created) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (model, name) DO UPDATE SET condition = excluded.condition, tree = excluded.tree, hold = excluded.hold,
                      notify = excluded.notify, created = excluded.created
                    """, arguments: [r.model, r.name, r.condition, r.tree, r.hold, r.notify, Date().timeIntervalSince1970])
            }
        }
    }

    /// The alert rules (of one model name, when given), by model then name.
    public func alertRules(model: String? = nil) throws(StoreError) -> [AlertRuleRecord] {
        try Store.guarded("reading alert rules") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM alert_rules WHERE CAST(?1 AS TEXT) IS NULL OR model = ?1 ORDER BY model, name",
                                 arguments: [model]).map { r in
                    AlertRuleRecord(model: r["model"], name: r["name"], condition: r["condition"], tree: r["tree"],
                                    hold: r["hold"], notify: r["notify"])
                }
            }
        }
    }

    /// Records an alert firing or resolving.
    public func recordAlertEvent(_ e: AlertEventRecord) throws(StoreError) {
        try Store.guarded("recording an alert") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO alert_events (model, name, status, value, at, deployment) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [e.model, e.name, e.status, e.value, e.at, e.deployment])
            }
        }
    }

    /// Every alert transition, oldest first.
    public func alertEvents() throws(StoreError) -> [AlertEventRecord] {
        try Store.guarded("reading alerts") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM alert_events ORDER BY id").map { r in
                    AlertEventRecord(model: r["model"], name: r["name"], status: r["status"], value: r["value"], at: r["at"],
                                     deployment: r["deployment"])
                }
            }
        }
    }
}
