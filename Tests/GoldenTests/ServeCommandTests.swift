import Foundation
import MLShServe
import Testing
import TestSupport

/// `mlsh serve` as a user runs it: a real process on a real port, a token file, a
/// request in flight when SIGTERM arrives (answered before the process exits), and the
/// request log in the store afterwards.
@Suite struct ServeCommandTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                bind(fd, p, len) == 0 ? getsockname(fd, p, &len) : -1
            }
        }
        return Int(UInt16(bigEndian: addr.sin_port))
    }

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
}
