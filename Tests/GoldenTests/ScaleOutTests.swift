import Foundation
import MLShServe
import MLShStore
import Synchronization
import Testing
import TestSupport

/// Two `mlsh serve NAME@production` processes on one store behind Debian's nginx, with the
/// upstream configuration docs/team.md shows: every request through nginx is answered,
/// both servers follow an alias move within their watch interval, and each logs the
/// requests it answered to the shared store under its own deployment.
@Suite struct ScaleOutTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    /// The `nginx` block of docs/team.md, its ports replaced.
    static func nginxConfiguration(front: Int, servers: [Int]) throws -> String {
        let doc = try String(contentsOfFile: repositoryRoot + "/docs/team.md", encoding: .utf8)
        guard let start = doc.range(of: "```nginx\n"), let end = doc.range(of: "```", range: start.upperBound..<doc.endIndex) else {
            throw SetupFailure("docs/team.md has no ```nginx block")
        }
        return String(doc[start.upperBound..<end.lowerBound])
            .replacingOccurrences(of: "127.0.0.1:8081", with: "127.0.0.1:\(servers[0])")
            .replacingOccurrences(of: "127.0.0.1:8082", with: "127.0.0.1:\(servers[1])")
            .replacingOccurrences(of: "listen 127.0.0.1:8080", with: "listen 127.0.0.1:\(front)")
    }

    @Test func twoServersBehindNginxFollowAnAliasMove() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let setup = try box.mlsh(["run", try box.script("""
            let d = dataset("diabetes")
            let v1 = register(fit(ridge(alpha=1.0), d, target=$progression), "diabetes")
            register(fit(ridge(alpha=50.0), d, target=$progression), "diabetes")
            alias(v1, "production")
            """)])
        #expect(setup.code == 0, "\(setup.err)")
        let ports = [freeLoopbackPort(), freeLoopbackPort()]
        var pids: [pid_t] = []
        defer { for p in pids { ServeCommandTests.stop(p) } }
        for port in ports {
            pids.append(try ServeCommandTests.serve(box, ["diabetes@production", "--watch-interval", "0.2"], port: port))
        }
        // nginx, in the foreground, its files in the sandbox.
        let front = freeLoopbackPort()
        let prefix = box.dir + "/nginx"
        try FileManager.default.createDirectory(atPath: prefix + "/logs", withIntermediateDirectories: true)
        try Self.nginxConfiguration(front: front, servers: ports).write(toFile: prefix + "/nginx.conf", atomically: true, encoding: .utf8)
        let nginx = try spawnProgram("/usr/sbin/nginx", ["-p", prefix, "-c", prefix + "/nginx.conf",
                                                        "-g", "daemon off; pid \(prefix)/nginx.pid; error_log \(prefix)/logs/error.log;"],
                                     environment: ProcessInfo.processInfo.environment, stderr: prefix + "/stderr")
        defer { kill(nginx, SIGQUIT); _ = waitStatus(nginx) }
        let url = "http://127.0.0.1:\(front)/v1/models/diabetes/predict"
        let body = Array(#"{"rows": [\#(ServeCommandTests.row)]}"#.utf8)

        try await Task.detached {
            var up = false
            let deadline = Date().addingTimeInterval(30)
            while !up && Date() < deadline {
                up = (try? HTTPClient.request("GET", "http://127.0.0.1:\(front)/health", timeout: 2))?.status == 200
                if !up { usleep(100_000) }
            }
            #expect(up, "nginx did not come up: \((try? String(contentsOfFile: prefix + "/stderr", encoding: .utf8)) ?? "")")
            // Four clients send 150 requests each through nginx; the alias moves midway.
            let answers = Mutex<[String: Int]>([:])
            let failures = Mutex<[String]>([])
            let sent = Atomic<Int>(0)
            DispatchQueue.concurrentPerform(iterations: 5) { client in
                if client == 4 {
                    while sent.load(ordering: .relaxed) < 300 { usleep(5_000) }
                    do {
                        let store = try Store(folder: box.store)
                        try store.setAlias(name: "diabetes", version: 2, alias: "production")
                    } catch { failures.withLock { $0.append("moving the alias: \(error)") } }
                    return
                }
                for _ in 0..<150 {
                    do {
                        let r = try HTTPClient.request("POST", url, body: body, timeout: 10)
                        if r.status == 200, let m = r.text.range(of: #"diabetes@\d+"#, options: .regularExpression) {
                            answers.withLock { $0[String(r.text[m]), default: 0] += 1 }
                        } else {
                            failures.withLock { $0.append("\(r.status) \(r.text.prefix(200))") }
                        }
                    } catch { failures.withLock { $0.append("\(error)") } }
                    sent.add(1, ordering: .relaxed)
                }
            }
            #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 }.prefix(5))")
            let counts = answers.withLock { $0 }
            #expect(counts.values.reduce(0, +) == 600)
            #expect((counts["diabetes@1"] ?? 0) >= 300, "\(counts)")
            // Within a second of the move, each server answers with version 2.
            usleep(1_000_000)
            for port in ports {
                let r = try HTTPClient.request("POST", "http://127.0.0.1:\(port)/v1/models/diabetes/predict", body: body)
                #expect(r.status == 200 && r.text.contains("\"diabetes@2\""), "server on \(port): \(r.text.prefix(200))")
            }
        }.value
        for p in pids { ServeCommandTests.stop(p) }
        pids = []
        // Each server logged what it answered under its own deployment: 600 through nginx, 2 direct.
        let store = try Store(folder: box.store)
        let logged = try store.requests(.model("diabetes"))
        let byDeployment = Dictionary(grouping: logged, by: \.deployment).mapValues(\.count)
        #expect(byDeployment.count == 2 && logged.count == 602, "\(byDeployment)")
        #expect(byDeployment.values.allSatisfy { $0 > 50 }, "nginx spread the requests: \(byDeployment)")
        #expect(Set(logged.map(\.version)) == [1, 2])
    }
}
