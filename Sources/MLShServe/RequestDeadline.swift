import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers 408 and closes the connection when a request's body has not fully arrived
/// within the deadline after its head (a slow client, or one that stops sending). It sits
/// in the channel pipeline with one repeating check per connection on the event loop — no
/// task, timer or thread per request — and every other connection is served meanwhile.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    /// One repeating check per connection (not a timer per request): requests stay cheap.
    private var check: RepeatedTask?
    /// When the head of the request still being read arrived; nil between requests.
    private var pendingSince: NIODeadline?
    /// Request heads read and response heads written: a response answers the request being
    /// read only when they are equal (a pipelined request keeps its deadline while the one
    /// before it is answered).
    private var headsRead = 0
    private var headsWritten = 0
    private var timedOut = false

    init(timeout: TimeAmount) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let ctx = NIOLoopBound(context, eventLoop: loop)
        let handler = NIOLoopBound(self, eventLoop: loop)
        let every = TimeAmount.nanoseconds(max(timeout.nanoseconds / 4, 50_000_000))
        check = loop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in handler.value.tick(ctx.value) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !timedOut else { return }
        switch unwrapInboundIn(data) {
        case .head: pendingSince = .now(); headsRead += 1
        case .end: pendingSince = nil
        case .body: break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !timedOut else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .head(let response) = unwrapOutboundIn(data), response.status.kind != .informational {
            headsWritten += 1
            // Answered early (before its body ended): no deadline for the rest of it.
            if headsWritten >= headsRead { pendingSince = nil }
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        check?.cancel()
        check = nil
    }

    private func tick(_ context: ChannelHandlerContext) {
        guard let since = pendingSince, NIODeadline.now() - since >= timeout, context.channel.isActive else { return }
        pendingSince = nil
        timedOut = true
        stop()
        let error = ServeError(408, "request_timeout", "the request body did not arrive within \(timeout.nanoseconds / 1_000_000_000) s")
        var w = JSONWriter()
        w.write(error.body)
        var head = HTTPResponse(status: .requestTimeout)
        head.headerFields[.contentType] = "application/json"
        head.headerFields[.contentLength] = String(w.bytes.count)
        head.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: w.bytes))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
