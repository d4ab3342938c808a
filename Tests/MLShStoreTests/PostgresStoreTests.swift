import Foundation
import Synchronization
import Testing
import TestSupport
@testable import MLShStore

/// The PostgreSQL store's connection layer and schema, against a real server started for
/// the test process (`PostgresCluster`): URLs shown without passwords, one clear line for
/// a wrong password, a missing database or an unreachable host, migrations applied once
/// (also by two processes' pools at once), and a newer schema refused.
@Suite struct PostgresStoreTests {
    func cluster() throws -> PostgresCluster {
        switch PostgresCluster.shared {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }

    @Test func urlsAreParsedAndShownWithoutPasswords() throws {
        let u = try PostgresURL("postgres://ann:p%40ss@db.example:5433/team?sslmode=require")
        #expect(u.user == "ann" && u.password == "p@ss" && u.host == "db.example" && u.port == 5433 && u.database == "team")
        #expect(u.redacted == "postgres://ann@db.example:5433/team?sslmode=require")
        #expect(try PostgresURL("postgresql://bob@localhost/").database == "bob")
        #expect(PostgresURL.redact("postgres://ann:hunter2@h/db") == "postgres://ann@h/db")
        #expect(throws: StoreError("the PostgreSQL URL postgres://ann@h/db?sslmode=maybe has sslmode=maybe; mlsh takes disable, prefer or require")) {
            _ = try PostgresURL("postgres://ann:hunter2@h/db?sslmode=maybe")
        }
        #expect(throws: StoreError("the PostgreSQL URL postgres://ann@h:99999/db has port 99999, outside 1...65535")) {
            _ = try PostgresURL("postgres://ann:hunter2@h:99999/db")
        }
    }

    /// A URL opens a PostgreSQL store, never a folder (nothing is created at `postgres:/...`);
    /// an unreachable host is one line naming the URL without its password.
    @Test func aURLIsNeverAFolder() throws {
        #expect(throws: StoreError("cannot open the store at postgres://ann@nowhere.invalid/db: cannot resolve nowhere.invalid: SocketAddressError.UnknownHost: Name or service not known (error -2) for host nowhere.invalid, port 5432", unreachable: true)) {
            _ = try Store(folder: "postgres://ann:pw@nowhere.invalid/db")
        }
        #expect(!FileManager.default.fileExists(atPath: "postgres:"))
    }

    @Test func schemaIsMigratedOnceAndNewerOnesAreRefused() throws {
        let c = try cluster()
        let url = try PostgresURL(try c.database("schema"))
        // Two pools (as two processes) migrating a new database at once.
        let pools = try (0..<2).map { _ in try PostgresPool(url) }
        let errors = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do throws(StoreError) { try PostgresSchema.migrate(pools[i]) } catch { errors.withLock { $0.append(error.message) } }
        }
        #expect(errors.withLock { $0 }.isEmpty)
        #expect(try PostgresSchema.applied(pools[0]) == PostgresSchema.migrations.map(\.0))
        try PostgresSchema.migrate(pools[0])
        let tables = try pools[0].withConnection { s throws(StoreError) in
            try s.rows("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").first.map { try? $0.decode(Int64.self) } ?? nil
        }
        // Every table of the schema, and mlsh_migrations.
        let created = PostgresSchema.migrations.map { $0.1.components(separatedBy: "CREATE TABLE ").count - 1 }.reduce(0, +)
        #expect(created > 20 && tables == Int64(created + 1))
        // A row round trip with every kind of value.
        try pools[0].transaction { s throws(StoreError) in
            try s.execute("INSERT INTO experiments (name, created) VALUES ($1, $2)", [.text("e"), .double(1.5)])
            try s.execute("INSERT INTO blobs (hash, chunk, bytes) VALUES ($1, $2, $3)", [.text("h"), .int(0), .bytes([0, 1, 255])])
        }
        let back = try pools[1].withConnection { s throws(StoreError) in
            try s.rows("SELECT e.name, e.created, length(b.bytes) FROM experiments e, blobs b").first.map { try? $0.decode((String, Double, Int32).self) } ?? nil
        }
        #expect(back?.0 == "e" && back?.1 == 1.5 && back?.2 == 3)
        // A schema from a newer mlsh.
        try pools[0].withConnection { s throws(StoreError) in
            try s.execute("INSERT INTO mlsh_migrations (identifier, applied) VALUES ('pg-v99-future', 0)")
        }
        #expect(throws: StoreError("the store at \(url.redacted) was written by a newer mlsh (its schema has pg-v99-future; this mlsh's ends at pg-v4-append-only-logs); upgrade mlsh to use it")) {
            try PostgresSchema.migrate(pools[1])
        }
        for p in pools { p.close() }
    }

    @Test func connectionFailuresAreOneLineWithoutThePassword() throws {
        let c = try cluster()
        func failure(_ text: String) -> String {
            do { _ = try PostgresPool(try PostgresURL(text)); return "" } catch { return error.message }
        }
        let wrong = failure("postgres://mlsh:wrong@127.0.0.1:\(c.port)/postgres")
        #expect(wrong.hasPrefix("cannot open the store at postgres://mlsh@127.0.0.1:\(c.port)/postgres: password authentication failed for user \"mlsh\""), "\(wrong)")
        let missing = failure("postgres://mlsh:secret@127.0.0.1:\(c.port)/nope")
        #expect(missing.hasPrefix("cannot open the store at postgres://mlsh@127.0.0.1:\(c.port)/nope: database \"nope\" does not exist"), "\(missing)")
        let closed = PostgresCluster.unusedPort()
        let unreachable = failure("postgres://mlsh:secret@127.0.0.1:\(closed)/postgres")
        #expect(unreachable == "cannot open the store at postgres://mlsh@127.0.0.1:\(closed)/postgres: cannot connect to 127.0.0.1:\(closed): Connection refused", "\(unreachable)")
        for m in [wrong, missing, unreachable] {
            #expect(!m.contains("secret") && !m.contains("wrong") && !m.contains("\n"), "\(m)")
        }
    }

    /// Metric points go through a named prepared statement: the connection prepares it on
    /// first use and runs it again for later batches (one prepared statement, not one per
    /// batch), and each batch's first keys still give the metrics their first-logged order.
    @Test func metricPointsGoThroughOnePreparedStatement() throws {
        let store = try StoreBackend.postgres.newStore()
        let e = try store.experiment("prepared")
        let r = try store.startRun(experiment: e, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        for batch in 0..<3 {
            try store.log(run: r, (0..<5).map { MetricPoint(name: "m\((batch + $0) % 3)", step: Int64(batch * 5 + $0), value: Double($0), at: 0) })
        }
        let prepared = try store.db.read { db in
            try db.fetchAll(sql: "SELECT name, statement FROM pg_prepared_statements").map { ($0["name"] as String, $0["statement"] as String) }
        }
        #expect(prepared.map(\.0) == ["mlsh_insert_metric_points"])
        #expect(prepared.first?.1.contains("unnest($2::text[]") == true)
        #expect(try store.run(r).metrics.map(\.0) == ["m0", "m1", "m2"])
    }
}
