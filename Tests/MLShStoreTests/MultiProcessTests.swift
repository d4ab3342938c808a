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
    /// Eight `mlsh -e` processes log into one store (named by `MLSH_STORE`) at once, each
    /// two runs with params, stepped metrics and a final metric; every run and every point
    /// arrives, in order.
    @Test(arguments: StoreBackend.allCases) func eightProcessesShareOneStore(_ backend: StoreBackend) throws {
        let location = try backend.newLocation()
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = location
        env["SWIFT_BACKTRACE"] = "enable=no"
        let results = Collected()
        let environment = env
        DispatchQueue.concurrentPerform(iterations: 8) { k in
            let code = """
                let e = experiment("mp")
                for r in range(2) {
                  with run(e, worker=\(k), round=r) {
                    for i in range(3000) { log(loss=i * 1.0 + \(k), step=i) }
                    log(final=\(k) * 10 + r)
                  }
                }
                """
            do { results.add(try runProgram(mlshBinary, ["-e", code], environment: environment)) } catch {
                results.add((-1, "", "\(error)"))
            }
        }
        for r in results.all { #expect(r.code == 0, "mlsh failed: \(r.err)") }
        let store = try Store(folder: location)
        let ids = try store.runIDs(experiment: try store.existingExperiment("mp"))
        #expect(ids.count == 16)
        var seen: Set<String> = []
        for id in ids {
            let r = try store.run(id)
            #expect(r.status == "finished")
            guard let worker = r.params.first(where: { $0.0 == "worker" })?.1.text, let k = Double(worker),
                  let round = r.params.first(where: { $0.0 == "round" })?.1.text else {
                Issue.record("run \(id) lacks its params: \(r.params)"); continue
            }
            seen.insert(worker + "/" + round)
            let history = try store.history(run: id, metric: "loss")
            #expect(history.map(\.0) == (0..<3000).map { Int64($0) })
            #expect(history.map(\.1) == (0..<3000).map { Double($0) + k })
            #expect(r.metrics.first(where: { $0.0 == "final" })?.1 == k * 10 + (Double(round) ?? -1))
        }
        #expect(seen.count == 16)
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
