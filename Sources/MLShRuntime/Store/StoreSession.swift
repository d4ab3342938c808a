import Foundation
import MLShEngine
import MLShLanguage
import MLShServe
import MLShStore
import Synchronization

/// One interpreter's view of the store: opened lazily (the folder given to `--store`
/// or `use_store`, else `MLSH_STORE`, else the nearest `.mlsh/`), the stack of active runs, and the
/// metric points buffered until 1000 accumulate, a second has passed since the first of
/// them, the run ends, or SIGINT/SIGTERM ends the process (which marks its open runs killed).
final class StoreSession: @unchecked Sendable {
    /// Points buffered before one transaction writes them: in a folder's store; in a
    /// PostgreSQL store, whose every transaction is a round trip and a commit on a server.
    static let flushEvery = 1000
    static let flushEveryOnServer = 10_000
    /// The longest a logged point waits before it is written, in seconds.
    static let flushAfter = 1.0

    /// The store folder; nil for `Store.locate()`'s (`MLSH_STORE`, else the nearest `.mlsh/`).
    var folder: String?
    /// A PostgreSQL store's artifacts folder (`use_store(..., artifacts=)`); nil for
    /// `MLSH_ARTIFACTS`, else the one the store's database records.
    var artifacts: String?
    private var opened: Store?
    /// Runs entered with `with` and not yet left, innermost last.
    var active: [RunValue] = []
    /// Points not yet written and the runs open in this session, shared with the timer that
    /// writes points within a second and with the SIGINT/SIGTERM handler (`RunSignals`).
    private let pending = Mutex(Pending())
    struct Pending {
        var points: [(run: Int64, point: MetricPoint)] = []
        /// The store the points go to.
        var store: Store?
        /// Whether a timed flush is due.
        var scheduled = false
        var open: [(store: Store, run: Int64)] = []
    }
    /// Servers `deploy` started and `undeploy` has not stopped.
    var deployments: [PredictionServer] = []
    /// The script being run (for lineage).
    var scriptPath: String?
    /// The script's text when it does not come from `scriptPath` (a sweep's trial runs the
    /// text stored with its sweep).
    var scriptSource: [UInt8]?
    /// How stages behave (`--no-cache`, `--quiet`).
    var stageOptions = StageOptions()
    /// What the stages being evaluated read (params, files, data versions), innermost last.
    var stageReads: [[StageRead]] = []
    /// Where values that stages returned in this session came from, by value identity
    /// (`stage clean`), to say why a later stage is stale.
    var stageSources: [String: String] = [:]
    /// Per run: whether every stage entered in it came from the cache.
    var stagesCached: [Int64: Bool] = [:]
    /// Set by `mlsh stages`: where stages report their status.
    var stageWalk: StageWalk? { stageOptions.walk }

    /// Notes a read for every stage being evaluated.
    func noteStageRead(_ read: StageRead) {
        for i in stageReads.indices where !stageReads[i].contains(read) { stageReads[i].append(read) }
    }

    /// A session on the store in `folder` (an empty one counts as none, as an empty `MLSH_STORE` does).
    init(folder: String? = nil, artifacts: String? = nil) {
        self.folder = folder?.isEmpty == true ? nil : folder
        self.artifacts = artifacts?.isEmpty == true ? nil : artifacts
    }

    /// The store, opened on first use.
    func store() throws(MLShError) -> Store {
        if let opened { return opened }
        let s = try storing { () throws(StoreError) in try Store(folder: folder ?? Store.locate(), artifacts: artifacts ?? Store.artifactsSetting()) }
        opened = s
        return s
    }

    /// A temporary store this session made (`use_store()`), removed with the session.
    private var temporary: String?

    /// Whether a store exists yet (reads must not create one: the first write does).
    var exists: Bool {
        opened != nil || Store.exists(at: folder ?? Store.locate())
    }

    /// The store for reading: an error naming `function` when there is none yet.
    func existingStore(_ function: String) throws(MLShError) -> Store {
        guard exists else {
            throw MLShError(.store, "\(function): there is no store at \(folder ?? Store.locate()) yet (the first experiment or register creates it)")
        }
        return try store()
    }

    /// Switches to another store folder (flushing what is buffered for the old one), with
    /// its `artifacts` folder when it is a PostgreSQL store's; `temporary` folders are this
    /// session's own and are deleted when it ends.
    func use(_ path: String, artifacts: String? = nil, temporary: Bool = false) throws(MLShError) {
        try flush()
        guard active.isEmpty else { throw MLShError(.store, "use_store cannot switch stores inside a run") }
        folder = path
        self.artifacts = artifacts
        opened = nil
        removeTemporary()
        if temporary { self.temporary = path }
    }

    private func removeTemporary() {
        if let t = temporary { try? FileManager.default.removeItem(atPath: t) }
        temporary = nil
    }

    /// Buffers a metric point; writes the buffer when full, and within a second in any case.
    func log(run: Int64, _ p: MetricPoint) throws(MLShError) {
        let s = try store()
        let (full, schedule) = pending.withLock { b -> (Bool, Bool) in
            if b.points.isEmpty { b.store = s }
            b.points.append((run, p))
            let schedule = !b.scheduled
            b.scheduled = true
            return (b.points.count >= (s.isPostgres ? StoreSession.flushEveryOnServer : StoreSession.flushEvery), schedule)
        }
        if schedule {
            DispatchQueue.global().asyncAfter(deadline: .now() + StoreSession.flushAfter) { [weak self] in
                // A failed write keeps the points; the run's end (or the next full buffer) reports it.
                self?.pending.withLock { b in
                    b.scheduled = false
                    try? StoreSession.write(&b)
                }
            }
        }
        if full { try flush() }
    }

    /// Writes every buffered point, one transaction per run.
    func flush() throws(MLShError) {
        try storing { () throws(StoreError) in try pending.withLock { b throws(StoreError) in try StoreSession.write(&b) } }
    }

    /// Writes the buffered points, removing each run's once written.
    private static func write(_ b: inout Pending) throws(StoreError) {
        guard let store = b.store else { return }
        while let run = b.points.first?.run {
            let n = b.points.prefix { $0.run == run }.count
            try store.log(run: run, b.points[..<n].map(\.point))
            b.points.removeFirst(n)
        }
    }

    /// Notes a run entered in this session, so a signal can mark it killed.
    func opened(_ store: Store, run: Int64) {
        RunSignals.watch(self)
        pending.withLock { $0.open.append((store, run)) }
    }

    /// Notes a run left.
    func closed(run: Int64) {
        pending.withLock { $0.open.removeAll { $0.run == run } }
    }

    /// On SIGINT or SIGTERM: writes the buffered points and marks the open runs killed.
    func killOpenRuns(_ reason: String) {
        pending.withLock { b in
            try? StoreSession.write(&b)
            for (store, run) in b.open { try? store.killRun(run, reason: reason) }
            b.open.removeAll()
        }
    }

    /// The innermost active run, or an error naming the function that needed one.
    func current(_ function: String) throws(MLShError) -> RunValue {
        guard let r = active.last, let _ = r.id else {
            throw MLShError(.store, "\(function) needs an active run: call it inside 'with run(exp) { ... }'")
        }
        return r
    }

    /// The script's path and SHA-256 of its content, when running a script.
    func scriptIdentity() -> (String?, String?) {
        guard let p = scriptPath, let bytes = scriptSource ?? FileManager.default.contents(atPath: p).map({ [UInt8]($0) }) else {
            return (scriptPath, nil)
        }
        var h = SHA256()
        h.update(bytes)
        return (p, "sha256:" + h.hexDigest())
    }

    deinit {
        // Servers stop with their session, answering what is in flight first.
        for d in deployments { d.stop() }
        // Last chance for points of runs never left (the process is ending).
        try? flush()
        opened = nil
        removeTemporary()
    }
}

/// `2026-11-29 18:55:09` (UTC) for a Unix time.
func formatTime(_ t: Double) -> String {
    // gmtime_r, not DateFormatter: listing 10,000 runs formats 10,000 times.
    guard t.isFinite, t > -1e12, t < 1e12 else { return "" }
    var seconds = time_t(t.rounded(.down))
    var parts = tm()
    guard gmtime_r(&seconds, &parts) != nil else { return "" }
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
        + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
}
