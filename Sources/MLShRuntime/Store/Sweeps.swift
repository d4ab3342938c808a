import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShStore

/// What a sweep searches: every combination of a grid (in the order given, the last key
/// varying fastest), a seeded random subset of it (`trials`), or `trials` random draws
/// from a space.
public struct SweepSpace: Sendable {
    /// One dimension of a space: a value drawn from a list, or from a range (uniform, or
    /// log-uniform; whole numbers when both ends are).
    public enum Dimension: Sendable, Equatable {
        case values([ParamValue])
        case range(low: Double, high: Double, log: Bool, integer: Bool)
    }

    public var grid: [(String, [ParamValue])] = []
    public var space: [(String, Dimension)] = []
    public var trials: Int?
    public var seed: UInt64 = 0

    public init(grid: [(String, [ParamValue])] = [], space: [(String, Dimension)] = [], trials: Int? = nil, seed: UInt64 = 0) {
        self.grid = grid; self.space = space; self.trials = trials; self.seed = seed
    }

    /// The trials' params, in order.
    public func points() throws(MLShError) -> [[(String, ParamValue)]] {
        if let trials, trials < 1 { throw MLShError.value("sweep: trials must be at least 1, got \(trials)") }
        if !grid.isEmpty && !space.isEmpty {
            throw MLShError.value("sweep: give a grid or a space, not both (a grid's values can be drawn from with trials=N)")
        }
        var names = Set<String>()
        for name in grid.map(\.0) + space.map(\.0) where !names.insert(name).inserted {
            throw MLShError.value("sweep: '\(name)' is named twice")
        }
        if !space.isEmpty {
            guard let trials else { throw MLShError.value("sweep: a space needs trials=N, the number of draws") }
            var rng = SeededRandom(seed: seed, stream: 0x5EE9)
            return (0..<trials).map { _ in space.map { name, d in (name, Self.draw(d, &rng)) } }
        }
        guard !grid.isEmpty else {
            throw MLShError.value("sweep: nothing to sweep: give a grid (grid={alpha: [0.1, 1]}, or --grid alpha=0.1,1) or a space and a number of trials (space= and trials=, or --space and --trials)")
        }
        for (k, v) in grid where v.isEmpty { throw MLShError.value("sweep: the grid gives '\(k)' no values") }
        var points: [[(String, ParamValue)]] = [[]]
        for (key, values) in grid {
            points = points.flatMap { p in values.map { p + [(key, $0)] } }
        }
        if let trials, trials < points.count {
            var rng = SeededRandom(seed: seed, stream: 0x5EE9)
            var idx = Array(points.indices)
            rng.shuffle(&idx)
            points = idx[0..<trials].sorted().map { points[$0] }
        }
        return points
    }

    static func draw(_ d: Dimension, _ rng: inout SeededRandom) -> ParamValue {
        switch d {
        case .values(let vs):
            return vs[rng.nextInt(below: vs.count)]
        case .range(let low, let high, let log, let integer):
            if integer {
                let lo = Int64(low), hi = Int64(high)
                guard log else { return .int(lo + Int64(rng.nextInt(below: Int(hi - lo + 1)))) }
                let x = Foundation.exp(Foundation.log(Double(lo)) + rng.nextDouble() * (Foundation.log(Double(hi) + 1) - Foundation.log(Double(lo))))
                return .int(min(max(Int64(x.rounded(.down)), lo), hi))
            }
            guard log else { return .float(low + rng.nextDouble() * (high - low)) }
            return .float(Foundation.exp(Foundation.log(low) + rng.nextDouble() * (Foundation.log(high) - Foundation.log(low))))
        }
    }

    /// A range dimension, checked.
    public static func range(_ name: String, low: Double, high: Double, log: Bool, integer: Bool) throws(MLShError) -> Dimension {
        guard low.isFinite, high.isFinite, low <= high else {
            throw MLShError.value("sweep: the range of '\(name)' must run from a low to a high finite number, got \(formatFloat(low))..\(formatFloat(high))")
        }
        if log && low <= 0 { throw MLShError.value("sweep: a log range ('\(name)') must start above 0, got \(formatFloat(low))") }
        return .range(low: low, high: high, log: log, integer: integer)
    }

    /// `--space` text: `low..high`, `low..high:log`, or values separated by commas.
    public static func dimension(_ name: String, text: String) throws(MLShError) -> Dimension {
        var body = Substring(text), log = false
        if body.hasSuffix(":log") { body = body.dropLast(4); log = true }
        let parts = body.components(separatedBy: "..")
        if parts.count == 2, let low = Double(parts[0]), let high = Double(parts[1]) {
            let integer = Int64(parts[0]) != nil && Int64(parts[1]) != nil
            return try range(name, low: low, high: high, log: log, integer: integer)
        }
        if log { throw MLShError.value("sweep: ':log' follows a range low..high, got '\(text)' for '\(name)'") }
        return .values(values(text))
    }

    /// `--grid` text: values separated by commas, each a number, bool or string.
    public static func values(_ text: String) -> [ParamValue] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { value(String($0)) }
    }

    /// One `--param` value, as `mlsh run` parses it (commas are part of it).
    public static func value(_ text: String) -> ParamValue { ParamValue(Runtime.parseParam(text)) }
}

/// Making sweeps, running their trials, and reporting them: shared by `mlsh sweep`,
/// `mlsh worker` and `sweep(...)`.
public enum Sweeps {
    /// A worker is taken for stopped when its heartbeat is older than this, by default.
    public static let defaultGrace = 30.0

    /// Records a sweep of the script at `path` (read from `file` when given; its text is
    /// stored: workers need no copy)
    /// over `space`; its runs belong to `experiment` (the script's name without `.mls` when
    /// nil). Returns the sweep.
    public static func create(script path: String, readingFrom file: String? = nil, space: SweepSpace, fixed: [(String, ParamValue)],
                              experiment: String?, retries: Int, store: Store) throws(MLShError) -> (SweepRecord, [TrialRecord]) {
        guard retries >= 0 else { throw MLShError.value("sweep: retries must be 0 or more, got \(retries)") }
        guard let data = FileManager.default.contents(atPath: file ?? path) else {
            throw MLShError(.io, "sweep: cannot read the script \(path)")
        }
        let points = try space.points()
        let name = experiment ?? ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var h = SHA256()
        h.update([UInt8](data))
        let record = SweepRecord(experiment: name, script: path, source: String(decoding: data, as: UTF8.self),
                                 sourceHash: "sha256:" + h.hexDigest(), fixed: fixed, retries: retries,
                                 created: Date().timeIntervalSince1970, by: Store.actor)
        return try storing { () throws(StoreError) in
            let id = try store.createSweep(record, trials: points)
            return (try store.sweep(id), try store.trials(sweep: id))
        }
    }

    /// Runs one claimed trial in this process: the sweep's script, with the fixed params
    /// and the trial's, as a run of the sweep's experiment tagged `sweep` and `trial`,
    /// heartbeating while it runs. Returns the error that failed it, if any.
    static func run(_ claim: ClaimedTrial, store: Store, folder: String, grace: Double) -> (error: String?, result: String?) {
        let heartbeat = Heartbeat(claim: claim, store: store, every: max(0.2, min(5, grace / 4)))
        defer { heartbeat.stop() }
        if claim.sweep.kind == "tune" { return TuneTrials.run(claim, store: store) }
        return (runScript(claim, store: store, folder: folder), nil)
    }

    /// A script sweep's trial; the error that failed it, if any.
    static func runScript(_ claim: ClaimedTrial, store: Store, folder: String) -> String? {
        do throws(MLShError) {
            let sweep = claim.sweep
            guard let name = sweep.experiment else { return "sweep \(sweep.id) names no experiment for its runs" }
            let experiment = try storing { () throws(StoreError) in try store.experiment(name) }
            var params = sweep.fixed.filter { f in !claim.trial.params.contains { $0.0 == f.0 } }
            params += claim.trial.params
            let session = StoreSession(folder: folder, artifacts: store.artifactsFolder)
            session.scriptPath = sweep.script
            session.scriptSource = Array(sweep.source.utf8)
            let libraries: [Library] = [DataLibrary(), ModelsLibrary(), StoreLibrary(folder: folder, session: session), PlotLibrary(),
                                        MonitorLibrary()]
            let interp = Runtime.makeInterpreter(libraries: libraries,
                                                 params: Dictionary(params.map { ($0.0, $0.1.language) }, uniquingKeysWith: { _, b in b }))
            interp.display = { _ in }
            let run = RunValue(session: session, experiment: experiment, params: params)
            try run.enter()
            guard let id = run.id else { return "the trial's run did not start" }
            try storing { () throws(StoreError) in
                _ = try store.setTrialRun(claim, run: id)
                try store.setTag(run: id, name: "sweep", value: String(sweep.id))
                try store.setTag(run: id, name: "trial", value: String(claim.trial.number))
            }
            do throws(MLShError) {
                try interp.run(SourceFile(name: sweep.script, bytes: Array(sweep.source.utf8)), scriptPath: sweep.script)
            } catch {
                try? run.exit(error: error)
                return error.render()
            }
            try run.exit(error: nil)
            try session.flush()
            return nil
        } catch {
            return error.render()
        }
    }

    /// Claims and runs trials until told to stop: after `maxTrials`, after `idleExit`
    /// seconds with nothing to claim, or (with `sweep`) once that sweep has nothing queued
    /// or running. `report` hears a line per trial. Returns how many finished and failed.
    /// `artifacts` is the store's artifacts folder (nil: `MLSH_ARTIFACTS`, else the one its
    /// database records).
    public static func work(folder: String, artifacts: String?, sweep: Int64? = nil, maxTrials: Int? = nil, idleExit: Double? = nil,
                            grace: Double = defaultGrace, report: (String) -> Void,
                            ended: (TrialRecord, Int) -> Void = { _, _ in }) throws(MLShError) -> (finished: Int, failed: Int) {
        let store = try storing { () throws(StoreError) in try Store(folder: folder, artifacts: artifacts ?? Store.artifactsSetting()) }
        var finished = 0, failed = 0
        var idleSince = Date()
        while maxTrials.map({ finished + failed < $0 }) ?? true {
            guard let claim = try patiently(report, { () throws(StoreError) in try store.claimTrial(grace: grace, sweep: sweep) }) else {
                if let sweep {
                    let left = try patiently(report) { () throws(StoreError) in try store.trials(sweep: sweep) }
                    if !left.contains(where: { $0.status == "queued" || $0.status == "running" }) { break }
                }
                if let idleExit, Date().timeIntervalSince(idleSince) >= idleExit { break }
                usleep(200_000)
                continue
            }
            let label = "sweep \(claim.sweep.id) trial \(claim.trial.number) (\(paramText(claim.trial.params)))"
            report("\(label): started, attempt \(claim.attempt)")
            let lost = Store.lostConnections
            let (error, result) = run(claim, store: store, folder: folder, grace: grace)
            if let error, Store.lostConnections != lost {
                // It failed while the store was out of reach: not the trial's fault.
                let back = try patiently(report) { () throws(StoreError) in
                    try store.requeueTrial(claim, reason: "the store was out of reach while it ran (\(error))")
                }
                report("\(label): " + (back ? "failed while the store was out of reach; given back to the queue" : "another worker took this trial over"))
                idleSince = Date()
                continue
            }
            let counted = try patiently(report) { () throws(StoreError) in try store.finishTrial(claim, error: error, result: result) }
            if !counted {
                report("\(label): another worker took this trial over; this attempt does not count")
            } else if let error {
                failed += 1
                report("\(label): failed: \(error)")
            } else {
                finished += 1
                report("\(label): finished")
            }
            if counted, let all = try? store.trials(sweep: claim.sweep.id), let t = all.first(where: { $0.id == claim.trial.id }) {
                ended(t, all.count)
            }
            idleSince = Date()
        }
        return (finished, failed)
    }

    /// `body`, tried again every second while the store's database is out of reach
    /// (restarting, or the network down), so that a worker outlives the outage; said once
    /// on `report` when it starts and once when it ends. Other errors are thrown.
    static func patiently<T>(_ report: (String) -> Void, _ body: () throws(StoreError) -> T) throws(MLShError) -> T {
        var waiting = false
        while true {
            do {
                let value = try body()
                if waiting { report("the store is back") }
                return value
            } catch where error.unreachable {
                if !waiting { report("the store is out of reach (\(error.message)); trying again every second") }
                waiting = true
                sleep(1)
            } catch {
                return try storing { () throws(StoreError) -> T in throw error }
            }
        }
    }

    /// Runs a sweep to its end with `workers` local worker processes (`mlsh worker --sweep
    /// ID`), or in this process when `workers` is 1 or no mlsh executable is known;
    /// `report` hears each trial as it ends.
    public static func runLocally(_ sweep: SweepRecord, workers: Int, store: Store, grace: Double,
                                  report: @escaping (String) -> Void) throws(MLShError) {
        guard workers >= 1 else { return }
        guard workers > 1, let executable = Runtime.executable else {
            _ = try work(folder: store.location, artifacts: store.artifactsFolder, sweep: sweep.id, grace: grace, report: { _ in },
                         ended: { report(endLine($0, of: $1)) })
            return
        }
        var pids: [pid_t] = []
        let logs = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-sweep-\(UUID().uuidString)").path
        do {
            try FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        } catch {
            throw MLShError(.io, "sweep: cannot make a folder for the workers' logs: \(error.localizedDescription)")
        }
        defer { try? FileManager.default.removeItem(atPath: logs) }
        for i in 0..<workers {
            do throws(ChildProcess.Failure) {
                // The store (and its artifacts folder) go by the environment, so a PostgreSQL
                // URL's password stays out of the process list.
                pids.append(try ChildProcess.spawn(executable, ["worker", "--sweep", String(sweep.id), "--grace", "\(grace)s"],
                                                   environment: ProcessInfo.processInfo.environment.merging(store.processEnvironment) { $1 },
                                                   stdout: logs + "/worker\(i).out", stderr: logs + "/worker\(i).err"))
            } catch {
                for p in pids { kill(p, SIGTERM) }
                throw MLShError(.io, "sweep: cannot start a worker: \(error.description)")
            }
        }
        // Report trials as they end, until every worker has exited.
        var reported = Set<Int64>()
        var running = Set(pids)
        while !running.isEmpty {
            for p in running {
                var status: Int32 = 0
                if waitpid(p, &status, WNOHANG) == p { running.remove(p) }
            }
            if let trials = try? store.trials(sweep: sweep.id) {
                for t in trials where (t.status == "finished" || t.status == "failed") && !reported.contains(t.id) {
                    reported.insert(t.id)
                    report(endLine(t, of: trials.count))
                }
            }
            if !running.isEmpty { usleep(100_000) }
        }
        // Trials no worker could end (every worker gone): run what is left here.
        let left = try storing { () throws(StoreError) in try store.trials(sweep: sweep.id, grace: grace) }
        if left.contains(where: { $0.status == "queued" }) {
            var errors: [String] = []
            for i in 0..<workers {
                if let e = try? String(contentsOfFile: logs + "/worker\(i).err", encoding: .utf8), !e.isEmpty { errors.append(e) }
            }
            throw MLShError(.store, "sweep \(sweep.id): the workers stopped with trials still queued"
                            + (errors.isEmpty ? "" : ":\n" + errors.joined(separator: "\n")))
        }
    }

    /// `trial 3 of 8 (alpha=0.1, depth=3): finished, run 14`.
    static func endLine(_ t: TrialRecord, of count: Int) -> String {
        var line = "trial \(t.number) of \(count) (\(paramText(t.params))): \(t.status)"
        if let run = t.run { line += ", run \(run)" }
        if t.attempts > 1 { line += " (attempt \(t.attempts))" }
        if t.status == "failed", let e = t.error { line += ": " + e }
        return line
    }

    /// `1 trial`, `8 trials`.
    static func trialCount(_ n: Int) -> String { n == 1 ? "1 trial" : "\(n) trials" }

    /// `alpha=0.1, depth=3`.
    static func paramText(_ params: [(String, ParamValue)]) -> String {
        params.map { "\($0.0)=\($0.1.text)" }.joined(separator: ", ")
    }

    /// A sweep's trials as a table: trial, the swept params, status, attempts, run, the
    /// run's latest metrics, error.
    static func statusTable(_ trials: [TrialRecord], store: Store) throws(MLShError) -> Table {
        var names = ["trial"], columns = [Column(ints: trials.map { Int64($0.number) })]
        var paramNames: [String] = []
        for t in trials { for (k, _) in t.params where !paramNames.contains(k) { paramNames.append(k) } }
        for p in paramNames {
            names.append(p)
            columns.append(StoreLibrary.paramColumn(trials.map { t in t.params.first { $0.0 == p }?.1 }))
        }
        names += ["status", "attempts", "run"]
        columns += [Column(strings: trials.map(\.status)), Column(ints: trials.map { Int64($0.attempts) }),
                    Column(ints: trials.map { $0.run ?? 0 }, validity: trials.map { $0.run != nil })]
        let runs = try storing { () throws(StoreError) -> [Int64: RunRecord] in
            var out: [Int64: RunRecord] = [:]
            for t in trials { if let r = t.run, t.status == "finished" { out[r] = try store.run(r) } }
            return out
        }
        var metricNames: [String] = []
        for t in trials {
            for (m, _) in t.run.flatMap({ runs[$0] })?.metrics ?? [] where !metricNames.contains(m) && !names.contains(m) {
                metricNames.append(m)
            }
        }
        for m in metricNames {
            names.append(m)
            columns.append(Column(floats: trials.map { t in t.run.flatMap { runs[$0] }?.metrics.first { $0.0 == m }?.1 ?? .nan }))
        }
        names.append("error")
        columns.append(Column(strings: trials.map { $0.status == "finished" ? nil : $0.error }))
        return try engine { () throws(EngineError) in try Table(names: names, columns: columns, label: "trials") }
    }
}

/// Records a claimed trial's heartbeat on a thread of its own until stopped.
final class Heartbeat: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(claim: ClaimedTrial, store: Store, every: Double) {
        let done = done, finished = finished
        Thread.detachNewThread {
            while done.wait(timeout: .now() + every) == .timedOut {
                _ = try? store.heartbeat(claim)
            }
            finished.signal()
        }
    }

    func stop() {
        done.signal()
        finished.wait()
    }
}

/// `mlsh sweep`, `mlsh worker` and `mlsh sweeps`, for the command line.
public enum SweepCommandLine {
    /// A duration on the command line: `60s`, `10m`, `1h`, `500ms` or a number of seconds.
    public static func duration(_ text: String, _ what: String) throws(MLShError) -> Double {
        if let d = Double(text), d >= 0, d.isFinite { return d }
        return try StoreLibrary.duration(.string(text), what)
    }

    /// `--grid k=v1,v2` and `--space k=low..high[:log]` (or `k=v1,v2`) as a space.
    public static func space(grid: [String], space: [String], trials: Int?, seed: UInt64) throws(MLShError) -> SweepSpace {
        var out = SweepSpace(trials: trials, seed: seed)
        for g in grid {
            let (k, v) = try pair(g, "--grid")
            out.grid.append((k, SweepSpace.values(v)))
        }
        for s in space {
            let (k, v) = try pair(s, "--space")
            out.space.append((k, try SweepSpace.dimension(k, text: v)))
        }
        return out
    }

    static func pair(_ text: String, _ option: String) throws(MLShError) -> (String, String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw MLShError.value("\(option) takes NAME=VALUES, got '\(text)'")
        }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }

    /// Makes a sweep and, with `workers` > 0, runs it to its end with that many local
    /// worker processes, printing each trial as it ends and then the table of trials.
    /// Returns the exit code: 0 when every trial finished.
    public static func sweep(script: String, space: SweepSpace, fixed: [(String, ParamValue)], experiment: String?, retries: Int,
                             workers: Int, grace: Double, folder: String) throws(MLShError) -> Int32 {
        let store = try storing { () throws(StoreError) in try Store(folder: folder, artifacts: Store.artifactsSetting()) }
        let (sweep, trials) = try Sweeps.create(script: script, space: space, fixed: fixed, experiment: experiment,
                                                retries: retries, store: store)
        print("sweep \(sweep.id): \(Sweeps.trialCount(trials.count)) of \(sweep.script) in experiment \(sweep.experiment ?? "")")
        guard workers > 0 else {
            // A URL is never printed with its password: the hint has a placeholder there.
            var hint = Store.shown(folder)
            if hint != folder, let at = hint.range(of: "@", options: .backwards) { hint.replaceSubrange(at, with: ":PASSWORD@") }
            print("queued; start workers with: mlsh worker --store \(hint)")
            return 0
        }
        try Sweeps.runLocally(sweep, workers: workers, store: store, grace: grace) { print($0) }
        return try status(sweep.id, store: store)
    }

    /// Prints a sweep's table of trials; 0 when every trial finished.
    static func status(_ id: Int64, store: Store) throws(MLShError) -> Int32 {
        let trials = try storing { () throws(StoreError) in try store.trials(sweep: id) }
        print(StoreListing.render(try Sweeps.statusTable(trials, store: store)))
        return trials.allSatisfy { $0.status == "finished" } ? 0 : 1
    }

    /// `mlsh sweeps [ID]`: every sweep (id, script, experiment, trials by status), or one
    /// sweep's trials.
    public static func sweeps(_ id: Int64?, folder: String) throws(MLShError) -> Int32 {
        guard let store = try storing({ () throws(StoreError) in try StoreListing(folder: folder).existing() }) else {
            throw MLShError(.store, "there is no store at \(folder): make a sweep first (mlsh sweep FILE --grid ...)")
        }
        if let id {
            _ = try storing { () throws(StoreError) in try store.sweep(id) }
            _ = try status(id, store: store)
            return 0
        }
        let all = try storing { () throws(StoreError) in try store.sweeps() }
        var counts: [[Int64]] = []
        for s in all {
            let trials = try storing { () throws(StoreError) in try store.trials(sweep: s.id) }
            counts.append(["queued", "running", "finished", "failed"].map { st in Int64(trials.filter { $0.status == st }.count) })
        }
        let table = try engine { () throws(EngineError) in
            try Table(names: ["id", "script", "experiment", "queued", "running", "finished", "failed", "created", "by"], columns: [
                Column(ints: all.map(\.id)), Column(strings: all.map(\.script)), Column(strings: all.map(\.experiment)),
                Column(ints: counts.map { $0[0] }), Column(ints: counts.map { $0[1] }), Column(ints: counts.map { $0[2] }),
                Column(ints: counts.map { $0[3] }), Column(strings: all.map { formatTime($0.created) }), Column(strings: all.map(\.by)),
            ], label: "sweeps")
        }
        print(StoreListing.render(table))
        return 0
    }

    /// `mlsh worker`: claims and runs trials, printing a line per trial.
    public static func worker(folder: String, sweep: Int64?, maxTrials: Int?, idleExit: Double?, grace: Double) throws(MLShError) -> Int32 {
        let stamp = { () -> String in formatTime(Date().timeIntervalSince1970) }
        print("\(stamp()) worker \(Store.workerName) on \(Store.shown(folder))" + (sweep.map { ", sweep \($0)" } ?? ""))
        let (finished, failed) = try Sweeps.work(folder: folder, artifacts: nil, sweep: sweep, maxTrials: maxTrials, idleExit: idleExit,
                                                 grace: grace) { line in print("\(stamp()) \(line)") }
        print("\(stamp()) worker \(Store.workerName): \(finished) finished, \(failed) failed")
        return 0
    }
}
