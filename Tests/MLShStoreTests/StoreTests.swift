import Foundation
import GRDB
import Testing
import TestSupport
import MLShEngine
import MLShModels
@testable import MLShStore

/// A small fitted ridge model.
func smallModel() throws -> FittedModel {
    let t = try Table(names: ["x", "y"], columns: [Column(floats: [1, 2, 3, 4, 5, 6]), Column(floats: [2.1, 3.9, 6.2, 7.8, 10.1, 12])])
    return try fit(PipelineSpec(try ModelSpec.make(kind: "ridge", settings: [:])), on: t, target: "y", features: nil)
}

@Suite struct StoreNameTests {
    @Test(arguments: [
        ("", "experiment name must not be empty"),
        ("a/b", "experiment name 'a/b' must not contain '/'"),
        ("..", "experiment name '..' must not contain '..'"),
        ("x..y", "experiment name 'x..y' must not contain '..'"),
        ("a\0b", "experiment name must not contain a NUL character"),
        ("m@1", "experiment name 'm@1' must not contain '@'"),
        (String(repeating: "é", count: 101), "experiment name is 202 bytes long; at most 200 are allowed"),
    ])
    func refused(name: String, message: String) {
        #expect(throws: StoreError(message)) { try StoreName.validate(name, "experiment") }
    }

    @Test(arguments: ["diabetes-ridge", "a.b", "x_1", String(repeating: "a", count: 200), "élan"])
    func accepted(name: String) throws {
        try StoreName.validate(name, "experiment")
    }

    @Test(arguments: StoreBackend.allCases) func storeRefusesBadNames(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        #expect(throws: StoreError("experiment name '../etc' must not contain '/'")) { try store.experiment("../etc") }
        #expect(throws: StoreError("model name 'a/b' must not contain '/'")) {
            try store.register(name: "a/b", artifact: String(repeating: "0", count: 64), run: nil)
        }
    }
}

@Suite struct ArtifactTests {
    @Test(arguments: StoreBackend.allCases) func roundTripAndDeduplication(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let bytes = Array("hello artifacts".utf8)
        let h1 = try store.putArtifact(bytes), h2 = try store.putArtifact(bytes)
        #expect(h1 == h2)
        #expect(try store.artifact(h1) == bytes)
        switch backend {
        case .sqlite, .postgresFolder:
            let dir = try #require(store.filesFolder)
            #expect(FileManager.default.fileExists(atPath: dir + "/" + h1))
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
            #expect(leftovers.isEmpty)
            if backend == .postgresFolder {
                #expect(try store.db.read { db in try db.fetchOne(Int.self, sql: "SELECT count(*) FROM blob_sizes") } == 0)
            }
        case .postgres:
            #expect(try store.db.read { db in try db.fetchOne(Int.self, sql: "SELECT count(*) FROM blob_sizes") } == 1)
            // Larger than a chunk: stored in pieces, read back whole.
            let big = (0..<(Store.blobChunk * 2 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            #expect(try store.artifact(try store.putArtifact(big)) == big)
        }
    }

    /// A blob whose bytes no longer match its hash is an error, removed from the store, and
    /// storing the same content again writes it afresh.
    @Test func damagedBlobIsDetected() throws {
        let store = try StoreBackend.postgres.newStore()
        let hash = try store.putModel(try smallModel(), mlshVersion: "test")
        try store.db.write { db in
            try db.execute(sql: "UPDATE blobs SET bytes = ? WHERE hash = ? AND chunk = 0", arguments: [Array("x".utf8), hash])
        }
        #expect(throws: StoreError("artifact \(hash) is damaged: 1 bytes stored, \(try store.db.read { db in try db.fetchOne(Int.self, sql: "SELECT size FROM blob_sizes") } ?? 0) recorded")) {
            try store.model(hash)
        }
        try store.db.write { db in
            try db.execute(sql: "UPDATE blobs SET bytes = ? WHERE hash = ?", arguments: [Array(repeating: UInt8(7), count: 300), hash])
            try db.execute(sql: "UPDATE blob_sizes SET size = 300 WHERE hash = ?", arguments: [hash])
        }
        #expect(throws: StoreError("artifact \(hash) is corrupted: its content no longer matches its hash (removed from the store)")) {
            try store.model(hash)
        }
        #expect(try store.putModel(try smallModel(), mlshVersion: "test") == hash)
        #expect(try store.model(hash).kind == "ridge")
    }

    @Test func flippedByteIsDetected() throws {
        let store = try Store(folder: temporaryFolder("store"))
        let hash = try store.putModel(try smallModel(), mlshVersion: "test")
        let path = store.folder + "/artifacts/" + hash
        var data = try #require(FileManager.default.contents(atPath: path))
        data[data.count / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError("artifact \(hash) is corrupted: its content no longer matches its hash (moved to \(path).damaged)")) { try store.model(hash) }
        // Set aside: storing the same model again writes it afresh.
        #expect(try store.putModel(try smallModel(), mlshVersion: "test") == hash)
        #expect(try store.model(hash).kind == "ridge")
    }

    @Test(arguments: StoreBackend.allCases) func missingArtifactAndBadHash(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let h = String(repeating: "a", count: 64)
        #expect(throws: StoreError("artifact \(h) is missing from \(store.artifactsShown)")) { try store.artifact(h) }
        #expect(throws: StoreError("'../x' is not an artifact hash")) { try store.artifact("../x") }
    }

    @Test(arguments: StoreBackend.allCases) func modelFileRoundTripsAndIsDeterministic(_ backend: StoreBackend) throws {
        let m = try smallModel()
        let a = try ModelFile.encode(m, mlshVersion: "t"), b = try ModelFile.encode(m, mlshVersion: "t")
        #expect(a == b)
        #expect(Array(a.prefix(12)) == Array("MLSHMODL".utf8) + [2, 0, 0, 0])
        let text = try #require(String(bytes: try ModelFileTests.header(of: a), encoding: .utf8))
        #expect(text.hasPrefix(#"{"arrays":[],"format":"mlsh-model","kind":"ridge","mlsh_version":"t","state":{"#))
        let back = try ModelFile.decode(a)
        #expect(back.encodeParameters() == m.encodeParameters())
        let store = try backend.newStore()
        #expect(try store.putModel(m, mlshVersion: "t") == store.putModel(try smallModel(), mlshVersion: "t"))
    }
}

@Suite struct SchemaTests {
    @Test func newerStoreIsRefused() throws {
        let folder = try temporaryFolder("store")
        _ = try Store(folder: folder)
        let q = try DatabaseQueue(path: folder + "/store.sqlite")
        try q.write { db in try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-future')") }
        #expect(throws: StoreError("the store at \(folder) was written by a newer mlsh (its schema has v99-future; this mlsh's ends at v14-run-columns); upgrade mlsh to use it")) {
            _ = try Store(folder: folder)
        }
    }

    /// A store created before `v2-requests` is upgraded on open, its runs intact.
    @Test func olderStoreIsMigrated() throws {
        let folder = try temporaryFolder("store")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: folder + "/store.sqlite")
        try Store.migrator.migrate(old, upTo: "v1")
        try old.write { db in
            try db.execute(sql: "INSERT INTO experiments (name, created) VALUES ('legacy', 1)")
            try db.execute(sql: "INSERT INTO runs (experiment, name, status, started, ended) VALUES (1, 'first', 'finished', 10, 12)")
            try db.execute(sql: "INSERT INTO params (run, name, kind, value) VALUES (1, 'alpha', 'float', '0.5')")
            try db.execute(sql: "INSERT INTO metrics (run, name, step, value, at) VALUES (1, 'rmse', NULL, 1.5, 11)")
            // Running when the store was older: no process recorded, so it cannot be judged gone.
            try db.execute(sql: "INSERT INTO runs (experiment, name, status, started) VALUES (1, 'open', 'running', 20)")
        }
        #expect(try old.read { db in try db.tableExists("requests") } == false)
        try old.close()

        let store = try Store(folder: folder)
        let run = try store.run(1)
        #expect(run.experiment == "legacy" && run.name == "first" && run.status == "finished" && run.ended == 12)
        #expect(run.params.map(\.0) == ["alpha"] && run.params.map(\.1) == [.float(0.5)])
        #expect(run.metrics.map(\.0) == ["rmse"] && run.metrics.map(\.1) == [1.5])
        let (tables, applied) = try #require(store.pool).read { db in
            (try db.tableExists("requests") && db.tableExists("deployments"), try Store.migrator.appliedIdentifiers(db))
        }
        #expect(tables)
        #expect(applied == ["v1", "v2-requests", "v3-runs", "v4-datasets", "v5-feedback", "v6-alerts", "v7-retrains", "v8-request-scores", "v9-requests-index", "v10-alias-history",
                            "v11-latest-metrics", "v12-request-errors", "v13-sweeps",
                            "v14-run-columns"])
        #expect(try store.experiment("legacy") == 1)
        let open = try store.run(2)
        #expect(open.status == "running" && open.parent == nil && open.tags.isEmpty)
    }

    @Test func reopeningKeepsData() throws {
        let folder = try temporaryFolder("store")
        let id = try Store(folder: folder).experiment("e")
        #expect(try Store(folder: folder).experiment("e") == id)
    }

    @Test func locateUsesEnvironmentThenSearchesUpward() throws {
        #expect(Store.locate(environment: ["MLSH_STORE": "/x/y"], cwd: "/tmp") == "/x/y")
        let root = try temporaryFolder("store")
        try FileManager.default.createDirectory(atPath: root + "/.mlsh", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/a/b", withIntermediateDirectories: true)
        #expect(Store.locate(environment: [:], cwd: root + "/a/b") == URL(fileURLWithPath: root + "/.mlsh").standardizedFileURL.path)
    }
}

@Suite struct RunAndRegistryTests {
    @Test(arguments: StoreBackend.allCases) func metricsKeepLastValueAndHistory(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let e = try store.experiment("e")
        let r = try store.startRun(experiment: e, name: nil, params: [("alpha", .float(0.1)), ("kind", .string("a"))],
                                   script: nil, scriptHash: nil, mlshVersion: "t")
        try store.log(run: r, (0..<5).map { MetricPoint(name: "loss", step: Int64(4 - $0), value: Double($0), at: 0) })
        try store.log(run: r, [MetricPoint(name: "rmse", step: nil, value: 0.5, at: 0)])
        try store.endRun(r, error: nil)
        let rec = try store.run(r)
        #expect(rec.status == "finished")
        #expect(rec.params.map(\.1) == [.float(0.1), .string("a")])
        #expect(rec.metrics.map(\.0) == ["loss", "rmse"])
        #expect(rec.metrics[0].1 == 0)   // step 4 holds value 0
        #expect(try store.history(run: r, metric: "loss").map(\.0) == [0, 1, 2, 3, 4])
    }

    /// The latest value per metric follows one rule across batches: a stepped point at or
    /// above the highest step so far (the later one on a tie), else the latest point of a
    /// metric never stepped; a store migrated from before `latest_metrics` reads the same.
    @Test func latestMetricAcrossBatchesAndAfterMigration() throws {
        let batches: [[MetricPoint]] = [
            [MetricPoint(name: "acc", step: nil, value: 0.1, at: 0), MetricPoint(name: "loss", step: 5, value: 1, at: 0)],
            [MetricPoint(name: "loss", step: nil, value: 2, at: 0), MetricPoint(name: "acc", step: nil, value: 0.2, at: 0)],
            [MetricPoint(name: "loss", step: 5, value: 3, at: 0), MetricPoint(name: "loss", step: 3, value: 4, at: 0)],
            [MetricPoint(name: "acc", step: 0, value: 0.3, at: 0), MetricPoint(name: "auc", step: nil, value: 0.9, at: 0),
             MetricPoint(name: "acc", step: nil, value: 0.4, at: 0)],
        ]
        let expected = ["acc=0.3", "loss=3.0", "auc=0.9"]
        let store = try Store(folder: temporaryFolder("store"))
        let r = try store.startRun(experiment: try store.experiment("e"), name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        for b in batches { try store.log(run: r, b) }
        #expect(try store.run(r).metrics.map { "\($0.0)=\($0.1)" } == expected)
        #expect(try store.runRecords(experiment: nil)[0].metrics.map { "\($0.0)=\($0.1)" } == expected)

        let folder = try temporaryFolder("store")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let old = try DatabaseQueue(path: folder + "/store.sqlite")
        try Store.migrator.migrate(old, upTo: "v10-alias-history")
        try old.write { db in
            try db.execute(sql: "INSERT INTO experiments (name, created) VALUES ('e', 1)")
            try db.execute(sql: "INSERT INTO runs (experiment, status, started, ended) VALUES (1, 'finished', 10, 12)")
            for p in batches.joined() {
                try db.execute(sql: "INSERT INTO metrics (run, name, step, value, at) VALUES (1, ?, ?, ?, 11)", arguments: [p.name, p.step, p.value])
            }
        }
        try old.close()
        let migrated = try Store(folder: folder)
        #expect(try migrated.run(1).metrics.map { "\($0.0)=\($0.1)" } == expected)
        #expect(try migrated.runColumnNames(experiment: 1).metrics == ["acc", "loss", "auc"])
        try migrated.log(run: 1, [MetricPoint(name: "loss", step: 6, value: 7, at: 0)])
        #expect(try migrated.runRecords(experiment: nil)[0].metrics.map { "\($0.0)=\($0.1)" } == ["acc=0.3", "loss=7.0", "auc=0.9"])
    }

    /// A batch larger than one statement's worth of points (PostgreSQL's multi-row inserts)
    /// and the same latest-value rule: metrics in first-logged order, every point kept in
    /// its order, the latest value per metric.
    @Test(arguments: StoreBackend.allCases) func largeBatchesKeepOrderAndLatestValues(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let r = try store.startRun(experiment: try store.experiment("e"), name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let n = Store.metricsPerInsert * 2 + 17
        var batch: [MetricPoint] = []
        for i in 0..<n {
            batch.append(MetricPoint(name: "loss", step: Int64(i), value: Double(n - i), at: 0))
            if i % 3 == 0 { batch.append(MetricPoint(name: "acc", step: nil, value: Double(i), at: 0)) }
            if i == n - 5 { batch.append(MetricPoint(name: "lr", step: 7, value: 0.5, at: 0)) }
        }
        try store.log(run: r, batch)
        try store.log(run: r, [MetricPoint(name: "lr", step: 6, value: 0.25, at: 0), MetricPoint(name: "zeta", step: nil, value: 1, at: 0)])
        let lastAcc = Double((n - 1) / 3 * 3)
        #expect(try store.run(r).metrics.map { "\($0.0)=\($0.1)" } == ["loss=1.0", "acc=\(lastAcc)", "lr=0.5", "zeta=1.0"])
        let loss = try store.history(run: r, metric: "loss")
        #expect(loss.map(\.0) == (0..<n).map(Int64.init) && loss.map(\.1) == (0..<n).map { Double(n - $0) })
        #expect(try store.history(run: r, metric: "acc").map(\.1) == stride(from: 0, to: n, by: 3).map(Double.init))
        #expect(try store.history(run: r, metric: "lr").map(\.0) == [6, 7])
        // PostgreSQL reads a history through a cursor, rowsPerFetch rows at a time: a history
        // of exactly two fetches ends on an empty third.
        let even = PostgresStoreSQL.rowsPerFetch * 2
        try store.log(run: r, (0..<even).map { MetricPoint(name: "even", step: nil, value: Double($0), at: 0) })
        let evenBack = try store.history(run: r, metric: "even")
        #expect(evenBack.count == even && evenBack.allSatisfy { Double($0.0) == $0.1 })
    }

    /// An experiment's param and metric names, each in the order first recorded, whichever
    /// run recorded them; another experiment's are its own.
    @Test(arguments: StoreBackend.allCases) func columnNamesInFirstRecordedOrder(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let e = try store.experiment("e"), other = try store.experiment("o")
        let r1 = try store.startRun(experiment: e, name: nil, params: [("b", .int(1)), ("a", .int(2))], script: nil, scriptHash: nil, mlshVersion: "t")
        try store.log(run: r1, [MetricPoint(name: "z", step: nil, value: 1, at: 0), MetricPoint(name: "y", step: nil, value: 1, at: 0)])
        let r2 = try store.startRun(experiment: e, name: nil, params: [("a", .int(3)), ("c", .string("x"))], script: nil, scriptHash: nil, mlshVersion: "t")
        try store.log(run: r2, [MetricPoint(name: "y", step: 0, value: 1, at: 0), MetricPoint(name: "x", step: 0, value: 1, at: 0)])
        try store.addParam(run: r2, name: "d", value: .bool(true))
        _ = try store.startRun(experiment: other, name: nil, params: [("q", .int(1))], script: nil, scriptHash: nil, mlshVersion: "t")
        let names = try store.runColumnNames(experiment: e)
        #expect(names.params == ["b", "a", "c", "d"] && names.metrics == ["z", "y", "x"])
        let others = try store.runColumnNames(experiment: other)
        #expect(others.params == ["q"] && others.metrics.isEmpty)
    }

    @Test(arguments: StoreBackend.allCases) func nanMetricsReadBackAsNaN(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let r = try store.startRun(experiment: try store.experiment("e"), name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        try store.log(run: r, [MetricPoint(name: "loss", step: 0, value: 1, at: 0), MetricPoint(name: "loss", step: 1, value: .nan, at: 0)])
        #expect(try store.run(r).metrics[0].1.isNaN)
        #expect(try store.history(run: r, metric: "loss").map(\.1.isNaN) == [false, true])
    }

    /// All runs in one pass read the same records as `run(_:)` reads one by one.
    @Test(arguments: StoreBackend.allCases) func allRunsInOnePassMatchRunByRun(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let a = try store.experiment("a"), b = try store.experiment("b")
        var ids: [Int64] = []
        for (i, e) in [a, b, a, b, b].enumerated() {
            let r = try store.startRun(experiment: e, name: i == 2 ? "named" : nil, params: [("i", .int(Int64(i))), ("s", .string("x"))],
                                       script: "print(\(i))", scriptHash: "h\(i)", mlshVersion: "t")
            try store.log(run: r, [MetricPoint(name: "loss", step: 1, value: Double(i), at: 0),
                                   MetricPoint(name: "loss", step: 0, value: 9, at: 0),
                                   MetricPoint(name: "acc", step: nil, value: 0.5, at: 0),
                                   MetricPoint(name: "acc", step: nil, value: 0.25 * Double(i), at: 0)])
            try store.recordDataset(run: r, fingerprint: "fp\(i % 2)")
            if i != 4 { try store.endRun(r, error: i == 3 ? "boom" : nil) }
            ids.append(r)
        }
        // Params, tags and metrics recorded after later runs began: each run's rows are
        // stored apart, and still listed in recorded order.
        for (k, r) in [ids[4], ids[0], ids[4], ids[2]].enumerated() {
            try store.addParam(run: r, name: "late\(k)", value: .int(Int64(k)))
            try store.setTag(run: r, name: "t\(k)", value: "v\(k)")
            try store.log(run: r, [MetricPoint(name: "m\(k)", step: nil, value: Double(k), at: 0)])
        }
        func describe(_ r: RunRecord) -> String {
            "\(r.id) \(r.experiment) \(r.name ?? "-") \(r.status) \(r.error ?? "-") \(r.started) \(r.ended.map { "\($0)" } ?? "-") "
                + "\(r.script ?? "-") \(r.scriptHash ?? "-") \(r.mlshVersion ?? "-") \(r.params.map { "\($0.0)=\($0.1.text)" }) "
                + "\(r.metrics.map { "\($0.0)=\($0.1)" }) \(r.datasets) \(r.tags.map { "\($0.0)=\($0.1)" }) \(r.parent ?? 0)"
        }
        let all = try store.runRecords(experiment: nil)
        #expect(all.map(\.id) == ids)
        #expect(all.map(describe) == (try ids.map { id throws(StoreError) in describe(try store.run(id)) }))
        #expect(try store.runRecords(experiment: b).map(\.id) == [ids[1], ids[3], ids[4]])
        #expect(all[0].metrics.map(\.1) == [0, 0, 1])
        #expect(all[4].params.map(\.0) == ["i", "s", "late0", "late2"])
        #expect(all[4].tags.map(\.0) == ["t0", "t2"])
        #expect(all[4].metrics.map(\.0) == ["loss", "acc", "m0", "m2"])
    }

    /// Rows of per-run tables, however they arrive, are grouped per run in key order.
    @Test func runGroupsPutRowsBackInKeyOrder() {
        var groups = Store.RunGroups<String>()
        for (run, key) in [(1, 5), (1, 2), (2, 3), (1, 9), (3, 1), (2, 4), (1, 7)] as [(Int64, Int64)] {
            groups.add(run: run, key: key, "\(run):\(key)")
        }
        groups.flush()
        #expect(groups.byRun == [1: ["1:2", "1:5", "1:7", "1:9"], 2: ["2:3", "2:4"], 3: ["3:1"]])
    }

    /// A run records this process; once its process is gone (no such pid, or the pid now
    /// belongs to a process started at another time) the next open or listing marks it
    /// killed, its end at its last logged point. A run of a live process stays running.
    @Test func runsOfGoneProcessesAreMarkedKilled() throws {
        let folder = try temporaryFolder("store")
        let store = try Store(folder: folder)
        let e = try store.experiment("e")
        let mine = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let row = try #require(store.pool).read { db in try Row.fetchOne(db, sql: "SELECT host, pid, pid_start FROM runs WHERE id = ?", arguments: [mine]) }
        #expect(row?["host"] == RunProcess.host && row?["pid"] == Int64(getpid()))
        #expect((row?["pid_start"] as String?)?.hasPrefix("pid:[") == true)

        // A real child that has exited: its pid is gone.
        var pid = pid_t()
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/true", nil, nil, argv, nil) == 0)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let dead = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        try store.log(run: dead, [MetricPoint(name: "loss", step: 0, value: 1, at: 1e9)])
        let reused = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let elsewhere = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let identity = RunProcess.identity(Int64(getpid())) ?? ""
        try #require(store.pool).write { db in
            try db.execute(sql: "UPDATE runs SET pid = ?, started = 5e8 WHERE id = ?", arguments: [pid, dead])
            // This process's pid, recorded for a process started at another time.
            try db.execute(sql: "UPDATE runs SET pid_start = ? WHERE id = ?", arguments: [identity + "0", reused])
            try db.execute(sql: "UPDATE runs SET pid = ?, host = 'another-host' WHERE id = ?", arguments: [pid, elsewhere])
        }
        let listed = try Store(folder: folder).runRecords(experiment: e)
        #expect(listed.map(\.status) == ["running", "killed", "killed", "running"])
        #expect(listed[1].error == "its process (pid \(pid) on \(RunProcess.host)) ended while the run was open")
        #expect(listed[1].ended == 1e9)
        #expect(try store.run(mine).status == "running")
    }

    /// Tags (a later value replaces an earlier one), the parent run, and artifacts (the
    /// latest under each name) read back.
    @Test(arguments: StoreBackend.allCases) func tagsParentAndArtifacts(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let e = try store.experiment("e")
        let parent = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let child = try store.startRun(experiment: e, name: nil, params: [], parent: parent, script: nil, scriptHash: nil, mlshVersion: "t")
        try store.setTag(run: child, name: "note", value: "a")
        try store.setTag(run: child, name: "stage", value: "dev")
        try store.setTag(run: child, name: "note", value: "b")
        for (name, text) in [("t", "x\n1\n"), ("s", "<svg/>"), ("t", "x\n2\n")] {
            let bytes = Array(text.utf8)
            try store.attach(run: child, name: name, hash: try store.putArtifact(bytes), kind: name == "t" ? "csv" : "svg", size: bytes.count)
        }
        try store.killRun(child, reason: "killed by SIGTERM")
        try store.endRun(parent, error: nil)
        try store.killRun(parent, reason: "x")
        let rec = try store.run(child)
        #expect(rec.parent == parent && rec.tags.map { "\($0.0)=\($0.1)" } == ["note=b", "stage=dev"])
        #expect(rec.status == "killed" && rec.error == "killed by SIGTERM" && rec.ended != nil)
        #expect(try store.runRecords(experiment: e).map { "\($0.parent ?? 0) \($0.tags.count)" } == ["0 0", "\(parent) 2"])
        let arts = try store.artifacts(run: child)
        #expect(arts.map(\.name) == ["t", "s"] && arts.map(\.kind) == ["csv", "svg"])
        #expect(try store.artifact(arts[0].hash) == Array("x\n2\n".utf8))
        // killRun does not overwrite a run that already ended.
        #expect(try store.run(parent).status == "finished")
    }

    @Test(arguments: StoreBackend.allCases) func failedRunKeepsError(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let r = try store.startRun(experiment: try store.experiment("e"), name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        try store.endRun(r, error: "boom")
        let rec = try store.run(r)
        #expect(rec.status == "failed" && rec.error == "boom")
    }

    @Test(arguments: StoreBackend.allCases) func registryResolvesVersionsAliasesAndLatest(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let h = try store.putModel(try smallModel(), mlshVersion: "t")
        _ = try store.register(name: "m", artifact: h, run: nil)
        let v2 = try store.register(name: "m", artifact: h, run: nil)
        #expect(v2.label == "m@2")
        try store.setAlias(name: "m", version: 1, alias: "production")
        #expect(try store.resolve("m@production").version == 1)
        #expect(try store.resolve("m@latest").version == 2)
        #expect(try store.resolve("m@2").version == 2)
        #expect(try store.resolve("m").version == 2)
        #expect(throws: StoreError("unknown model version 'm@7' (versions 1-2; aliases: production)")) { try store.resolve("m@7") }
        #expect(throws: StoreError("no model named 'zz' is registered")) { try store.resolve("zz@1") }
        #expect(throws: StoreError("'latest' cannot be an alias: 'latest' and numbers already select versions")) {
            try store.setAlias(name: "m", version: 1, alias: "latest")
        }
    }

    /// Each move of an alias is kept: from where, to where, when and by whom; pointing an
    /// alias where it already points is no move.
    @Test(arguments: StoreBackend.allCases) func aliasHistoryKeepsEveryMove(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let h = try store.putModel(try smallModel(), mlshVersion: "t")
        _ = try store.register(name: "m", artifact: h, run: nil)
        _ = try store.register(name: "m", artifact: h, run: nil)
        let before = Date().timeIntervalSince1970
        try store.setAlias(name: "m", version: 1, alias: "production", by: "ann")
        try store.setAlias(name: "m", version: 2, alias: "production", by: "bob")
        try store.setAlias(name: "m", version: 2, alias: "production", by: "bob")
        try store.setAlias(name: "m", version: 1, alias: "staging")
        let moves = try store.aliasHistory(name: "m")
        #expect(moves.map(\.alias) == ["production", "production", "staging"])
        #expect(moves.map(\.version) == [1, 2, 1])
        #expect(moves.map(\.previous) == [nil, 1, nil])
        #expect(moves.map(\.by) == ["ann", "bob", Store.actor])
        #expect(Store.actor.hasSuffix("@" + RunProcess.host))
        #expect(moves.allSatisfy { $0.at >= before && $0.at <= Date().timeIntervalSince1970 })
        #expect(try store.aliasHistory(name: "other").isEmpty)
    }
}

@Suite struct RequestLogTests {
    /// A batch binds each row's fields and its slices of the shared text; names change
    /// between rows (a traffic split) and back.
    @Test(arguments: StoreBackend.allCases) func batchReadsBackRowByRow(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["a@1", "b@2"])
        var batch = RequestLogBatch()
        let rows: [(String, Int64, String, String, Bool)] = [
            ("a", 1, #"{"x":1}"#, "0.5", false), ("b", 2, #"{"x":"é\"q"}"#, #""yes""#, false),
            ("b", 2, "{}", "null", true), ("a", 1, #"{"x":3}"#, "2", false),
            // Texts PostgreSQL's COPY stream must escape: backslashes, tab, newline, carriage
            // return, and a text that reads as its NULL marker.
            ("a", 1, "{\"p\":\"C:\\\\dir\\\\\\n\",\"t\":\"a\tb\nc\rd\"}", #"\N"#, false),
        ]
        for (k, (name, version, inputs, prediction, shadow)) in rows.enumerated() {
            let start = batch.text.count
            batch.text += Array(inputs.utf8)
            let mid = batch.text.count
            batch.text += Array(prediction.utf8)
            batch.rows.append(.init(deployment: d, name: name, version: version, at: 100 + Double(k), latencyMs: 0.25 * Double(k),
                                    shadow: shadow, inputs: start..<mid, prediction: mid..<batch.text.count, rid: Int64(k + 1)))
        }
        try store.logRequests(batch)
        let want = rows.enumerated().map { k, r in
            RequestRecord(deployment: d, name: r.0, version: r.1, at: 100 + Double(k), latencyMs: 0.25 * Double(k),
                          inputs: r.2, prediction: r.3, shadow: r.4, rid: Int64(k + 1))
        }
        #expect(rows[4].2.contains("\\\\") && rows[4].2.contains("\t") && rows[4].2.contains("\r") && rows[4].3 == "\\N")
        #expect(try store.requests(.deployment(d)) == want.filter { !$0.shadow })
        #expect(try store.requests(.deployment(d), shadow: true) == want.filter { $0.shadow })
        #expect(try store.requests(.model("b")) == [want[1]])
        #expect(want[1].id == "\(d)-2")
        // Labels join by id; a label stored again replaces the earlier one.
        try store.storeLabels([(d, 1, "1.5"), (d, 4, "2"), (d, 4, "3")])
        #expect(try store.requests(.deployment(d), labeled: true).map { [$0.id, $0.label] } == [["\(d)-1", "1.5"], ["\(d)-4", "3"]])
        #expect(try store.knownRequests([(d, 1), (d, 9), (d + 1, 1)]) == [true, false, false])
        #expect(try store.knownRequests([(d, 9)], issued: [d: 9]) == [true])
        // The same rows as columns: answered ones only, versions in order of first answer.
        let times = try store.requestTimes(deployment: d)
        #expect(times.at == [100, 101, 103, 104] && times.latencyMs == [0, 0.25, 0.75, 1] && times.shadowRows == 1)
        #expect(times.versions == ["a@1", "b@2"] && times.version == [0, 1, 0, 0])
        #expect(try store.requestInputs(rowids: times.rowids.dropLast().reversed() + [999]) == [#"{"x":3}"#, #"{"x":"é\"q"}"#, #"{"x":1}"#, ""])
        let labeled = try store.labeledRequests(deployment: d, limit: 10)
        #expect(labeled.map(\.version) == ["a@1", "a@1"] && labeled.map(\.row.label) == ["1.5", "3"] && labeled.map(\.at) == [100, 103])
    }

    /// Refused requests: logged in one transaction, read back oldest first (the newest
    /// `latest`), and as times and statuses alone; route and reason are cut short.
    @Test(arguments: StoreBackend.allCases) func refusedRequestsRoundTrip(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["a@1"])
        let other = try store.startDeployment(url: "http://127.0.0.1:2", models: ["a@1"])
        let long = String(repeating: "<x>", count: 200)
        try store.logRequestErrors([
            RequestErrorRecord(deployment: d, at: 10, status: 422, route: "/v1/models/a/predict", model: "a@1", code: "schema_mismatch", reason: long),
            RequestErrorRecord(deployment: d, at: 12, status: 404, route: "/" + long, model: nil, code: "not_found", reason: "no route"),
            RequestErrorRecord(deployment: other, at: 11, status: 500, route: "/x", model: nil, code: "internal", reason: "other"),
        ])
        let all = try store.requestErrors(deployment: d)
        #expect(all.map(\.status) == [422, 404] && all[0].model == "a@1" && all[1].model == nil)
        #expect(all[0].reason.count == RequestErrorRecord.maxReason && all[1].route.count == RequestErrorRecord.maxReason)
        #expect(try store.requestErrors(deployment: d, latest: 1).map(\.code) == ["not_found"])
        #expect(try store.requestErrorTimes(deployment: d).map { [$0.at, Double($0.status)] } == [[10, 422], [12, 404]])
    }

    /// The pause runs between rows, every `every` rows, inside the batch's transaction
    /// (another connection sees none of the rows until the batch is done).
    @Test func pausesBetweenRows() throws {
        let folder = try temporaryFolder("store")
        let store = try Store(folder: folder)
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["a@1"])
        let text = Array(#"{"x":1}0.5"#.utf8)
        let row = RequestLogBatch.Row(deployment: d, name: "a", version: 1, at: 1, latencyMs: 1, shadow: false, inputs: 0..<7, prediction: 7..<10)
        let reader = try Store(folder: folder)
        var seen: [Int] = []
        try store.logRequests(RequestLogBatch(rows: Array(repeating: row, count: 50), text: text), pause: (16, {
            seen.append((try? reader.requests(.deployment(d)).count) ?? -1)
        }))
        #expect(seen == [0, 0, 0])   // after rows 16, 32 and 48
        #expect(try reader.requests(.deployment(d)).count == 50)
    }

    /// Rows go in several to a statement, never across a pause, and come back in order with
    /// their own values, whatever the pause interval.
    @Test(arguments: StoreBackend.allCases) func manyRowsPerStatementKeepOrderAndPauses(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["a@1", "b@2"])
        for every in [5, 16, 40, 0, -1] {
            var text: [UInt8] = []
            var rows: [RequestLogBatch.Row] = []
            for k in 0..<37 {
                let input = Array(#"{"x":\#(k)}"#.utf8), prediction = Array("\(Double(k) / 4)".utf8)
                let i = text.count..<(text.count + input.count)
                text += input
                let p = text.count..<(text.count + prediction.count)
                text += prediction
                rows.append(.init(deployment: d, name: k % 3 == 0 ? "b" : "a", version: k % 3 == 0 ? 2 : 1, at: Double(k),
                                  latencyMs: Double(k) / 10, shadow: k == 36, inputs: i, prediction: p))
            }
            let before = try store.requests(.deployment(d)).count
            var paused: [Int] = []
            let reader = try Store(folder: store.location)
            try store.logRequests(RequestLogBatch(rows: rows, text: text), pause: every == 0 ? nil : (every, {   // -1: never
                paused.append((try? reader.requests(.deployment(d)).count) ?? -1)
            }))
            #expect(paused.count == (every <= 0 ? 0 : 36 / every), "every \(every)")
            #expect(paused.allSatisfy { $0 == before }, "every \(every): \(paused)")
            let logged = try store.requests(.deployment(d)).suffix(36)
            #expect(logged.map(\.inputs) == (0..<36).map { #"{"x":\#($0)}"# }, "every \(every)")
            #expect(logged.map(\.prediction) == (0..<36).map { "\(Double($0) / 4)" })
            #expect(logged.map(\.name) == (0..<36).map { $0 % 3 == 0 ? "b" : "a" })
            #expect(logged.map(\.version) == (0..<36).map { $0 % 3 == 0 ? 2 : 1 })
            #expect(logged.map(\.at) == (0..<36).map { Double($0) } && logged.map(\.latencyMs) == (0..<36).map { Double($0) / 10 })
            #expect(try store.requests(.deployment(d), shadow: true).last?.inputs == #"{"x":36}"#)
        }
    }

    /// A row whose slice lies outside the text (or a batch with no text) is refused, and
    /// the batch is not half written.
    @Test(arguments: StoreBackend.allCases) func aBadSliceWritesNothing(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["a@1"])
        let text = Array(#"{"x":1}0.5"#.utf8)
        let good = RequestLogBatch.Row(deployment: d, name: "a", version: 1, at: 1, latencyMs: 1, shadow: false, inputs: 0..<7, prediction: 7..<10)
        var bad = good
        bad.prediction = 7..<11
        #expect(throws: StoreError.self) { try store.logRequests(RequestLogBatch(rows: [good, bad], text: text)) }
        #expect(throws: StoreError.self) { try store.logRequests(RequestLogBatch(rows: [good], text: [])) }
        #expect(try store.requests(.deployment(d)).isEmpty)
        try store.logRequests(RequestLogBatch(rows: [good], text: text))
        #expect(try store.requests(.deployment(d)).map(\.prediction) == ["0.5"])
    }
}
