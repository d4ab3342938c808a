import Foundation
import MLShStore
import Testing
import TestSupport

/// `mlsh store copy FROM TO` through the real binary: a folder store with runs (metrics
/// with steps), models and aliases, data versions, a stage, a sweep and a request log,
/// copied to a PostgreSQL database and from there to a new folder. Every listing reads the
/// same from all three, and the copies keep working (a new run, a new version).
@Suite struct StoreCopyCommandTests {
    static let project = """
        let e = experiment("diabetes")
        let d = dataset("diabetes")
        let [tr, te] = split(d, 0.8, seed=1)
        for alpha in [0.1, 1.0] {
          with run(e, alpha=alpha) {
            let m = fit(ridge(alpha=alpha), tr, target=$progression)
            for i in range(3) { log(step=i, loss=1.0 / (i + 1)) }
            log(evaluate(m, te))
            log_model(m)
            register(m, "diab")
          }
        }
        alias(model("diab@2"), "production")
        print(snapshot(tr, "train"))
        print(snapshot(te, "test"))
        let s = stage("prep", fn() => d |> filter($age > 0) |> derive(ratio = $bmi / $bp))
        print(len(s))
        """

    func mlsh(_ args: [String], store: String, in dir: String) throws -> (code: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = store
        env["SWIFT_BACKTRACE"] = "enable=no"
        return try runProgram(mlshBinary, args, environment: env)
    }

    /// What the store's listings print.
    func listings(_ store: String, _ dir: String) throws -> [String] {
        try [["runs", "diabetes"], ["runs", "sweep"], ["models"], ["datasets"], ["lineage", "diab@1"], ["sweeps", "1"],
             ["-e", "print(requests(\"diab\") |> select($prediction, $model, $id))"],
             ["-e", "print(history(1, \"loss\"))"]].map { args in
            let r = try mlsh(args, store: store, in: dir)
            #expect(r.code == 0, "\(args): \(r.err)")
            return r.out
        }
    }

    @Test func aFolderToPostgreSQLAndBack() throws {
        let cluster: PostgresCluster
        switch PostgresCluster.shared {
        case .success(let c): cluster = c
        case .failure(let e): throw e
        }
        let dir = try temporaryFolder("storecopy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let folder = dir + "/.mlsh"
        try Self.project.write(toFile: dir + "/project.mls", atomically: true, encoding: .utf8)
        try """
            let m = fit(ridge(alpha=param("alpha", 1.0)), dataset("diabetes"), target=$progression)
            log(rmse = evaluate(m, dataset("diabetes")).rmse)
            """.write(toFile: dir + "/sweep.mls", atomically: true, encoding: .utf8)
        var r = try mlsh(["run", dir + "/project.mls"], store: folder, in: dir)
        #expect(r.code == 0, "\(r.err)")
        r = try mlsh(["sweep", dir + "/sweep.mls", "--grid", "alpha=0.1,1,10"], store: folder, in: dir)
        #expect(r.code == 0, "\(r.err)")
        // Two requests logged by a server of the folder store.
        r = try mlsh(["-e", """
            let dep = deploy(model("diab@production"), port=0)
            print(len(send(dep, dataset("diabetes") |> head(2) |> drop($progression))))
            undeploy(dep)
            """], store: folder, in: dir)
        #expect(r.code == 0, "\(r.err)")
        let before = try listings(folder, dir)

        let url = try cluster.database("copy")
        r = try mlsh(["store", "copy", folder, url], store: folder, in: dir)
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.hasPrefix("copied \(folder) to \(Store.shown(url)): "), "\(r.out)")
        #expect(r.out.contains("row counts and blob hashes checked"))
        #expect(!r.out.contains("secret"))
        #expect(try listings(url, dir) == before)

        let back = dir + "/back"
        r = try mlsh(["store", "copy", url, back], store: folder, in: dir)
        #expect(r.code == 0, "\(r.err)")
        #expect(try listings(back, dir) == before)

        // The copies go on: a new run gets the next id, a new version the next number.
        for copy in [url, back] {
            r = try mlsh(["run", dir + "/project.mls"], store: copy, in: dir)
            #expect(r.code == 0, "\(copy): \(r.err)")
            let s = try Store(folder: copy)
            #expect(try s.versions(name: "diab").map(\.version) == [1, 2, 3, 4])
            #expect(try s.runRecords(experiment: nil).map(\.id).sorted() == Array(1...(s.runRecords(experiment: nil).count)).map(Int64.init))
        }

        // Into a store that is not empty, or from nowhere: one line, nothing written.
        r = try mlsh(["store", "copy", folder, url], store: folder, in: dir)
        #expect(r.code == 1 && r.err.hasPrefix("store error: the store at \(Store.shown(url)) is not empty"), "\(r.err)")
        r = try mlsh(["store", "copy", folder, back], store: folder, in: dir)
        #expect(r.code == 1 && r.err == "store error: \(back) already exists; a store is copied into a new folder\n", "\(r.err)")
        r = try mlsh(["store", "copy", dir + "/nothing", dir + "/new"], store: folder, in: dir)
        #expect(r.code == 1 && r.err == "store error: there is no store at \(dir)/nothing\n", "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/new"))
    }
}
