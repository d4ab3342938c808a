import Foundation
import MLShCommon
import MLShStore
import Testing
import TestSupport
@testable import MLShServe

/// A server on a PostgreSQL store whose database stops for a while and starts again (a
/// cluster of the test's own): it answers throughout, counts the rows it could not log as
/// dropped, logs again once the database is back, and still follows its alias.
@Suite struct PostgresOutageTests {
    @Test func aServerCarriesOnThroughAPostgreSQLRestart() async throws {
        try await ServerSocketTests.offPool {
            let cluster = try PostgresCluster.own()
            let store = try Store(folder: try cluster.database("outage"))
            for m in [Fixtures.ridge, Fixtures.ridge2] {
                _ = try store.register(name: "diabetes", artifact: try store.putModel(m.model, mlshVersion: "test"), run: nil)
            }
            try store.setAlias(name: "diabetes", version: 1, alias: "production")
            let server = try FollowingTests.server(store, watchInterval: 0.2)
            defer { server.stop() }
            let monitor = server.service.monitor
            func burst(_ n: Int) -> [Int] { (0..<n).map { _ in FollowingTests.predict(server.url).status } }
            func accounted() -> Int { let s = monitor.snapshot(); return s.logged + s.dropped }

            #expect(burst(20) == Array(repeating: 200, count: 20))
            AlertTests.waitFor(20) { monitor.snapshot().logged == 20 }
            #expect(monitor.snapshot().logged == 20)

            try cluster.stop()
            // Answering never waits for the store; the rows it cannot write are counted.
            #expect(burst(20) == Array(repeating: 200, count: 20))
            AlertTests.waitFor(20) { accounted() == 40 }
            let during = monitor.snapshot()
            #expect(during.logged + during.dropped == 40)
            #expect(during.dropped > 0, "the outage dropped nothing: \(during)")
            #expect(during.lastWriteError?.contains("mlsh:secret@") == false)

            try cluster.start()
            #expect(burst(20) == Array(repeating: 200, count: 20))
            AlertTests.waitFor(30) { accounted() == 60 && monitor.snapshot().logged >= during.logged + 20 }
            let after = monitor.snapshot()
            #expect(after.logged + after.dropped == 60)
            #expect(after.logged >= during.logged + 20, "nothing logged after the restart: \(after)")
            guard let deployment = server.deployment else { Issue.record("the server recorded no deployment"); return }
            #expect(try store.requests(.deployment(deployment)).count == after.logged)

            // It follows an alias moved after the restart.
            try store.setAlias(name: "diabetes", version: 2, alias: "production")
            AlertTests.waitFor(60) { FollowingTests.predict(server.url).model == "diabetes@2" }
            #expect(FollowingTests.predict(server.url).model == "diabetes@2")
        }
    }
}
