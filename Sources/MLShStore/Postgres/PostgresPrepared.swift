import NIOCore
import PostgresNIO

/// Named prepared statements: each connection parses and plans one the first time it runs
/// it and only binds and executes it after that. Metric points are bound as arrays
/// (`unnest`), so one statement text serves any number of them.
extension PostgresSession {
    /// Runs a prepared statement and returns its rows.
    func execute<Statement: PostgresPreparedStatement>(_ statement: Statement) throws(StoreError) -> [Statement.Row]
    where Statement.Row: Sendable {
        let logger = self.logger
        return try onLoop { connection in
            var rows: [Statement.Row] = []
            for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
            return rows
        }
    }

    /// Runs PostgresNIO's async-only work (prepared statements, `COPY`) on this session's
    /// connection: the task runs on the connection's own event loop (never on the shared
    /// cooperative threads a caller might be blocking), and the caller waits for its
    /// answer or the connection's end as for any statement.
    func onLoop<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) async throws -> T) throws(StoreError) -> T {
        let connection = self.connection
        let promise = connection.eventLoop.makePromise(of: T.self)
        Task(executorPreference: EventLoopTaskExecutor(connection.eventLoop)) {
            do { promise.succeed(try await work(connection)) } catch { promise.fail(error) }
        }
        return try wait(for: promise.futureResult)
    }
}

/// Runs tasks' jobs on a NIO event loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }
}

/// Appends one run's metric points, in order; returns each metric's first key (the
/// lowest the statement gave its points), one row per metric name, not per point.
struct InsertMetricPoints: PostgresPreparedStatement {
    static let name = "mlsh_insert_metric_points"
    static let sql = """
        WITH inserted AS (
          INSERT INTO metrics (run, name, step, value, at)
          SELECT $1, n, CASE WHEN h THEN s END, v, a
          FROM unnest($2::text[], $3::bool[], $4::int8[], $5::float8[], $6::float8[]) WITH ORDINALITY AS u(n, h, s, v, a, k) ORDER BY k
          RETURNING rowid, name)
        SELECT name, min(rowid) FROM inserted GROUP BY name
        """
    typealias Row = (String, Int64)

    var run: Int64
    var points: ArraySlice<MetricPoint>

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: 6)
        binds.append(run)
        binds.append(points.map(\.name))
        binds.append(points.map { $0.step != nil })
        binds.append(points.map { $0.step ?? 0 })
        binds.append(points.map(\.value))
        binds.append(points.map(\.at))
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        var cells = row.makeIterator()
        guard let name = cells.next(), let key = cells.next() else { throw StoreError("a logged metric came back without its first key") }
        return (try name.decode(String.self), try key.decode(Int64.self))
    }
}
