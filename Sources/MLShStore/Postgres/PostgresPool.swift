import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// Connections to one PostgreSQL database, used from synchronous code: a call takes an
/// idle connection (opening one while fewer than `size` are open, else waiting for one),
/// runs its statements on it, and gives it back. The connections live on an event loop of
/// the pool's own, so a caller on any other thread (a server's event loop included) may
/// wait for them. A connection that failed is closed, not given back.
public final class PostgresPool: Sendable {
    public let url: PostgresURL
    fileprivate let group: MultiThreadedEventLoopGroup
    private let state = Mutex(State())
    private let available: DispatchSemaphore
    private let logger = Logger(label: "mlsh.postgres")

    struct State {
        var idle: [PooledConnection] = []
        var nextID = 1
        var closed = false
    }

    /// Opens a pool on `url` and one connection to check it: a wrong password, a missing
    /// database or an unreachable host is an error naming the URL without its password.
    public init(_ url: PostgresURL, size: Int = 4) throws(StoreError) {
        self.url = url
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        available = DispatchSemaphore(value: max(1, size))
        do throws(StoreError) {
            try withConnection { _ throws(StoreError) in }
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    deinit { close() }

    /// Closes every idle connection and stops the pool's event loop.
    public func close() {
        let idle = state.withLock { s -> [PooledConnection]? in
            guard !s.closed else { return nil }
            s.closed = true
            defer { s.idle = [] }
            return s.idle
        }
        guard let idle else { return }
        // Never waits on the pool's own loop (a last owner let go in one of its callbacks).
        let onLoop = group.next().inEventLoop
        for c in idle {
            let closing: EventLoopFuture<Void> = c.connection.close()
            if !onLoop { _ = try? closing.wait() }
        }
        if onLoop { group.shutdownGracefully { _ in } } else { try? group.syncShutdownGracefully() }
    }

    var configuration: PostgresConnection.Configuration {
        if let folder = url.socketFolder {
            return PostgresConnection.Configuration(unixSocketPath: folder + "/.s.PGSQL.\(url.port)", username: url.user,
                                                    password: url.password, database: url.database)
        }
        let tls: PostgresConnection.Configuration.TLS
        switch url.sslMode {
        case "require": tls = (try? .require(.init(configuration: .makeClientConfiguration()))) ?? .disable
        case "prefer": tls = (try? .prefer(.init(configuration: .makeClientConfiguration()))) ?? .disable
        default: tls = .disable
        }
        return PostgresConnection.Configuration(host: url.host, port: url.port, username: url.user, password: url.password,
                                                database: url.database, tls: tls)
    }

    /// Runs `body` on a connection of the pool.
    public func withConnection<T>(_ body: (PostgresSession) throws(StoreError) -> T) throws(StoreError) -> T {
        available.wait()
        defer { available.signal() }
        let reused = state.withLock { s -> (PooledConnection?, Int, Bool) in
            if s.closed { return (nil, 0, true) }
            if let c = s.idle.popLast() { return (c, 0, false) }
            s.nextID += 1
            return (nil, s.nextID, false)
        }
        if reused.2 { throw StoreError("the store at \(url.redacted) is closed") }
        let connection: PooledConnection
        if let c = reused.0, !c.connection.isClosed {
            connection = c
        } else {
            do {
                connection = PooledConnection(try PostgresConnection.connect(on: group.next(), configuration: configuration,
                                                                             id: reused.1, logger: logger).wait())
            } catch {
                Self.lostConnections.add(1, ordering: .relaxed)
                dropIdle()
                throw StoreError("cannot open the store at \(url.redacted): \(Self.describe(error))", unreachable: true)
            }
        }
        let session = PostgresSession(connection: connection, url: url, logger: logger)
        do throws(StoreError) {
            let result = try body(session)
            giveBack(connection, healthy: !session.broken)
            return result
        } catch {
            giveBack(connection, healthy: !session.broken)
            throw error
        }
    }

    private func giveBack(_ c: PooledConnection, healthy: Bool) {
        let keep = healthy && !c.connection.isClosed && state.withLock { s -> Bool in
            guard !s.closed else { return false }
            s.idle.append(c)
            return true
        }
        if !keep { c.close() }
        if !healthy { dropIdle() }
    }

    /// Closes every idle connection: once one connection was lost, the others opened before
    /// are likely gone too (the server restarted), and a new one is opened on next use.
    private func dropIdle() {
        let idle = state.withLock { s -> [PooledConnection] in
            defer { s.idle = [] }
            return s.idle
        }
        for c in idle { c.close() }
    }

    /// Runs `body` in a transaction (`BEGIN` … `COMMIT`; `ROLLBACK` when it throws).
    public func transaction<T>(_ body: (PostgresSession) throws(StoreError) -> T) throws(StoreError) -> T {
        try withConnection { s throws(StoreError) -> T in
            try s.execute("BEGIN")
            do throws(StoreError) {
                let result = try body(s)
                try s.execute("COMMIT")
                return result
            } catch {
                try? s.execute("ROLLBACK")
                throw error
            }
        }
    }

    /// Connections this process failed to open or lost, across every pool: a caller that
    /// saw this count rise while it worked knows the store was out of reach meanwhile.
    public static let lostConnections = Atomic<Int>(0)

    /// Whether a PostgreSQL error means the connection or the server went away (or is
    /// starting or stopping): SQLSTATE classes 08 (connection exception) and 57
    /// (operator intervention), or no answer from the server at all.
    static func isUnreachable(_ error: any Error) -> Bool {
        guard let p = error as? PSQLError, let info = p.serverInfo else { return true }
        guard let state = info[.sqlState] else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57")
    }

    /// A PostgreSQL error as one line: the server's message (and detail), or what went
    /// wrong on the way to it.
    static func describe(_ error: any Error) -> String {
        if let p = error as? PSQLError {
            if let info = p.serverInfo, let message = info[.message] {
                var out = message
                if let detail = info[.detail] { out += " (\(detail))" }
                if let state = info[.sqlState] { out += " [SQLSTATE \(state)]" }
                return out
            }
            if let underlying = p.underlying { return describe(underlying) }
            return "\(p.code)"
        }
        if let c = error as? NIOConnectionError {
            if let first = c.connectionErrors.first { return "cannot connect to \(c.host):\(c.port): \(describe(first.error))" }
            if let dns = c.dnsAAAAError ?? c.dnsAError { return "cannot resolve \(c.host): \(dns)" }
            return "cannot connect to \(c.host):\(c.port)"
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)) }
        return "\(error)"
    }
}

/// The connection closed before the statement was answered.
struct ConnectionLost: Error, CustomStringConvertible {
    var description: String { "the connection to the server was lost" }
}

/// A connection of a pool, and the answer its caller waits for: the answer, or the
/// connection's end, whichever comes first (PostgresNIO never answers a statement handed
/// to a connection that has just closed). One close callback per connection, registered
/// when it opens, not one per statement.
final class PooledConnection: Sendable {
    let connection: PostgresConnection
    /// The failing of the answer waited for, and whether the connection has closed.
    private let state = Mutex<(fail: (@Sendable () -> Void)?, closed: Bool)>((nil, false))

    init(_ connection: PostgresConnection) {
        self.connection = connection
        connection.closeFuture.whenComplete { [weak self] _ in self?.closedNow() }
    }

    /// Closes the connection without waiting for it.
    func close() {
        let closing: EventLoopFuture<Void> = connection.close()
        _ = closing
    }

    private func closedNow() {
        let fail = state.withLock { s -> (@Sendable () -> Void)? in
            s.closed = true
            defer { s.fail = nil }
            return s.fail
        }
        fail?()
    }

    /// Waits for `answer`, or fails when the connection closes first.
    func answer<T: Sendable>(_ answer: EventLoopFuture<T>) throws -> T {
        let promise = connection.eventLoop.makePromise(of: T.self)
        let closed = state.withLock { s -> Bool in
            if !s.closed { s.fail = { promise.fail(ConnectionLost()) } }
            return s.closed
        }
        if closed { promise.fail(ConnectionLost()) }
        answer.cascade(to: promise)
        defer { state.withLock { s in s.fail = nil } }
        return try promise.futureResult.wait()
    }
}

/// One connection's statements, inside `PostgresPool.withConnection` or `transaction`.
/// SQL uses `$1`, `$2`, … for the values bound.
public final class PostgresSession {
    let pooled: PooledConnection
    var connection: PostgresConnection { pooled.connection }
    let url: PostgresURL
    let logger: Logger
    /// Set when a statement failed for a reason other than the server refusing it: the
    /// connection is not given back.
    fileprivate(set) var broken = false

    init(connection: PooledConnection, url: PostgresURL, logger: Logger) {
        pooled = connection; self.url = url; self.logger = logger
    }

    /// Runs a statement.
    public func execute(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) {
        _ = try rows(sql, values)
    }

    /// Runs a query and returns its rows.
    public func rows(_ sql: String, _ values: [SQLValue] = []) throws(StoreError) -> [PostgresRow] {
        try query(sql, values).rows
    }

    /// Runs a statement: its rows, and the rows it inserted, changed or deleted (nil for
    /// a statement that reports none).
    public func query(_ sql: String, _ values: [SQLValue]) throws(StoreError) -> (rows: [PostgresRow], changed: Int?) {
        try answer(send(sql, values))
    }

    /// Sends a statement without waiting for it: statements sent one after another run in
    /// that order, and the rows of one can be read (`answer`) while the next are arriving.
    func send(_ sql: String, _ values: [SQLValue]) -> EventLoopFuture<PostgresQueryResult> {
        var binds = PostgresBindings(capacity: values.count)
        for v in values {
            switch v {
            case .null: binds.appendNull()
            case .int(let i): binds.append(i)
            case .double(let d): binds.append(d)
            case .text(let s): binds.append(s)
            case .bytes(let b): binds.append(ByteBuffer(bytes: b))
            }
        }
        return connection.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    /// Waits for a statement sent on this session: its rows, and the rows it inserted,
    /// changed or deleted (nil for a statement that reports none).
    func answer(_ sent: EventLoopFuture<PostgresQueryResult>) throws(StoreError) -> (rows: [PostgresRow], changed: Int?) {
        let result = try wait(for: sent)
        return (result.rows, result.metadata.rows)
    }

    /// Waits for an answer on this session's connection (or the connection's end).
    func wait<T: Sendable>(for answer: EventLoopFuture<T>) throws(StoreError) -> T {
        do {
            return try pooled.answer(answer)
        } catch let error as StoreError {
            throw error
        } catch {
            let unreachable = PostgresPool.isUnreachable(error)
            if unreachable {
                broken = true
                PostgresPool.lostConnections.add(1, ordering: .relaxed)
            }
            throw StoreError("the store at \(url.redacted): \(PostgresPool.describe(error))", unreachable: unreachable)
        }
    }
}

/// A connection of its own that `LISTEN`s on a channel and calls `onNotify` for each
/// notification. When the connection is lost (the server restarted, the network broke)
/// it reconnects every second until stopped, and calls `onNotify` once it listens again:
/// what was notified meanwhile is not replayed, so the caller reads the state afresh.
/// It holds the pool's event loop, not the pool: the pool's last owner closes it, never a
/// callback of this listener on the pool's own loop (which must not wait for itself).
public final class PostgresListener: Sendable {
    private let loop: any EventLoop
    private let configuration: PostgresConnection.Configuration
    private let channel: String
    private let onNotify: @Sendable () -> Void
    private let state = Mutex<(connection: PostgresConnection?, stopped: Bool)>((nil, false))
    private let logger = Logger(label: "mlsh.postgres.listen")

    init(pool: PostgresPool, channel: String, onNotify: @escaping @Sendable () -> Void) {
        loop = pool.eventLoop; configuration = pool.configuration
        self.channel = channel; self.onNotify = onNotify
        connect()
    }

    private func connect() {
        guard !state.withLock({ $0.stopped }) else { return }
        PostgresConnection.connect(on: loop, configuration: configuration, id: 0, logger: logger).whenComplete { result in
            switch result {
            case .failure:
                self.retry()
            case .success(let c):
                let keep = self.state.withLock { s -> Bool in
                    guard !s.stopped else { return false }
                    s.connection = c
                    return true
                }
                guard keep else {
                    let closing: EventLoopFuture<Void> = c.close()
                    _ = closing
                    return
                }
                let onNotify = self.onNotify
                c.addListener(channel: self.channel) { _, _ in onNotify() }
                // The LISTEN goes out before this query on the same connection: once it is
                // answered, nothing notified from now on is missed.
                c.query("SELECT 1", logger: self.logger).whenComplete { _ in onNotify() }
                c.closeFuture.whenComplete { _ in
                    self.state.withLock { if $0.connection === c { $0.connection = nil } }
                    self.retry()
                }
            }
        }
    }

    private func retry() {
        guard !state.withLock({ $0.stopped }) else { return }
        loop.scheduleTask(in: .seconds(1)) { self.connect() }
    }

    /// Stops listening and closes the connection.
    public func stop() {
        let c = state.withLock { s -> PostgresConnection? in
            s.stopped = true
            defer { s.connection = nil }
            return s.connection
        }
        if let c {
            let closing: EventLoopFuture<Void> = c.close()
            _ = try? closing.wait()
        }
    }
}

extension PostgresPool {
    /// The pool's event loop.
    var eventLoop: any EventLoop { group.next() }

    /// Listens on `channel` on a connection of its own until the listener is stopped.
    public func listen(channel: String, onNotify: @escaping @Sendable () -> Void) -> PostgresListener {
        PostgresListener(pool: self, channel: channel, onNotify: onNotify)
    }
}
