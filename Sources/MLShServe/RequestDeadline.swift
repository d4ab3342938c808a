import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers 408 and closes the connection when a request's body has not fully arrived
/// within the deadline after its head (a slow client, or one that stops sending); a
/// request answered early (401, 413) whose body still trickles is closed at the deadline
/// without a second answer. The clock of a pipelined request starts when the one before it
/// is answered (until then the server is not reading it). It sits
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
    /// When the clock of the request still being read started (its head arrived, or the
    /// request before it was answered); nil between requests.
    private var pendingSince: NIODeadline?
    /// Request heads read and final response heads written: the request being read is
    /// answered when they are equal, and is the next to answer when one apart.
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
            // The request being read is next in line now: its clock starts here.
            if pendingSince != nil, headsWritten == headsRead - 1 { pendingSince = .now() }
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    /// On graceful shutdown the connection state handler after this one closes an idle
    /// connection at once: answers written on the event loop but not yet flushed (they
    /// flush at the end of the loop's turn) leave first.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent { context.flush() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    private func stop() {
        check?.cancel()
        check = nil
    }

    private func tick(_ context: ChannelHandlerContext) {
        guard let since = pendingSince, NIODeadline.now() - since >= timeout, context.channel.isActive,
              headsWritten >= headsRead - 1 else { return }   // earlier answers first
        pendingSince = nil
        timedOut = true
        stop()
        if headsWritten >= headsRead {   // already answered: only the rest of its body is late
            context.close(promise: nil)
            return
        }
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
