import Foundation
import MLShLanguage
import MLShRuntime
import Testing
import TestSupport

/// The store folder travels as a value (`--store`, `Runtime.makeInterpreter(store:)`);
/// `MLSH_STORE` is the fallback when none is given.
@Suite struct StoreLocationTests {
    func folder() throws -> String {
        try temporaryFolder("location")
    }

    @Test func anInterpreterUsesTheStoreItIsGiven() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let failure: String? = Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(store: dir + "/given")
            do throws(MLShError) {
                try interp.run(SourceFile(name: "<test>", text: "experiment(\"located\")\n"))
                return nil
            } catch { return error.render() }
        }
        #expect(failure == nil, "\(failure ?? "")")
        #expect(FileManager.default.fileExists(atPath: dir + "/given/store.sqlite"))
    }

    /// `--store` beats `MLSH_STORE`, which names the store when no flag is given, for the
    /// prompt's `-e`, `run` and `render`.
    @Test func theFlagBeatsTheEnvironment() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = dir + "/env"
        env["SWIFT_BACKTRACE"] = "enable=no"
        let script = dir + "/s.mls"
        try "experiment(\"e\").name\n".write(toFile: script, atomically: true, encoding: .utf8)
        for (args, store) in [(["--store", dir + "/flag-e", "-e", "experiment(\"e\").name"], "flag-e"),
                              (["run", script, "--store", dir + "/flag-run"], "flag-run"),
                              (["render", script, "-o", dir + "/s.html", "--store", dir + "/flag-render"], "flag-render"),
                              (["-e", "experiment(\"e\").name"], "env")] {
            let r = try runProgram(mlshBinary, args, environment: env)
            #expect(r.code == 0, "\(args): \(r.err)")
            #expect(FileManager.default.fileExists(atPath: dir + "/" + store + "/store.sqlite"), "\(args)")
        }
        let made = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.contains(".") }.sorted()
        #expect(made == ["env", "flag-e", "flag-render", "flag-run"])
    }
}
