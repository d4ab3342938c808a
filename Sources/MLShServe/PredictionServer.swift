import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import MLShCommon
import MLShStore
import NIOCore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A running server: started in the background (the prompt stays usable), stopped
/// gracefully — requests in flight are answered, the request log is written out, and the
/// deployment is marked ended in the store.
public final class PredictionServer: @unchecked Sendable {
    /// `http://HOST:PORT` as bound (the real port when 0 was asked for).
    public let url: String
    public let port: Int
    /// The deployment's id in the store (nil without a store).
    public let deployment: Int64?
    private let store: Store?
    private let group: ServiceGroup
    private let lock = NSLock()
    private var stopped = false

    /// Binds and starts serving; returns once the socket listens. `signals` are the Unix
    /// signals that shut it down gracefully (the command line's SIGINT/SIGTERM; none for
    /// `deploy` at the prompt, where Ctrl-C interrupts evaluation instead).
    public static func start(routes: [Route], shadow: ServedModel? = nil, configuration: ServeConfiguration,
                             store: Store?, signals: [UnixSignal] = []) throws(ServeError) -> PredictionServer {
        guard !routes.isEmpty else { throw ServeError(400, "bad_request", "deploy needs at least one model version") }
        for r in routes where !(r.weight > 0 && r.weight.isFinite) {
            throw ServeError(400, "bad_request", "the traffic weight of \(r.model.label) must be a positive number, got \(r.weight)")
        }
        guard routes.reduce(0.0, { $0 + $1.weight }).isFinite else {
            throw ServeError(400, "bad_request", "the traffic weights add up to more than a number can hold; use shares such as 0.9 and 0.1")
        }
        // One request goes to any version of the split, so every version must read the same input.
        let first = routes[0].model
        for r in routes.dropFirst() where !r.model.schema.matches(first.schema) {
            throw ServeError(400, "bad_request", "a traffic split needs one input schema: \(r.model.label) reads other columns than \(first.label)")
        }
        let bound = BoundAddress()
        var logger = Logger(label: "mlsh-serve")
        logger.logLevel = .error
        let app = Application(
            responder: PredictionServiceBox.responder(bound),
            server: HTTPServerBuilder { responder in
                PredictionChannel(responder: responder, bound: bound,
                                  bodyTimeout: .nanoseconds(nanoseconds(configuration.bodyTimeout)),
                                  idleTimeout: configuration.idleTimeout)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            onServerRunning: { channel in bound.ready(channel.localAddress?.port) },
            eventLoopGroupProvider: .shared(EventLoopSlice.group),
            logger: logger)
        EventLoopSlice.apply()
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: signals, logger: logger))
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        Task.detached {
            do { try await group.run() } catch let io as IOError {
                failure.withLock { $0 = io.errnoCode == EADDRINUSE ? "the port is already in use" : String(cString: strerror(io.errnoCode)) }
            } catch { failure.withLock { $0 = "\(error)" } }
            bound.failed()
            finished.signal()
        }
        guard let port = bound.wait() else {
            finished.wait()
            throw ServeError(500, "bind_failed", "cannot serve on \(configuration.host):\(configuration.port): \(failure.withLock { $0 } ?? "the server did not start")")
        }
        let url = "http://\(configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host):\(port)"
        var deployment: Int64?
        if let store {
            do { deployment = try store.startDeployment(url: url, models: routes.map(\.model.label)) } catch {
                Task.detached { await group.triggerGracefulShutdown() }
                finished.wait()
                throw ServeError(500, "store", error.message)
            }
        }
        let monitor = RequestMonitor(store: store, deployment: deployment)
        let service = PredictionService(routes: routes, shadow: shadow, configuration: configuration, monitor: monitor,
                                        url: url, deployment: deployment)
        bound.install(service)
        var watch: ServerWatch?
        if let store {
            let current: @Sendable () -> PredictionService = { bound.current ?? service }
            let follower = RouteFollower(configured: routes, store: store, bound: bound)
            watch = ServerWatch(follower: follower, alerts: AlertEngine(service: current, store: store),
                                retrains: RetrainDriver(store: store, service: current, follower: follower,
                                                        executable: configuration.executable),
                                interval: configuration.watchInterval)
            watch?.start(store: store)
        }
        return PredictionServer(bound: bound, initial: service, url: url, port: port, deployment: deployment, store: store,
                                group: group, finished: finished, watch: watch)
    }

    private init(bound: BoundAddress, initial: PredictionService, url: String, port: Int, deployment: Int64?, store: Store?,
                 group: ServiceGroup, finished: DispatchSemaphore, watch: ServerWatch?) {
        self.bound = bound; self.initial = initial
        self.url = url; self.port = port; self.deployment = deployment
        self.store = store; self.group = group
        self.finishedSignal = finished
        self.watch = watch
    }
    private let bound: BoundAddress
    private let initial: PredictionService
    /// What the server answers with now (the routes change as aliases and canaries move).
    public var service: PredictionService { bound.current ?? initial }
    /// Follows aliases and canaries, evaluates alerts, drives retraining (with a store).
    let watch: ServerWatch?
    /// Evaluates the served models' alerts (with a store).
    var alerts: AlertEngine? { watch?.alerts }
    private let finishedSignal: DispatchSemaphore

    /// Stops accepting, answers what is in flight, writes the request log out. Idempotent.
    public func stop() {
        lock.lock()
        let already = stopped
        stopped = true
        lock.unlock()
        guard !already else { return }
        watch?.stop()
        let group = group
        Task.detached { await group.triggerGracefulShutdown() }
        waitUntilStopped()
    }

    /// Blocks until the server has shut down (a signal, or `stop`), then closes the log.
    public func waitUntilStopped() {
        finishedSignal.wait()
        finishedSignal.signal()
        lock.lock()
        let first = !closed
        closed = true
        stopped = true
        lock.unlock()
        guard first else { return }
        service.monitor.close()
        if let store, let deployment { try? store.endDeployment(deployment) }
    }
    private var closed = false

    public var isRunning: Bool {
        lock.lock(); defer { lock.unlock() }
        return !stopped
    }
}

/// The server's bound port, reported by Hummingbird once it listens, and the service it
/// answers with (installed once the deployment is recorded; until then requests get 503).
final class BoundAddress: @unchecked Sendable {
    private let lock = NSLock()
    private let port = FirstValue<Int?>(nil)
    private(set) var service: PredictionService?

    func ready(_ port: Int?) { self.port.offer(port) }

    func failed() { ready(nil) }

    func wait() -> Int? { port.take() }

    func install(_ s: PredictionService) { lock.lock(); service = s; lock.unlock() }

    var current: PredictionService? { lock.lock(); defer { lock.unlock() }; return service }
}

enum PredictionServiceBox {
    /// A responder that forwards to the installed service.
    static func responder(_ bound: BoundAddress) -> CallbackResponder<BasicRequestContext> {
        CallbackResponder { request, context in
            guard let service = bound.current else {
                return Response(status: .serviceUnavailable)
            }
            return try await service.respond(to: request, context: context)
        }
    }
}

func nanoseconds(_ d: Duration) -> Int64 {
    let (s, atto) = d.components
    return s * 1_000_000_000 + atto / 1_000_000_000
}
