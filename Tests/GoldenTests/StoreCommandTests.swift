import Foundation
import Testing
import TestSupport

/// `mlsh runs`, `models`, `lineage` and `gc`, and the store surviving a killed run and
/// refusing to write where it cannot. Each test has its own store (`MLSH_STORE`).
@Suite struct StoreCommandTests {
    /// A temp folder with a store path in it.
    struct Sandbox {
        let dir: String
        var store: String { dir + "/.mlsh" }
        init() throws {
            dir = try temporaryFolder("storecli")
        }
        var environment: [String: String] {
            var env = ProcessInfo.processInfo.environment
            env["MLSH_STORE"] = store
            env["SWIFT_BACKTRACE"] = "enable=no"
            return env
        }
        func script(_ text: String, name: String = "s.mls") throws -> String {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        func mlsh(_ args: [String]) throws -> (code: Int32, out: String, err: String) {
            try runProgram(mlshBinary, args, environment: environment)
        }
        func json(_ args: [String]) throws -> Any {
            let r = try mlsh(args)
            #expect(r.code == 0, "\(args): \(r.err)")
            return try JSONSerialization.jsonObject(with: Data(r.out.utf8), options: [.fragmentsAllowed])
        }
        func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let lifecycle = """
        let t = table({x: [1.0, 2.0, 3.0, 4.0], y: [2.0, 4.1, 5.9, 8.2]})
        let exp = experiment("lin")
        for a in [0.1, 1.0] {
          with run(exp, alpha=a) {
            let m = fit(ridge(alpha=a), t, target=$y)
            log(rmse=a * 2)
            log_model(m)
          }
        }
        let v = register(best_run(exp, "rmse").model, "lin")
        alias(v, "production")
        experiment("other")
        with run(experiment("other"), k=3) { log(acc=0.5) }
        """

    func populated() throws -> Sandbox {
        let box = try Sandbox()
        let r = try box.mlsh(["run", try box.script(Self.lifecycle), "--quiet"])
        #expect(r.code == 0, "\(r.err)")
        return box
    }

    @Test func runsTextAndJSON() throws {
        let box = try populated()
        defer { box.cleanup() }
        let all = try box.mlsh(["runs"])
        #expect(all.code == 0)
        #expect(all.out.hasPrefix("experiment  run_id  status"))
        #expect(all.out.contains("runs: 3 rows × 10 columns"))
        let one = try box.mlsh(["runs", "lin"])
        #expect(one.code == 0)
        #expect(one.out.hasPrefix("run_id  status"))
        #expect(one.out.contains("runs: 2 rows × 7 columns"))
        #expect(one.out.contains("finished"))

        let rows = try #require(try box.json(["runs", "lin", "--json"]) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows.map { $0["status"] as? String } == ["finished", "finished"])
        #expect(rows.map { $0["run_id"] as? Int } == [1, 2])
        #expect(rows.allSatisfy { $0["experiment"] as? String == "lin" })
        #expect((rows[0]["params"] as? [String: Any])?["alpha"] as? Double == 0.1)
        #expect((rows[1]["metrics"] as? [String: Any])?["rmse"] as? Double == 2.0)
        #expect(rows[0]["ended"] is String && rows[0]["duration"] is Double)
        let every = try #require(try box.json(["runs", "--json"]) as? [[String: Any]])
        #expect(every.map { $0["experiment"] as? String } == ["lin", "lin", "other"])

        let missing = try box.mlsh(["runs", "nope"])
        #expect(missing.code == 1)
        #expect(missing.err.contains("no experiment named 'nope'"))
    }

    @Test func modelsAndLineage() throws {
        let box = try populated()
        defer { box.cleanup() }
        let text = try box.mlsh(["models"])
        #expect(text.code == 0)
        #expect(text.out.hasPrefix("name    version  aliases"))
        #expect(text.out.contains("production"))
        let models = try #require(try box.json(["models", "--json"]) as? [[String: Any]])
        #expect(models.count == 1)
        #expect(models[0]["name"] as? String == "lin" && models[0]["version"] as? Int == 1)
        #expect(models[0]["aliases"] as? [String] == ["production"])
        #expect(models[0]["run"] as? Int == 1)

        let lineage = try #require(try box.json(["lineage", "lin@production", "--json"]) as? [String: Any])
        #expect(lineage["model"] as? String == "lin@1")
        #expect(lineage["run"] as? Int == 1)
        #expect((lineage["params"] as? [String: Any])?["alpha"] as? Double == 0.1)
        #expect((lineage["metrics"] as? [String: Any])?["rmse"] as? Double == 0.2)
        #expect((lineage["datasets"] as? [String])?.count == 1)
        #expect((lineage["script"] as? String)?.hasSuffix("s.mls") == true)
        #expect((lineage["script_hash"] as? String)?.hasPrefix("sha256:") == true)
        #expect((lineage["mlsh_version"] as? String)?.isEmpty == false)
        let lt = try box.mlsh(["lineage", "lin@1"])
        #expect(lt.code == 0)
        #expect(lt.out.hasPrefix("lin@1 (production)\nrun: 1\nparams: alpha=0.1\nmetrics: rmse=0.2\ndatasets: sha256:"))
        #expect(lt.out.contains("\nscript_hash: sha256:"))

        let unknown = try box.mlsh(["lineage", "lin@9"])
        #expect(unknown.code == 1 && unknown.err.contains("unknown model version 'lin@9'"))
        let noName = try box.mlsh(["lineage", "nope@1"])
        #expect(noName.code == 1 && noName.err.contains("no model named 'nope'"))
    }

    @Test func readsNeverCreateAStoreAndStoreOptionWins() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let models = try box.mlsh(["models"])
        #expect(models.code == 0 && models.out.contains("0 rows"))
        #expect(try box.mlsh(["runs"]).code == 0)
        #expect(try box.mlsh(["runs", "x"]).code == 1)
        #expect(try box.mlsh(["lineage", "m@1"]).code == 1)
        #expect(!FileManager.default.fileExists(atPath: box.store))
        // --store names another store than MLSH_STORE.
        let other = try populated()
        defer { other.cleanup() }
        let r = try box.mlsh(["runs", "lin", "--store", other.store])
        #expect(r.code == 0 && r.out.contains("2 rows"))
    }

    @Test func gcDryRunThenYesKeepsReachableArtifacts() throws {
        let box = try populated()
        defer { box.cleanup() }
        let artifacts = box.store + "/artifacts"
        let reachable = try FileManager.default.contentsOfDirectory(atPath: artifacts).filter { !$0.hasPrefix(".") }.sorted()
        #expect(reachable.count == 2)   // both runs' models (the registered one is one of them)
        let orphan = String(repeating: "ab", count: 32)
        try Data(repeating: 7, count: 123).write(to: URL(fileURLWithPath: artifacts + "/" + orphan))
        let temp = artifacts + "/.tmp-in-progress"
        try Data([1]).write(to: URL(fileURLWithPath: temp))

        let fresh = try box.mlsh(["gc"])   // default --min-age keeps what was just written
        #expect(fresh.code == 0 && fresh.out == "nothing to remove\n")
        let dry = try box.mlsh(["gc", "--min-age", "0"])
        #expect(dry.code == 0)
        #expect(dry.out == "\(orphan)  123 bytes\nwould remove 1 unreferenced artifact, 123 bytes (run with --yes to delete)\n")
        #expect(FileManager.default.fileExists(atPath: artifacts + "/" + orphan))

        let yes = try box.mlsh(["gc", "--yes", "--min-age", "0"])
        #expect(yes.code == 0)
        #expect(yes.out == "\(orphan)  123 bytes\nremoved 1 unreferenced artifact, 123 bytes\n")
        #expect(!FileManager.default.fileExists(atPath: artifacts + "/" + orphan))
        #expect(FileManager.default.fileExists(atPath: temp))
        let left = try FileManager.default.contentsOfDirectory(atPath: artifacts).filter { !$0.hasPrefix(".") }.sorted()
        #expect(left == reachable)
        // Every model still loads (its content checked against its hash).
        let check = try box.mlsh(["run", try box.script("""
            let a = model("lin@production").model
            let b = best_run(experiment("lin"), "rmse").model
            let c = runs("lin")
            print("ok")
            """, name: "check.mls")])
        #expect(check.code == 0 && check.out == "ok\n", "\(check.err)")
        #expect(try box.mlsh(["gc", "--yes", "--min-age", "0"]).out == "removed 0 unreferenced artifacts, 0 bytes\n")
    }

    @Test func killedRunLeavesTheStoreUsable() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let path = try box.script("""
            let exp = experiment("k")
            with run(exp, n=1) { log(a=1) }
            with run(exp, n=2) {
              let i = 0
              while true {
                log(loss=i, step=i)
                i = i + 1
              }
            }
            """)
        let pid = try spawnProgram(mlshBinary, ["run", path], environment: box.environment)
        var killed = false
        defer { if !killed { kill(pid, SIGKILL); var st: Int32 = 0; waitpid(pid, &st, 0) } }
        // Wait until the second run is recorded (and has flushed some metric points).
        let deadline = Date().addingTimeInterval(60)
        var seen = false
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: box.store + "/store.sqlite"),
               let rows = try? box.json(["runs", "k", "--json"]) as? [[String: Any]], rows.count == 2,
               (rows[1]["metrics"] as? [String: Any])?["loss"] != nil {
                seen = true
                break
            }
            usleep(100_000)
        }
        #expect(seen, "the long run never showed up in the store")
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        killed = true
        #expect((status & 0x7f) == SIGKILL)

        let rows = try #require(try box.json(["runs", "k", "--json"]) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows[0]["status"] as? String == "finished")
        #expect((rows[0]["metrics"] as? [String: Any])?["a"] as? Double == 1)
        #expect((rows[0]["params"] as? [String: Any])?["n"] as? Int == 1)
        // Its process is gone: the next listing marks it killed, ended at its last point.
        #expect(rows[1]["status"] as? String == "killed")
        let error = rows[1]["error"] as? String ?? ""
        #expect(error.hasPrefix("its process (pid \(pid) on ") && error.hasSuffix(") ended while the run was open"), "\(error)")
        #expect(rows[1]["ended"] is String)
        let text = try box.mlsh(["runs", "k"])
        #expect(text.code == 0 && text.out.contains("killed"))
        // The store still takes writes.
        let again = try box.mlsh(["run", try box.script("with run(experiment(\"k\"), n=3) { log(a=3) }", name: "again.mls")])
        #expect(again.code == 0, "\(again.err)")
        let after = try #require(try box.json(["runs", "k", "--json"]) as? [[String: Any]])
        #expect(after.map { $0["status"] as? String } == ["finished", "killed", "finished"])
    }

    /// Starts a script that logs 14 epochs in a run, writes `ready.csv`, then computes
    /// forever; returns its pid once `ready.csv` exists.
    func startTraining(_ box: Sandbox) throws -> pid_t {
        let path = try box.script("""
            with run(experiment("train"), lr=0.1) {
              for epoch in range(14) { log(loss=1.0 / (epoch + 1), step=epoch) }
              save(table({ready: [1]}), "\(box.dir)/ready.csv")
              let i = 0
              while true { i = i + 1 }
            }
            """, name: "train.mls")
        let pid = try spawnProgram(mlshBinary, ["run", path], environment: box.environment)
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: box.dir + "/ready.csv") && Date() < deadline { usleep(5_000) }
        return pid
    }

    /// The number of points of `loss` run 1 holds, read by another process.
    func lossPoints(_ box: Sandbox) throws -> Int {
        let r = try box.mlsh(["run", try box.script("print(len(history(1, \"loss\")))", name: "count.mls")])
        return Int(r.out.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    /// Logged points reach the store within a second while the run goes on, so another
    /// process watching sees them; a run whose process then dies by SIGKILL is marked
    /// killed the next time the store is listed.
    @Test func loggedPointsAreWrittenWithinASecond() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let pid = try startTraining(box)
        defer { kill(pid, SIGKILL); _ = waitStatus(pid) }
        var seen = -1
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            seen = try lossPoints(box)
            if seen == 14 { break }
            usleep(100_000)
        }
        #expect(seen == 14)
        var status: Int32 = 0
        #expect(waitpid(pid, &status, WNOHANG) == 0, "the training is still running")
        let rows = try #require(try box.json(["runs", "train", "--json"]) as? [[String: Any]])
        #expect(rows.first?["status"] as? String == "running")
    }

    /// SIGTERM or SIGINT right after 14 logged epochs (before the timed write is due): the
    /// points are written, the run is marked killed with the signal, and the process still
    /// ends by that signal.
    @Test(arguments: [SIGTERM, SIGINT]) func signalWritesPointsAndMarksTheRunKilled(_ sig: Int32) throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let pid = try startTraining(box)
        kill(pid, sig)
        // Bounded: a process that ignores the signal fails the test instead of hanging it.
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(30)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline { kill(pid, SIGKILL); status = waitStatus(pid); break }
            usleep(10_000)
        }
        #expect((status & 0x7f) == sig, "ended by the signal (status \(status))")
        let rows = try #require(try box.json(["runs", "train", "--json"]) as? [[String: Any]])
        #expect(rows.first?["status"] as? String == "killed")
        #expect(rows.first?["error"] as? String == "killed by " + (sig == SIGTERM ? "SIGTERM" : "SIGINT"))
        #expect(rows.first?["ended"] is String)
        #expect(try lossPoints(box) == 14)
        let text = try box.mlsh(["runs", "train"])
        #expect(text.out.contains("killed by SIG"), "\(text.out)")
    }

    /// `mlsh runs --sort METRIC` lists the best runs first by the rule best_run uses;
    /// --lower says the direction outright; a name that says neither is noted on stderr.
    @Test func runsSortByMetricDirection() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let r = try box.mlsh(["run", try box.script("""
            let e = experiment("s")
            for v in [0.2, 0.1, 0.3] { with run(e, v=v) { log(cv_rmse=v, test_auc=v, gizmo=v) } }
            with run(e, v=0) { log(other=1) }
            print(best_run(e, "gizmo").params.v)
            """)])
        #expect(r.code == 0 && r.out == "0.3\n", "\(r.err)")
        #expect(r.err == "best_run: the name 'gizmo' does not say whether lower is better; took the highest (lower=true takes the lowest)\n")
        func order(_ args: [String]) throws -> [Double?] {
            let rows = try #require(try box.json(["runs", "s", "--json"] + args) as? [[String: Any]])
            return rows.map { ($0["params"] as? [String: Any])?["v"] as? Double }
        }
        #expect(try order(["--sort", "cv_rmse"]) == [0.1, 0.2, 0.3, 0])
        #expect(try order(["--sort", "test_auc"]) == [0.3, 0.2, 0.1, 0])
        #expect(try order(["--sort", "cv_rmse", "--lower", "false"]) == [0.3, 0.2, 0.1, 0])
        let unknown = try box.mlsh(["runs", "s", "--sort", "gizmo"])
        #expect(unknown.code == 0 && unknown.err.contains("'gizmo' does not say whether lower is better; sorting highest first"))
    }

    /// `log_artifact` of a path keeps the file (named after it unless named); `artifact`
    /// reads text back as a string, `.json` as a record, `.csv` as a table; a binary file
    /// is refused with its size, a missing path with its name.
    @Test func fileArtifactsReadBack() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        try "first line\nsecond\n".write(toFile: box.dir + "/notes.txt", atomically: true, encoding: .utf8)
        try #"{"lr": 0.5, "tags": ["a"]}"#.write(toFile: box.dir + "/cfg.json", atomically: true, encoding: .utf8)
        try "a,b\n1,x\n".write(toFile: box.dir + "/t.csv", atomically: true, encoding: .utf8)
        try Data([0xff, 0xfe, 0x00, 0x01]).write(to: URL(fileURLWithPath: box.dir + "/blob.bin"))
        let r = try box.mlsh(["run", try box.script("""
            let d = "\(box.dir)"
            with run(experiment("f")) {
              log_artifact(d + "/notes.txt")
              log_artifact(d + "/cfg.json", "config")
              log_artifact(d + "/t.csv")
              log_artifact(d + "/blob.bin")
            }
            print(runs("f").run_id[0], artifact(1, "notes.txt"))
            print(artifact(1, "config"), columns(artifact(1, "t.csv")))
            """)])
        #expect(r.out == "1 first line\nsecond\n\n{lr: 0.5, tags: [\"a\"]} [\"a\", \"b\"]\n",
                "\(r.out) \(r.err)")
        let binary = try box.mlsh(["run", try box.script("print(artifact(1, \"blob.bin\"))", name: "b.mls")])
        #expect(binary.code == 1 && binary.err.contains("artifact: 'blob.bin' of run 1 is binary (4 bytes), not text"), "\(binary.err)")
        let missing = try box.mlsh(["run", try box.script("with run(experiment(\"f\")) { log_artifact(\"\(box.dir)/nope.txt\") }", name: "m.mls")])
        #expect(missing.code == 1 && missing.err.contains("log_artifact: '\(box.dir)/nope.txt' is not a readable file"), "\(missing.err)")
    }

    /// `mlsh runs` shows tags, the parent run and a failed run's error, as text and JSON.
    @Test func runsShowTagsParentAndError() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try box.mlsh(["run", try box.script("""
            let e = experiment("t")
            with run(e) { log(note="baseline"); with run(e) { log(x=1) } }
            with run(e) { assert false, "diverged" }
            """)])
        let text = try box.mlsh(["runs", "t"])
        #expect(text.code == 0)
        #expect(text.out.contains("tags") && text.out.contains("note=baseline"))
        #expect(text.out.contains("parent_run") && text.out.contains("assertion failed: diverged"), "\(text.out)")
        let rows = try #require(try box.json(["runs", "t", "--json"]) as? [[String: Any]])
        #expect(rows.map { $0["status"] as? String } == ["finished", "finished", "failed"])
        #expect(rows[0]["tags"] as? [String: String] == ["note": "baseline"])
        #expect(rows[1]["parent_run"] as? Int == 1 && rows[0]["parent_run"] is NSNull)
        #expect(rows[2]["error"] as? String == "assertion failed: diverged")
    }

    @Test func unwritableStoreFailsClearly() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let logging = try box.script("""
            with run(experiment("ro"), n=2) { log(a=2) }
            print("not reached")
            """, name: "log.mls")
        if geteuid() != 0 {
            // A store made read-only: the folder 0555, the database 0444.
            let first = try box.mlsh(["run", try box.script("with run(experiment(\"ro\"), n=1) { log(a=1) }")])
            #expect(first.code == 0, "\(first.err)")
            chmod(box.store + "/store.sqlite", 0o444)
            chmod(box.store, 0o555)
            defer { chmod(box.store, 0o755); chmod(box.store + "/store.sqlite", 0o644) }
            let r = try box.mlsh(["run", logging])
            #expect(r.code == 1)
            #expect(r.err.hasPrefix("store error: the store at \(box.store) is read-only"), "\(r.err)")
            #expect(!r.out.contains("not reached"))
            chmod(box.store, 0o755)
            chmod(box.store + "/store.sqlite", 0o644)
            let rows = try #require(try box.json(["runs", "ro", "--json"]) as? [[String: Any]])
            #expect(rows.count == 1 && rows[0]["status"] as? String == "finished")
        } else {
            // As root chmod does not stop writes: a store whose parent is a regular file
            // cannot be created.
            let blocker = box.dir + "/blocker"
            try Data("keep".utf8).write(to: URL(fileURLWithPath: blocker))
            var env = box.environment
            env["MLSH_STORE"] = blocker + "/.mlsh"
            let r = try runProgram(mlshBinary, ["run", logging], environment: env)
            #expect(r.code == 1)
            #expect(r.err.hasPrefix("store error: cannot create the store folder \(blocker)/.mlsh"), "\(r.err)")
            #expect(!r.out.contains("not reached"))
            #expect(try String(contentsOfFile: blocker, encoding: .utf8) == "keep")
            #expect(try FileManager.default.contentsOfDirectory(atPath: box.dir).sorted() == ["blocker", "log.mls"])
            let reads = try runProgram(mlshBinary, ["runs", "ro"], environment: env)
            #expect(reads.code == 1 && reads.err.hasPrefix("store error: "))
        }
    }
}
