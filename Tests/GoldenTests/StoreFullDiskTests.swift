import Foundation
import Testing
import TestSupport

/// A full disk: the store's writes fail (simulated with a file-size limit, `ulimit -f`,
/// and SIGXFSZ ignored, so a write past the limit fails with EFBIG as one past a full
/// disk fails with ENOSPC). The script stops with a clear store error and exit 1; the
/// store keeps every earlier run, records the failed one, and holds no partial artifact.
@Suite struct StoreFullDiskTests {
    @Test func writesPastTheLimitFailCleanly() throws {
        let sandbox = try StoreCommandTests.Sandbox()
        defer { sandbox.cleanup() }
        let first = try sandbox.script("""
            let e = experiment("full")
            with run(e, alpha=1) { log(rmse=1.0) }
            """, name: "first.mls")
        #expect(try sandbox.mlsh(["run", first]).code == 0)
        let big = try sandbox.script("""
            let e = experiment("full")
            let d = synth("regression", rows=20000, features=20, seed=0)
            with run(e, alpha=2) { log_model(fit(knn(k=3), d, target=$y)) }
            """, name: "big.mls")
        // 2,000 blocks of 512 bytes: room for the database, not for a 3 MB model.
        let limited = "trap '' XFSZ; ulimit -f 2000; exec '\(mlshBinary)' run '\(big)'"
        let r = try runProgram("/bin/sh", ["-c", limited], environment: sandbox.environment)
        #expect(r.code == 1, "stdout: \(r.out) stderr: \(r.err)")
        #expect(r.err.hasPrefix("store error: cannot write"), "stderr: \(r.err)")
        #expect(r.err.contains("File too large"), "the OS reason is named: \(r.err)")
        // Without the limit the store opens with the first run intact and the second failed.
        let runs = try sandbox.json(["runs", "full", "--json"]) as? [[String: Any]] ?? []
        #expect(runs.count == 2)
        #expect(runs.first?["status"] as? String == "finished")
        #expect(runs.last?["status"] as? String == "failed")
        let artifacts = try FileManager.default.contentsOfDirectory(atPath: sandbox.store + "/artifacts")
        #expect(artifacts.isEmpty, "no partial artifact is left: \(artifacts)")
    }
}
