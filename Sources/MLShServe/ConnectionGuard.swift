import MLShCommon
import NIOCore
import NIOHTTP1

/// Watches a connection's requests and answers, in front of both ways of answering them
/// (`InlinePredictionHandler` and Hummingbird):
/// - **body deadline:** answers 408 and closes when a request's body has not fully arrived
///   within `bodyTimeout` after its head (a slow client, or one that stops sending); a
///   request answered early (401, 413) whose body still trickles is closed at the deadline
///   without a second answer. The clock of a pipelined request starts when the one before
///   it is answered (until then the server is not reading it).
/// - **idle timeout:** closes a connection once nothing has arrived on it (and no answer
///   ended) for `idleTimeout`, to within a check's interval — unless a request read in
///   full is waiting for its answer.
/// - **closing:** after the answer to a request that is not keep-alive (`Connection:
///   close`, HTTP/1.0 without keep-alive), or that a handler behind it marked the
///   connection's last (`CloseAfterAnswer`), that answer saying `Connection: close`; an
///   HTTP/1.0 connection kept alive is told so (`Connection: keep-alive`). On
///   `ChannelShouldQuiesceEvent` (graceful shutdown) an idle connection closes at once,
///   after the answers written on the event loop but not yet flushed leave; a busy one
///   after the answers to the requests it has read.
///
/// One repeating check per connection on the event loop — no task, timer or thread per
/// request — and every other connection is served meanwhile.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let bodyTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    /// One repeating check per connection (not a timer per request): requests stay cheap.
    private var check: RepeatedTask?
    /// When the clock of the request still being read started (its head arrived, or the
    /// request before it was answered); nil between requests.
    private var pendingSince: NIODeadline?
    /// Request heads read, final response heads written and answers ended: the request
    /// being read is answered when the first two are equal, and is the next to answer when
    /// they are one apart; requests are in progress while heads read exceed answers ended.
    private var headsRead = 0
    private var headsWritten = 0
    private var answersEnded = 0
    /// A request part arrived or an answer ended.
    private var lastActive = NIODeadline.uptimeNanoseconds(0)
    /// A 408 was written: the connection closes at the next check at the latest.
    private var timedOut = false
    /// The number (1, 2, ...) of the first request that is not keep-alive: the connection
    /// closes after its answer.
    private var lastRequest: Int?
    /// The answer being written is the connection's last.
    private var closeAfterAnswer = false
    /// Graceful shutdown began while requests were in progress.
    private var closeWhenAnswered = false
    /// The last request read was HTTP/1.0 (its answers say `Connection: keep-alive` when the connection stays open).
    private var http10 = false

    /// An outbound event: the last request read is the connection's last (its body will
    /// not be read), so the connection closes after its answer.
    struct CloseAfterAnswer {}

    init(bodyTimeout: TimeAmount, idleTimeout: TimeAmount?) {
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let ctx = NIOLoopBound(context, eventLoop: loop)
        let handler = NIOLoopBound(self, eventLoop: loop)
        let shortest = min(bodyTimeout, idleTimeout ?? bodyTimeout)
        let every = TimeAmount.nanoseconds(max(shortest.nanoseconds / 4, 50_000_000))
        lastActive = context.eventLoop.now
        check = loop.scheduleRepeatedTask(initialDelay: every, delay: every) { _ in handler.value.tick(ctx.value) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !timedOut else { return }
        lastActive = context.eventLoop.now
        switch unwrapInboundIn(data) {
        case .head(let head):
            pendingSince = lastActive
            headsRead += 1
            http10 = head.version.minor == 0
            if lastRequest == nil, !head.isKeepAlive { lastRequest = headsRead }
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
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.code >= 200:
            headsWritten += 1
            // The request being read is next in line now: its clock starts here.
            if pendingSince != nil, headsWritten == headsRead - 1 { pendingSince = context.eventLoop.now }
            if headsWritten == lastRequest || (closeWhenAnswered && headsWritten >= headsRead) {
                closeAfterAnswer = true
                if response.headers["connection"] != ["close"] {
                    response.headers.replaceOrAdd(name: "Connection", value: "close")
                    context.write(wrapOutboundOut(.head(response)), promise: promise)
                    return
                }
            } else if http10 {
                response.headers.replaceOrAdd(name: "Connection", value: "keep-alive")
                context.write(wrapOutboundOut(.head(response)), promise: promise)
                return
            }
        case .end:
            answersEnded += 1
            lastActive = context.eventLoop.now
            if closeAfterAnswer || (closeWhenAnswered && answersEnded >= headsRead) {
                context.writeAndFlush(data, promise: promise)
                context.close(promise: nil)
                return
            }
        default: break
        }
        context.write(data, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is CloseAfterAnswer else { context.triggerUserOutboundEvent(event, promise: promise); return }
        lastRequest = min(lastRequest ?? headsRead, headsRead)
        promise?.succeed()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { context.fireUserInboundEventTriggered(event); return }
        // Answers written on the event loop flush at the end of its turn: they leave first.
        context.flush()
        if answersEnded >= headsRead { context.close(promise: nil) } else { closeWhenAnswered = true }
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
        guard context.channel.isActive else { stop(); return }
        if timedOut {   // the 408 had a check's interval to leave (a client not reading never lets it)
            stop()
            context.close(promise: nil)
            return
        }
        let now = context.eventLoop.now
        let waitingForAnswer = pendingSince == nil && answersEnded < headsRead
        if let idleTimeout, !waitingForAnswer, now - lastActive >= idleTimeout {
            stop()
            context.close(promise: nil)
            return
        }
        guard let since = pendingSince, now - since >= bodyTimeout,
              answersEnded >= headsRead - 1 else { return }   // earlier answers first
        pendingSince = nil
        timedOut = true
        if headsWritten >= headsRead {   // already answered: only the rest of its body is late
            stop()
            context.close(promise: nil)
            return
        }
        let error = ServeError(408, "request_timeout", "the request body did not arrive within \(bodyTimeout.nanoseconds / 1_000_000_000) s")
        var w = JSONWriter()
        w.write(error.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(w.bytes.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: w.bytes)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
