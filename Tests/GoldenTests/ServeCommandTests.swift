import Foundation
import MLShCommon
import MLShRuntime
import MLShServe
import Testing
import TestSupport

/// `mlsh serve` as a user runs it: a real process on a real port, a token file, a
/// request in flight when SIGTERM arrives (answered before the process exits), and the
/// request log in the store afterwards.
@Suite struct ServeCommandTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    static func freePort() -> Int { freeLoopbackPort() }

    static let row = #"{"age": 59, "sex": 2, "bmi": 32.1, "bp": 101, "s1": 157, "s2": 93.2, "s3": 38, "s4": 4, "s5": 4.8598, "s6": 87}"#

    @Test func serveAnswersWithATokenAndFinishesInFlightRequestsOnSIGTERM() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let register = try box.mlsh(["run", try box.script("""
            register(fit(ridge(alpha=1.0), dataset("diabetes"), target=$progression), "diabetes")
            """)])
        #expect(register.code == 0, "\(register.err)")
        try "s3cret\n".write(toFile: box.dir + "/token", atomically: true, encoding: .utf8)
        let port = Self.freePort()
        let pid = try spawnProgram(mlshBinary, ["serve", "diabetes@1", "--port", String(port), "--token-file", box.dir + "/token"],
                                   environment: box.environment)
        var exited = false
        defer { if !exited { kill(pid, SIGKILL); _ = waitStatus(pid) } }
        let url = "http://127.0.0.1:\(port)"
        try await Task.detached {
            // Ready when /health answers.
            let deadline = Date().addingTimeInterval(60)
            var up = false
            while Date() < deadline, !up {
                up = (try? HTTPClient.request("GET", url + "/health", timeout: 2))?.status == 200
                if !up { usleep(100_000) }
            }
            #expect(up, "mlsh serve did not come up on \(url)")
            let body = Array(#"{"rows": [\#(Self.row)]}"#.utf8)
            let denied = try HTTPClient.request("POST", url + "/v1/models/diabetes/predict", body: body)
            #expect(denied.status == 401)
            let ok = try HTTPClient.request("POST", url + "/v1/models/diabetes/predict", body: body,
                                            headers: [("Authorization", "Bearer s3cret")])
            #expect(ok.status == 200)
            #expect(ok.text.hasPrefix(#"{"model":"diabetes@1","predictions":["#))

            // A request whose body is still arriving when SIGTERM comes is answered.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(port).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let rc = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            #expect(rc == 0)
            let head = "POST /v1/models/diabetes/predict HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
            let half = body.count / 2
            for part in [Array(head.utf8) + body[0..<half]] {
                _ = part.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            usleep(300_000)
            kill(pid, SIGTERM)
            usleep(300_000)
            let rest = Array(body[half...])
            _ = rest.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            var answer = [UInt8](repeating: 0, count: 4096)
            var tv = timeval(tv_sec: 20, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = answer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            let text = n > 0 ? String(decoding: answer[0..<n], as: UTF8.self) : ""
            #expect(text.hasPrefix("HTTP/1.1 200"), "in-flight request got: \(text)")
        }.value
        let status = waitStatus(pid)
        exited = true
        #expect((status & 0x7f) == 0 && (status >> 8) & 0xff == 0, "mlsh serve exit status \(status)")

        // Both answered predictions are in the store's request log, under an ended deployment.
        let check = try box.mlsh(["run", try box.script("""
            let r = requests("diabetes")
            print(len(r), to_list(r.model))
            """, name: "check.mls")])
        #expect(check.out == "2 [\"diabetes@1\", \"diabetes@1\"]\n", "\(check.err)")
    }

    @Test func serveRefusesUnknownVersionsAndBadWeights() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try box.mlsh(["run", try box.script("""
            register(fit(ridge(), dataset("diabetes"), target=$progression), "diabetes")
            """)])
        let unknown = try box.mlsh(["serve", "diabetes@7", "--port", "0"])
        #expect(unknown.code == 1)
        #expect(unknown.err.contains("unknown model version 'diabetes@7'"), "\(unknown.err)")
        let weight = try box.mlsh(["serve", "diabetes@1=-1", "--port", "0"])
        #expect(weight.code == 1)
        #expect(weight.err == "serve error: the weight in 'diabetes@1=-1' must be a positive number\n")
        let usage = try box.mlsh(["serve"])
        #expect(usage.code == 2)
    }


    /// Starts `mlsh serve ARGS` and waits until `/health` answers on `port`; the pid.
    static func serve(_ box: Sandbox, _ args: [String], port: Int, stderr: String? = nil) throws -> pid_t {
        let pid = try spawnProgram(mlshBinary, ["serve"] + args + ["--port", String(port)], environment: box.environment, stderr: stderr)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if (try? HTTPClient.request("GET", "http://127.0.0.1:\(port)/health", timeout: 2))?.status == 200 { return pid }
            usleep(100_000)
        }
        kill(pid, SIGKILL)
        _ = waitStatus(pid)
        throw SetupFailure("mlsh serve \(args) did not come up on port \(port)")
    }

    /// Stops a server started by `serve` (SIGTERM: graceful), or kills it; its wait status.
    @discardableResult
    static func stop(_ pid: pid_t, signal: Int32 = SIGTERM) -> Int32 {
        kill(pid, signal)
        return waitStatus(pid)
    }

    /// Versions are read from the right: a name may hold `-` and `=` (`a=b@1` is version 1
    /// of `a=b`, `my-model@1=3` version 1 of `my-model` with weight 3). Binding a non-loopback address without a
    /// token warns on stderr.
    @Test func serveParsesNamesWithDashesAndEqualsAndWarnsWhenExposed() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let register = try box.mlsh(["run", try box.script("""
            let m = fit(ridge(alpha=1.0), dataset("diabetes"), target=$progression)
            register(m, "my-model")
            register(m, "a=b")
            """)])
        #expect(register.code == 0, "\(register.err)")
        let port = Self.freePort()
        let errors = box.dir + "/serve.err"
        let pid = try Self.serve(box, ["my-model@1=3", "a=b@1", "--host", "0.0.0.0"], port: port, stderr: errors)
        let models = try await Task.detached { try HTTPClient.request("GET", "http://127.0.0.1:\(port)/v1/models") }.value
        Self.stop(pid)
        #expect(models.status == 200)
        let json = try JSONParser.parse(models.text)
        guard case .array(let served)? = json["models"] else { Issue.record("\(models.text)"); return }
        #expect(served.map { $0["model"] } == [.string("my-model@1"), .string("a=b@1")])
        #expect(served.map { $0["weight"] } == [.number(0.75), .number(0.25)])
        let err = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
        #expect(err.contains("warning: serving on 0.0.0.0 without a token"), "\(err)")

        // On loopback, or with a token, no warning.
        let quiet = box.dir + "/quiet.err"
        let port2 = Self.freePort()
        Self.stop(try Self.serve(box, ["my-model@1"], port: port2, stderr: quiet))
        let text = (try? String(contentsOfFile: quiet, encoding: .utf8)) ?? ""
        #expect(!text.contains("warning"), "\(text)")
        #expect(text.contains("serving my-model@1 at http://127.0.0.1:\(port2)"), "\(text)")
    }

    /// `mlsh status` asks a running server for what `status(d)` reports — by port, URL or
    /// model name (the deployments the store records as running) — and `status("name")`
    /// does the same in the language. A server killed without recording its end is
    /// reported as not answering, not as running.
    @Test func statusShowsAServerStartedFromTheShell() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try box.mlsh(["run", try box.script("""
            register(fit(ridge(alpha=1.0), dataset("diabetes"), target=$progression), "diabetes")
            """)])
        let tokenFile = box.dir + "/token"
        try "s3cret\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let port = Self.freePort()
        let pid = try Self.serve(box, ["diabetes@1", "--token-file", tokenFile], port: port)
        var stopped = false
        defer { if !stopped { Self.stop(pid, signal: SIGKILL) } }
        let url = "http://127.0.0.1:\(port)"
        try await Task.detached {
            let body = Array(#"{"rows": [\#(Self.row)]}"#.utf8)
            for _ in 0..<2 {
                let r = try HTTPClient.request("POST", url + "/v1/models/diabetes/predict", body: body,
                                               headers: [("Authorization", "Bearer s3cret")])
                #expect(r.status == 200)
            }
        }.value
        /// `name value` lines as a dictionary.
        func fields(_ text: String) -> [String: String] {
            var out: [String: String] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2 { out[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
            }
            return out
        }
        let denied = try box.mlsh(["status", String(port)])
        #expect(denied.code == 1 && denied.err.contains("needs its token"), "\(denied.err)")
        for target in [String(port), url, "diabetes", "diabetes@1"] {
            let r = try box.mlsh(["status", target, "--token-file", tokenFile])
            #expect(r.code == 0, "\(target): \(r.err)")
            let f = fields(r.out)
            #expect(f["url"] == url && f["running"] == "true" && f["models"] == "diabetes@1", "\(target): \(r.out)")
            // The refused status request counts (a 401), the status requests that answer do not.
            #expect(f["requests"] == "3" && f["errors"] == "1" && f["by_model"] == "diabetes@1=2", "\(target): \(r.out)")
            #expect(f["p99_ms"].flatMap(Double.init).map { $0 > 0 } == true, "\(r.out)")
        }
        let all = try box.mlsh(["status", "--json", "--token-file", tokenFile])
        #expect(all.code == 0, "\(all.err)")
        let json = try JSONParser.parse(all.out.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(json["url"] == .string(url) && json["deployment"] == .number(1) && json["requests"] == .number(3), "\(all.out)")

        let language = try box.mlsh(["run", try box.script("""
            let s = status("diabetes", token="s3cret")
            print(s.requests, s.errors, s.models, s.running, s.deployment, s.p99_ms > 0)
            """, name: "status.mls")])
        #expect(language.out == "3 1 [\"diabetes@1\"] true 1 true\n", "\(language.err)")
        // A script is a client of a server it did not start: send by the model's name.
        let sent = try box.mlsh(["run", try box.script("""
            let answers = send("diabetes", dataset("diabetes") |> head(2) |> drop($progression), token="s3cret")
            print(to_list(answers.model), to_list(answers.id))
            """, name: "send.mls")])
        #expect(sent.out == "[\"diabetes@1\", \"diabetes@1\"] [\"1-3\", \"1-4\"]\n", "\(sent.err)")
        let unauthorized = try box.mlsh(["-e", #"send("diabetes", dataset("diabetes") |> head(1) |> drop($progression))"#])
        #expect(unauthorized.code == 1 && unauthorized.err.contains("needs its token"), "\(unauthorized.err)")
        let other = try box.mlsh(["status", "iris"])
        #expect(other.code == 1 && other.err.contains("no deployment of iris is recorded as running"), "\(other.err)")

        // Killed without recording its end: the store still says running; status says it does not answer.
        Self.stop(pid, signal: SIGKILL)
        stopped = true
        let gone = try box.mlsh(["status", "diabetes"])
        #expect(gone.code == 1, "\(gone.out)")
        #expect(gone.err.contains("nothing answers at \(url) (deployment 1 is recorded as running: it stopped without recording its end)"), "\(gone.err)")
        let goneHere = try box.mlsh(["-e", #"status("diabetes")"#])
        #expect(goneHere.code == 1 && goneHere.err.contains("nothing answers at \(url)"), "\(goneHere.err)")
    }

    /// MLflow's own `ScoringServerClient` (mlflow-skinny, from a venv this test makes once
    /// under .build/) sees an `mlsh serve` server ready (`/ping`), reads its `/version`
    /// and scores a pandas DataFrame through `/invocations`, extra columns included.
    @Test func mlflowsOwnClientWorksUnchanged() async throws {
        let python = try Self.mlflowVenv()
        let box = try Sandbox()
        defer { box.cleanup() }
        _ = try box.mlsh(["run", try box.script("""
            register(fit(ridge(alpha=1.0), dataset("diabetes"), target=$progression), "diabetes")
            """)])
        let port = Self.freePort()
        let pid = try Self.serve(box, ["diabetes@1"], port: port)
        defer { Self.stop(pid) }
        let client = try box.script("""
            import json, sys
            import pandas as pd
            from mlflow.pyfunc.scoring_server.client import ScoringServerClient
            c = ScoringServerClient("127.0.0.1", int(sys.argv[1]))
            c.wait_server_ready(timeout=20)
            print(c.get_version())
            row = json.loads(sys.argv[2])
            frame = pd.DataFrame([row, dict(row, bmi=20.5)]).assign(customer_id=[1, 2])
            print(json.dumps(c.invoke(frame)["predictions"]))
            """, name: "client.py")
        let r = try runProgram(python, [client, String(port), Self.row])
        #expect(r.code == 0, "MLflow's client failed: \(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first == Runtime.version, "\(r.out)")
        // The same predictions as mlsh's own route gives for these rows.
        let ours = try HTTPClient.request("POST", "http://127.0.0.1:\(port)/v1/models/diabetes/predict",
                                          body: Array(#"{"rows": [\#(Self.row), \#(Self.row.replacingOccurrences(of: "32.1", with: "20.5"))]}"#.utf8))
        guard case .array(let predictions)? = try JSONParser.parse(ours.text)["predictions"], lines.count == 2 else {
            Issue.record("\(ours.text) / \(r.out)"); return
        }
        #expect(try JSONParser.parse(lines[1]) == .array(predictions), "\(r.out)")
    }

    /// The venv with MLflow's client (mlflow-skinny, with the numpy, pandas and scipy its
    /// `dump_input_data` imports), made once under .build/ and reused; its python.
    static func mlflowVenv() throws -> String {
        try pythonVenv("mlflow-client-venv", packages: ["mlflow-skinny==3.18.0", "numpy", "pandas", "scipy"])
    }
}
