import Foundation
import MLShCommon
import MLShEngine
import MLShStore
import Testing
import TestSupport
@testable import MLShServe

/// One real server on a real socket per run of the suite: start, answer, log to a store,
/// refuse a slow client, survive a flood of connections, stop gracefully.
@Suite(.serialized) struct ServerSocketTests {
    static func tempStore() throws -> Store {
        try Store(folder: temporaryFolder("serve"))
    }

    /// Runs blocking socket code on its own thread: a test must not block the Swift
    /// concurrency pool, which the server itself runs on.
    static func offPool(_ body: @escaping @Sendable () throws -> Void) async throws {
        try await onOwnThread(body)
    }

    /// The event loops of a running server run with a 200 µs slice where the kernel has
    /// custom slices (Linux 6.12+), as the kernel reports it for each loop thread.
    @Test func eventLoopsAskForShortSlices() async throws {
        try await Self.offPool {
            let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)],
                                                    configuration: ServeConfiguration(port: 0), store: nil)
            defer { server.stop() }
            let r = try HTTPClient.request("GET", server.url + "/health")
            #expect(r.status == 200)
            var name = utsname()
            uname(&name)
            let release = withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            guard parts.count == 2, (parts[0], parts[1]) >= (6, 12) else {
                // Older kernels keep their slice; the server must start and answer all the same.
                #expect(try !EventLoopSlice.slices().isEmpty)
                return
            }
            let slices = try EventLoopSlice.slices()
            #expect(!slices.isEmpty)
            #expect(slices == Array(repeating: EventLoopSlice.nanoseconds, count: slices.count))
            // The kernel's own view of every loop thread of this process.
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
            var loops: [String] = []
            for t in tasks {
                let comm = (try? String(contentsOfFile: "/proc/self/task/\(t)/comm", encoding: .utf8)) ?? ""
                guard comm.hasPrefix("NIO-SGLTN") else { continue }
                let sched = try String(contentsOfFile: "/proc/self/task/\(t)/sched", encoding: .utf8)
                let line = sched.split(separator: "\n").first { $0.hasPrefix("se.slice") }
                loops.append(line.map { String($0.split(separator: ":").last ?? "").trimmingCharacters(in: .whitespaces) } ?? "none")
            }
            #expect(loops == Array(repeating: "200000", count: slices.count))
        }
    }

    @Test func servesLogsAndStopsGracefully() async throws { try await Self.offPool { try Self.servesLogsAndStopsGracefully() } }

    static func servesLogsAndStopsGracefully() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.folder) }
        var config = ServeConfiguration(port: 0)
        config.bodyTimeout = .seconds(1)
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], shadow: Fixtures.ridge2,
                                                configuration: config, store: store)
        #expect(server.url == "http://127.0.0.1:\(server.port)")
        let body = Array(#"{"rows": [\#(Fixtures.row), \#(Fixtures.row)]}"#.utf8)
        for _ in 0..<5 {
            let r = try HTTPClient.request("POST", server.url + "/v1/models/diabetes/predict", body: body,
                                           headers: [("Content-Type", "application/json")])
            #expect(r.status == 200)
            #expect(r.header("Content-Type") == "application/json")
        }
        let health = try HTTPClient.request("GET", server.url + "/health")
        #expect(health.text == #"{"status":"ok","models":["diabetes@1"]}"#)

        // A slow client: headers promise 100 bytes, one arrives. The server answers 408
        // once the body timeout passes, and keeps serving everyone else meanwhile.
        let slow = try SlowClient(port: server.port, head: "POST /v1/models/diabetes/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        let meanwhile = try HTTPClient.request("POST", server.url + "/invocations",
                                               body: Array(#"{"dataframe_records": [\#(Fixtures.row)]}"#.utf8))
        #expect(meanwhile.status == 200)
        #expect(slow.readStatus() == 408)

        // A flood of connections that send nothing, then real requests still answered.
        var idle: [Int32] = []
        for _ in 0..<200 { if let fd = try? SlowClient.connect(port: server.port) { idle.append(fd) } }
        defer { idle.forEach { close($0) } }
        let after = try HTTPClient.request("GET", server.url + "/health")
        #expect(after.status == 200)

        server.stop()
        #expect(!server.isRunning)
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient.request("GET", server.url + "/health", timeout: 2) }
        let logged = try store.requests(.deployment(try #require(server.deployment)))
        #expect(logged.count == 11)
        #expect(logged.allSatisfy { $0.name == "diabetes" && $0.version == 1 && $0.latencyMs >= 0 })
        #expect(logged.first?.inputs.hasPrefix(#"{"age":59,"sex":2,"bmi":32.1"#) == true)
        let shadowed = try store.requests(.deployment(try #require(server.deployment)), shadow: true)
        #expect(shadowed.count == 11)
        #expect(shadowed.allSatisfy { $0.version == 2 })
        #expect(server.service.monitor.snapshot().dropped == 0)
    }

    /// A client that trickles header bytes and never ends its head is closed once the idle
    /// timeout passes (the idle clock counts whole request parts, so its bytes do not count
    /// as activity); others are served meanwhile.
    @Test func closesAConnectionWhoseHeadNeverEnds() async throws {
        try await Self.offPool { try Self.closesAConnectionWhoseHeadNeverEnds() }
    }

    static func closesAConnectionWhoseHeadNeverEnds() throws {
        var config = ServeConfiguration(port: 0)
        config.idleTimeout = .seconds(1)
        config.bodyTimeout = .seconds(1)
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
        defer { server.stop() }
        let fd = try SlowClient.connect(port: server.port)
        defer { close(fd) }
        try HTTPClient.sendAll(fd, Array("GET /health HTTP/1.1\r\nX".utf8))
        let start = DispatchTime.now().uptimeNanoseconds
        func elapsed() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        var closedAfter: Double?
        var served = false
        // One more header-name byte every 100 ms, for up to 8 s.
        while elapsed() < 8 {
            var buf = [UInt8](repeating: 0, count: 512)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) { closedAfter = elapsed(); break }
            var x: UInt8 = 0x58
            if send(fd, &x, 1, Int32(MSG_NOSIGNAL)) < 0 { closedAfter = elapsed(); break }
            if !served {
                served = (try? HTTPClient.request("GET", server.url + "/health", timeout: 2))?.status == 200
            }
            usleep(100_000)
        }
        #expect(served)
        let after = try #require(closedAfter, "the trickling connection was still open after 8 s")
        #expect(after >= 0.9 && after < 4, "closed after \(after) s")
    }

    /// Two pipelined requests, the second's body never finished: the first is answered, and
    /// answering it does not lift the second's deadline (408 when it passes).
    @Test func aPipelinedRequestKeepsItsDeadline() async throws {
        try await Self.offPool { try Self.aPipelinedRequestKeepsItsDeadline() }
    }

    static func aPipelinedRequestKeepsItsDeadline() throws {
        var config = ServeConfiguration(port: 0)
        config.bodyTimeout = .seconds(1)
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
        defer { server.stop() }
        let body = #"{"rows": [\#(Fixtures.row)]}"#
        let first = "POST /v1/models/diabetes/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
        let second = "POST /v1/models/diabetes/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
        let client = try SlowClient(port: server.port, head: first + second)
        let start = DispatchTime.now().uptimeNanoseconds
        let text = client.readAll(timeout: 8)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(text.hasPrefix("HTTP/1.1 200"), "\(text.prefix(200))")
        #expect(text.contains("HTTP/1.1 408"), "no 408 for the pipelined request in \(seconds) s: \(text.suffix(300))")
        #expect(seconds < 5)
    }

    /// A request answered before its body arrived (401 here) whose body keeps trickling is
    /// closed at the body deadline, without a second answer.
    @Test func anEarlyAnswerStillHasABodyDeadline() async throws {
        try await Self.offPool { try Self.anEarlyAnswerStillHasABodyDeadline() }
    }

    static func anEarlyAnswerStillHasABodyDeadline() throws {
        var config = ServeConfiguration(port: 0, token: "secret")
        config.bodyTimeout = .seconds(1)
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
        defer { server.stop() }
        let client = try SlowClient(port: server.port, head: "POST /v1/models/diabetes/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{")
        let start = DispatchTime.now().uptimeNanoseconds
        let text = client.readAll(timeout: 8)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(text.hasPrefix("HTTP/1.1 401"), "\(text.prefix(200))")
        #expect(!text.contains("HTTP/1.1 408"), "\(text)")
        #expect(seconds < 5, "the connection stayed open \(seconds) s")
    }

    /// Small predictions are answered on the event loop, the rest by Hummingbird's tasks:
    /// the same answer either way, and pipelined requests mixing both are answered in order.
    @Test func bothPathsAnswerAlikeAndInOrder() async throws { try await Self.offPool { try Self.bothPathsAnswerAlikeAndInOrder() } }

    static func bothPathsAnswerAlikeAndInOrder() throws {
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: ServeConfiguration(port: 0),
                                                store: nil)
        defer { server.stop() }
        let records = #"{"dataframe_records": [\#(Fixtures.row)]}"#
        let padded = records + String(repeating: " ", count: InlinePredictionHandler.maxBody)
        let monitor = server.service.monitor
        let small = try HTTPClient.request("POST", server.url + "/invocations", body: Array(records.utf8))
        #expect(monitor.answeredInline == 1)   // answered on the event loop
        let large = try HTTPClient.request("POST", server.url + "/invocations", body: Array(padded.utf8))
        #expect(monitor.answeredInline == 1)   // answered by Hummingbird
        #expect(small.status == 200 && large.status == 200)
        #expect(small.text == #"{"predictions":[205.59094435613116]}"#)
        #expect(large.text == small.text)
        for name in ["Content-Type", "Content-Length", "X-MLSH-Model"] { #expect(small.header(name) == large.header(name)) }

        func post(_ body: String, close: Bool = false) -> String {
            "POST /invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
                + (close ? "Connection: close\r\n" : "") + "\r\n" + body
        }
        let get = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        // inline, Hummingbird, inline-sized but queued behind it, large, bad JSON, inline + close
        let client = try SlowClient(port: server.port, head: post(records) + get + post(records) + post(padded) + post("{x")
                                                             + post(records, close: true))
        let text = client.readAll(timeout: 8)
        let statuses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { String($0.prefix(3)) }
        #expect(statuses == ["200", "200", "200", "200", "400", "200"], "\(text.prefix(600))")
        let bodies = text.components(separatedBy: "\r\n\r\n").dropFirst().map { $0.components(separatedBy: "HTTP/1.1")[0] }
        #expect(bodies.count == 6)
        #expect(bodies.enumerated().allSatisfy { [0, 2, 3, 5].contains($0.offset) == ($0.element == small.text) })
        #expect(bodies.dropFirst().first?.hasPrefix(#"{"status":"ok""#) == true)
        // Only the first went inline: the rest arrived while Hummingbird had the GET.
        #expect(monitor.answeredInline == 2)
    }

    /// Under overload the log drops rows and counts them instead of making requests wait.
    @Test func aFullLogQueueDropsAndCounts() async throws { try await Self.offPool { try Self.aFullLogQueueDropsAndCounts() } }

    static func aFullLogQueueDropsAndCounts() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.folder) }
        let deployment = try store.startDeployment(url: "http://test", models: ["diabetes@1"])
        let monitor = RequestMonitor(store: store, deployment: deployment, capacity: 10)
        let one = Fixtures.diabetes.take([0])
        for _ in 0..<50 {
            monitor.record(.init(model: Fixtures.ridge, input: one, predictions: [.number(1)], latencyMs: 0.1, at: 0, shadow: false))
        }
        monitor.close()
        let s = monitor.snapshot()
        #expect(s.dropped >= 30, "dropped \(s.dropped)")
        #expect(s.logged + s.dropped == 50)
        #expect(try store.requests(.deployment(deployment)).count == s.logged)
    }

    /// The log holds each row's own inputs object and prediction, in order, for
    /// multi-row requests too.
    @Test func logsEachRowsInputs() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.folder) }
        let deployment = try store.startDeployment(url: "http://test", models: ["diabetes@1"])
        let monitor = RequestMonitor(store: store, deployment: deployment)
        let three = Fixtures.diabetes.take([0, 1, 2])
        let one = Fixtures.diabetes.take([3])
        monitor.record(.init(model: Fixtures.ridge, input: three, predictions: [.number(1), .number(2), .number(3)],
                             latencyMs: 0.1, at: 0, shadow: false))
        monitor.record(.init(model: Fixtures.ridge, input: one, predictions: [.number(4)], latencyMs: 0.1, at: 0, shadow: false))
        monitor.close()
        let logged = try store.requests(.deployment(deployment))
        #expect(logged.map(\.inputs) == RequestMonitor.rowObjects(three) + RequestMonitor.rowObjects(one))
        #expect(logged.map(\.prediction) == ["1", "2", "3", "4"])
    }

    /// Numeric inputs logged from their copied values and all others from their tables
    /// read the same: int columns with missing cells, NaN, columns out of schema order,
    /// integers too large for a double, non-numeric or absent predictions.
    @Test func logsEveryKindOfInputAndPrediction() throws {
        let store = try Self.tempStore()
        defer { try? FileManager.default.removeItem(atPath: store.folder) }
        let deployment = try store.startDeployment(url: "http://test", models: ["diabetes@1"])
        let monitor = RequestMonitor(store: store, deployment: deployment)
        let schema = Fixtures.ridge.schema.columns, names = Fixtures.ridge.schema.names
        #expect(schema.first?.dtype == .int && schema.contains { $0.dtype == .float })
        // The schema's own types: int columns with a missing cell, float ones with NaN.
        func table(first: Column) throws -> Table {
            try Table(names: names, columns: [first] + schema.dropFirst().enumerated().map { k, c in
                c.dtype == .int ? Column(ints: [Int64(k), -Int64(k)], validity: [true, k % 2 == 0])
                    : Column(floats: k % 3 == 0 ? [.nan, 2.5] : [Double(k) + 0.25, -Double(k)]) })
        }
        let withMissing = try table(first: Column(ints: [7, 0], validity: [true, false]))
        let huge = try table(first: Column(ints: [1 << 60, -(1 << 60)], validity: nil))
        let two = Fixtures.diabetes.take([0, 1])
        let reordered = try Table(names: two.names.reversed(), columns: two.columns.reversed())
        let cases: [(Table, [JSON], [String])] = [
            (withMissing, [.number(1.5), .number(-2)], ["1.5", "-2"]),
            (huge, [.number(3), .number(.nan)], ["3", "null"]),
            (reordered, [.number(4), .number(5)], ["4", "5"]),
            (withMissing, [.string("yes"), .null], [#""yes""#, "null"]),
            (withMissing, [], ["null", "null"]),
        ]
        for (t, predictions, _) in cases {
            monitor.record(.init(model: Fixtures.ridge, input: t, predictions: predictions, latencyMs: 0.1, at: 0, shadow: false))
        }
        monitor.close()
        let logged = try store.requests(.deployment(deployment))
        #expect(logged.map(\.inputs) == cases.flatMap { RequestMonitor.rowObjects($0.0) })
        #expect(logged.map(\.prediction) == cases.flatMap(\.2))
        #expect(logged.first?.inputs.hasPrefix(#"{"\#(names[0])":7,"#) == true)
        #expect(logged.contains { $0.inputs.contains(":null") } && logged.contains { $0.inputs.contains("\(1 << 60)") })
        // A table that does not follow the schema's types is logged from the table.
        let floats = try Table(names: names, columns: names.map { _ in Column(floats: [0.5]) })
        let again = RequestMonitor(store: store, deployment: deployment)
        again.record(.init(model: Fixtures.ridge, input: floats, predictions: [.number(1)], latencyMs: 0.1, at: 0, shadow: false))
        again.close()
        #expect(try store.requests(.deployment(deployment)).last?.inputs == RequestMonitor.rowObjects(floats).first)
        #expect(logged.dropFirst().first?.inputs.hasPrefix(#"{"\#(names[0])":null,"#) == true)
    }

    @Test func aClientThatNeverReadsCannotHoldShutdown() async throws {
        try await Self.offPool { try Self.aClientThatNeverReadsCannotHoldShutdown() }
    }

    /// A client pipelining requests without reading the answers fills the socket until the
    /// server can neither write nor read: graceful shutdown does not wait for it, the
    /// connection ends and `stop` returns.
    static func aClientThatNeverReadsCannotHoldShutdown() throws {
        let config = ServeConfiguration(port: 0)
        let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: nil)
        let fd = try SlowClient.connect(port: server.port)
        defer { close(fd) }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let request = Array("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        let burst = Array([[UInt8]](repeating: request, count: 2_000).joined())
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Until the server stops reading (its answers are stuck), or 20 MB of requests.
        var sent = 0
        while sent < 20 << 20 {
            let n = burst.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            sent += n
        }
        #expect(sent >= 100_000, "sent \(sent) bytes")
        // Stopped from another thread, so a shutdown that hangs fails the test instead.
        let stopped = DispatchSemaphore(value: 0)
        Thread { server.stop(); stopped.signal() }.start()
        #expect(stopped.wait(timeout: .now() + 15) == .success, "stop did not return")
        var byte: UInt8 = 0
        tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        // Drain what was answered: the connection ends (EOF or reset), it does not hang.
        var ended = false
        for _ in 0..<100_000 {
            let n = recv(fd, &byte, 1, 0)
            if n <= 0 { ended = true; break }
            var buf = [UInt8](repeating: 0, count: 65_536)
            if recv(fd, &buf, buf.count, 0) <= 0 { ended = true; break }
        }
        #expect(ended)
    }

    @Test func splitsNeedFiniteWeightsAndOneInputSchema() {
        #expect {
            _ = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1e308), Route(Fixtures.ridge2, weight: 1e308)],
                                           configuration: ServeConfiguration(port: 0), store: nil)
        } throws: { e in (e as? ServeError)?.message.contains("weights add up") == true }
        #expect {
            _ = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1), Route(Fixtures.logistic, weight: 1)],
                                           configuration: ServeConfiguration(port: 0), store: nil)
        } throws: { e in (e as? ServeError)?.message == "a traffic split needs one input schema: iris@3 reads other columns than diabetes@1" }
    }

    @Test func aTakenPortIsAClearError() async throws { try await Self.offPool { try Self.aTakenPortIsAClearError() } }

    static func aTakenPortIsAClearError() throws {
        let first = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: ServeConfiguration(port: 0),
                                               store: nil)
        defer { first.stop() }
        #expect {
            _ = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)],
                                           configuration: ServeConfiguration(port: first.port), store: nil)
        } throws: { e in
            guard let e = e as? ServeError else { return false }
            return e.message.contains("cannot serve on 127.0.0.1:\(first.port)")
        }
    }
}

/// A client that writes part of a request and waits.
struct SlowClient {
    let fd: Int32

    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw HTTPClient.Failure(message: "connect failed") }
        return fd
    }

    init(port: Int, head: String) throws {
        fd = try SlowClient.connect(port: port)
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try HTTPClient.sendAll(fd, Array(head.utf8))
    }

    /// Everything the server sends until it closes the connection or `timeout` seconds pass.
    func readAll(timeout: Int) -> String {
        defer { close(fd) }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The status code of the answer, or 0 when none came.
    func readStatus() -> Int {
        defer { close(fd) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 12 else { return 0 }
        return Int(String(decoding: buf[9..<12], as: UTF8.self)) ?? 0
    }
}

@Suite struct RequestLogWriterTests {
    /// The request log's writer thread runs below the answering threads' priority.
    @Test func writerRunsAtLowPriority() throws {
        let store = try ServerSocketTests.tempStore()
        let d = try store.startDeployment(url: "http://127.0.0.1:1", models: ["m@1"])
        #if os(Linux)
        let mine = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        #endif
        let monitor = RequestMonitor(store: store, deployment: d)
        defer { monitor.close() }
        #if os(Linux)
        var nice: Int32?
        for _ in 0..<200 where nice == nil { nice = monitor.writerPriority; if nice == nil { usleep(10_000) } }
        #expect(nice.map { $0 >= RequestMonitor.writerNice } == true, "writer nice \(String(describing: nice))")
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == mine)   // the process's other threads keep theirs
        #endif
    }
}
