
extension Store {
    /// Every run of an experiment (of every experiment when nil), oldest first, as `run(_:)`
    /// gives each, read in five queries in one transaction. Listing 10,000 runs is on the
    /// hot path of `runs(exp)` (goal: 100 ms), so rows are read straight from SQLite's
    /// rows one at a time, as they are read.
    public func runRecords(experiment: Int64?) throws(StoreError) -> [RunRecord] {
        let arguments = experiment.map { [$0] } ?? []
        let inExperiment = experiment == nil ? "TRUE" : "run IN (SELECT id FROM runs WHERE experiment = ?)"
        let runsInExperiment = experiment == nil ? "" : "WHERE runs.experiment = ?"
        try? reapRuns()
        return try Store.guarded("reading runs") {
            try db.read { db -> [RunRecord] in
                if let postgres = db as? PostgresStoreSQL { return try postgres.runRecords(experiment: experiment) }
                // Params and latest metrics are read in their tables' key order (run, name),
                // without a sort in SQLite, and put in recorded order per run here.
                var params = RunGroups<(String, ParamValue)>()
                try Store.eachRow(db, "SELECT run, rowid, name, kind, value FROM params WHERE \(inExperiment)", arguments) { s in
                    params.add(run: s.int(0), key: s.int(1), (s.text(2) ?? "", ParamValue(kind: s.text(3) ?? "", text: s.text(4) ?? "")))
                }
                // Per run and metric, in first-logged order, the latest value (see `latest_metrics`).
                var metrics = RunGroups<(String, Double)>()
                try Store.eachRow(db, "SELECT run, first, name, value FROM latest_metrics WHERE \(inExperiment)", arguments) { s in
                    metrics.add(run: s.int(0), key: s.int(1), (s.text(2) ?? "", s.double(3) ?? .nan))
                }
                params.flush()
                metrics.flush()
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
                                         params: params.byRun[id] ?? [], metrics: metrics.byRun[id] ?? [], datasets: datasets[id] ?? [],
                                         tags: tags[id] ?? []))
                }
                return out
            }
        }
    }

    /// A run without its params, metrics, datasets and tags.
    public struct RunBrief: Sendable {
        public var id: Int64
        public var name: String?
        public var status: String
        public var started: Double
        public var ended: Double?

        public init(id: Int64, name: String?, status: String, started: Double, ended: Double?) {
            self.id = id; self.name = name; self.status = status; self.started = started; self.ended = ended
        }
    }

    /// An experiment's runs in brief, oldest first: what a page of runs needs of every run
    /// before it knows which few it shows.
    public func runBriefs(experiment: Int64) throws(StoreError) -> [RunBrief] {
        try? reapRuns()
        return try Store.guarded("reading runs") {
            try db.read { db in
                var out: [RunBrief] = []
                try Store.eachRow(db, "SELECT id, name, status, started, ended FROM runs WHERE experiment = ? ORDER BY id", [experiment]) { s in
                    out.append(RunBrief(id: s.int(0), name: s.text(1), status: s.text(2) ?? "", started: s.double(3) ?? .nan, ended: s.double(4)))
                }
                return out
            }
        }
    }

    /// The names of an experiment's params and of its metrics, each in the order first
    /// recorded (`run_columns`).
    public func runColumnNames(experiment: Int64) throws(StoreError) -> (params: [String], metrics: [String]) {
        try Store.guarded("reading run columns") {
            try db.read { db in
                var params: [String] = [], metrics: [String] = []
                try Store.eachRow(db, "SELECT kind, name FROM run_columns WHERE experiment = ? ORDER BY rowid", [experiment]) { s in
                    if s.text(0) == "param" { params.append(s.text(1) ?? "") } else { metrics.append(s.text(1) ?? "") }
                }
                return (params, metrics)
            }
        }
    }

    /// One name across an experiment's runs: each run's latest value of the metric, and
    /// its param, by run id.
    public func runColumn(experiment: Int64, name: String) throws(StoreError) -> (metrics: [Int64: Double], params: [Int64: ParamValue]) {
        try Store.guarded("reading a run column") {
            try db.read { db in
                var metrics: [Int64: Double] = [:], params: [Int64: ParamValue] = [:]
                let inExperiment = "run IN (SELECT id FROM runs WHERE experiment = ?)"
                for r in try db.fetchAll(sql: "SELECT run, value FROM latest_metrics WHERE name = ? AND \(inExperiment)",
                                          arguments: [name, experiment]) {
                    metrics[r["run"]] = (r["value"] as Double?) ?? .nan
                }
                for r in try db.fetchAll(sql: "SELECT run, kind, value FROM params WHERE name = ? AND \(inExperiment)",
                                          arguments: [name, experiment]) {
                    params[r["run"]] = ParamValue(kind: r["kind"], text: r["value"])
                }
                return (metrics, params)
            }
        }
    }

    /// Rows of a per-run table collected per run in the order of their keys (rowids). Rows
    /// arriving grouped by run and in key order cost no sorting; a run whose rows come out
    /// of order, or in several groups, is put back in key order.
    struct RunGroups<T> {
        private(set) var byRun: [Int64: [T]] = [:]
        private var keysByRun: [Int64: [Int64]] = [:]
        private var run: Int64?
        private var items: [T] = []
        private var keys: [Int64] = []

        mutating func add(run r: Int64, key: Int64, _ item: T) {
            if r != run { flush(); run = r }
            items.append(item)
            keys.append(key)
        }

        /// Files the current run's rows.
        mutating func flush() {
            guard let run else { return }
            var allItems = byRun[run] ?? [], allKeys = keysByRun[run] ?? []
            allItems += items
            allKeys += keys
            if !zip(allKeys, allKeys.dropFirst()).allSatisfy({ $0.0 < $0.1 }) {
                let order = allKeys.indices.sorted { allKeys[$0] < allKeys[$1] }
                allItems = order.map { allItems[$0] }
                allKeys = order.map { allKeys[$0] }
            }
            byRun[run] = allItems
            keysByRun[run] = allKeys
            items.removeAll(keepingCapacity: true)
            keys.removeAll(keepingCapacity: true)
            self.run = nil
        }
    }

    /// Runs a query with integer arguments, handing each row to `body`.
    static func eachRow(_ db: any StoreSQL, _ sql: String, _ arguments: [Int64],
                        _ body: (StoreRow) throws -> Void) throws {
        try db.forEach(sql: sql, arguments: StoreArguments(arguments.map(SQLValue.int)), body)
    }
}
