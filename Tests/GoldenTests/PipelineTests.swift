import Foundation
import Testing
import TestSupport

/// Stages as a pipeline (`stage`, `mlsh stages`, `mlsh run --no-cache`) and data versions
/// from the command line (`mlsh datasets`, lineage, gc, two processes snapshotting at once).
/// Each test has its own store (`MLSH_STORE`).
@Suite struct PipelineTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    static let pipeline = """
        let raw   = load("data/raw.csv")
        let clean = stage("clean", fn() => raw |> filter($age >= 0) |> derive(bmi = $w / $h ^ 2))
        let m     = stage("train", fn() => fit(ridge(alpha=param("alpha", 1.0)), clean, target=$y))
        let e     = stage("evaluate", fn() => evaluate(m, clean))
        print(round(e.rmse, 9))
        """

    /// A CSV of `rows` people: age (some negative), weight, height, y.
    static func raw(rows: Int, seed: UInt64) -> String {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        var lines = ["age,w,h,y"]
        for _ in 0..<rows {
            let age = Int(next() * 90) - 5, w = 50 + next() * 50, h = 1.5 + next() * 0.5
            lines.append("\(age),\(w),\(h),\(w / (h * h) * 2 + next())")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func setUp(_ box: Sandbox) throws -> String {
        try FileManager.default.createDirectory(atPath: box.dir + "/data", withIntermediateDirectories: true)
        try Self.raw(rows: 300, seed: 1).write(toFile: box.dir + "/data/raw.csv", atomically: true, encoding: .utf8)
        return try box.script(Self.pipeline, name: "pipe.mls")
    }

    /// Runs a script and returns its stdout and which stages ran (the rest were cached).
    func run(_ box: Sandbox, _ args: [String]) throws -> (out: String, ran: [String], cached: [String]) {
        let r = try box.mlsh(["run"] + args)
        #expect(r.code == 0, "\(args): \(r.err)")
        var ran: [String] = [], cached: [String] = []
        for line in r.err.split(separator: "\n") where line.hasPrefix("stage ") {
            let name = String(line.dropFirst(6).prefix { $0 != ":" })
            if line.contains(": ran in ") { ran.append(name) } else if line.contains(": cached (") { cached.append(name) }
        }
        return (r.out, ran, cached)
    }

    @Test func onlyTheStagesWhoseInputsChangedRun() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = try setUp(box)
        let first = try run(box, [script])
        #expect(first.ran == ["clean", "train", "evaluate"] && first.cached.isEmpty)
        let again = try run(box, [script])
        #expect(again.ran.isEmpty && again.cached == ["clean", "train", "evaluate"])
        #expect(again.out == first.out)

        // A param only train reads: train and evaluate run, clean does not.
        let alpha = try run(box, [script, "--param", "alpha=5"])
        #expect(alpha.ran == ["train", "evaluate"] && alpha.cached == ["clean"])
        #expect(alpha.out != first.out)
        #expect(try run(box, [script, "--param", "alpha=5"]).ran.isEmpty)
        // Back to the default: every value is still cached.
        let back = try run(box, [script])
        #expect(back.ran.isEmpty && back.out == first.out)

        // Comments and spacing are not code.
        let spaced = Self.pipeline.replacingOccurrences(of: "fn() => evaluate(m, clean))",
                                                        with: "fn() =>   evaluate( m,clean ))   # scored on the training rows")
        try spaced.write(toFile: script, atomically: true, encoding: .utf8)
        #expect(try run(box, [script]).ran.isEmpty)
        // A change to evaluate's code runs evaluate alone.
        let edited = Self.pipeline.replacingOccurrences(of: "evaluate(m, clean))", with: "evaluate(m, clean |> head(100)))")
        try edited.write(toFile: script, atomically: true, encoding: .utf8)
        let code = try run(box, [script])
        #expect(code.ran == ["evaluate"] && code.cached == ["clean", "train"])

        // Editing the file clean reads runs all three.
        try Self.raw(rows: 300, seed: 2).write(toFile: box.dir + "/data/raw.csv", atomically: true, encoding: .utf8)
        let data = try run(box, [script])
        #expect(data.ran == ["clean", "train", "evaluate"])

        // --no-cache evaluates every stage and refreshes the cache; --quiet says nothing.
        let fresh = try run(box, [script, "--no-cache"])
        #expect(fresh.ran == ["clean", "train", "evaluate"] && fresh.out == data.out)
        let quiet = try box.mlsh(["run", script, "--quiet"])
        #expect(quiet.code == 0 && quiet.err.isEmpty && quiet.out == data.out)
    }

    @Test func stageReadingAFileOrADataVersionRerunsWhenItChanges() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try setUp(box)
        let script = try box.script("""
            let inside = stage("inside", fn() => shape(load("data/raw.csv")))
            let latest = stage("latest", fn() => shape(dataset("people")))
            let pinned = stage("pinned", fn() => shape(dataset("people@1")))
            print(inside, latest, pinned)
            """, name: "reads.mls")
        let seed = try box.script("""
            snapshot(load("data/raw.csv"), "people");
            """, name: "seed.mls")
        #expect(try box.mlsh(["run", seed]).code == 0)
        let first = try run(box, [script])
        #expect(first.ran == ["inside", "latest", "pinned"] && first.out == "[300, 4] [300, 4] [300, 4]\n")
        #expect(try run(box, [script]).ran.isEmpty)
        // A new version of the dataset: the stage reading the latest runs, the pinned one does not.
        let grow = try box.script("""
            snapshot(load("data/raw.csv") |> head(10), "people");
            """, name: "grow.mls")
        #expect(try box.mlsh(["run", grow]).code == 0)
        let after = try run(box, [script])
        #expect(after.ran == ["latest"] && after.out == "[300, 4] [10, 4] [300, 4]\n")
        // The file a stage loads itself.
        try Self.raw(rows: 20, seed: 3).write(toFile: box.dir + "/data/raw.csv", atomically: true, encoding: .utf8)
        let edited = try run(box, [script])
        #expect(edited.ran == ["inside"] && edited.out == "[20, 4] [10, 4] [300, 4]\n")
    }

    @Test func stagesCommandSaysWhatIsStaleAndWhy() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = try setUp(box)
        let never = try box.mlsh(["stages", script])
        #expect(never.code == 0, "\(never.err)")
        #expect(never.out == """
            stage     status  why
            clean     stale   never run
            train     stale   never run
            evaluate  stale   never run

            """)
        _ = try run(box, [script])
        let fresh = try box.mlsh(["stages", script])
        #expect(fresh.out.split(separator: "\n").dropFirst().allSatisfy { $0.contains(" cached ") }, "\(fresh.out)")
        let alpha = try box.mlsh(["stages", script, "--param", "alpha=3"])
        #expect(alpha.out.contains("train     stale   param alpha changed\n"), "\(alpha.out)")
        #expect(alpha.out.contains("evaluate  stale   upstream train changed\n"))
        #expect(alpha.out.contains("clean     cached"))
        // Walking the script runs no stage: the cache did not change.
        #expect(try run(box, [script]).ran.isEmpty)

        try Self.raw(rows: 300, seed: 9).write(toFile: box.dir + "/data/raw.csv", atomically: true, encoding: .utf8)
        let data = try #require(try box.json(["stages", script, "--json"]) as? [[String: Any]])
        #expect(data.map { $0["stage"] as? String } == ["clean", "train", "evaluate"])
        #expect(data.map { $0["status"] as? String } == ["stale", "stale", "stale"])
        #expect(data[0]["why"] as? [String] == ["input data/raw.csv changed"])
        #expect(data[1]["why"] as? [String] == ["upstream clean changed"])

        let code = Self.pipeline.replacingOccurrences(of: "filter($age >= 0)", with: "filter($age >= 18)")
        try code.write(toFile: script, atomically: true, encoding: .utf8)
        let changed = try #require(try box.json(["stages", script, "--json"]) as? [[String: Any]])
        #expect((changed[0]["why"] as? [String])?.contains("code changed") == true)

        // A stage inside a block cannot be walked: the script runs, each stage reporting first.
        let nested = try box.script("""
            let raw = load("data/raw.csv")
            if true { let n = stage("count", fn() => len(raw)); print(n) }
            """, name: "nested.mls")
        let first = try box.mlsh(["stages", nested])
        #expect(first.code == 0 && first.out == "stage  status  why\ncount  stale   never run\n", "\(first.out)")
        let second = try box.mlsh(["stages", nested])
        #expect(second.out.hasPrefix("stage  status  why\ncount  cached"), "\(second.out)")
    }

    @Test func aStageInARunLogsWhetherItWasCached() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try setUp(box)
        let script = try box.script("""
            let raw = load("data/raw.csv")
            with run(experiment("p")) {
              let m = stage("train", fn() => fit(ridge(), raw, target=$y))
              log_model(m)
              register(m, "people")
            }
            """, name: "run.mls")
        _ = try run(box, [script])
        _ = try run(box, [script])
        let runs = try #require(try box.json(["runs", "p", "--json"]) as? [[String: Any]])
        #expect(runs.map { ($0["params"] as? [String: Any])?["stage_cached"] as? Bool } == [false, true])
        // Cached or not, the run records the file it used, by path and SHA-256.
        let lineage = try #require(try box.json(["lineage", "people@2", "--json"]) as? [String: Any])
        let datasets = try #require(lineage["datasets"] as? [String])
        #expect(datasets.count == 1 && datasets[0].hasPrefix("data/raw.csv (sha256:"), "\(datasets)")
        let hash = try runProgram("/usr/bin/sha256sum", [box.dir + "/data/raw.csv"]).out.prefix(64)
        #expect(datasets[0] == "data/raw.csv (sha256:\(hash))")
    }

    @Test func datasetsCommandLineageAndGC() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try setUp(box)
        let script = try box.script("""
            let raw = load("data/raw.csv")
            snapshot(raw, "people");
            snapshot(raw |> filter($age >= 0), "people");
            with run(experiment("d")) {
              let m = fit(ridge(), dataset("people@2"), target=$y)
              log_model(m)
              register(m, "d")
              let other = fit(ridge(), raw |> head(50), target=$y)
              let again = load("data/raw.csv")
            }
            """, name: "d.mls")
        _ = try run(box, [script])
        let text = try box.mlsh(["datasets"])
        #expect(text.code == 0 && text.out.hasPrefix("name    version  rows  columns  fingerprint"), "\(text.out)")
        let rows = try #require(try box.json(["datasets", "--json"]) as? [[String: Any]])
        #expect(rows.map { $0["version"] as? Int } == [1, 2])
        #expect(rows[0]["rows"] as? Int == 300 && rows[0]["columns"] as? Int == 4)
        #expect(rows.allSatisfy { ($0["fingerprint"] as? String)?.hasPrefix("sha256:") == true && ($0["bytes"] as? Int ?? 0) > 0 })
        let lineage = try #require(try box.json(["lineage", "d@1", "--json"]) as? [String: Any])
        let datasets = try #require(lineage["datasets"] as? [String])
        // The stored version by name, the loaded file by path and hash, the derived table by fingerprint.
        #expect(datasets.count == 3, "\(datasets)")
        #expect(datasets.contains("people@2"))
        #expect(datasets.contains { $0.hasPrefix("data/raw.csv (sha256:") })
        #expect(datasets.contains { $0.hasPrefix("sha256:") })

        // gc keeps every data version's blob and removes an orphan.
        let orphan = String(repeating: "ab", count: 32)
        try "orphan".write(toFile: box.store + "/artifacts/" + orphan, atomically: true, encoding: .utf8)
        let gc = try box.mlsh(["gc", "--yes", "--min-age", "0"])
        #expect(gc.code == 0 && gc.out.contains(orphan) && gc.out.contains("removed 1 unreferenced artifact"), "\(gc.out)")
        let read = try box.mlsh(["-e", #"print(shape(dataset("people@1")), shape(dataset("people")))"#])
        #expect(read.code == 0 && read.out.hasPrefix("[300, 4] ["), "\(read.err)")
    }

    /// Flips one bit in the middle of every blob in the store.
    func damageBlobs(_ box: Sandbox) throws {
        let dir = box.store + "/artifacts"
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.count == 64 {
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
            bytes[bytes.count / 2] ^= 0x10
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
    }

    @Test func aDamagedBlobIsAnErrorForADatasetAndARecomputeForAStage() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let script = try setUp(box)
        let first = try run(box, [script])
        #expect(try box.mlsh(["-e", #"snapshot(load("\#(box.dir)/data/raw.csv"), "people")"#]).code == 0)
        try damageBlobs(box)
        let read = try box.mlsh(["-e", #"dataset("people@1")"#])
        #expect(read.code == 1 && read.err.contains("store error: dataset people@1: "), "\(read.err)")
        let again = try run(box, [script])
        // The damaged blobs are set aside and written again; evaluate's value (a record) is intact.
        #expect(again.ran == ["clean", "train"] && again.cached == ["evaluate"] && again.out == first.out)
        let r = try box.mlsh(["run", script])
        #expect(!r.err.contains("cannot be read"), "\(r.err)")
        #expect(try run(box, [script]).cached == ["clean", "train", "evaluate"])
        let gc = try box.mlsh(["gc", "--yes", "--min-age", "0"])
        #expect(gc.out.contains(".damaged") && gc.out.contains("removed 3 unreferenced artifacts"), "\(gc.out)")
        let left = try FileManager.default.contentsOfDirectory(atPath: box.store + "/artifacts")
        #expect(!left.contains { $0.hasSuffix(".damaged") })
    }

    @Test func twoProcessesSnapshottingOneNameGetDistinctVersions() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let a = try box.script("for i in range(8) { snapshot(table({who: [\"a\"], i: [i]}), \"shared\"); }", name: "a.mls")
        let b = try box.script("for i in range(8) { snapshot(table({who: [\"b\"], i: [i]}), \"shared\"); }", name: "b.mls")
        #expect(try box.mlsh(["-e", "snapshot(table({who: [\"seed\"], i: [0]}), \"shared\")"]).code == 0)
        let pa = try spawnProgram(mlshBinary, ["run", a], environment: box.environment)
        let pb = try spawnProgram(mlshBinary, ["run", b], environment: box.environment)
        var status: Int32 = 0
        waitpid(pa, &status, 0)
        #expect(status == 0)
        waitpid(pb, &status, 0)
        #expect(status == 0)
        let rows = try #require(try box.json(["datasets", "--json"]) as? [[String: Any]])
        #expect(rows.map { $0["version"] as? Int } == Array(1...17).map { Optional($0) })
        // Every table is there, once.
        let read = try box.mlsh(["-e", """
            let seen = map(range(2, 18), fn(v) => dataset("shared@{v}"))
            print(len(filter(seen, fn(t) => t.who[0] == "a")), len(filter(seen, fn(t) => t.who[0] == "b")))
            """])
        #expect(read.out == "8 8\n", "\(read.err)")
    }
}
