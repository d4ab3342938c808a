import Foundation
import MLShCommon
import MLShMonitor
import MLShStore
import Testing
import TestSupport
@testable import MLShServe

/// Servers follow the store: an alias moved by hand or by a retrain switches every server
/// serving `name@alias` without failing a request in flight; a retraining attempt in
/// canary gets its share of the traffic and is promoted or rolled back on its live figures.
@Suite struct FollowingTests {
    /// A store with diabetes@1 (ridge, alpha 1) and diabetes@2 (alpha 10), production on 1.
    static func store(_ label: String) throws -> Store {
        let store = try Store(folder: temporaryFolder(label))
        for m in [Fixtures.ridge, Fixtures.ridge2] {
            _ = try store.register(name: "diabetes", artifact: try store.putModel(m.model, mlshVersion: "test"), run: nil)
        }
        try store.setAlias(name: "diabetes", version: 1, alias: "production")
        return store
    }

    /// A policy whose script and gate the store tests never run.
    static let blankPolicy = RetrainPolicyRecord(model: "diabetes", script: "/dev/null", onAlert: nil, every: nil, gate: "",
                                                 gateTree: "", canary: 0, after: 1, promote: "production")

    static func server(_ store: Store, watchInterval: Double = 0.05) throws -> PredictionServer {
        var config = ServeConfiguration(port: 0)
        config.watchInterval = watchInterval
        let v1 = try ServedModel.load(try store.resolve("diabetes@production"), from: store)
        return try PredictionServer.start(routes: [Route(v1, weight: 1, follows: "diabetes@production")], configuration: config,
                                          store: store)
    }

    /// Posts one row; the answering version and the row's id, or the status on failure.
    static func predict(_ url: String, _ row: String = Fixtures.row) -> (status: Int, model: String, id: String, prediction: Double) {
        guard let r = try? HTTPClient.request("POST", url + "/v1/models/diabetes/predict", body: Array(#"{"rows": [\#(row)]}"#.utf8),
                                              headers: [("Content-Type", "application/json")]) else { return (0, "", "", .nan) }
        guard r.status == 200, let json = try? JSONParser.parse(r.text), case .string(let model)? = json["model"],
              case .array(let ids)? = json["ids"], case .string(let id)? = ids.first,
              case .array(let p)? = json["predictions"], let prediction = p.first?.double else { return (r.status, "", "", .nan) }
        return (200, model, id, prediction)
    }

    /// On PostgreSQL a server does not wait for its watch interval (an hour here): the
    /// alias moved by another connection is followed on the store's notification, also
    /// after the server's listening connection was cut (it reconnects).
    @Test func onPostgreSQLAnAliasMovedElsewhereIsFollowedAtOnce() async throws {
        try await ServerSocketTests.offPool {
            let cluster = try PostgresCluster.shared.get()
            let location = try cluster.database("notify")
            let store = try Store(folder: location)
            for m in [Fixtures.ridge, Fixtures.ridge2] {
                _ = try store.register(name: "diabetes", artifact: try store.putModel(m.model, mlshVersion: "test"), run: nil)
            }
            try store.setAlias(name: "diabetes", version: 1, alias: "production")
            let server = try Self.server(store, watchInterval: 3600)
            defer { server.stop() }
            let other = try Store(folder: location)
            #expect(Self.predict(server.url).model == "diabetes@1")
            try other.setAlias(name: "diabetes", version: 2, alias: "production")
            AlertTests.waitFor(20) { Self.predict(server.url).model == "diabetes@2" }
            #expect(Self.predict(server.url).model == "diabetes@2")
            // Cut every connection to the database; the server listens again and follows.
            let database = String(location.split(separator: "/").last ?? "")
            try cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
                             database: database)
            try other.setAlias(name: "diabetes", version: 1, alias: "production")
            AlertTests.waitFor(20) { Self.predict(server.url).model == "diabetes@1" }
            #expect(Self.predict(server.url).model == "diabetes@1")
        }
    }

    @Test func aServerFollowsItsAliasUnderLoadWithoutAFailedRequest() async throws {
        try await ServerSocketTests.offPool {
            let store = try Self.store("follow")
            let server = try Self.server(store)
            defer { server.stop() }
            let tally = Tally()
            let clients = (0..<4).map { _ in
                let t = Thread {
                    while !tally.stopped {
                        let r = Self.predict(server.url)
                        tally.add(r.status, r.model)
                    }
                }
                t.start()
                return t
            }
            _ = clients
            // Once the clients are answered by version 1, the alias moves back and forth while
            // they send; then it rests on version 2 until they have been answered by it.
            // (Waits, not fixed times: a loaded machine answers fewer requests per second.)
            AlertTests.waitFor(60) { (tally.counts.1["diabetes@1"] ?? 0) >= 5 }
            for k in 0..<6 {
                Thread.sleep(forTimeInterval: 0.4)
                try store.setAlias(name: "diabetes", version: k % 2 == 0 ? 2 : 1, alias: "production")
            }
            Thread.sleep(forTimeInterval: 0.4)
            try store.setAlias(name: "diabetes", version: 2, alias: "production")
            AlertTests.waitFor(10) { server.service.routes.map(\.model.label) == ["diabetes@2"] }
            let byTwo = tally.counts.1["diabetes@2"] ?? 0
            AlertTests.waitFor(60) { (tally.counts.1["diabetes@2"] ?? 0) >= byTwo + 5 }
            tally.stop()
            Thread.sleep(forTimeInterval: 0.3)
            let (s, a) = tally.counts
            #expect(s.keys.sorted() == [200], "statuses: \(s)")
            #expect((s[200] ?? 0) >= 10, "the clients kept sending through the moves")
            #expect((a["diabetes@1"] ?? 0) > 0 && (a["diabetes@2"] ?? 0) > 0, "answered by: \(a)")
            #expect(server.service.routes.map(\.model.label) == ["diabetes@2"])
            #expect(Self.predict(server.url).model == "diabetes@2")
        }
    }

    /// An attempt in canary with diabetes@2 as challenger of diabetes@1.
    static func canary(_ store: Store, share: Double, after: Int) throws -> Int64 {
        let gate = AlertExpr.binary("<=", .signal("rmse"), .signal("champion.rmse"))
        let policy = RetrainPolicyRecord(model: "diabetes", script: "/dev/null", onAlert: nil, every: nil, gate: "rmse <= champion.rmse",
                                         gateTree: JSONWriter.text(gate.json), canary: share, after: after, promote: "production")
        var a = RetrainRecord(model: "diabetes", trigger: "test", policy: policy, started: Date().timeIntervalSince1970)
        let (id, started) = try store.beginRetrain(a)
        #expect(started)
        a.id = id
        a.champion = 1; a.challenger = 2; a.decision = "canary"; a.canaryStarted = Date().timeIntervalSince1970 - 1
        a.championFigures = QualityFigures.json([("rmse", 50)])
        #expect(try store.updateRetrain(a, from: ["running"]))
        return id
    }

    /// Sends rows until both versions answered `each` of them, feeding back as each row's
    /// label its prediction plus `challengerError` (challenger) or `championError`.
    static func splitTraffic(_ server: PredictionServer, each: Int, challengerError: Double, championError: Double) throws -> [String: Int] {
        var answered: [String: Int] = [:]
        var labels: [JSON] = []
        for _ in 0..<2000 where (answered["diabetes@1"] ?? 0) < each || (answered["diabetes@2"] ?? 0) < each {
            let r = predict(server.url)
            #expect(r.status == 200)
            answered[r.model, default: 0] += 1
            let error = r.model == "diabetes@2" ? challengerError : championError
            labels.append(.object([("id", .string(r.id)), ("label", .number(r.prediction + error))]))
        }
        let body = JSONWriter.text(.object([("labels", .array(labels))]))
        let reply = try HTTPClient.request("POST", server.url + "/v1/feedback", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
        #expect(reply.status == 200, "\(reply.text)")
        return answered
    }

    @Test func aCanaryWhoseLiveFiguresPassIsPromoted() async throws {
        try await ServerSocketTests.offPool {
            let store = try Self.store("canary-promote")
            let server = try Self.server(store)
            defer { server.stop() }
            let id = try Self.canary(store, share: 0.5, after: 10)
            AlertTests.waitFor(10) { server.service.routes.count == 2 }
            #expect(server.service.routes.map(\.model.label) == ["diabetes@1", "diabetes@2"])
            #expect(server.service.routes.map(\.weight) == [0.5, 0.5])
            // The challenger is exact on its rows, the champion 30 off.
            let answered = try Self.splitTraffic(server, each: 12, challengerError: 0, championError: 30)
            #expect((answered["diabetes@2"] ?? 0) >= 12)
            AlertTests.waitFor(15) { (try? store.retrain(id).decision) == "promoted" && server.service.routes.count == 1 }
            let a = try store.retrain(id)
            #expect(a.decision == "promoted" && a.ended != nil)
            #expect(try store.resolve("diabetes@production").version == 2)
            #expect(server.service.routes.map(\.model.label) == ["diabetes@2"])
            let figures = try #require(a.canaryFigures.flatMap { try? JSONParser.parse($0) })
            #expect(figures["challenger"]?["rmse"]?.double == 0)
            #expect(abs((figures["champion"]?["rmse"]?.double ?? 0) - 30) < 1e-9)
            #expect((figures["labeled"]?.double ?? 0) >= 10)
        }
    }

    @Test func aCanaryWhoseLiveFiguresFailIsRolledBack() async throws {
        try await ServerSocketTests.offPool {
            let store = try Self.store("canary-rollback")
            let server = try Self.server(store)
            defer { server.stop() }
            let id = try Self.canary(store, share: 0.5, after: 10)
            AlertTests.waitFor(10) { server.service.routes.count == 2 }
            _ = try Self.splitTraffic(server, each: 12, challengerError: 40, championError: 5)
            AlertTests.waitFor(15) { (try? store.retrain(id).decision) == "rolled_back" && server.service.routes.count == 1 }
            let a = try store.retrain(id)
            #expect(a.decision == "rolled_back")
            #expect(a.error?.contains("rmse <= champion.rmse") == true)
            #expect(try store.resolve("diabetes@production").version == 1)
            #expect(server.service.routes.map(\.model.label) == ["diabetes@1"])
            // The next attempt may start: none is active.
            let policy = FollowingTests.blankPolicy
            #expect(try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "test", policy: policy, started: 0)).started)
        }
    }

    @Test func aServerOnLatestOrAVersionStaysOnIt() async throws {
        try await ServerSocketTests.offPool {
            let store = try Self.store("latest")
            var config = ServeConfiguration(port: 0)
            config.watchInterval = 0.05
            let v2 = try ServedModel.load(try store.resolve("diabetes@latest"), from: store)
            #expect(Route.following("diabetes@latest") == nil && Route.following("diabetes") == nil && Route.following("diabetes@2") == nil)
            let server = try PredictionServer.start(routes: [Route(v2, weight: 1, follows: Route.following("diabetes@latest"))],
                                                    configuration: config, store: store)
            defer { server.stop() }
            _ = try store.register(name: "diabetes", artifact: try store.putModel(Fixtures.ridge.model, mlshVersion: "test"), run: nil)
            Thread.sleep(forTimeInterval: 0.5)
            #expect(Self.predict(server.url).model == "diabetes@2")
        }
    }

    @Test func aPromotionAfterTheAliasMovedByHandIsRolledBack() throws {
        let store = try Self.store("moved")
        let id = try Self.canary(store, share: 0.5, after: 10)
        // The champion was 1; production is moved to 2 by hand: no promotion.
        try store.setAlias(name: "diabetes", version: 2, alias: "production")
        let a = try store.retrain(id)
        #expect(a.champion == 1)
        #expect(try store.promoteRetrain(a) == false)
        let after = try store.retrain(id)
        #expect(after.decision == "rolled_back")
        #expect(after.error == "production was moved to diabetes@2 while the attempt ran; the challenger was not promoted")
    }

    @Test func aCanaryNobodyDecidesIsRolledBackByTheNextAttempt() throws {
        let store = try Self.store("stale")
        let id = try Self.canary(store, share: 0.5, after: 10)
        let policy = FollowingTests.blankPolicy
        let now = Date().timeIntervalSince1970
        // Within the deadline the canary holds the model; past it, it ends.
        #expect(try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "t", policy: policy, started: now)).started == false)
        let late = try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "t", policy: policy, started: now + Store.canaryDeadline + 1))
        #expect(late.started && late.id != id)
        let stale = try store.retrain(id)
        #expect(stale.decision == "rolled_back" && stale.error?.hasPrefix("no decision within 86400 s") == true)
    }

    @Test func oneAttemptPerModelAtATime() throws {
        let store = try Self.store("one-attempt")
        let policy = FollowingTests.blankPolicy
        let first = try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "a", policy: policy, started: 1))
        let second = try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "b", policy: policy, started: 2))
        #expect(first.started && !second.started && second.id == first.id)
        var a = try store.retrain(first.id)
        a.decision = "gated"
        #expect(try store.updateRetrain(a, from: ["running"]))
        // Decided once: a second decision finds it decided.
        a.decision = "failed"
        #expect(try store.updateRetrain(a, from: ["running"]) == false)
        #expect(try store.retrain(first.id).decision == "gated")
        #expect(try store.beginRetrain(RetrainRecord(model: "diabetes", trigger: "c", policy: policy, started: 3)).started)
    }
}

/// Answers counted by status and version, from several client threads.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var statuses: [Int: Int] = [:], answered: [String: Int] = [:], done = false
    func add(_ status: Int, _ model: String) {
        lock.lock(); statuses[status, default: 0] += 1; answered[model, default: 0] += 1; lock.unlock()
    }
    var stopped: Bool { lock.lock(); defer { lock.unlock() }; return done }
    func stop() { lock.lock(); done = true; lock.unlock() }
    var counts: ([Int: Int], [String: Int]) { lock.lock(); defer { lock.unlock() }; return (statuses, answered) }
}

@Suite struct RetrainTriggerTests {
    /// A schedule starts an attempt on the server's watch; a server that cannot run
    /// training scripts records it failed, saying why, and keeps serving its champion.
    @Test func aScheduleStartsAnAttemptAndAServerWithoutMlshRecordsItFailed() async throws {
        try await ServerSocketTests.offPool {
            let store = try FollowingTests.store("schedule")
            let gate = AlertExpr.binary("<=", .signal("rmse"), .signal("champion.rmse"))
            try store.putRetrainPolicy(RetrainPolicyRecord(model: "diabetes", script: "/dev/null", onAlert: nil, every: 1,
                                                           gate: "rmse <= champion.rmse", gateTree: JSONWriter.text(gate.json),
                                                           canary: 0, after: 1, promote: "production"))
            let server = try FollowingTests.server(store)
            defer { server.stop() }
            AlertTests.waitFor(10) { (try? store.retrains().first?.decision) == "failed" }
            let a = try #require(try store.retrains().first)
            #expect(a.trigger == "every 1s" && a.decision == "failed")
            #expect(a.error?.hasPrefix("this server cannot run training scripts") == true)
            #expect(FollowingTests.predict(server.url).model == "diabetes@1")
        }
    }

    @Test func gatesReadBothFiguresAndUnknownOnesFail() {
        let gate = AlertExpr.binary("<=", .signal("rmse"), .binary("*", .signal("champion.rmse"), .number(0.98)))
        #expect(gate.passes(challenger: [("rmse", 50)], champion: [("rmse", 52)]))
        #expect(!gate.passes(challenger: [("rmse", 51.5)], champion: [("rmse", 52)]))
        // A figure one side lacks is unknown: the comparison fails.
        #expect(!gate.passes(challenger: [("accuracy", 0.9)], champion: [("rmse", 52)]))
        #expect(AlertExpr.gate(JSONWriter.text(gate.json)) == gate)
        // A stored gate naming something else is not read.
        #expect(AlertExpr.gate(JSONWriter.text(AlertExpr.signal("drift_share").json)) == nil)
    }
}
