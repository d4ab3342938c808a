import Foundation
import MLShCommon
import MLShEngine
import Testing
@testable import MLShServe

/// What real clients send that the simplest requests do not: `Expect: 100-continue`
/// (curl, for bodies over 1 MB), HTTP/1.0 keep-alive (`ab -k`), `HEAD`, a lowercase
/// `bearer`, a compressed body, MLflow's `/ping` and `/version`, and columns the model
/// does not use. Real sockets, on both the event loop's path and Hummingbird's.
@Suite(.serialized) struct ClientProtocolTests {
    /// A raw connection that reads what has arrived so far.
    final class Connection {
        let fd: Int32
        private(set) var received: [UInt8] = []

        init(port: Int) throws { fd = try SlowClient.connect(port: port) }
        deinit { close(fd) }

        func send(_ text: String) throws { try HTTPClient.sendAll(fd, Array(text.utf8)) }
        func send(_ bytes: [UInt8]) throws { try HTTPClient.sendAll(fd, bytes) }

        /// Everything received until `text` has arrived `count` times in all, the peer
        /// closes, or `timeout` seconds pass.
        @discardableResult
        func read(until text: String, count: Int = 1, timeout: Double = 3) -> String {
            let deadline = Date().addingTimeInterval(timeout)
            while occurrences(text) < count, Date() < deadline {
                var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&pfd, 1, 50) > 0 else { continue }
                var buf = [UInt8](repeating: 0, count: 65_536)
                let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n <= 0 { closed = true; break }
                received += buf[0..<n]
            }
            return self.text
        }
        private(set) var closed = false

        var text: String { String(decoding: received, as: UTF8.self) }
        func occurrences(_ s: String) -> Int { text.components(separatedBy: s).count - 1 }

        /// Whether the peer closes the connection within `timeout` seconds.
        func closes(within timeout: Double) -> Bool {
            read(until: "\u{0}never\u{0}", timeout: timeout)
            return closed
        }
    }

    static func start(token: String? = nil, bodyLimit: Int = 10 * 1024 * 1024) throws -> PredictionServer {
        var config = ServeConfiguration(port: 0, token: token)
        config.bodyLimit = bodyLimit
        config.version = "9.8.7-test"
        return try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
    }

    static let records = #"{"dataframe_records": [\#(Fixtures.row)]}"#
    /// Large enough for Hummingbird's path (over what the event loop reads).
    static let padded = records + String(repeating: " ", count: InlinePredictionHandler.maxBody)

    static func post(_ body: String, path: String = "/invocations", headers: [String] = [], version: String = "1.1") -> String {
        "POST \(path) HTTP/\(version)\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
            + headers.map { $0 + "\r\n" }.joined() + "\r\n"
    }

    /// A request that waits for `100 Continue` gets it before sending its body, then its
    /// answer — small bodies and large ones (answered by Hummingbird), and a second one on
    /// the same connection; the 100 of a request pipelined behind a slower answer comes
    /// after that answer.
    @Test func expectContinueIsAnswered() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start()
            defer { server.stop() }
            let c = try Connection(port: server.port)
            for body in [Self.records, Self.padded, Self.records] {
                let before = c.occurrences("HTTP/1.1 200")
                try c.send(Self.post(body, headers: ["Expect: 100-continue"]))
                // (Generous timeouts: a read returns as soon as the text arrives; a loaded
                // machine can take seconds to answer the first request.)
                let interim = c.read(until: "HTTP/1.1 100 Continue\r\n\r\n", count: before + 1, timeout: 10)
                #expect(c.occurrences("HTTP/1.1 100 Continue") == before + 1, "no 100 Continue before the body: \(interim.suffix(300))")
                try c.send(body)
                let answered = c.read(until: "}", count: before + 1, timeout: 15)
                #expect(c.occurrences("HTTP/1.1 200") == before + 1, "\(answered.suffix(300))")
            }
            #expect(!c.text.contains("HTTP/1.1 4"), "\(c.text)")
            #expect(c.text.components(separatedBy: "\r\n\r\n").filter { $0.hasPrefix(#"{"predictions""#) }.count == 3)

            // Pipelined behind a GET: its answer first, then the 100.
            let p = try Connection(port: server.port)
            try p.send("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n" + Self.post(Self.records, headers: ["Expect: 100-Continue"]))
            let text = p.read(until: "HTTP/1.1 100 Continue", timeout: 10)
            let answer = try #require(text.range(of: "HTTP/1.1 200"), "\(text)")
            let interim = try #require(text.range(of: "HTTP/1.1 100 Continue"), "\(text)")
            #expect(answer.lowerBound < interim.lowerBound)
            try p.send(Self.records)
            p.read(until: "predictions", timeout: 15)
            #expect(p.occurrences("HTTP/1.1 200") == 2)
        }
    }

    /// A request that waits for `100 Continue` but is refused from its head gets the final
    /// status at once (no 100), and the connection closes after it: its body never comes.
    @Test func expectContinueRefusedRequestsGetTheirStatusAtOnce() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start(token: "s3cret", bodyLimit: 100_000)
            defer { server.stop() }
            let auth = "Authorization: Bearer s3cret"
            let cases: [(String, String)] = [
                (Self.post(Self.records, headers: ["Expect: 100-continue"]), "401"),
                (Self.post(Self.records, path: "/v1/models/nope/predict", headers: ["Expect: 100-continue", auth]), "404"),
                ("PUT /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\(auth)\r\n\r\n", "405"),
                ("POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\(auth)\r\n\r\n", "413"),
                (Self.post(Self.records, headers: ["Expect: 100-continue", auth]).replacingOccurrences(of: "application/json", with: "text/plain"), "415"),
                (Self.post(Self.records, headers: ["Expect: 100-continue", auth, "Content-Encoding: gzip"]), "415"),
            ]
            for (head, status) in cases {
                let c = try Connection(port: server.port)
                let start = Date()
                try c.send(head)
                let text = c.read(until: "\r\n\r\n", timeout: 2)
                #expect(text.hasPrefix("HTTP/1.1 \(status)"), "\(head): \(text.prefix(200))")
                #expect(!text.contains("100 Continue"))
                #expect(Date().timeIntervalSince(start) < 0.8, "\(head): answered after \(Date().timeIntervalSince(start)) s")
                #expect(c.closes(within: 2), "\(head): the connection stayed open")
            }
        }
    }

    /// HTTP/1.0 with `Connection: keep-alive`: every answer says the connection stays open
    /// (`ab -k` waits for it otherwise), on both paths; without it, the answer says close.
    @Test func http10KeepAliveIsAnnounced() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start()
            defer { server.stop() }
            let c = try Connection(port: server.port)
            let requests = ["GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
                            Self.post(Self.records, headers: ["Connection: Keep-Alive"], version: "1.0") + Self.records,
                            Self.post(Self.padded, headers: ["Connection: keep-alive"], version: "1.0") + Self.padded]
            for (k, r) in requests.enumerated() {
                try c.send(r)
                let text = c.read(until: "}", count: k + 1)
                #expect(c.occurrences(" 200 OK\r\n") == k + 1, "\(text.suffix(300))")
            }
            let heads = c.text.components(separatedBy: "HTTP/1.").dropFirst().map { $0.components(separatedBy: "\r\n\r\n")[0].lowercased() }
            #expect(heads.count == 3)
            #expect(heads.allSatisfy { $0.contains("\r\nconnection: keep-alive") }, "\(heads)")
            #expect(!c.closes(within: 0.3))
            let plain = try Connection(port: server.port)
            try plain.send("GET /health HTTP/1.0\r\n\r\n")
            #expect(plain.closes(within: 2))
            #expect(plain.text.lowercased().contains("\r\nconnection: close"), "\(plain.text)")
        }
    }

    /// MLflow's `ScoringServerClient` readiness calls: `/ping` answers 200 with "\n" and
    /// `/version` the version, without the token (MLflow's client sends none).
    @Test func pingAndVersionAnswerAsMLflowDoes() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start(token: "s3cret")
            defer { server.stop() }
            let ping = try HTTPClient.request("GET", server.url + "/ping")
            #expect(ping.status == 200 && ping.text == "\n")
            let version = try HTTPClient.request("GET", server.url + "/version")
            #expect(version.status == 200 && version.text == "9.8.7-test")
            #expect(try HTTPClient.request("POST", server.url + "/ping").status == 405)
        }
    }

    /// `HEAD` answers as `GET` without the body; the routes' `Allow` says so; auth schemes
    /// are case-insensitive; a compressed body is 415 on both paths.
    @Test func headBearerCaseAndContentEncoding() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start(token: "s3cret")
            defer { server.stop() }
            let auth = ("Authorization", "Bearer s3cret")
            for path in ["/health", "/v1/models", "/metrics", "/ping", "/v1/status"] {
                let get = try HTTPClient.request("GET", server.url + path, headers: [auth])
                let head = try HTTPClient.request("HEAD", server.url + path, headers: [auth])
                #expect(get.status == 200 && head.status == 200, "\(path): \(head.status)")
                #expect(head.body.isEmpty, "\(path): \(head.text)")
                #expect(head.header("Content-Type") == get.header("Content-Type"), "\(path)")
                if path != "/metrics" && path != "/v1/status" {   // their figures move between the two requests
                    #expect(head.header("Content-Length") == get.header("Content-Length"), "\(path)")
                }
            }
            let post = try HTTPClient.request("POST", server.url + "/health")
            #expect(post.status == 405 && post.header("Allow") == "GET, HEAD")
            let headPredict = try HTTPClient.request("HEAD", server.url + "/v1/models/diabetes/predict", headers: [auth])
            #expect(headPredict.status == 405 && headPredict.header("Allow") == "POST")

            let body = Array(Self.records.utf8)
            for given in ["bearer s3cret", "BEARER s3cret", "Bearer   s3cret"] {
                let r = try HTTPClient.request("POST", server.url + "/invocations", body: body, headers: [("Authorization", given)])
                #expect(r.status == 200, "\(given): \(r.text)")
            }
            for given in ["Bearers3cret", "bearer s3cre", "Basic s3cret"] {
                let r = try HTTPClient.request("POST", server.url + "/invocations", body: body, headers: [("Authorization", given)])
                #expect(r.status == 401, "\(given): \(r.text)")
            }
            for payload in [Self.records, Self.padded] {
                let r = try HTTPClient.request("POST", server.url + "/invocations", body: Array(payload.utf8),
                                               headers: [auth, ("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
                #expect(r.status == 415, "\(r.text)")
                #expect(r.text.contains("gzip-encoded"), "\(r.text)")
            }
            let identity = try HTTPClient.request("POST", server.url + "/invocations", body: body,
                                                  headers: [auth, ("Content-Encoding", "identity")])
            #expect(identity.status == 200)
        }
    }

    /// A port another server holds is named as such, not as the socket call that failed.
    @Test func aPortInUseIsSaidPlainly() async throws {
        try await ServerSocketTests.offPool {
            let first = try Self.start()
            defer { first.stop() }
            guard let port = Int(first.url.split(separator: ":").last ?? "") else { Issue.record("no port in \(first.url)"); return }
            var config = ServeConfiguration(port: port, token: nil)
            config.version = "test"
            do {
                let second = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
                second.stop()
                Issue.record("a second server started on port \(port)")
            } catch {
                #expect((error as? ServeError)?.message == "cannot serve on 127.0.0.1:\(port): the port is already in use", "\(error)")
            }
        }
    }

    /// The ignored columns' header encodes names that hold separators or non-ASCII text
    /// and stays about 1 KB however many columns were sent.
    @Test func ignoredColumnsHeaderIsEncodedAndBounded() {
        #expect(ignoredHeaderValue(["id", "a,b", "café", "x y%"]) == "id,a%2Cb,caf%C3%A9,x%20y%25")
        let many = ignoredHeaderValue((0..<5000).map { "column_\($0)" })
        #expect(many.utf8.count <= 1024 + 16 && many.hasPrefix("column_0,column_1,"))
        let listed = many.split(separator: ",").count - 1
        #expect(many.hasSuffix(",(+\(5000 - listed) more)"), "\(many.suffix(30))")
    }

    /// `/invocations` ignores the columns the model does not use and names them in
    /// `X-MLSH-Ignored-Columns`, on both paths and in every MLflow form; the answer is the
    /// one without them. The mlsh route keeps its 422.
    @Test func invocationsIgnoresUnusedColumns() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start()
            defer { server.stop() }
            let plain = try HTTPClient.request("POST", server.url + "/invocations", body: Array(Self.records.utf8))
            #expect(plain.status == 200 && plain.header("X-MLSH-Ignored-Columns") == nil)
            let row = Fixtures.row.dropLast() + #", "customer_id": 17, "note": "vip"}"#
            let extra = #"{"dataframe_records": [\#(row)]}"#
            for body in [extra, extra + String(repeating: " ", count: InlinePredictionHandler.maxBody)] {
                let r = try HTTPClient.request("POST", server.url + "/invocations", body: Array(body.utf8))
                #expect(r.status == 200, "\(r.text)")
                #expect(r.text == plain.text)
                #expect(r.header("X-MLSH-Ignored-Columns") == "customer_id,note")
            }
            let names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
            let values = ["59", "2", "32.1", "101", "157", "93.2", "38", "4", "4.8598", "87"]
            let csv = (["id"] + names).joined(separator: ",") + "\n" + (["17"] + values).joined(separator: ",") + "\n"
            let r = try HTTPClient.request("POST", server.url + "/invocations", body: Array(csv.utf8), headers: [("Content-Type", "text/csv")])
            #expect(r.status == 200 && r.text == plain.text && r.header("X-MLSH-Ignored-Columns") == "id", "\(r.text)")
            let strict = try HTTPClient.request("POST", server.url + "/v1/models/diabetes/predict",
                                                body: Array(#"{"rows": [\#(row)]}"#.utf8))
            #expect(strict.status == 422 && strict.text.contains("unexpected columns customer_id, note"), "\(strict.text)")
        }
    }

    /// `/v1/status` reports what `status(d)` does, for other processes (`mlsh status`).
    @Test func statusRouteReportsTheDeployment() async throws {
        try await ServerSocketTests.offPool {
            let server = try Self.start(token: "s3cret")
            defer { server.stop() }
            let auth = [("Authorization", "Bearer s3cret")]
            #expect(try HTTPClient.request("GET", server.url + "/v1/status").status == 401)
            _ = try HTTPClient.request("POST", server.url + "/invocations", body: Array(Self.records.utf8), headers: auth)
            _ = try HTTPClient.request("POST", server.url + "/invocations", body: Array("{x".utf8), headers: auth)
            let r = try HTTPClient.request("GET", server.url + "/v1/status", headers: auth)
            #expect(r.status == 200)
            let json = try JSONParser.parse(r.text)
            #expect(json["url"] == .string(server.url) && json["running"] == .bool(true) && json["deployment"] == .null)
            #expect(json["models"] == .array([.string("diabetes@1")]))
            // The refused /v1/status counts too (a 401 before a model was chosen).
            #expect(json["requests"] == .number(3) && json["errors"] == .number(2), "\(r.text)")
            #expect(json["by_model"] == .object([("diabetes@1", .number(2))]))
            if case .number(let p99)? = json["p99_ms"] { #expect(p99 > 0) } else { Issue.record("no p99_ms in \(r.text)") }
        }
    }

    /// Binding an address others can reach without a token is warned about; loopback or a
    /// token is not.
    @Test func exposureWarningForNonLoopbackWithoutToken() {
        for host in ["127.0.0.1", "127.8.9.1", "localhost", "::1", "[::1]"] {
            #expect(ServeConfiguration(host: host).exposureWarning == nil, "\(host)")
        }
        for host in ["0.0.0.0", "192.168.1.4", "::", "example.org"] {
            #expect(ServeConfiguration(host: host).exposureWarning?.contains("without a token") == true, "\(host)")
            #expect(ServeConfiguration(host: host, token: "t").exposureWarning == nil, "\(host)")
        }
    }
}
