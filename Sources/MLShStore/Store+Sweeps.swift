import Foundation
import MLShCommon

/// A sweep: one script run once per point of a search space (or a tuning search's
/// candidates), each point a trial that any worker sharing the store may claim.
public struct SweepRecord: Sendable, Equatable {
    public var id: Int64
    /// `script`: a script run per trial; `tune`: `tune(..., workers=N)`'s candidates.
    public var kind: String
    /// The experiment its trials' runs belong to (a script sweep's).
    public var experiment: String?
    /// The table blob a tuning search evaluates on.
    public var data: String?
    /// The script's path as given when the sweep was made.
    public var script: String
    /// The script's text, as every trial runs it (workers need no copy of the file); a
    /// tuning search's problem as JSON.
    public var source: String
    public var sourceHash: String
    /// The params every trial gets besides its own.
    public var fixed: [(String, ParamValue)]
    /// How many times a trial whose worker stopped is queued again before it fails.
    public var retries: Int
    public var created: Double
    /// Who made it (`user@host`).
    public var by: String

    public init(id: Int64 = 0, kind: String = "script", experiment: String?, data: String? = nil, script: String, source: String,
                sourceHash: String, fixed: [(String, ParamValue)], retries: Int, created: Double, by: String) {
        self.id = id; self.kind = kind; self.experiment = experiment; self.data = data; self.script = script; self.source = source
        self.sourceHash = sourceHash; self.fixed = fixed; self.retries = retries; self.created = created; self.by = by
    }

    public static func == (a: SweepRecord, b: SweepRecord) -> Bool {
        a.id == b.id && a.kind == b.kind && a.experiment == b.experiment && a.data == b.data && a.script == b.script && a.source == b.source
            && a.sourceHash == b.sourceHash && a.fixed.elementsEqual(b.fixed, by: { $0.0 == $1.0 && $0.1 == $1.1 })
            && a.retries == b.retries && a.created == b.created && a.by == b.by
    }
}

/// One trial of a sweep: its params and where it stands.
public struct TrialRecord: Sendable, Equatable {
    public var id: Int64
    public var sweep: Int64
    /// 1, 2, … within its sweep.
    public var number: Int
    public var params: [(String, ParamValue)]
    /// `queued`, `running`, `finished` or `failed`.
    public var status: String
    /// How many times a worker claimed it.
    public var attempts: Int
    /// The worker running (or that last ran) it: `host pid`.
    public var worker: String?
    public var heartbeat: Double?
    public var started: Double?
    public var ended: Double?
    /// The run of its latest attempt.
    public var run: Int64?
    /// What a tuning candidate's attempt computed (JSON).
    public var result: String?
    public var error: String?

    public static func == (a: TrialRecord, b: TrialRecord) -> Bool {
        a.id == b.id && a.sweep == b.sweep && a.number == b.number
            && a.params.elementsEqual(b.params, by: { $0.0 == $1.0 && $0.1 == $1.1 }) && a.status == b.status
            && a.attempts == b.attempts && a.worker == b.worker && a.heartbeat == b.heartbeat && a.started == b.started
            && a.ended == b.ended && a.run == b.run && a.result == b.result && a.error == b.error
    }
}

/// A trial a worker has claimed: which attempt it is (a later claim of the same trial by
/// another worker makes this one's results void).
public struct ClaimedTrial: Sendable {
    public var trial: TrialRecord
    public var sweep: SweepRecord
    public var attempt: Int
    public var worker: String
}

extension Store {
    /// This process as a sweep worker: `host pid`.
    public static var workerName: String { "\(RunProcess.host) \(RunProcess.pid)" }

    /// Records a sweep and queues one trial per entry of `trials`; returns the sweep's id.
    public func createSweep(_ s: SweepRecord, trials: [[(String, ParamValue)]]) throws(StoreError) -> Int64 {
        guard !trials.isEmpty else { throw StoreError("a sweep needs at least one trial") }
        let experiment = try s.experiment.map { e throws(StoreError) in try self.experiment(e) }
        return try Store.guarded("recording a sweep") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO sweeps (kind, experiment, data, script, source, source_hash, fixed, retries, created, "by")
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.kind, experiment, s.data, s.script, s.source, s.sourceHash, Store.paramsText(s.fixed),
                                     s.retries, s.created, s.by])
                let id = try db.lastInsertedRowID
                let insert = try db.statement(sql: "INSERT INTO trials (sweep, number, params, status) VALUES (?, ?, ?, 'queued')")
                for (i, t) in trials.enumerated() { try insert.execute(arguments: [id, i + 1, Store.paramsText(t)]) }
                return id
            }
        }
    }

    /// Claims the oldest queued trial (of `sweep` only, when given) for `worker`, after
    /// requeueing the trials of workers that stopped: a heartbeat older than `grace`
    /// seconds, or, on this host, a worker process that is gone. A trial that has had
    /// its sweep's `retries` extra attempts fails instead, with the reason. Nil when
    /// nothing is queued.
    public func claimTrial(worker: String = Store.workerName, grace: Double, sweep: Int64? = nil) throws(StoreError) -> ClaimedTrial? {
        let now = Date().timeIntervalSince1970
        let only = sweep == nil ? "" : "AND sweep = ?"
        let arguments: [SQLValue] = [.text(worker), .int(Int64(RunProcess.pid)), RunProcess.identity(RunProcess.pid).map(SQLValue.text) ?? .null,
                                     .double(now), .double(now)] + (sweep.map { [.int($0)] } ?? [])
        func claim(_ db: any StoreSQL, skipLocked: Bool) throws -> ClaimedTrial? {
            // The oldest queued trial, taken in one statement; on PostgreSQL a trial another
            // worker is taking is skipped, not waited for.
            guard let id = try db.fetchOne(Int64.self, sql: """
                UPDATE trials SET status = 'running', attempts = attempts + 1, worker = ?, worker_pid = ?, worker_identity = ?,
                  heartbeat = ?, started = ?, ended = NULL, run = NULL
                WHERE id = (SELECT id FROM trials WHERE status = 'queued' \(only) ORDER BY id LIMIT 1\(skipLocked ? " FOR UPDATE SKIP LOCKED" : ""))
                RETURNING id
                """, arguments: StoreArguments(arguments)) else { return nil }
            guard let trial = try Store.trialRows(db, "WHERE id = ?", [id]).first,
                  let sweep = try Store.sweepRow(db, trial.sweep) else { return nil }
            return ClaimedTrial(trial: trial, sweep: sweep, attempt: trial.attempts, worker: worker)
        }
        return try Store.guarded("claiming a trial") {
            if let postgres = db as? PostgresDatabase {
                // Workers claim beside every other writer: row locks, not the store's write turn.
                try db.write { db in try Store.requeueStopped(db, grace: grace, now: now) }
                return try postgres.withRowLocks { db in try claim(db, skipLocked: true) }
            }
            return try db.write { db -> ClaimedTrial? in
                try Store.requeueStopped(db, grace: grace, now: now)
                return try claim(db, skipLocked: false)
            }
        }
    }

    /// Trials whose worker stopped: queued again, or failed once out of retries.
    static func requeueStopped(_ db: any StoreSQL, grace: Double, now: Double) throws {
        let running = try db.fetchAll(sql: """
            SELECT t.id, t.attempts, t.worker, t.worker_pid, t.worker_identity, t.heartbeat, s.retries
            FROM trials t JOIN sweeps s ON s.id = t.sweep WHERE t.status = 'running'
            """)
        for r in running {
            let id: Int64 = r["id"], attempts: Int = r["attempts"], retries: Int = r["retries"]
            let worker: String = r["worker"] ?? "", beat: Double = r["heartbeat"] ?? 0
            var reason: String?
            if now - beat > grace {
                reason = "its worker (\(worker)) sent no heartbeat for \(Int(now - beat)) s"
            } else if worker.hasPrefix(RunProcess.host + " "), let pid: Int64 = r["worker_pid"],
                      RunProcess.gone(pid: pid, identity: r["worker_identity"]) {
                reason = "its worker (\(worker)) is gone"
            }
            guard let reason else { continue }
            _ = try retryOrFail(db, trial: id, attempt: attempts, retries: retries, reason: reason, now: now)
        }
    }

    /// Queues trial `id` again after attempt `attempt` ended without a result, or fails it
    /// with `reason` once its `retries` are spent; with `worker`, only while that worker's
    /// attempt still holds it. Whether the trial changed.
    static func retryOrFail(_ db: any StoreSQL, trial id: Int64, attempt: Int, retries: Int, reason: String, now: Double,
                            worker: String? = nil) throws -> Bool {
        let spent = attempt > retries
        let holder = worker == nil ? "" : " AND worker = ? AND attempts = ?"
        var values: [(any StoreBindable)?] = [spent ? "failed" : "queued",
                                              spent ? "\(reason), on attempt \(attempt) of \(retries + 1)" : "attempt \(attempt): \(reason)",
                                              spent ? now : nil, id]
        if let worker { values += [worker, attempt] }
        try db.execute(sql: "UPDATE trials SET status = ?, error = ?, ended = ? WHERE id = ? AND status = 'running'" + holder,
                       arguments: StoreArguments(values))
        return db.changesCount == 1
    }

    /// Records that `claim` is alive; false when the trial is no longer this claim's
    /// (another worker took it over), so its results will not count.
    public func heartbeat(_ claim: ClaimedTrial) throws(StoreError) -> Bool {
        try Store.guarded("recording a heartbeat") {
            try db.write { db in
                try db.execute(sql: "UPDATE trials SET heartbeat = ? WHERE id = ? AND status = 'running' AND worker = ? AND attempts = ?",
                               arguments: [Date().timeIntervalSince1970, claim.trial.id, claim.worker, claim.attempt])
                return db.changesCount == 1
            }
        }
    }

    /// Names the run of `claim`'s attempt; false when the trial is no longer this claim's.
    public func setTrialRun(_ claim: ClaimedTrial, run: Int64) throws(StoreError) -> Bool {
        try Store.guarded("recording a trial's run") {
            try db.write { db in
                try db.execute(sql: "UPDATE trials SET run = ? WHERE id = ? AND status = 'running' AND worker = ? AND attempts = ?",
                               arguments: [run, claim.trial.id, claim.worker, claim.attempt])
                return db.changesCount == 1
            }
        }
    }

    /// Ends `claim`'s attempt: finished (with what it computed, if anything), or failed
    /// with `error`. False (and nothing written) when the trial is no longer this claim's.
    public func finishTrial(_ claim: ClaimedTrial, error: String?, result: String? = nil) throws(StoreError) -> Bool {
        try Store.guarded("ending a trial") {
            try db.write { db in
                try db.execute(sql: """
                    UPDATE trials SET status = ?, error = ?, result = ?, ended = ?
                    WHERE id = ? AND status = 'running' AND worker = ? AND attempts = ?
                    """, arguments: [error == nil ? "finished" : "failed", error, result, Date().timeIntervalSince1970,
                                     claim.trial.id, claim.worker, claim.attempt])
                return db.changesCount == 1
            }
        }
    }

    /// Gives `claim`'s trial back: queued again for any worker (the attempt counts, as for
    /// a stopped worker's), or failed with `reason` once its retries are spent. False (and
    /// nothing written) when the trial is no longer this claim's.
    public func requeueTrial(_ claim: ClaimedTrial, reason: String) throws(StoreError) -> Bool {
        try Store.guarded("requeueing a trial") {
            try db.write { db in
                let now = Date().timeIntervalSince1970
                // The attempt's run, left running when its end could not be written, fails.
                try db.execute(sql: """
                    UPDATE runs SET status = 'failed', error = ?, ended = ?
                    WHERE id = (SELECT run FROM trials WHERE id = ? AND status = 'running' AND worker = ? AND attempts = ?) AND status = 'running'
                    """, arguments: [reason, now, claim.trial.id, claim.worker, claim.attempt])
                return try Store.retryOrFail(db, trial: claim.trial.id, attempt: claim.attempt, retries: claim.sweep.retries,
                                             reason: reason, now: now, worker: claim.worker)
            }
        }
    }

    /// A sweep by id.
    public func sweep(_ id: Int64) throws(StoreError) -> SweepRecord {
        let s = try Store.guarded("reading a sweep") { try db.read { db in try Store.sweepRow(db, id) } }
        guard let s else { throw StoreError("no sweep with id \(id) in \(folder)") }
        return s
    }

    /// Every sweep, oldest first.
    public func sweeps() throws(StoreError) -> [SweepRecord] {
        try Store.guarded("reading sweeps") {
            try db.read { db in
                try db.fetchAll(Int64.self, sql: "SELECT id FROM sweeps ORDER BY id").compactMap { try Store.sweepRow(db, $0) }
            }
        }
    }

    /// The trials of a sweep in order, with trials of stopped workers requeued (or failed)
    /// first when `grace` is given and the store can be written.
    public func trials(sweep: Int64, grace: Double? = nil) throws(StoreError) -> [TrialRecord] {
        if let grace {
            try? Store.guarded("requeueing trials") {
                try db.write { db in try Store.requeueStopped(db, grace: grace, now: Date().timeIntervalSince1970) }
            }
        }
        return try Store.guarded("reading trials") {
            try db.read { db in try Store.trialRows(db, "WHERE sweep = ? ORDER BY number", [sweep]) }
        }
    }

    static func sweepRow(_ db: any StoreSQL, _ id: Int64) throws -> SweepRecord? {
        guard let r = try db.fetchOne(sql: """
            SELECT s.*, e.name AS experiment_name FROM sweeps s LEFT JOIN experiments e ON e.id = s.experiment WHERE s.id = ?
            """, arguments: [id]) else { return nil }
        return SweepRecord(id: r["id"], kind: r["kind"], experiment: r["experiment_name"], data: r["data"], script: r["script"], source: r["source"],
                           sourceHash: r["source_hash"], fixed: Store.params(fromText: r["fixed"]), retries: r["retries"],
                           created: r["created"], by: r["by"])
    }

    static func trialRows(_ db: any StoreSQL, _ condition: String, _ arguments: [Int64]) throws -> [TrialRecord] {
        try db.fetchAll(sql: "SELECT * FROM trials \(condition)", arguments: StoreArguments(arguments)).map { r in
            TrialRecord(id: r["id"], sweep: r["sweep"], number: r["number"], params: Store.params(fromText: r["params"]),
                        status: r["status"], attempts: r["attempts"], worker: r["worker"], heartbeat: r["heartbeat"],
                        started: r["started"], ended: r["ended"], run: r["run"], result: r["result"], error: r["error"])
        }
    }

    /// Params as stored: a JSON array of `[name, kind, text]`, so 1 and 1.0 stay apart.
    static func paramsText(_ params: [(String, ParamValue)]) -> String {
        JSONWriter.text(.array(params.map { .array([.string($0.0), .string($0.1.kind), .string($0.1.text)]) }))
    }

    static func params(fromText text: String) -> [(String, ParamValue)] {
        guard case .array(let items)? = try? JSONParser.parse(text) else { return [] }
        return items.compactMap { item in
            guard case .array(let parts) = item, parts.count == 3, case .string(let name) = parts[0],
                  case .string(let kind) = parts[1], case .string(let value) = parts[2] else { return nil }
            return (name, ParamValue(kind: kind, text: value))
        }
    }
}
