import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import MLShCommon
import MLShStore
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// How `mlsh ui` listens: the address (loopback unless asked), the port (0 picks a free
/// one) and the token it requires (none on loopback when not given).
public struct UIConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var token: String?
    public init(host: String = "127.0.0.1", port: Int = 5000, token: String? = nil) {
        self.host = host; self.port = port; self.token = token
    }

    /// Whether the host is this machine only.
    public var isLoopback: Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// The web UI, serving in the background until `stop` (or a signal) ends it.
public final class UIServer: @unchecked Sendable {
    /// `http://HOST:PORT` as bound (the real port when 0 was asked for).
    public let url: String
    public let port: Int
    private let group: ServiceGroup
    private let finished: DispatchSemaphore
    private let lock = NSLock()
    private var stopped = false

    /// Most bytes of a request body the UI reads (the login form is all it takes).
    static let bodyLimit = 64 * 1024

    /// Binds and starts serving the store's pages; returns once the socket listens. A host
    /// other than loopback needs a token.
    public static func start(store: Store, configuration: UIConfiguration, signals: [UnixSignal] = []) throws(UIError) -> UIServer {
        guard (0...65535).contains(configuration.port) else {
            throw UIError(400, "the port must be between 0 and 65535, got \(configuration.port)")
        }
        if !configuration.isLoopback && configuration.token == nil {
            throw UIError(400, "serving the UI on \(configuration.host) (beyond this machine) needs a token: give --token-file FILE (or token=)")
        }
        if let t = configuration.token, t.isEmpty { throw UIError(400, "the token must not be empty") }
        let app = UIApp(store: store, token: configuration.token)
        let bound = FirstValue<Int?>(nil)
        var logger = Logger(label: "mlsh-ui")
        logger.logLevel = .error
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            var body: [UInt8] = []
            if request.method == .post {
                let buffer = try await request.body.collect(upTo: bodyLimit)
                body = Array(buffer.readableBytesView)
            }
            let path = request.uri.path.split(separator: "/", omittingEmptySubsequences: true).map { percentDecoded($0, plusIsSpace: false) }
            let r = UIRequest(method: request.method.rawValue, path: path, query: parseQuery(request.uri.query ?? ""),
                              authorization: request.headers[.authorization], cookie: request.headers[.cookie], body: body)
            let answer = app.respond(r)
            var headers = HTTPFields()
            headers[.contentType] = answer.contentType
            for (k, v) in answer.headers {
                if let name = HTTPField.Name(k) { headers.append(HTTPField(name: name, value: v)) }
            }
            let bytes = request.method == .head ? [] : answer.body
            return Response(status: HTTPResponse.Status(code: answer.status), headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        let application = Application(
            responder: responder,
            server: .http1(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in bound.offer(channel.localAddress?.port) },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], gracefulShutdownSignals: signals, logger: logger))
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task.detached {
            do { try await group.run() } catch let io as IOError {
                failure.withLock { $0 = io.errnoCode == EADDRINUSE ? "the port is already in use" : String(cString: strerror(io.errnoCode)) }
            } catch { failure.withLock { $0 = "\(error)" } }
            bound.offer(nil)
            finished.signal()
        }
        guard let port = bound.take() else {
            finished.wait()
            throw UIError(500, "cannot serve the UI on \(configuration.host):\(configuration.port): \(failure.withLock { $0 } ?? "the server did not start")")
        }
        let url = "http://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(port)"
        return UIServer(url: url, port: port, group: group, finished: finished)
    }

    private init(url: String, port: Int, group: ServiceGroup, finished: DispatchSemaphore) {
        self.url = url; self.port = port; self.group = group; self.finished = finished
    }

    /// Stops serving (requests in flight are answered). Idempotent.
    public func stop() {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        guard !already else { return }
        let group = group
        Task.detached { await group.triggerGracefulShutdown() }
        waitUntilStopped()
    }

    /// Blocks until the server has shut down (a signal, or `stop`).
    public func waitUntilStopped() {
        finished.wait()
        finished.signal()
        lock.lock()
        stopped = true
        lock.unlock()
    }

    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return !stopped
    }
}
