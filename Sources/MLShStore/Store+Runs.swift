import Foundation

/// A run's parameter value, as recorded.
public enum ParamValue: Sendable, Equatable {
    case int(Int64), float(Double), bool(Bool), string(String)

    var kind: String {
        switch self { case .int: "int"; case .float: "float"; case .bool: "bool"; case .string: "string" }
    }
    /// The value as text (how it is stored).
    public var text: String {
        switch self {
        case .int(let i): String(i)
        case .float(let d): String(d)
        case .bool(let b): b ? "true" : "false"
        case .string(let s): s
        }
    }
    init(kind: String, text: String) {
        switch kind {
        case "int": self = Int64(text).map { .int($0) } ?? .string(text)
        case "float": self = Double(text).map { .float($0) } ?? .string(text)
        case "bool": self = .bool(text == "true")
        default: self = .string(text)
        }
    }
}

/// One metric point: a name, an optional step, a value and when it was logged.
public struct MetricPoint: Sendable, Equatable {
    public var name: String
    public var step: Int64?
    public var value: Double
    public var at: Double
    /// A point.
    public init(name: String, step: Int64?, value: Double, at: Double) {
        self.name = name; self.step = step; self.value = value; self.at = at
    }
}

/// A run as recorded.
public struct RunRecord: Sendable {
    public var id: Int64
    public var experiment: String
    public var name: String?
    /// `running`, `finished`, `failed` or `killed`.
    public var status: String
    /// Why it failed or was killed.
    public var error: String?
    /// The run it was started inside (`with run` nested in another), if any.
    public var parent: Int64?
    public var started: Double
    public var ended: Double?
    public var script: String?
    public var scriptHash: String?
    public var mlshVersion: String?
    public var params: [(String, ParamValue)]
    /// The last value of each metric (highest step, then latest), in first-logged order.
    public var metrics: [(String, Double)]
    /// The datasets it used: `name@N` (a stored version), `path (sha256:...)` (a file), or a fingerprint.
    public var datasets: [String]
    /// Tags (`log(note="baseline")`), in first-set order.
    public var tags: [(String, String)]
}

/// An artifact a run recorded: its name, kind (`model`, `csv`, `svg`, `json`, `file`), size and hash.
public struct RunArtifact: Sendable, Equatable {
    public var name: String
    public var kind: String
    public var size: Int
    public var hash: String
}

extension Store {
    /// The id of an experiment, created when new.
    public func experiment(_ name: String) throws(StoreError) -> Int64 {
        try StoreName.validate(name, "experiment")
        return try Store.guarded("creating experiment \(name)") {
            try db.write { db in
                if let id = try db.fetchOne(Int64.self, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [name]) { return id }
                try db.execute(sql: "INSERT INTO experiments (name, created) VALUES (?, ?)",
                               arguments: [name, Date().timeIntervalSince1970])
                return try db.lastInsertedRowID
            }
        }
    }

    /// The id of an existing experiment.
    public func existingExperiment(_ name: String) throws(StoreError) -> Int64 {
        let id = try Store.guarded("reading experiments") {
            try db.read { db in try db.fetchOne(Int64.self, sql: "SELECT id FROM experiments WHERE name = ?", arguments: [name]) }
        }
        guard let id else { throw StoreError("no experiment named '\(name)' in \(folder)") }
        return id
    }

    /// Starts a run (status `running`) with its params, for this process (host and pid, so
    /// it is marked killed once the process is gone); returns its id.
    public func startRun(experiment: Int64, name: String?, params: [(String, ParamValue)], parent: Int64? = nil,
                         script: String?, scriptHash: String?, mlshVersion: String) throws(StoreError) -> Int64 {
        let pid = RunProcess.pid, identity = RunProcess.identity(pid)
        return try Store.guarded("starting a run") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO runs (experiment, name, status, started, script, script_hash, mlsh_version, parent, host, pid, pid_start)
                    VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [experiment, name, Date().timeIntervalSince1970, script, scriptHash, mlshVersion,
                                     parent, RunProcess.host, pid, identity])
                let id = try db.lastInsertedRowID
                for (k, v) in params {
                    try db.execute(sql: "INSERT INTO params (run, name, kind, value) VALUES (?, ?, ?, ?) ON CONFLICT (run, name) DO UPDATE SET kind = excluded.kind, value = excluded.value",
                                   arguments: [id, k, v.kind, v.text])
                }
                try Store.noteColumns(db, run: id, kind: "param", names: params.map(\.0))
                return id
            }
        }
    }

    /// Ends a run: `finished`, or `failed` with the error message.
    public func endRun(_ id: Int64, error: String?) throws(StoreError) {
        try Store.guarded("ending run \(id)") {
            try db.write { db in
                try db.execute(sql: "UPDATE runs SET status = ?, error = ?, ended = ? WHERE id = ?",
                               arguments: [error == nil ? "finished" : "failed", error, Date().timeIntervalSince1970, id])
            }
        }
    }

    /// Appends metric points to a run, in one transaction.
    public func log(run: Int64, _ points: [MetricPoint]) throws(StoreError) {
        guard !points.isEmpty else { return }
        try Store.guarded("logging metrics") {
            try db.write { db in
                // Each metric's first point in the batch: the lowest key the batch gave it.
                var firsts: [String: Int64] = [:]
                if let pg = db as? PostgresStoreSQL {
                    // A statement per `metricsPerInsert` points, their columns as arrays (a
                    // round trip per statement, not per point).
                    var start = 0
                    while start < points.count {
                        let part = points[start..<min(points.count, start + Store.metricsPerInsert)]
                        for (name, key) in try pg.insertMetrics(run: run, part) { firsts[name] = min(firsts[name] ?? key, key) }
                        start += part.count
                    }
                } else {
                    let stmt = try db.statement(sql: "INSERT INTO metrics (run, name, step, value, at) VALUES (?, ?, ?, ?, ?)")
                    for p in points {
                        try stmt.execute(arguments: [run, p.name, p.step, p.value, p.at])
                        if firsts[p.name] == nil { firsts[p.name] = try db.lastInsertedRowID }
                    }
                }
                var latest: [String: (first: Int64, point: MetricPoint)] = [:]
                var order: [String] = []
                for p in points {
                    if let seen = latest[p.name] {
                        if Store.supersedes(step: p.step, over: seen.point.step) { latest[p.name] = (seen.first, p) }
                    } else {
                        latest[p.name] = (firsts[p.name] ?? 0, p)
                        order.append(p.name)
                    }
                }
                // The batch's latest point per metric replaces the stored one when it supersedes
                // it (the same rule as `supersedes`); `first` stays the metric's first point.
                let upsert = try db.statement(sql: """
                    INSERT INTO latest_metrics (run, name, step, value, first) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (run, name) DO UPDATE SET step = excluded.step, value = excluded.value
                    WHERE latest_metrics.step IS NULL OR excluded.step >= latest_metrics.step
                    """)
                for name in order {
                    guard let l = latest[name] else { continue }
                    try upsert.execute(arguments: [run, name, l.point.step, l.point.value, l.first])
                }
                try Store.noteColumns(db, run: run, kind: "metric", names: order)
            }
        }
    }

    /// Metric points one PostgreSQL INSERT takes (bound as arrays: no limit but memory).
    static let metricsPerInsert = 10_000

    /// Records that runs of `run`'s experiment have these params or metrics (`run_columns`).
    static func noteColumns(_ db: any StoreSQL, run: Int64, kind: String, names: [String]) throws {
        let note = try db.statement(sql: "INSERT INTO run_columns (experiment, kind, name) SELECT experiment, ?, ? FROM runs WHERE id = ? ON CONFLICT DO NOTHING")
        for name in names { try note.execute(arguments: [kind, name, run]) }
    }

    /// Whether a point logged at `step` after one at `seen` becomes the metric's latest value:
    /// a stepped point at or above the highest step so far, or any point of a metric never
    /// stepped; an unstepped point never replaces a stepped one.
    static func supersedes(step: Int64?, over seen: Int64?) -> Bool {
        switch (seen, step) {
        case (nil, _): true
        case (_?, nil): false
        case (let a?, let b?): b >= a
        }
    }

    /// Adds a param to a running run unless it already has one by that name.
    public func addParam(run: Int64, name: String, value: ParamValue) throws(StoreError) {
        try Store.guarded("recording a param") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO params (run, name, kind, value) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                               arguments: [run, name, value.kind, value.text])
                try Store.noteColumns(db, run: run, kind: "param", names: [name])
            }
        }
    }

    /// Sets a run's tag (a later value replaces an earlier one).
    public func setTag(run: Int64, name: String, value: String) throws(StoreError) {
        try Store.guarded("recording a tag") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO tags (run, name, value) VALUES (?, ?, ?) ON CONFLICT (run, name) DO UPDATE SET value = excluded.value",
                               arguments: [run, name, value])
            }
        }
    }

    /// A run's artifacts, the latest under each name, in first-recorded order.
    public func artifacts(run: Int64) throws(StoreError) -> [RunArtifact] {
        try Store.guarded("reading artifacts") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT name, kind, size, hash FROM artifacts a WHERE run = ?
                      AND rowid = (SELECT MAX(rowid) FROM artifacts WHERE run = a.run AND name = a.name)
                    ORDER BY (SELECT MIN(rowid) FROM artifacts WHERE run = a.run AND name = a.name)
                    """, arguments: [run]).map { r in RunArtifact(name: r["name"], kind: r["kind"], size: r["size"], hash: r["hash"]) }
            }
        }
    }

    /// The ids of an experiment's runs, oldest first.
    public func runIDs(experiment: Int64) throws(StoreError) -> [Int64] {
        try Store.guarded("reading runs") {
            try db.read { db in try db.fetchAll(Int64.self, sql: "SELECT id FROM runs WHERE experiment = ? ORDER BY id", arguments: [experiment]) }
        }
    }

    /// A run with its params, last metrics, datasets and tags.
    public func run(_ id: Int64) throws(StoreError) -> RunRecord {
        try? reapRuns()
        let r: RunRecord? = try Store.guarded("reading run \(id)") {
            try db.read { db -> RunRecord? in
                guard let row = try db.fetchOne(sql: """
                    SELECT runs.*, experiments.name AS exp_name FROM runs JOIN experiments ON experiments.id = runs.experiment
                    WHERE runs.id = ?
                    """, arguments: [id]) else { return nil }
                let params = try db.fetchAll(sql: "SELECT name, kind, value FROM params WHERE run = ? ORDER BY rowid", arguments: [id])
                    .map { (r: StoreRow) -> (String, ParamValue) in (r["name"], ParamValue(kind: r["kind"], text: r["value"])) }
                // Per metric, in first-logged order, its latest value (see `latest_metrics`).
                // (SQLite stores NaN as NULL; it reads back as NaN.)
                let metrics = try db.fetchAll(sql: "SELECT name, value FROM latest_metrics WHERE run = ? ORDER BY first",
                                               arguments: [id])
                    .map { (r: StoreRow) -> (String, Double) in (r["name"], (r["value"] as Double?) ?? .nan) }
                let datasets = try db.fetchAll(sql: "SELECT fingerprint, kind, source FROM datasets WHERE run = ? ORDER BY rowid", arguments: [id])
                    .map { (r: StoreRow) -> String in Store.datasetLabel(kind: r["kind"], source: r["source"], fingerprint: r["fingerprint"]) }
                let tags = try db.fetchAll(sql: "SELECT name, value FROM tags WHERE run = ? ORDER BY rowid", arguments: [id])
                    .map { (r: StoreRow) -> (String, String) in (r["name"], r["value"]) }
                return RunRecord(id: id, experiment: row["exp_name"], name: row["name"], status: row["status"], error: row["error"],
                                 parent: row["parent"], started: row["started"], ended: row["ended"], script: row["script"],
                                 scriptHash: row["script_hash"], mlshVersion: row["mlsh_version"], params: params, metrics: metrics,
                                 datasets: datasets, tags: tags)
            }
        }
        guard let r else { throw StoreError("no run with id \(id) in \(folder)") }
        return r
    }

    /// A metric's history in a run: (step, value) in step order (unstepped points by position).
    public func history(run: Int64, metric: String) throws(StoreError) -> [(Int64, Double)] {
        try Store.guarded("reading metric history") {
            try db.read { db in
                // Read as it arrives (a history may hold millions of points).
                var points: [(Int64, Double)] = []
                try db.forEach(sql: "SELECT step, value FROM metrics WHERE run = ? AND name = ? ORDER BY rowid", arguments: [run, metric]) { r in
                    points.append((r.isNull(0) ? Int64(points.count) : r.int(0), r.double(1) ?? .nan))
                }
                return points.sorted { $0.0 < $1.0 }
            }
        }
    }
}
