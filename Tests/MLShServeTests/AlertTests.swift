import Foundation
import MLShCommon
import MLShStore
import Testing
import TestSupport
@testable import MLShServe

@Suite struct AlertTests {
    static func rule(_ model: String, _ name: String, _ condition: String, _ tree: AlertExpr, hold: Double, notify: String?) -> AlertRuleRecord {
        AlertRuleRecord(model: model, name: name, condition: condition, tree: JSONWriter.text(tree.json), hold: hold, notify: notify)
    }

    static func waitFor(_ seconds: Double, _ done: () -> Bool) {
        let end = Date().addingTimeInterval(seconds)
        while !done() && Date() < end { Thread.sleep(forTimeInterval: 0.05) }
    }

    @Test func alertsFireAfterTheirHoldResolveAndAreRetriedToTheWebhook() async throws {
        try await ServerSocketTests.offPool {
            let store = try Store(folder: temporaryFolder("alerts"))
            // The receiver fails the first post: the notifier retries it.
            let receiver = try WebhookReceiver(failFirst: 1)
            defer { receiver.stop() }
            let hook = "http://127.0.0.1:\(receiver.port)/hook"
            let busy = AlertExpr.binary("and", .binary(">=", .signal("requests"), .number(1)), .binary("<", .signal("requests"), .number(2)))
            try store.putAlertRule(Self.rule("diabetes", "busy", "requests >= 1 and requests < 2", busy, hold: 0, notify: hook))
            try store.putAlertRule(Self.rule("diabetes", "held", "requests >= 1", .binary(">=", .signal("requests"), .number(1)),
                                             hold: 3600, notify: nil))
            try store.putAlertRule(Self.rule("other", "elsewhere", "requests >= 0", .binary(">=", .signal("requests"), .number(0)),
                                             hold: 0, notify: hook))
            var config = ServeConfiguration(port: 0)
            config.watchInterval = 0.05
            let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)], configuration: config, store: store)
            defer { server.stop() }
            let row = #"{"rows": [\#(Fixtures.row)]}"#
            _ = try HTTPClient.request("POST", server.url + "/v1/models/diabetes/predict", body: Array(row.utf8),
                                       headers: [("Content-Type", "application/json")])
            Self.waitFor(10) { (try? store.alertEvents().count) == 1 }
            _ = try HTTPClient.request("POST", server.url + "/v1/models/diabetes/predict", body: Array(row.utf8),
                                       headers: [("Content-Type", "application/json")])
            // The receiver records a body before it answers; the server counts a notification
            // sent once the answer is back.
            Self.waitFor(10) { (try? store.alertEvents().count) == 2 && receiver.bodies.count == 2 && server.alerts?.sentNotifications == 2 }
            let events = try store.alertEvents()
            // Only this server's model's alerts, and "held" not before its hour.
            #expect(events.map(\.name) == ["busy", "busy"])
            #expect(events.map(\.status) == ["firing", "resolved"])
            #expect(events.map(\.value) == [1, 2] && events.allSatisfy { $0.deployment == server.deployment })
            let posted = receiver.bodies.compactMap { try? JSONParser.parse($0) }
            #expect(posted.map { $0["status"] } == [.string("firing"), .string("resolved")])
            let first = posted.first?["alerts"]
            guard case .array(let alerts)? = first, let a = alerts.first else { Issue.record("no alerts in \(receiver.bodies)"); return }
            #expect(a["labels"]?["alertname"] == .string("busy") && a["labels"]?["model"] == .string("diabetes"))
            #expect(a["annotations"]?["condition"] == .string("requests >= 1 and requests < 2"))
            #expect(a["endsAt"] == .string("0001-01-01T00:00:00Z"))
            if case .array(let resolved)? = posted.last?["alerts"], let r = resolved.first {
                #expect(r["endsAt"] != .string("0001-01-01T00:00:00Z") && r["startsAt"] == a["startsAt"])
            } else { Issue.record("no resolved alert") }
            #expect(server.alerts?.sentNotifications == 2 && server.alerts?.failedNotifications == 0)
        }
    }

    @Test func conditionsEvaluateOverSignals() {
        var s = AlertSignals()
        s.values = ["drift_share": 0.4, "rmse": 55]
        s.drifted = ["bmi"]
        let e = AlertExpr.binary("or", .binary(">", .signal("drift_share"), .number(0.3)), .binary(">", .signal("rmse"), .number(60)))
        #expect(e.value(s) == 1 && e.holds(s))
        #expect(AlertExpr.drifted("bmi").value(s) == 1 && AlertExpr.drifted("age").value(s) == 0)
        // An unknown signal is NaN: a comparison with it is false; `or` is still decided by its other side.
        #expect(AlertExpr.binary(">", .signal("accuracy"), .number(0.5)).value(s) == 0)
        #expect(AlertExpr.binary("or", .drifted("bmi"), .binary("<", .signal("accuracy"), .number(0.5))).value(s) == 1)
        #expect(!AlertExpr.signal("accuracy").holds(s) && !AlertExpr.negate(.signal("rmse")).holds(s))
        #expect(AlertExpr(json: e.json) == e)
        #expect(AlertExpr(json: .object([("signal", .string("nope"))])) == nil)
        #expect(e.firstSignal == .signal("drift_share"))
    }
}
