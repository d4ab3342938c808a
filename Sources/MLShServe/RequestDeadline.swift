import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers 408 and closes the connection when a request's body has not fully arrived
/// within the deadline after its head (a slow client, or one that stops sending). It sits
/// in the channel pipeline, so the timer is the event loop's own — no task or thread per
/// request — and every other connection is served meanwhile.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    private var answering = false
    private var timedOut = false

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !timedOut else { return }
        switch unwrapInboundIn(data) {
        case .head:
            answering = false
            let loop = context.eventLoop
            let ctx = NIOLoopBound(context, eventLoop: loop)
            let handler = NIOLoopBound(self, eventLoop: loop)
            timer = loop.scheduleTask(in: timeout) { handler.value.expire(ctx.value) }
        case .end:
            timer?.cancel()
            timer = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .head = unwrapOutboundIn(data) {
            answering = true
            timer?.cancel()
            timer = nil
        }
        guard !timedOut else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func expire(_ context: ChannelHandlerContext) {
        timer = nil
        guard !answering, context.channel.isActive else { return }
        timedOut = true
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
