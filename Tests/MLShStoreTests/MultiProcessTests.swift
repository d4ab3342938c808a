import Foundation
import Testing
import TestSupport
@testable import MLShStore

/// Results gathered from several threads.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [(code: Int32, out: String, err: String)] = []
    func add(_ r: (code: Int32, out: String, err: String)) { lock.lock(); items.append(r); lock.unlock() }
    var all: [(code: Int32, out: String, err: String)] { lock.lock(); defer { lock.unlock() }; return items }
}

@Suite struct MultiProcessTests {
    /// Four `mlsh -e` processes log into one store (named by `MLSH_STORE`) at once;
    /// every run and every point arrives.
    @Test func fourProcessesShareOneStore() throws {
        let folder = try temporaryFolder("store")
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = folder
        env["SWIFT_BACKTRACE"] = "enable=no"
        let results = Collected()
        let environment = env
        DispatchQueue.concurrentPerform(iterations: 4) { k in
            let code = """
                let e = experiment("mp"); with run(e, worker=\(k)) { for i in range(3000) { log(loss=i * 1.0, step=i) } }
                """
            do { results.add(try runProgram(mlshBinary, ["-e", code], environment: environment)) } catch {
                results.add((-1, "", "\(error)"))
            }
        }
        for r in results.all { #expect(r.code == 0, "mlsh failed: \(r.err)") }
        let store = try Store(folder: folder)
        let ids = try store.runIDs(experiment: try store.existingExperiment("mp"))
        #expect(ids.count == 4)
        var workers: [ParamValue] = []
        for id in ids {
            let r = try store.run(id)
            #expect(r.status == "finished")
            #expect(try store.history(run: id, metric: "loss").count == 3000)
            workers += r.params.map(\.1)
        }
        #expect(Set(workers.map(\.text)) == ["0", "1", "2", "3"])
    }

    /// `--store` names the store folder for `-e` and for `run`.
    @Test func storeOption() throws {
        let folder = try temporaryFolder("store")
        let e = try runProgram(mlshBinary, ["--store", folder, "-e", "experiment(\"cli\").name"])
        #expect(e.code == 0, "\(e.err)")
        #expect(e.out == "\"cli\"\n")
        let script = folder + "-script.mls"
        try "print(experiment(\"cli\").id)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let r = try runProgram(mlshBinary, ["run", "--store", folder, script])
        #expect(r.out == "1\n", "\(r.err)")
        #expect(FileManager.default.fileExists(atPath: folder + "/store.sqlite"))
    }
}
