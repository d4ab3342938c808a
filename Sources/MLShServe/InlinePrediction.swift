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
/// bytes arrive: parse, predict and write happen in one go, without handing the request
/// to a task and the answer back to the loop. Those two hops were about a third of the
/// server's work for a one-row prediction. Everything else passes on to Hummingbird
/// unchanged: other routes, bodies over `maxBody` or the server's body limit, inputs too
/// costly to score on the loop (`maxCost`), requests pipelined behind one Hummingbird is
/// still answering, and any request while the client is not reading its answers
/// (Hummingbird's backpressure then applies). Both paths share `PredictionService.route` and its answers, and a
/// connection's answers stay in request order.
final class InlinePredictionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Bodies up to this size are read here.
    static let maxBody = 64 * 1024
    /// Rows × the model's `scoringCostPerRow` scored here; costlier inputs go to
    /// Hummingbird's tasks, so one request holds its event loop for about a millisecond at
    /// most (a one-row ridge prediction costs ~50).
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

    private struct Reading {
        var head: HTTPRequest
        var service: PredictionService
        var model: ServedModel
        var mlflow: Bool
        var contentType: String?
        var closes: Bool
        var start: UInt64
        var body: ByteBuffer?
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
                pass(context, data, closes: InlinePredictionHandler.closes(head))
            }
        case (.reading(var r), .body(var chunk)):
            state = .idle   // the state lets go of the body, which then grows in place
            if r.body == nil { r.body = chunk } else { r.body?.writeBuffer(&chunk) }
            if let b = r.body, b.readableBytes > InlinePredictionHandler.readLimit(r.service) {
                // Outgrew what is read here (chunked, or a wrong Content-Length): Hummingbird
                // takes over from the head, with what has arrived so far.
                pass(context, wrapInboundOut(.head(r.head)), closes: r.closes)
                context.fireChannelRead(wrapInboundOut(.body(b)))
            } else {
                state = .reading(r)
            }
        case (.reading(let r), .end):
            state = .idle
            let body = r.body ?? ByteBuffer()
            let reply: Reply
            switch r.service.input(r.model, mlflow: r.mlflow, contentType: r.contentType, body: body) {
            case .failure(let e):
                reply = r.service.failure(e, label: r.model.label)
            case .success(let input):
                let cost = input.rowCount.multipliedReportingOverflow(by: r.model.model.scoringCostPerRow)
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

    /// Whether a request asks to close the connection after its answer.
    static func closes(_ head: HTTPRequest) -> Bool {
        head.headerFields[fields: .connection].contains { closes($0.value) }
    }

    /// Whether a `Connection` header's value holds the `close` option.
    static func closes(_ value: String) -> Bool {
        value.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == "close" }
    }

    /// Passes the request being read (from its head) on to Hummingbird.
    private func pass(_ context: ChannelHandlerContext, _ head: NIOAny, closes: Bool) {
        passedPending += 1
        state = .passing
        if closes { handedOver = true }
        context.fireChannelRead(head)
    }
    /// A request passed on asked to close: Hummingbird closes after answering it, so what
    /// follows goes to it too (it no longer reads), never answered here.
    private var handedOver = false

    private func finishPassing(_ context: ChannelHandlerContext, _ end: NIOAny) {
        state = .idle
        context.fireChannelRead(end)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedPending -= 1 }
        context.write(data, promise: promise)
    }

    /// The request's route when this head is a prediction whose body is read here.
    private func reading(_ head: HTTPRequest) -> Reading? {
        guard head.method == .post, let path = head.path else { return nil }
        if service == nil { service = bound.current }   // installed once, never replaced
        guard let service else { return nil }
        let limit = InlinePredictionHandler.readLimit(service)
        var contentType: String?, closes = false
        for field in head.headerFields {
            switch field.name {
            case .contentLength: guard let n = Int(field.value), n <= limit else { return nil }
            case .expect: return nil
            case .contentType: contentType = field.value
            case .connection: closes = closes || InlinePredictionHandler.closes(field.value)
            default: break
            }
        }
        // A refused head (401, 404, 405) is answered by Hummingbird, which reads no body.
        let routed = path == "/invocations" ? Substring(path) : Substring(URI(path).path)
        guard case .predict(let model, let mlflow)? = try? service.route(head.method, routed, head.headerFields) else { return nil }
        return Reading(head: head, service: service, model: model, mlflow: mlflow, contentType: contentType, closes: closes,
                       start: DispatchTime.now().uptimeNanoseconds, body: nil)
    }
    private var service: PredictionService?

    /// Writes an answer. The flush waits for the end of the event loop's turn, so the
    /// answers to every connection read in that turn leave together: a client reading
    /// many connections (a load generator, a proxy) then wakes once for several of them.
    private func write(_ context: ChannelHandlerContext, _ reply: Reply, close: Bool) {
        var response = HTTPResponse(status: reply.status, headerFields: reply.headers)
        response.headerFields[.contentLength] = String(reply.body.readableBytes)
        let now = time(nil)
        if now != dateSecond { dateSecond = now; dateText = HTTPDate.format(now) }
        response.headerFields[.date] = dateText
        if close { response.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(reply.body)), promise: nil)
        if close {
            state = .closing
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
            return
        }
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

/// Hummingbird's HTTP/1.1 channel with `InlinePredictionHandler` in the pipeline, right
/// before the task that runs Hummingbird's responder: the same codec, limits, body
/// deadline and connection state handling (idle timeout, graceful close) as
/// `HTTP1Channel`, for both paths.
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
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandler(RequestDeadlineHandler(timeout: bodyTimeout))
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            try pipeline.addHandler(InlinePredictionHandler(bound: bound))
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
