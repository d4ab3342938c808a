import GRDB
import GRDBSQLite

extension Store {
    /// Every run of an experiment (of every experiment when nil), oldest first, as `run(_:)`
    /// gives each, read in five queries in one transaction. Listing 10,000 runs is on the
    /// hot path of `runs(exp)` (goal: 100 ms), so rows are read straight from SQLite's
    /// statements instead of as GRDB `Row`s.
    public func runRecords(experiment: Int64?) throws(StoreError) -> [RunRecord] {
        let arguments = experiment.map { [$0] } ?? []
        let inExperiment = experiment == nil ? "1" : "run IN (SELECT id FROM runs WHERE experiment = ?)"
        let runsInExperiment = experiment == nil ? "" : "WHERE runs.experiment = ?"
        try? reapRuns()
        return try Store.guarded("reading runs") {
            try db.read { db -> [RunRecord] in
                var params: [Int64: [(String, ParamValue)]] = [:]
                try Store.eachRow(db, "SELECT run, name, kind, value FROM params WHERE \(inExperiment) ORDER BY rowid", arguments) { s in
                    params[s.int(0), default: []].append((s.text(1) ?? "", ParamValue(kind: s.text(2) ?? "", text: s.text(3) ?? "")))
                }
                // Per run and metric, in first-logged order, the latest value (see `latest_metrics`).
                var metrics: [Int64: [(String, Double)]] = [:]
                try Store.eachRow(db, "SELECT run, name, value FROM latest_metrics WHERE \(inExperiment) ORDER BY run, first",
                                  arguments) { s in
                    metrics[s.int(0), default: []].append((s.text(1) ?? "", s.double(2) ?? .nan))
                }
                var datasets: [Int64: [String]] = [:]
                try Store.eachRow(db, "SELECT run, fingerprint, kind, source FROM datasets WHERE \(inExperiment) ORDER BY rowid", arguments) { s in
                    datasets[s.int(0), default: []].append(Store.datasetLabel(kind: s.text(2), source: s.text(3), fingerprint: s.text(1) ?? ""))
                }
                var tags: [Int64: [(String, String)]] = [:]
                try Store.eachRow(db, "SELECT run, name, value FROM tags WHERE \(inExperiment) ORDER BY rowid", arguments) { s in
                    tags[s.int(0), default: []].append((s.text(1) ?? "", s.text(2) ?? ""))
                }
                var out: [RunRecord] = []
                try Store.eachRow(db, """
                    SELECT runs.id, experiments.name, runs.name, runs.status, runs.error, runs.started, runs.ended,
                           runs.script, runs.script_hash, runs.mlsh_version, runs.parent
                    FROM runs JOIN experiments ON experiments.id = runs.experiment
                    \(runsInExperiment) ORDER BY runs.id
                    """, arguments) { s in
                    let id = s.int(0)
                    out.append(RunRecord(id: id, experiment: s.text(1) ?? "", name: s.text(2), status: s.text(3) ?? "",
                                         error: s.text(4), parent: s.isNull(10) ? nil : s.int(10),
                                         started: s.double(5) ?? .nan, ended: s.double(6),
                                         script: s.text(7), scriptHash: s.text(8), mlshVersion: s.text(9),
                                         params: params[id] ?? [], metrics: metrics[id] ?? [], datasets: datasets[id] ?? [],
                                         tags: tags[id] ?? []))
                }
                return out
            }
        }
    }

    /// Runs a query with integer arguments, handing each row to `body`.
    static func eachRow(_ db: Database, _ sql: String, _ arguments: [Int64],
                        _ body: (RawRow) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        for (i, argument) in arguments.enumerated() { sqlite3_bind_int64(s, Int32(i + 1), argument) }
        defer { sqlite3_reset(s) }
        while true {
            let rc = sqlite3_step(s)
            if rc == SQLITE_DONE { return }
            guard rc == SQLITE_ROW else { throw sqliteFailure(db, rc) }
            try body(RawRow(s))
        }
    }

    /// The error of a raw SQLite call that returned `rc`, with the connection's message.
    static func sqliteFailure(_ db: Database, _ rc: Int32) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
    }

    /// One result row of a raw statement.
    struct RawRow {
        let s: OpaquePointer
        init(_ s: OpaquePointer) { self.s = s }
        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(s, i) }
        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(s, i) == SQLITE_NULL }
        func double(_ i: Int32) -> Double? {
            sqlite3_column_type(s, i) == SQLITE_NULL ? nil : sqlite3_column_double(s, i)
        }
        func text(_ i: Int32) -> String? {
            guard sqlite3_column_type(s, i) != SQLITE_NULL, let p = sqlite3_column_text(s, i) else { return nil }
            return String(cString: p)
        }
    }
}
