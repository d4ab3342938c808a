import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MLShEngine
import MLShModels
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
@testable import MLShServe

/// `InlinePredictionHandler` on its own, in an embedded channel: which requests it answers
/// on the event loop, which it passes on to Hummingbird (read inbound here), and the order
/// it keeps on a connection.
@Suite struct InlinePredictionTests {
    static let records = #"{"dataframe_records": [\#(Fixtures.row)]}"#

    static let knn: ServedModel = {
        let m = try! fit(PipelineSpec(.knn(KNNSpec(k: 5))), on: Fixtures.diabetes, target: "progression", features: nil)
        return ServedModel(name: "diabetes", version: 7, model: m)
    }()

    /// The handler alone, or (`guarded`) behind a `ConnectionGuard` as the server has it.
    func channel(token: String? = nil, bodyLimit: Int = 10 << 20, model: ServedModel = Fixtures.ridge,
                 split: [ServedModel] = [], guarded idleTimeout: TimeAmount? = nil) throws -> EmbeddedChannel {
        let bound = BoundAddress()
        bound.install(Fixtures.service(([model] + split).map { Route($0, weight: 1) }, token: token, bodyLimit: bodyLimit))
        let channel = EmbeddedChannel()
        if let idleTimeout {
            try channel.pipeline.syncOperations.addHandler(ConnectionGuard(bodyTimeout: .seconds(30), idleTimeout: idleTimeout))
        }
        try channel.pipeline.syncOperations.addHandler(InlinePredictionHandler(bound: bound))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func guarded(idleTimeout: TimeAmount = .seconds(60)) throws -> EmbeddedChannel { try channel(guarded: idleTimeout) }

    /// A prediction head and the first byte of its 500-byte body, the rest never sent.
    func sendPartialBody(_ channel: EmbeddedChannel) throws {
        try send(channel, head(.POST, "/invocations", [("Content-Type", "application/json"), ("Content-Length", "500")]),
                 .body(ByteBuffer(string: "{")))
    }

    func head(_ method: HTTPMethod, _ path: String, _ fields: [(String, String)] = []) -> HTTPServerRequestPart {
        var h = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        for (name, value) in fields { h.headers.add(name: name, value: value) }
        return .head(h)
    }

    func send(_ channel: EmbeddedChannel, _ parts: HTTPServerRequestPart...) throws {
        for p in parts { try channel.writeInbound(p) }
    }

    func post(_ channel: EmbeddedChannel, _ path: String = "/invocations", body: String = records,
              _ fields: [(String, String)] = [("Content-Type", "application/json")]) throws {
        try send(channel, head(.POST, path, fields + [("Content-Length", String(body.utf8.count))]),
                 .body(ByteBuffer(string: body)), .end(nil))
    }

    /// Hummingbird answering a request it was passed (its head and end, read back out):
    /// the head as it left.
    @discardableResult
    func hummingbirdAnswers(_ channel: EmbeddedChannel) throws -> HTTPResponseHead? {
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        guard case .head(let h)? = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .end? = try channel.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("the handler held back Hummingbird's answer")
            return nil
        }
        return h
    }

    /// The answer written outbound: its head and body text, nil when none was written.
    func answer(_ channel: EmbeddedChannel) throws -> (HTTPResponseHead, String)? {
        channel.embeddedEventLoop.run()   // the flush waits for the loop's turn to end
        guard case .head(let h)? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        guard case .body(.byteBuffer(let b))? = try channel.readOutbound(as: HTTPServerResponsePart.self),
              case .end? = try channel.readOutbound(as: HTTPServerResponsePart.self) else { return nil }
        return (h, String(buffer: b))
    }

    /// The request parts passed on to Hummingbird, as method/path, body length and end.
    func passed(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let p = try channel.readInbound(as: HTTPServerRequestPart.self) {
            switch p {
            case .head(let h): out.append("\(h.method.rawValue) \(h.uri)")
            case .body(let b): out.append("body \(b.readableBytes)")
            case .end: out.append("end")
            }
        }
        return out
    }

    @Test func answersASmallPredictionItself() throws {
        let c = try channel()
        try post(c)
        let (h, text) = try #require(try answer(c))
        #expect(h.status == .ok)
        #expect(text == #"{"predictions":[205.59094435613116]}"#)
        #expect(h.headers["Content-Type"] == ["application/json"])
        #expect(h.headers["Content-Length"] == [String(text.utf8.count)])
        #expect(h.headers["X-MLSH-Model"] == ["diabetes@1"])
        #expect(h.headers["Date"].first?.hasSuffix(" GMT") == true)
        #expect(try passed(c).isEmpty)
        #expect(c.isActive)
    }

    /// A bad body is answered inline too, with the same JSON error as Hummingbird's path.
    @Test func answersItsErrors() throws {
        let c = try channel()
        try post(c, "/v1/models/diabetes/predict", body: #"{"rows": [{"age": 1}]}"#)
        let (h, text) = try #require(try answer(c))
        #expect(h.status.code == 422)
        #expect(text.contains(#""code":"schema_mismatch""#))
        try post(c, body: "{not json")
        let (h2, _) = try #require(try answer(c))
        #expect(h2.status.code == 400)
        #expect(try passed(c).isEmpty)
    }

    /// Other routes, refused heads, large and unannounced-large bodies go to Hummingbird.
    @Test func passesOnWhatItDoesNotAnswer() throws {
        let c = try channel(token: "secret")
        try send(c, head(.GET, "/health"), .end(nil))
        #expect(try passed(c) == ["GET /health", "end"])
        try hummingbirdAnswers(c)   // Hummingbird answers it
        try post(c)                                        // no token: 401 is Hummingbird's
        #expect(try passed(c) == ["POST /invocations", "body \(Self.records.utf8.count)", "end"])
        try hummingbirdAnswers(c)
        #expect(try answer(c) == nil)

        let d = try channel()
        let big = String(repeating: " ", count: InlinePredictionHandler.maxBody) + Self.records
        try post(d, body: big)
        #expect(try passed(d) == ["POST /invocations", "body \(big.utf8.count)", "end"])
        try hummingbirdAnswers(d)

        // No length given: read inline until it outgrows the limit, then handed over whole.
        let e = try channel()
        let chunk = String(repeating: " ", count: 40_000)
        try send(e, head(.POST, "/invocations", [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")]),
                 .body(ByteBuffer(string: chunk)))
        #expect(try passed(e).isEmpty)
        try send(e, .body(ByteBuffer(string: chunk)), .body(ByteBuffer(string: Self.records)), .end(nil))
        #expect(try passed(e) == ["POST /invocations", "body 80000", "body \(Self.records.utf8.count)", "end"])
        #expect(try answer(e) == nil)
    }

    /// The server's body limit below `maxBody` still holds (Hummingbird answers 413), and
    /// a client that does not read its answers meets Hummingbird's backpressure.
    @Test func passesOnOverTheBodyLimitAndWhileUnwritable() throws {
        let c = try channel(bodyLimit: 100)
        try post(c)
        #expect(try passed(c) == ["POST /invocations", "body \(Self.records.utf8.count)", "end"])
        try hummingbirdAnswers(c)

        let d = try channel()
        d.isWritable = false
        try post(d)
        #expect(try passed(d).count == 3)
        try hummingbirdAnswers(d)
        d.isWritable = true
        try post(d)
        #expect(try passed(d).isEmpty)
    }

    /// An input too costly to score on the event loop (rows × the model's cost per row) is
    /// scored by Hummingbird's tasks: k-nearest neighbours pays for all 442 training rows.
    @Test func passesOnCostlyInputs() throws {
        #expect(Fixtures.ridge.model.scoringCostPerRow < 100)
        #expect(Self.knn.model.scoringCostPerRow > 4_000)
        let c = try channel(model: Self.knn)
        try post(c)
        #expect(try answer(c)?.0.status == .ok)
        let many = #"{"dataframe_records": ["# + Array(repeating: Fixtures.row, count: 300).joined(separator: ",") + "]}"
        try post(c, body: many)
        #expect(try passed(c) == ["POST /invocations", "body \(many.utf8.count)", "end"])
        #expect(try answer(c) == nil)

        // In a split the costliest version decides, whichever one the head picked: the
        // split's weights hold on both paths.
        let d = try channel(model: Fixtures.ridge, split: [Self.knn])
        for _ in 0..<20 {
            try post(d, body: many)
            #expect(try passed(d) == ["POST /invocations", "body \(many.utf8.count)", "end"])
            try hummingbirdAnswers(d)
        }
    }

    /// While Hummingbird has not answered a request, later ones on the connection go to it
    /// too: answers leave in request order.
    @Test func keepsRequestOrder() throws {
        let c = try channel()
        try send(c, head(.GET, "/v1/models"), .end(nil))
        try post(c)
        #expect(try passed(c) == ["GET /v1/models", "end", "POST /invocations", "body \(Self.records.utf8.count)", "end"])
        try hummingbirdAnswers(c)   // the first answered; the second still pending
        try post(c)
        #expect(try passed(c).count == 3)
        try hummingbirdAnswers(c)
        try hummingbirdAnswers(c)   // all three answered
        try post(c)
        #expect(try passed(c).isEmpty)
        #expect(try answer(c)?.0.status == .ok)
    }

    /// After a `Connection: close` request answered here, what follows is not answered;
    /// after one passed on, everything goes to Hummingbird (the connection closes after its answer).
    @Test func closesAfterAnsweringConnectionClose() throws {
        let c = try guarded()   // the guard closes after the last answer
        try post(c)
        #expect(try answer(c) != nil)
        #expect(c.isActive)
        try post(c, body: Self.records, [("Content-Type", "application/json"), ("Connection", "Keep-Alive, Close")])
        try post(c)
        let (h, _) = try #require(try answer(c))
        #expect(h.headers["Connection"] == ["close"])
        c.embeddedEventLoop.run()
        #expect(!c.isActive)
        #expect(try c.readOutbound(as: HTTPServerResponsePart.self) == nil)
        #expect(try passed(c).isEmpty)

        let d = try channel()
        try send(d, head(.GET, "/health", [("Connection", "close")]), .end(nil))
        try hummingbirdAnswers(d)
        try post(d)
        #expect(try passed(d) == ["GET /health", "end", "POST /invocations", "body \(Self.records.utf8.count)", "end"])
        #expect(try answer(d) == nil)
    }

    /// On graceful shutdown an idle connection is closed at once; an answer written here
    /// and not yet flushed leaves first.
    @Test func flushesBeforeAQuiesceClose() throws {
        let c = try guarded()
        try post(c)   // answered, its flush queued for the end of the loop's turn
        c.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        guard case .head(let h)? = try c.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("the answer was not flushed before the close")
            return
        }
        #expect(h.status == .ok)
        #expect(!c.isActive)
    }

    /// A request still being read when graceful shutdown begins is answered, then the
    /// connection closes; so is one Hummingbird is answering.
    @Test func aQuiesceWaitsForTheAnswersInProgress() throws {
        let c = try guarded()
        try send(c, head(.POST, "/invocations", [("Content-Type", "application/json"), ("Content-Length", String(Self.records.utf8.count))]),
                 .body(ByteBuffer(string: Self.records)))
        c.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(c.isActive)
        try send(c, .end(nil))
        #expect(try answer(c)?.0.status == .ok)
        #expect(!c.isActive)

        let d = try guarded()
        try send(d, head(.GET, "/v1/models"), .end(nil))
        d.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(d.isActive)
        try hummingbirdAnswers(d)
        #expect(!d.isActive)
    }

    /// A connection with nothing in progress closes once idle for the timeout; answers
    /// given on the event loop count as activity, and a request waiting for its answer
    /// keeps the connection open.
    @Test func idleConnectionsCloseAfterTheTimeout() throws {
        let c = try guarded(idleTimeout: .seconds(1))
        for _ in 0..<3 {
            c.embeddedEventLoop.advanceTime(by: .milliseconds(700))
            try post(c)
            #expect(try answer(c)?.0.status == .ok)
            #expect(c.isActive)
        }
        c.embeddedEventLoop.advanceTime(by: .milliseconds(1_300))
        #expect(!c.isActive)

        let d = try guarded(idleTimeout: .seconds(1))
        try send(d, head(.GET, "/v1/models"), .end(nil))
        d.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(d.isActive)
        try hummingbirdAnswers(d)
        d.embeddedEventLoop.advanceTime(by: .milliseconds(700))
        #expect(d.isActive)
        d.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        #expect(!d.isActive)
    }

    /// A request that is not keep-alive gets `Connection: close` and the connection closes
    /// after its answer, on both paths; so does the last answer after a quiesce.
    @Test func closesAfterTheLastAnswer() throws {
        let c = try guarded()
        var h10 = HTTPRequestHead(version: .http1_0, method: .GET, uri: "/v1/models")
        try send(c, .head(h10), .end(nil))
        #expect(try hummingbirdAnswers(c)?.headers["Connection"] == ["close"])
        #expect(!c.isActive)

        let d = try guarded()
        h10.method = .POST
        h10.uri = "/invocations"
        h10.headers.add(name: "Content-Type", value: "application/json")
        h10.headers.add(name: "Content-Length", value: String(Self.records.utf8.count))
        try send(d, .head(h10), .body(ByteBuffer(string: Self.records)), .end(nil))
        #expect(try answer(d)?.0.headers["Connection"] == ["close"])
        #expect(!d.isActive)

        let e = try guarded()
        h10.version = .http1_1   // keep-alive
        try send(e, .head(h10), .body(ByteBuffer(string: Self.records)), .end(nil))
        #expect(try answer(e)?.0.headers["Connection"] == [])
        try send(e, head(.GET, "/v1/models"), .end(nil))
        e.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(e.isActive)
        #expect(try hummingbirdAnswers(e)?.headers["Connection"] == ["close"])
        #expect(!e.isActive)
    }

    /// A request still arriving behind one Hummingbird has not answered is closed once
    /// idle for the timeout (a client that stops reading and sending holds nothing).
    @Test func aStalledPipelineIsClosedWhenIdle() throws {
        let c = try guarded(idleTimeout: .seconds(1))
        try send(c, head(.GET, "/v1/models"), .end(nil))
        try sendPartialBody(c)
        c.embeddedEventLoop.advanceTime(by: .milliseconds(700))
        #expect(c.isActive)
        c.embeddedEventLoop.advanceTime(by: .milliseconds(600))
        #expect(!c.isActive)
    }

    /// A body that stops arriving is answered 408 and the connection closed.
    @Test func aLateBodyIsAnswered408() throws {
        let c = try guarded()
        try sendPartialBody(c)
        c.embeddedEventLoop.advanceTime(by: .seconds(29))
        #expect(c.isActive)
        c.embeddedEventLoop.advanceTime(by: .seconds(2))
        guard case .head(let h)? = try c.readOutbound(as: HTTPServerResponsePart.self) else {
            Issue.record("no 408")
            return
        }
        #expect(h.status.code == 408 && h.headers["Connection"] == ["close"])
        c.embeddedEventLoop.run()
        #expect(!c.isActive)
    }

    @Test func formatsTheDateHeader() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_000_000) == "Mon, 30 Nov 2026 00:53:20 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
