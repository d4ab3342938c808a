import Foundation
import HTTPTypes
import MLShEngine
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing
@testable import MLShServe

/// `InlinePredictionHandler` on its own, in an embedded channel: which requests it answers
/// on the event loop, which it passes on to Hummingbird (read inbound here), and the order
/// it keeps on a connection.
@Suite struct InlinePredictionTests {
    static let records = #"{"dataframe_records": [\#(Fixtures.row)]}"#

    func channel(token: String? = nil) throws -> EmbeddedChannel {
        let bound = BoundAddress()
        bound.install(Fixtures.service([Route(Fixtures.ridge, weight: 1)], token: token))
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(InlinePredictionHandler(bound: bound))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    func head(_ method: HTTPRequest.Method, _ path: String, _ fields: [(HTTPField.Name, String)] = []) -> HTTPRequestPart {
        var h = HTTPRequest(method: method, scheme: nil, authority: "x", path: path)
        for (name, value) in fields { h.headerFields[name] = value }
        return .head(h)
    }

    func send(_ channel: EmbeddedChannel, _ parts: HTTPRequestPart...) throws {
        for p in parts { try channel.writeInbound(p) }
    }

    func post(_ channel: EmbeddedChannel, _ path: String = "/invocations", body: String = records,
              _ fields: [(HTTPField.Name, String)] = [(.contentType, "application/json")]) throws {
        try send(channel, head(.post, path, fields + [(.contentLength, String(body.utf8.count))]),
                 .body(ByteBuffer(string: body)), .end(nil))
    }

    /// Hummingbird answering a request it was passed (its end part, read back out).
    func hummingbirdAnswers(_ channel: EmbeddedChannel) throws {
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .end? = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("the handler held back Hummingbird's answer")
            return
        }
    }

    /// The answer written outbound: its head and body text, nil when none was written.
    func answer(_ channel: EmbeddedChannel) throws -> (HTTPResponse, String)? {
        channel.embeddedEventLoop.run()   // the flush waits for the loop's turn to end
        guard case .head(let h)? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        guard case .body(let b)? = try channel.readOutbound(as: HTTPResponsePart.self),
              case .end? = try channel.readOutbound(as: HTTPResponsePart.self) else { return nil }
        return (h, String(buffer: b))
    }

    /// The request parts passed on to Hummingbird, as method/path, body length and end.
    func passed(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let p = try channel.readInbound(as: HTTPRequestPart.self) {
            switch p {
            case .head(let h): out.append("\(h.method) \(h.path ?? "")")
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
        #expect(h.headerFields[.contentType] == "application/json")
        #expect(h.headerFields[.contentLength] == String(text.utf8.count))
        #expect(h.headerFields[HTTPField.Name("X-MLSH-Model")!] == "diabetes@1")
        #expect(h.headerFields[.date]?.hasSuffix(" GMT") == true)
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
        try send(c, head(.get, "/health"), .end(nil))
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
        try send(e, head(.post, "/invocations", [(.contentType, "application/json"), (.transferEncoding, "chunked")]),
                 .body(ByteBuffer(string: chunk)))
        #expect(try passed(e).isEmpty)
        try send(e, .body(ByteBuffer(string: chunk)), .body(ByteBuffer(string: Self.records)), .end(nil))
        #expect(try passed(e) == ["POST /invocations", "body 80000", "body \(Self.records.utf8.count)", "end"])
        #expect(try answer(e) == nil)
    }

    /// While Hummingbird has not answered a request, later ones on the connection go to it
    /// too: answers leave in request order.
    @Test func keepsRequestOrder() throws {
        let c = try channel()
        try send(c, head(.get, "/v1/models"), .end(nil))
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

    @Test func closesAfterAnsweringConnectionClose() throws {
        let c = try channel()
        try post(c)
        #expect(try answer(c) != nil)
        #expect(c.isActive)
        try post(c, body: Self.records, [(.contentType, "application/json"), (.connection, "close")])
        let (h, _) = try #require(try answer(c))
        #expect(h.headerFields[.connection] == "close")
        c.embeddedEventLoop.run()
        #expect(!c.isActive)
    }

    @Test func formatsTheDateHeader() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(1_796_000_000) == "Mon, 30 Nov 2026 00:53:20 GMT")
        #expect(HTTPDate.format(951_782_400) == "Tue, 29 Feb 2000 00:00:00 GMT")
    }
}
