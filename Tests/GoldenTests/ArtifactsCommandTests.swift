import Foundation
import MLShStore
import Testing
import TestSupport

/// `--artifacts PATH` and `use_store(..., artifacts=)` through the real binary: the worker
/// processes a sweep starts write their models to the folder their parent was given (not
/// the one the database recorded), and a folder store given one is one line.
@Suite struct ArtifactsCommandTests {
    static let train = """
        let m = fit(ridge(alpha=param("alpha", 1.0)), dataset("diabetes"), target=$progression)
        log(rmse = evaluate(m, dataset("diabetes")).rmse)
        log_model(m)
        sleep(0.3)
        """

    func database() throws -> String {
        switch PostgresCluster.shared {
        case .success(let c): return try c.database("artifactscli")
        case .failure(let e): throw e
        }
    }

    func mlsh(_ args: [String], store: String) throws -> (code: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = store
        env["MLSH_ARTIFACTS"] = nil
        env["SWIFT_BACKTRACE"] = "enable=no"
        return try runProgram(mlshBinary, args, environment: env)
    }

    /// The models of every run of the experiment `train`.
    func models(_ store: Store) throws -> [String] {
        let runs = try store.runRecords(experiment: try store.existingExperiment("train"))
        return try runs.map { r in try #require(try store.runArtifact(run: r.id, name: "model")) }
    }

    /// `mlsh sweep --artifacts PATH --workers 2`: the workers (child processes) get the
    /// folder, which overrides the one the database recorded.
    @Test func sweepWorkersWriteToTheFolderGiven() throws {
        let dir = try temporaryFolder("artifactscli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = try database(), recorded = dir + "/recorded", given = dir + "/given"
        for d in [recorded, given] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
        _ = try Store(folder: url, artifacts: recorded)
        try Self.train.write(toFile: dir + "/train.mls", atomically: true, encoding: .utf8)
        let r = try mlsh(["sweep", dir + "/train.mls", "--grid", "alpha=0.1,1,10,100", "--workers", "2", "--artifacts", given], store: url)
        #expect(r.code == 0, "\(r.out)\n\(r.err)")
        let store = try Store(folder: url)
        let trials = try store.trials(sweep: 1)
        #expect(trials.map(\.status) == Array(repeating: "finished", count: 4))
        #expect(Set(trials.compactMap(\.worker)).count == 2)
        let models = try models(store)
        #expect(models.count == 4)
        let written = try FileManager.default.contentsOfDirectory(atPath: given)
        #expect(Set(written) == Set(models))
        #expect(try FileManager.default.contentsOfDirectory(atPath: recorded).isEmpty)
    }

    /// `use_store(URL, artifacts=PATH)` in a script: the sweep's worker processes get
    /// `MLSH_ARTIFACTS` from the store, not from their parent's environment.
    @Test func useStoreGivesTheFolderToSweepWorkers() throws {
        let dir = try temporaryFolder("artifactscli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let url = try database(), given = dir + "/share"
        try FileManager.default.createDirectory(atPath: given, withIntermediateDirectories: true)
        try Self.train.write(toFile: dir + "/train.mls", atomically: true, encoding: .utf8)
        try """
            use_store("\(url)", artifacts="\(given)")
            let s = sweep("train", "\(dir)/train.mls", grid={alpha: [0.1, 1, 10]}, workers=2)
            print(s.done)
            """.write(toFile: dir + "/main.mls", atomically: true, encoding: .utf8)
        // The environment's store is another (a folder): the script's use_store decides.
        let r = try mlsh(["run", dir + "/main.mls"], store: dir + "/.mlsh")
        #expect(r.code == 0 && r.out == "true\n", "\(r.out)\n\(r.err)")
        let store = try Store(folder: url)
        #expect(store.artifactsFolder == given)
        let models = try models(store)
        #expect(models.count == 3)
        #expect(Set(try FileManager.default.contentsOfDirectory(atPath: given)) == Set(models))
    }

    /// A folder store given an artifacts folder: one line saying why, exit 1.
    @Test func aFolderStoreRefusesTheOption() throws {
        let dir = try temporaryFolder("artifactscli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/.mlsh", withIntermediateDirectories: true)
        _ = try Store(folder: dir + "/.mlsh")
        let r = try mlsh(["runs", "--artifacts", "/srv/share"], store: dir + "/.mlsh")
        #expect(r.code == 1)
        #expect(r.err == "store error: an artifacts folder (/srv/share) is for a PostgreSQL store; the store at \(dir)/.mlsh is a folder, whose artifacts are in \(dir)/.mlsh/artifacts\n")
        let script = try mlsh(["-e", "use_store(\"\(dir)/.mlsh\", artifacts=\"/srv/share\")"], store: dir + "/.mlsh")
        #expect(script.code == 1)
        #expect(script.err.contains("an artifacts folder (/srv/share) is for a PostgreSQL store"), "\(script.err)")
    }

    /// `mlsh store copy FROM URL --artifacts PATH`: the new PostgreSQL store's blobs are
    /// files in PATH, recorded for later opens; a folder target refuses the option.
    @Test func storeCopyIntoADatabaseWithAFolder() throws {
        let dir = try temporaryFolder("artifactscli")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let source = try Store(folder: dir + "/.mlsh")
        let model = try source.putArtifact(Array("model bytes".utf8))
        _ = try source.register(name: "m", artifact: model, run: nil)
        let url = try database(), share = dir + "/share"
        try FileManager.default.createDirectory(atPath: share, withIntermediateDirectories: true)
        let r = try mlsh(["store", "copy", dir + "/.mlsh", url, "--artifacts", share], store: dir + "/.mlsh")
        #expect(r.code == 0, "\(r.err)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: share) == [model])
        let copy = try Store(folder: url)
        #expect(copy.artifactsFolder == share)
        #expect(try copy.artifact(copy.resolve("m@1").artifact) == Array("model bytes".utf8))
        let refused = try mlsh(["store", "copy", dir + "/.mlsh", dir + "/copy", "--artifacts", share], store: dir + "/.mlsh")
        #expect(refused.code == 1)
        #expect(refused.err == "store error: --artifacts names a PostgreSQL store's shared folder; the new store \(dir)/copy is a folder, whose artifacts are its own\n")
        #expect(!FileManager.default.fileExists(atPath: dir + "/copy"))
    }
}
