import Foundation
import MLShStore
import Synchronization
import Testing
import TestSupport

/// `mlsh sweep`, `mlsh worker` and `mlsh sweeps` as processes on one store (a folder, and
/// for the workers' tests also PostgreSQL): local worker processes sharing the trials, a worker killed with SIGKILL mid-trial whose trial another
/// worker runs again, random draws, and the errors.
@Suite struct SweepCommandTests {
    /// Where the store is: a folder, or a database of the test process's PostgreSQL cluster.
    enum Backend: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgres
        var testDescription: String { rawValue }
    }

    struct Box {
        let dir: String
        let store: String
        init(_ backend: Backend = .sqlite) throws {
            dir = try temporaryFolder("sweepcli")
            switch backend {
            case .sqlite: store = dir + "/.mlsh"
            case .postgres:
                switch PostgresCluster.shared {
                case .success(let c): store = try c.database("sweep")
                case .failure(let e): throw e
                }
            }
        }
        init(store: String) throws {
            dir = try temporaryFolder("sweepcli")
            self.store = store
        }
        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["MLSH_STORE"] = store
            env["SWIFT_BACKTRACE"] = "enable=no"
            return env
        }
        func script(_ text: String, name: String) throws -> String {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func mlsh(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
            try runProgram(mlshBinary, args, environment: environment)
        }
        func trials(_ sweep: Int64) throws -> [TrialRecord] { try Store(folder: store).trials(sweep: sweep) }
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let train = """
        let alpha = param("alpha", 1.0)
        let depth = param("depth", 3)
        let m = fit(ridge(alpha=alpha), dataset("diabetes"), target=$progression)
        log(rmse = evaluate(m, dataset("diabetes")).rmse, tree_depth = depth * 1.0, data = len(param("data", "")))
        sleep(param("pause", 0))
        """

    /// Every grid point runs exactly once, as a run of the experiment named after the
    /// script, with the fixed params; two local worker processes share the trials.
    @Test(arguments: Backend.allCases) func gridOnTwoLocalWorkers(_ backend: Backend) throws {
        let box = try Box(backend)
        defer { box.cleanup() }
        let path = try box.script(Self.train, name: "train.mls")
        let r = try box.mlsh(["sweep", path, "--grid", "alpha=0.01,0.1,1,10", "--grid", "depth=3,5", "--param", "data=a,bc", "--param", "pause=0.3", "--workers", "2"])
        #expect(r.code == 0, "\(r.out)\n\(r.err)")
        #expect(r.out.hasPrefix("sweep 1: 8 trials of \(path) in experiment train\n"))
        #expect(r.out.components(separatedBy: "\n").filter { $0.hasPrefix("trial ") && $0.contains(": finished, run ") }.count == 8)
        let trials = try box.trials(1)
        #expect(trials.map(\.status) == Array(repeating: "finished", count: 8))
        #expect(trials.allSatisfy { $0.attempts == 1 })
        // Two processes claimed trials (each trial takes 0.3 s or more).
        #expect(Set(trials.compactMap(\.worker)).count == 2)
        let store = try Store(folder: box.store)
        let runs = try store.runRecords(experiment: try store.existingExperiment("train"))
        #expect(runs.count == 8)
        #expect(Set(runs.map(\.id)) == Set(trials.compactMap(\.run)))
        let points = runs.map { r in
            r.params.filter { $0.0 == "alpha" || $0.0 == "depth" }.map { "\($0.0)=\($0.1.text)" }.joined(separator: " ")
        }
        #expect(Set(points) == Set(["0.01", "0.1", "1", "10"].flatMap { a in ["3", "5"].map { "alpha=\(a) depth=\($0)" } }))
        #expect(runs.allSatisfy { r in r.metrics.contains { $0 == ("data", 4) } && r.tags.contains { $0.0 == "sweep" && $0.1 == "1" } })
        #expect(runs.allSatisfy { $0.status == "finished" && $0.script == path })
        // The listing.
        let list = try box.mlsh(["sweeps"])
        #expect(list.code == 0)
        #expect(list.out.contains("train            0        0         8       0"), "\(list.out)")
        let one = try box.mlsh(["sweeps", "1"])
        #expect(one.out.hasPrefix("trial  alpha  depth  status    attempts  run"), "\(one.out)")
    }

    /// A worker killed with SIGKILL mid-trial: another worker runs that trial again (its
    /// second attempt) and the rest; each trial finishes exactly once.
    @Test(arguments: Backend.allCases) func killedWorkersTrialRunsAgain(_ backend: Backend) throws {
        let box = try Box(backend)
        defer { box.cleanup() }
        let path = try box.script("""
            let i = param("i", 0)
            sleep(1.5)
            log(twice = i * 2)
            """, name: "slow.mls")
        let queued = try box.mlsh(["sweep", path, "--grid", "i=1,2,3", "--workers", "0"])
        #expect(queued.code == 0 && queued.out.contains("queued; start workers with: mlsh worker --store "), "\(queued.out)\(queued.err)")
        if backend == .postgres {
            // The hint never shows the password, and marks where it goes.
            #expect(queued.out.contains("--store postgres://mlsh:PASSWORD@127.0.0.1:") && !queued.out.contains("secret"), "\(queued.out)")
        }
        let first = try spawnProgram(mlshBinary, ["worker", "--sweep", "1"], environment: box.environment)
        // Wait until it runs trial 1, then kill it.
        let deadline = Date().addingTimeInterval(30)
        while try box.trials(1).first?.status != "running" || box.trials(1).first?.run == nil {
            #expect(Date() < deadline, "the worker never started trial 1")
            if Date() >= deadline { break }
            usleep(50_000)
        }
        kill(first, SIGKILL)
        _ = waitStatus(first)
        let second = try box.mlsh(["worker", "--sweep", "1", "--grace", "20s"])
        #expect(second.code == 0, "\(second.err)")
        #expect(second.out.contains("sweep 1 trial 1 (i=1): started, attempt 2"), "\(second.out)")
        #expect(second.out.contains(": 3 finished, 0 failed"), "\(second.out)")
        let trials = try box.trials(1)
        #expect(trials.map(\.status) == ["finished", "finished", "finished"])
        #expect(trials.map(\.attempts) == [2, 1, 1])
        let store = try Store(folder: box.store)
        let runs = try store.runRecords(experiment: try store.existingExperiment("slow"))
        // The killed attempt's run is marked killed; every trial has one finished run.
        #expect(runs.filter { $0.status == "killed" }.count == 1)
        let finished = runs.filter { $0.status == "finished" }
        #expect(finished.count == 3)
        #expect(Set(finished.map(\.id)) == Set(trials.compactMap(\.run)))
        #expect(Set(finished.compactMap { $0.metrics.first { $0.0 == "twice" }?.1 }) == [2, 4, 6])
    }

    /// PostgreSQL stopped under a working worker for three seconds, then started again:
    /// the worker waits for it (saying so), gives back the trial that could not record its
    /// end, and every trial finishes exactly once.
    @Test func aWorkerOutlivesAPostgreSQLRestart() throws {
        let cluster = try PostgresCluster.own()
        let box = try Box(store: try cluster.database("outage"))
        defer { box.cleanup() }
        let path = try box.script("""
            let i = param("i", 0)
            sleep(0.5)
            log(twice = i * 2)
            """, name: "steady.mls")
        let queued = try box.mlsh(["sweep", path, "--grid", "i=1,2,3,4", "--workers", "0"])
        #expect(queued.code == 0, "\(queued.out)\(queued.err)")
        let result = Mutex<[(code: Int32, out: String, err: String)]>([])
        let worker = Thread {
            let r = (try? box.mlsh(["worker", "--sweep", "1", "--grace", "60s"])) ?? (-1, "", "did not run")
            result.withLock { $0.append(r) }
        }
        worker.start()
        let deadline = Date().addingTimeInterval(30)
        while (try? box.trials(1).first?.run) ?? nil == nil, Date() < deadline { usleep(20_000) }
        #expect(Date() < deadline, "the worker never started trial 1")
        try cluster.stop()
        sleep(3)   // the outage
        try cluster.start()
        while result.withLock({ $0.isEmpty }), Date() < deadline.addingTimeInterval(60) { usleep(50_000) }
        guard let r = result.withLock({ $0.first }) else { Issue.record("the worker did not end"); return }
        #expect(r.code == 0, "\(r.out)\(r.err)")
        #expect(r.out.contains("the store is out of reach ("), "\(r.out)")
        #expect(r.out.contains("the store is back"), "\(r.out)")
        #expect(r.out.contains(": 4 finished, 0 failed"), "\(r.out)")
        #expect(!r.out.contains(":secret@") && !r.err.contains(":secret@"), "the password is never printed")
        let trials = try box.trials(1)
        #expect(trials.map(\.status) == Array(repeating: "finished", count: 4))
        let store = try Store(folder: box.store)
        let runs = try store.runRecords(experiment: try store.existingExperiment("steady"))
        let finished = runs.filter { $0.status == "finished" }
        #expect(finished.count == 4)
        #expect(Set(finished.map(\.id)) == Set(trials.compactMap(\.run)))
        #expect(Set(finished.compactMap { $0.metrics.first { $0.0 == "twice" }?.1 }) == [2, 4, 6, 8])
        // An attempt given back left its run failed, not running.
        #expect(runs.allSatisfy { $0.status == "finished" || $0.status == "failed" }, "\(runs.map(\.status))")
        #expect(runs.count - finished.count == trials.map { $0.attempts - 1 }.reduce(0, +))
    }

    /// `--trials N` draws from `--space` with a seed: in range, of the right kind, the same
    /// for the same seed.
    @Test func randomDrawsFromASpace() throws {
        let box = try Box()
        defer { box.cleanup() }
        let path = try box.script(Self.train, name: "train.mls")
        for _ in 0..<2 {
            let r = try box.mlsh(["sweep", path, "--trials", "5", "--space", "alpha=0.001..10:log", "--space", "depth=2..8",
                                  "--seed", "3", "--experiment", "draws"])
            #expect(r.code == 0, "\(r.err)")
        }
        let first = try box.trials(1), second = try box.trials(2)
        #expect(first.count == 5)
        for t in first {
            guard case .float(let a)? = t.params.first(where: { $0.0 == "alpha" })?.1,
                  case .int(let d)? = t.params.first(where: { $0.0 == "depth" })?.1 else {
                Issue.record("trial \(t.number) params: \(t.params)")
                continue
            }
            #expect(a >= 0.001 && a <= 10 && d >= 2 && d <= 8)
        }
        #expect(first.map { $0.params.map(\.1) } == second.map { $0.params.map(\.1) })
        #expect(Set(first.map { $0.params.map(\.1.text).joined() }).count == 5)
    }

    /// `tune(..., workers=2)` in `mlsh run`: two worker processes evaluate the candidates
    /// (a sweep of kind tune), and the search finds what it finds in one process.
    @Test(arguments: Backend.allCases) func tuneWithWorkerProcesses(_ backend: Backend) throws {
        let box = try Box(backend)
        defer { box.cleanup() }
        let path = try box.script("""
            let t = dataset("iris")
            let a = tune(logistic(), t, target=$species, grid={l2: [0.01, 0.1, 1, 10], max_iter: [50, 200]}, metric="accuracy")
            let b = tune(logistic(), t, target=$species, grid={l2: [0.01, 0.1, 1, 10], max_iter: [50, 200]}, metric="accuracy", workers=2)
            print(a.settings == b.settings, to_list(a.results.mean_accuracy) == to_list(b.results.mean_accuracy), to_list(a.results.rank) == to_list(b.results.rank))
            """, name: "tune.mls")
        let r = try box.mlsh(["run", path])
        #expect(r.code == 0 && r.out == "true true true\n", "\(r.out)\(r.err)")
        let store = try Store(folder: box.store)
        let sweeps = try store.sweeps()
        #expect(sweeps.map(\.kind) == ["tune"] && sweeps[0].experiment == nil)
        let trials = try store.trials(sweep: sweeps[0].id)
        #expect(trials.count == 8 && trials.allSatisfy { $0.status == "finished" && $0.result != nil && $0.run == nil })
    }

    @Test func errorsAreOneLine() throws {
        let box = try Box()
        defer { box.cleanup() }
        let path = try box.script(Self.train, name: "train.mls")
        let missing = try box.mlsh(["sweep", box.dir + "/nope.mls", "--grid", "alpha=1"])
        #expect(missing.code == 1 && missing.err == "io error: sweep: cannot read the script \(box.dir)/nope.mls\n")
        let noValues = try box.mlsh(["sweep", path, "--grid", "alpha"])
        #expect(noValues.code == 1 && noValues.err == "value error: --grid takes NAME=VALUES, got 'alpha'\n")
        let nothing = try box.mlsh(["sweep", path])
        #expect(nothing.code == 1 && nothing.err.hasPrefix("value error: sweep: nothing to sweep: give a grid (grid={alpha: [0.1, 1]}, or --grid alpha=0.1,1)"))
        let noTrials = try box.mlsh(["sweep", path, "--space", "alpha=0.1..1"])
        #expect(noTrials.code == 1 && noTrials.err == "value error: sweep: a space needs trials=N, the number of draws\n")
        let badRange = try box.mlsh(["sweep", path, "--trials", "2", "--space", "alpha=5..1"])
        #expect(badRange.err == "value error: sweep: the range of 'alpha' must run from a low to a high finite number, got 5.0..1.0\n")
        let badGrace = try box.mlsh(["worker", "--grace", "soon"])
        #expect(badGrace.code == 1 && badGrace.err == "value error: --grace must be a duration such as \"30s\", \"10m\" or \"1h\", got \"soon\"\n")
        // A failing trial: exit 1, the error in the table.
        let failing = try box.script("assert param(\"x\", 0) < 2, \"x too big\"", name: "fails.mls")
        let r = try box.mlsh(["sweep", failing, "--grid", "x=1,2"])
        #expect(r.code == 1)
        #expect(r.out.contains("trial 2 of 2 (x=2): failed, run 2: assertion failed: x too big"), "\(r.out)")
        #expect(try box.trials(1).map(\.status) == ["finished", "failed"])
    }
}
