import Foundation

/// How a model is retrained: the training script, what starts an attempt (an alert of the
/// model firing, a schedule, or both), the gate a challenger must pass (its text, and its
/// tree as JSON), the canary share and the labeled answers it needs, and the alias a
/// winner takes.
public struct RetrainPolicyRecord: Sendable, Equatable {
    public var model: String
    /// The training script's absolute path.
    public var script: String
    /// The alert whose firing starts an attempt.
    public var onAlert: String?
    /// Seconds between scheduled attempts.
    public var every: Double?
    public var gate: String
    public var gateTree: String
    /// The share of traffic a challenger gets before promotion; 0 promotes at the gate.
    public var canary: Double
    /// Labeled answers of the challenger a canary waits for.
    public var after: Int
    public var promote: String

    public init(model: String, script: String, onAlert: String?, every: Double?, gate: String, gateTree: String,
                canary: Double, after: Int, promote: String) {
        self.model = model; self.script = script; self.onAlert = onAlert; self.every = every
        self.gate = gate; self.gateTree = gateTree; self.canary = canary; self.after = after; self.promote = promote
    }
}

/// One retraining attempt, from its trigger to its decision: `running` (the script),
/// then `failed`, `gated` (the challenger lost at the gate), `canary` (serving its share),
/// `promoted` or `rolled_back`. Figures are JSON objects of metric values.
public struct RetrainRecord: Sendable, Equatable {
    public var id: Int64 = 0
    public var model: String
    /// `alert drifting`, `every 86400s` or `now`.
    public var trigger: String
    public var script: String
    public var gate: String
    public var gateTree: String
    public var canary: Double
    public var after: Int
    public var promote: String
    public var run: Int64?
    public var champion: Int64?
    public var challenger: Int64?
    /// Labeled rows in the holdout both were evaluated on.
    public var holdout: Int?
    /// The training window the script was given (Unix times; `since` nil: from the start).
    public var since: Double?
    public var until: Double?
    public var challengerFigures: String?
    public var championFigures: String?
    /// Live figures of challenger and champion when the canary was decided.
    public var canaryFigures: String?
    public var decision = "running"
    public var error: String?
    public var started: Double
    public var canaryStarted: Double?
    public var ended: Double?

    public init(model: String, trigger: String, policy: RetrainPolicyRecord, started: Double) {
        self.model = model; self.trigger = trigger; script = policy.script; gate = policy.gate; gateTree = policy.gateTree
        canary = policy.canary; after = policy.after; promote = policy.promote; self.started = started
    }

    /// Whether the attempt still has a step to take.
    public var isActive: Bool { decision == "running" || decision == "canary" }

    init(row r: StoreRow) {
        id = r["id"]; model = r["model"]; trigger = r["trigger"]; script = r["script"]; gate = r["gate"]; gateTree = r["gate_tree"]
        canary = r["canary"]; after = r["after"]; promote = r["promote"]; run = r["run"]; champion = r["champion"]
        challenger = r["challenger"]; holdout = r["holdout"]; since = r["since"]; until = r["until"]
        challengerFigures = r["challenger_figures"]; championFigures = r["champion_figures"]; canaryFigures = r["canary_figures"]
        decision = r["decision"]; error = r["error"]; started = r["started"]; canaryStarted = r["canary_started"]; ended = r["ended"]
    }
}

extension Store {
    /// Seconds a canary may go undecided before the next attempt of its model rolls it back.
    public static let canaryDeadline = 86_400.0

    /// Writes a model's retraining policy, replacing its earlier one.
    public func putRetrainPolicy(_ p: RetrainPolicyRecord) throws(StoreError) {
        try StoreName.validate(p.model, "model")
        try Store.guarded("writing the retraining policy of \(p.model)") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO retrain_policies (model, script, on_alert, every, gate, gate_tree, canary, after, promote, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (model) DO UPDATE SET script = excluded.script, on_alert = excluded.on_alert, every = excluded.every,
                      gate = excluded.gate, gate_tree = excluded.gate_tree, canary = excluded.canary, after = excluded.after,
                      promote = excluded.promote, created = excluded.created
                    """, arguments: [p.model, p.script, p.onAlert, p.every, p.gate, p.gateTree, p.canary, p.after, p.promote,
                                     Date().timeIntervalSince1970])
            }
        }
    }

    /// The retraining policies (of one model, when named).
    public func retrainPolicies(model: String? = nil) throws(StoreError) -> [RetrainPolicyRecord] {
        try Store.guarded("reading retraining policies") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM retrain_policies WHERE CAST(?1 AS TEXT) IS NULL OR model = ?1 ORDER BY model",
                                 arguments: [model]).map { r in
                    RetrainPolicyRecord(model: r["model"], script: r["script"], onAlert: r["on_alert"], every: r["every"],
                                        gate: r["gate"], gateTree: r["gate_tree"], canary: r["canary"], after: r["after"],
                                        promote: r["promote"])
                }
            }
        }
    }

    /// Records a new attempt as `running` by this process, unless the model has one
    /// running or in canary already (its id is returned then, with `false`): one attempt
    /// per model at a time, however many servers see the trigger. A `running` attempt
    /// whose process is gone is marked failed first.
    public func beginRetrain(_ a: RetrainRecord) throws(StoreError) -> (id: Int64, started: Bool) {
        try StoreName.validate(a.model, "model")
        try reapRetrains()
        let pid = RunProcess.pid, identity = RunProcess.identity(pid)
        return try Store.guarded("starting a retraining attempt") {
            try db.write { db in
                // A canary no server decided in time (none serves the alias, no labels came) ends.
                try db.execute(sql: """
                    UPDATE retrains SET decision = 'rolled_back', ended = ?,
                      error = 'no decision within ' || ? || ' s of the canary starting (no server of the alias, or too few labels)'
                    WHERE model = ? AND decision = 'canary' AND canary_started < ?
                    """, arguments: [a.started, Int(Store.canaryDeadline), a.model, a.started - Store.canaryDeadline])
                if let active = try db.fetchOne(Int64.self, sql: "SELECT id FROM retrains WHERE model = ? AND decision IN ('running', 'canary')",
                                                   arguments: [a.model]) {
                    return (active, false)
                }
                try db.execute(sql: """
                    INSERT INTO retrains (model, trigger, script, gate, gate_tree, canary, after, promote, decision, started, host, pid, pid_start)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)
                    """, arguments: [a.model, a.trigger, a.script, a.gate, a.gateTree, a.canary, a.after, a.promote, a.started,
                                     RunProcess.host, pid, identity])
                return (try db.lastInsertedRowID, true)
            }
        }
    }

    /// Hands a running attempt to the process that runs it (a server starts `mlsh retrain
    /// --attempt ID`), so a crash of that process is seen.
    public func claimRetrain(_ id: Int64) throws(StoreError) {
        let pid = RunProcess.pid, identity = RunProcess.identity(pid)
        try Store.guarded("claiming retraining attempt \(id)") {
            try db.write { db in
                try db.execute(sql: "UPDATE retrains SET host = ?, pid = ?, pid_start = ? WHERE id = ? AND decision = 'running'",
                               arguments: [RunProcess.host, pid, identity, id])
            }
        }
    }

    /// Saves an attempt's figures and decision, if it is still in one of `from` (another
    /// server may have decided it already); returns whether it was saved.
    @discardableResult
    public func updateRetrain(_ a: RetrainRecord, from: [String]) throws(StoreError) -> Bool {
        try Store.guarded("recording retraining attempt \(a.id)") {
            try db.write { db in try Store.saveRetrain(a, from: from, db) }
        }
    }

    static func saveRetrain(_ a: RetrainRecord, from: [String], _ db: any StoreSQL) throws -> Bool {
        let marks = from.map { _ in "?" }.joined(separator: ", ")
        try db.execute(sql: """
            UPDATE retrains SET run = ?, champion = ?, challenger = ?, holdout = ?, since = ?, until = ?,
              challenger_figures = ?, champion_figures = ?, canary_figures = ?, decision = ?, error = ?,
              canary_started = ?, ended = ?
            WHERE id = ? AND decision IN (\(marks))
            """, arguments: StoreArguments([a.run, a.champion, a.challenger, a.holdout, a.since, a.until,
                                                a.challengerFigures, a.championFigures, a.canaryFigures, a.decision,
                                                a.error, a.canaryStarted, a.ended, a.id] as [(any StoreBindable)?])
                           + StoreArguments(from))
        return db.changesCount > 0
    }

    /// Promotes a challenger (at the gate, or from its canary): the attempt is saved as
    /// promoted and the alias moves to the challenger in one transaction, unless another
    /// server decided the attempt first.
    public func promoteRetrain(_ a: RetrainRecord) throws(StoreError) -> Bool {
        guard let challenger = a.challenger else { throw StoreError("attempt \(a.id) has no challenger to promote") }
        try StoreName.validate(a.promote, "alias")
        var promoted = a
        promoted.decision = "promoted"
        promoted.error = nil
        promoted.ended = a.ended ?? Date().timeIntervalSince1970
        return try Store.guarded("promoting \(a.model)@\(challenger)") {
            try db.write { db in
                // An alias moved by hand since the attempt began is the user's word: no promotion.
                if let champion = a.champion,
                   let now = try db.fetchOne(Int64.self, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [a.model, a.promote]),
                   now != champion {
                    var moved = a
                    moved.decision = "rolled_back"
                    moved.error = "\(a.promote) was moved to \(a.model)@\(now) while the attempt ran; the challenger was not promoted"
                    moved.ended = promoted.ended
                    _ = try Store.saveRetrain(moved, from: ["running", "canary"], db)
                    return false
                }
                guard try Store.saveRetrain(promoted, from: ["running", "canary"], db) else { return false }
                try Store.pointAlias(db, name: a.model, alias: a.promote, version: challenger, by: "retrain \(a.id)")
                return true
            }
        }
    }

    /// One attempt.
    public func retrain(_ id: Int64) throws(StoreError) -> RetrainRecord {
        let r: RetrainRecord? = try Store.guarded("reading retraining attempt \(id)") {
            try db.read { db in try db.fetchOne(sql: "SELECT * FROM retrains WHERE id = ?", arguments: [id]).map(RetrainRecord.init(row:)) }
        }
        guard let r else { throw StoreError("there is no retraining attempt \(id)") }
        return r
    }

    /// The attempt whose training run this is, if one is.
    public func retrain(run: Int64) throws(StoreError) -> RetrainRecord? {
        try Store.guarded("reading the retraining attempt of run \(run)") {
            try db.read { db in try db.fetchOne(sql: "SELECT * FROM retrains WHERE run = ? ORDER BY id DESC", arguments: [run]).map(RetrainRecord.init(row:)) }
        }
    }

    /// The attempts (of one model, when named), oldest first.
    public func retrains(model: String? = nil) throws(StoreError) -> [RetrainRecord] {
        try? reapRetrains()
        return try Store.guarded("reading retraining attempts") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM retrains WHERE CAST(?1 AS TEXT) IS NULL OR model = ?1 ORDER BY id", arguments: [model])
                    .map(RetrainRecord.init(row:))
            }
        }
    }

    /// The attempts in canary among these models.
    public func canaries(models: [String]) throws(StoreError) -> [RetrainRecord] {
        guard !models.isEmpty else { return [] }
        return try Store.guarded("reading canaries") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM retrains WHERE decision = 'canary' AND model IN (\(models.map { _ in "?" }.joined(separator: ", "))) ORDER BY id",
                                 arguments: StoreArguments(models)).map(RetrainRecord.init(row:))
            }
        }
    }

    /// Marks failed the running attempts whose process, on this host, is gone.
    public func reapRetrains() throws(StoreError) {
        let host = RunProcess.host
        let gone = try goneProcesses("SELECT id, pid, pid_start FROM retrains WHERE decision = 'running' AND host = ? AND pid IS NOT NULL")
        guard !gone.isEmpty else { return }
        try Store.guarded("marking attempts failed") {
            try db.write { db in
                for (id, pid) in gone {
                    try db.execute(sql: "UPDATE retrains SET decision = 'failed', error = ?, ended = ? WHERE id = ? AND decision = 'running'",
                                   arguments: ["its process (pid \(pid) on \(host)) ended before deciding", Date().timeIntervalSince1970, id])
                }
            }
        }
    }

    /// Labeled rows a version answered (on any deployment) at or after `since`, newest
    /// first, at most `limit`: predictions and labels as JSON text.
    public func labeledRows(name: String, version: Int64, since: Double, limit: Int) throws(StoreError) -> [LabeledRow] {
        try Store.guarded("reading labeled requests") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT r.prediction, l.label, r.score FROM \(db.dialect.orderedJoin("labels l", "requests r", on: "r.deployment = l.deployment AND r.rid = l.rid AND r.shadow = 0"))
                    WHERE r.name = ? AND r.version = ? AND r.at >= ? ORDER BY r.at DESC LIMIT ?
                    """, arguments: [name, version, since, limit]).map { row in LabeledRow(prediction: row[0], label: row[1], score: row[2]) }
            }
        }
    }
}
