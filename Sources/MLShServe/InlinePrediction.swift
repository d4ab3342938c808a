import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Answers small prediction requests on the connection's event loop, where their bytes
/// arrive: parse, predict and write happen in one go, without handing the request to a
/// task and the answer back to the loop. Those two hops were most of a one-row
/// prediction's cost. Everything else — other routes, bodies over `maxBody`, requests
/// pipelined behind one Hummingbird is still answering — passes on to Hummingbird
/// unchanged, so both paths give the same answers (`PredictionService.route` and
/// `predict` are shared) and a connection's answers stay in request order.
final class InlinePredictionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Bodies up to this size are answered inline: a request blocks its event loop for
    /// well under a millisecond. Larger ones go to Hummingbird's tasks.
    static let maxBody = 64 * 1024

    private enum State {
        case idle
        /// Reading a request to answer inline.
        case reading(head: HTTPRequest, service: PredictionService, model: ServedModel, mlflow: Bool, start: UInt64, body: ByteBuffer?)
        /// Passing the current request on to Hummingbird.
        case passing
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
        case (.idle, .head(let head)):
            if passedPending == 0, let (service, model, mlflow) = inlineTarget(head) {
                state = .reading(head: head, service: service, model: model, mlflow: mlflow,
                                 start: DispatchTime.now().uptimeNanoseconds, body: nil)
            } else {
                pass(context, data)
            }
        case (.reading(let head, let service, let model, let mlflow, let start, var body), .body(var chunk)):
            state = .idle   // the state lets go of the body, which then grows in place
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
            if let b = body, b.readableBytes > InlinePredictionHandler.maxBody {
                // Grew past what is answered inline (chunked, or a wrong Content-Length):
                // Hummingbird takes over from the head, with what has arrived so far.
                pass(context, wrapInboundOut(.head(head)))
                context.fireChannelRead(wrapInboundOut(.body(b)))
            } else {
                state = .reading(head: head, service: service, model: model, mlflow: mlflow, start: start, body: body)
            }
        case (.reading(let head, let service, let model, let mlflow, let start, let body), .end):
            state = .idle
            let reply = service.predict(model, mlflow: mlflow, contentType: head.headerFields[.contentType],
                                        body: body ?? ByteBuffer(), start: start)
            write(context, reply, close: head.headerFields[.connection]?.lowercased() == "close")
        case (.passing, .end):
            state = .idle
            context.fireChannelRead(data)
        default:
            context.fireChannelRead(data)
        }
    }

    /// Passes the request being read (from its head) on to Hummingbird.
    private func pass(_ context: ChannelHandlerContext, _ head: NIOAny) {
        passedPending += 1
        state = .passing
        context.fireChannelRead(head)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { passedPending -= 1 }
        context.write(data, promise: promise)
    }

    /// The model and route when this head is a prediction small enough to answer here.
    private func inlineTarget(_ head: HTTPRequest) -> (PredictionService, ServedModel, Bool)? {
        guard head.method == .post, let path = head.path, head.headerFields[.expect] == nil else { return nil }
        if let length = head.headerFields[.contentLength] {
            guard let n = Int(length), n <= InlinePredictionHandler.maxBody else { return nil }
        }
        // A refused head (401, 404, 405) is answered by Hummingbird, which reads no body.
        guard let service = bound.current, case .predict(let model, let mlflow)? = try? service.route(head.method, Substring(URI(path).path),
                                                                                      head.headerFields) else { return nil }
        return (service, model, mlflow)
    }

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
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
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
            var limits = NIOHTTPDecoderLimitConfiguration()
            limits.maxHeaderFieldSize = 80 * 1024
            limits.maxHeaderListSize = 80 * 1024
            limits.maxHeaderFieldCount = 1000
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
