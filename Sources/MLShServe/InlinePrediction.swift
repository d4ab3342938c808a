import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Answers small, cheap prediction requests on the connection's event loop, where their
/// bytes arrive: parse, predict and write happen in one go, in NIO's own HTTP/1 parts,
/// without converting the request for Hummingbird, handing it to a task and the answer
/// back to the loop. Everything else passes on to Hummingbird unchanged: other routes,
/// bodies over `maxBody` or the server's body limit, inputs too costly to score on the loop
/// (`maxCost`), requests pipelined behind one Hummingbird is still answering, and any
/// request while the client is not reading its answers (Hummingbird's backpressure then
/// applies). Both paths share `PredictionService.route` and its answers, and a
/// connection's answers stay in request order. `ConnectionGuard`, before this handler,
/// sees both paths' requests and answers (deadlines, idle and graceful close).
final class InlinePredictionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Bodies up to this size are read here.
    static let maxBody = 64 * 1024
    /// Rows × the served models' largest `scoringCostPerRow` scored here; costlier inputs
    /// go to Hummingbird's tasks, so one request holds its event loop for about a
    /// millisecond at most (a one-row ridge prediction costs ~50).
    static let maxCost = 1_000_000

    private enum State {
        case idle
        /// Reading a request to answer here.
        case reading(Reading)
        /// Passing the current request on to Hummingbird.
        case passing
        /// A request asked to close the connection: what follows is not answered.
        case closing
    }

    /// A request being read (a class: the state moves one reference, not its fields).
    private final class Reading {
        let head: HTTPRequestHead
        let service: PredictionService
        let model: ServedModel
        let mlflow: Bool
        let contentType: String?
        let closes: Bool
        let start: UInt64
        var body: ByteBuffer?

        init(head: HTTPRequestHead, service: PredictionService, model: ServedModel, mlflow: Bool, contentType: String?,
             closes: Bool, start: UInt64) {
            self.head = head; self.service = service; self.model = model; self.mlflow = mlflow
            self.contentType = contentType; self.closes = closes; self.start = start
        }
    }

    private let bound: BoundAddress
    private var state = State.idle
    /// Requests passed on whose answers have not been written yet: while any is, later
    /// requests are passed on too, so the connection answers in order.
    private var passedPending = 0
    /// The `Date` header, made once a second per connection (no lock between event loops).
    private var dateSecond = -1
    private var dateText = ""

    init(bound: BoundAddress) { self.bound = bound }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch (state, part) {
        case (.closing, _):
            return
        case _ where handedOver:
            context.fireChannelRead(data)
        case (.idle, .head(let head)):
            if passedPending == 0, context.channel.isWritable, let r = reading(head) {
                state = .reading(r)
            } else {
                let refused = head.version.minor > 0 && expectsContinue(head) ? !answerExpectation(context, head) : false
                pass(context, data, closes: !head.isKeepAlive || refused)
            }
        case (.reading(let r), .body(var chunk)):
            if r.body == nil { r.body = chunk } else { r.body?.writeBuffer(&chunk) }   // grows in place
            if let b = r.body, b.readableBytes > InlinePredictionHandler.readLimit(r.service) {
                // Outgrew what is read here (chunked): Hummingbird takes over from the
                // head, with what has arrived so far.
                pass(context, wrapInboundOut(.head(r.head)), closes: r.closes)
                context.fireChannelRead(wrapInboundOut(.body(b)))
            }
        case (.reading(let r), .end):
            state = .idle
            let body = r.body ?? ByteBuffer()
            let reply: Reply
            switch r.service.input(r.model, mlflow: r.mlflow, contentType: r.contentType, body: body) {
            case .failure(let e):
                reply = r.service.failure(e, label: r.model.label, route: PredictionService.predictRoute(r.model, mlflow: r.mlflow))
            case .success(let input):
                let cost = input.table.rowCount.multipliedReportingOverflow(by: r.service.maxScoringCostPerRow)
                guard !cost.overflow, cost.partialValue <= InlinePredictionHandler.maxCost else {
                    // Too costly for the event loop: Hummingbird's tasks score it.
                    pass(context, wrapInboundOut(.head(r.head)), closes: r.closes)
                    context.fireChannelRead(wrapInboundOut(.body(body)))
                    finishPassing(context, data)
                    return
                }
                reply = r.service.answer(r.model, input, mlflow: r.mlflow, start: r.start)
            }
            r.service.monitor.inlineAnswers.add(1, ordering: .relaxed)
            write(context, reply, close: r.closes)
        case (.passing, .end):
            finishPassing(context, data)
        default:
            context.fireChannelRead(data)
        }
    }

    /// Body bytes read here before Hummingbird takes over (it answers 413 past the limit).
    static func readLimit(_ service: PredictionService) -> Int { min(maxBody, service.configuration.bodyLimit) }

    /// Passes the request being read (from its head) on to Hummingbird.
    private func pass(_ context: ChannelHandlerContext, _ head: NIOAny, closes: Bool) {
        passedPending += 1
        state = .passing
        if closes { handedOver = true }
        context.fireChannelRead(head)
    }
    /// A request passed on is not keep-alive: the connection closes after its answer
    /// (`ConnectionGuard`), so what follows goes to Hummingbird too, never answered here.
    private var handedOver = false

    private func finishPassing(_ context: ChannelHandlerContext, _ end: NIOAny) {
        state = .idle
        context.fireChannelRead(end)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { context.write(data, promise: promise); return }
        passedPending -= 1
        context.write(data, promise: promise)
        if let n = continueAfter {
            continueAfter = n > 1 ? n - 1 : nil
            if n == 1 { writeContinue(context) }
        }
    }

    /// A request passed on asks for `Expect: 100-continue`.
    private func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.headers["expect"].contains { $0.utf8.count == 12 && $0.lowercased() == "100-continue" }
    }

    /// Answers a request passed on that waits for `100 Continue` before sending its body:
    /// `100 Continue` once the answers before it have left, when it is a prediction the
    /// server will read; false when it is refused from its head (401, 404, 405, 413, 415,
    /// 503 — Hummingbird answers at once, and the connection closes after that answer: the
    /// body the client holds back never comes) or reads no body.
    private func answerExpectation(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) -> Bool {
        if service == nil { service = bound.current }
        guard let service, let method = HTTPRequest.Method(head.method.rawValue) else {
            context.triggerUserOutboundEvent(ConnectionGuard.CloseAfterAnswer(), promise: nil)
            return false
        }
        let target = try? service.route(method, Substring(URI(head.uri).path), authorization: head.headers.first(name: "authorization"))
        guard case .predict(_, let mlflow)? = target,
              (head.headers.first(name: "content-length").flatMap { Int($0) } ?? 0) <= service.configuration.bodyLimit,
              service.mediaRefusal(type: head.headers.first(name: "content-type")?.lowercased() ?? "",
                                   encoding: head.headers.first(name: "content-encoding"), mlflow: mlflow) == nil else {
            context.triggerUserOutboundEvent(ConnectionGuard.CloseAfterAnswer(), promise: nil)
            return false
        }
        if passedPending == 0 { writeContinue(context) } else { continueAfter = passedPending }
        return true
    }
    /// Answers still to end before the `100 Continue` of the request passed on last.
    private var continueAfter: Int?

    private func writeContinue(_ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
    }

    /// The request's route when this head is a prediction whose body is read here: a POST
    /// whose length, type and credentials are each given at most once, with no `Expect`
    /// or `Content-Encoding`.
    private func reading(_ head: HTTPRequestHead) -> Reading? {
        guard head.method == .POST else { return nil }
        if service == nil { service = bound.current }   // installed once, never replaced
        guard let service else { return nil }
        let limit = InlinePredictionHandler.readLimit(service)
        var contentType: String?, authorization: String?, length = false
        for (name, value) in head.headers {
            switch name.utf8.count {
            case 6 where name.caseInsensitiveEquals("expect"): return nil   // answered by `answerExpectation`
            case 16 where name.caseInsensitiveEquals("content-encoding"): return nil   // refused (415) from the head
            case 12 where name.caseInsensitiveEquals("content-type"):
                guard contentType == nil else { return nil }
                contentType = value
            case 13 where name.caseInsensitiveEquals("authorization"):
                guard authorization == nil else { return nil }
                authorization = value
            case 14 where name.caseInsensitiveEquals("content-length"):
                guard !length, let n = Int(value), n <= limit else { return nil }
                length = true
            default: break
            }
        }
        // A refused head (401, 404, 405) is answered by Hummingbird, which reads no body.
        let routed = head.uri == "/invocations" ? Substring(head.uri) : Substring(URI(head.uri).path)
        guard case .predict(let model, let mlflow)? = try? service.route(.post, routed, authorization: authorization) else { return nil }
        return Reading(head: head, service: service, model: model, mlflow: mlflow, contentType: contentType,
                       closes: !head.isKeepAlive, start: DispatchTime.now().uptimeNanoseconds)
    }
    private var service: PredictionService?

    /// Writes an answer. The flush waits for the end of the event loop's turn, so the
    /// answers to every connection read in that turn leave together: a client reading
    /// many connections (a load generator, a proxy) then wakes once for several of them.
    private func write(_ context: ChannelHandlerContext, _ reply: Reply, close: Bool) {
        var headers = HTTPHeaders()
        headers.reserveCapacity(reply.headers.count + 4)
        for field in reply.headers { headers.add(name: field.name.rawName, value: field.value) }
        headers.add(name: "Content-Length", value: String(reply.body.readableBytes))
        let now = time(nil)
        if now != dateSecond { dateSecond = now; dateText = HTTPDate.format(now) }
        headers.add(name: "Date", value: dateText)
        let status = HTTPResponseStatus(statusCode: reply.status.code, reasonPhrase: reply.status.reasonPhrase)
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(reply.body))), promise: nil)
        // The last answer (`ConnectionGuard` says so and closes after it): nothing after
        // it is answered.
        if close { state = .closing }
        context.write(wrapOutboundOut(.end(nil)), promise: nil)
        guard !flushScheduled else { return }
        flushScheduled = true
        let handler = NIOLoopBound(self, eventLoop: context.eventLoop)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            handler.value.flushScheduled = false
            bound.value.flush()
            // With the CPU contended, the threads waiting for these answers (clients and
            // proxies on this host) run now rather than after this loop's next turn: a
            // syscall that returns at once when nothing else is runnable.
            sched_yield()
        }
    }
    private var flushScheduled = false
}

/// Hummingbird's HTTP/1.1 channel, with the same HTTP codec and limits as `HTTP1Channel`,
/// and with `ConnectionGuard` (body deadline, idle timeout, graceful close) and
/// `InlinePredictionHandler` in front of the conversion to Hummingbird's request types:
/// the predictions answered on the event loop are never converted.
struct PredictionChannel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    let bound: BoundAddress
    let bodyTimeout: TimeAmount
    let idleTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let decoder = HTTP1Channel.Configuration.DecoderConfiguration()   // Hummingbird's defaults
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = decoder.maxHeaderFieldSize
            limits.maxHeaderListSize = decoder.maxHeaderListSize
            limits.maxHeaderFieldCount = decoder.maxHeaderFieldCount
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: false,
                                                     withOutboundHeaderValidation: false, withEncoderConfiguration: .init(),
                                                     withDecoderLimitConfiguration: limits)
            try pipeline.addHandler(ConnectionGuard(bodyTimeout: bodyTimeout, idleTimeout: .nanoseconds(nanoseconds(idleTimeout))))
            try pipeline.addHandler(InlinePredictionHandler(bound: bound))
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            return try NIOAsyncChannel(wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

/// The `Date` header's text (RFC 9110 IMF-fixdate).
enum HTTPDate {
    static func format(_ t: Int) -> String {
        var seconds = t
        var tm = tm()
        gmtime_r(&seconds, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(days[Int(tm.tm_wday) % 7]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon) % 12]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }
}

extension String {
    /// Equal to a lowercase ASCII name, ignoring the case of letters (HTTP field names).
    fileprivate func caseInsensitiveEquals(_ lower: StaticString) -> Bool {
        guard utf8.count == lower.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        return zip(utf8, expected).allSatisfy { c, e in (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) == e }
    }
}
