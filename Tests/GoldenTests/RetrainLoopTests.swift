import Foundation
import MLShCommon
import MLShServe
import Testing
import TestSupport

/// The loop after deployment, end to end on real sockets and processes: `mlsh serve`
/// answers steady traffic, labels come back over `/v1/feedback`, the inputs shift, the
/// drift alert fires to a webhook receiver, the server starts `mlsh retrain --attempt`,
/// the challenger passes the gate on the fresh holdout, serves its canary share, is
/// promoted on its live figures and takes the traffic — and no request fails.
@Suite struct RetrainLoopTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    /// What the client thread sent and got: each answered row's id, version and truth.
    final class Traffic: @unchecked Sendable {
        private let lock = NSLock()
        private var shifted = false, done = false
        private var statuses: [Int: Int] = [:], byModel: [String: Int] = [:]
        private var unlabeled: [(id: String, label: Double)] = []
        func shift() { lock.lock(); shifted = true; lock.unlock() }
        var isShifted: Bool { lock.lock(); defer { lock.unlock() }; return shifted }
        func stop() { lock.lock(); done = true; lock.unlock() }
        var stopped: Bool { lock.lock(); defer { lock.unlock() }; return done }
        func record(_ status: Int, _ model: String, _ id: String?, _ label: Double) {
            lock.lock()
            statuses[status, default: 0] += 1
            byModel[model, default: 0] += 1
            if let id { unlabeled.append((id, label)) }
            lock.unlock()
        }
        /// The answered rows not yet labeled, taken.
        func takeLabels() -> [(id: String, label: Double)] {
            lock.lock(); defer { lock.unlock() }
            let out = unlabeled
            unlabeled = []
            return out
        }
        var counts: ([Int: Int], [String: Int]) { lock.lock(); defer { lock.unlock() }; return (statuses, byModel) }
    }


    /// The bundled diabetes rows as request bodies' objects, with their true progression.
    static func rows(shifted: Bool) throws -> [(String, Double)] {
        let text = try String(contentsOfFile: repositoryRoot + "/data/diabetes.csv", encoding: .utf8)
        let lines = text.split(separator: "\n").map { $0.split(separator: ",").map(String.init) }
        guard let header = lines.first else { return [] }
        return lines.dropFirst().compactMap { cells in
            var members: [String] = []
            var label = Double.nan
            for (name, cell) in zip(header, cells) {
                guard var v = Double(cell) else { continue }
                if name == "progression" { label = v; continue }
                // The shift: four of ten features tripled.
                if shifted && ["bmi", "bp", "s5", "s6"].contains(name) { v *= 3 }
                members.append("\"\(name)\": \(v)")
            }
            return ("{" + members.joined(separator: ", ") + "}", label)
        }
    }

    @Test func driftFiresTheAlertAndTheRetrainIsGatedCanariedAndPromotedWithoutAFailedRequest() async throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let train = try box.script("""
            # The labeled requests answered before the holdout, inputs and true label.
            let fresh = requests(param("model"), labeled=true, until=param("until"))
            let rows = fresh |> drop($prediction, $model, $latency_ms, $at, $id) |> rename(label="progression")
            log_model(fit(ridge(), rows, target=$progression))
            """, name: "train.mls")
        let setup = try box.mlsh(["run", try box.script("""
            let v = register(fit(ridge(), dataset("diabetes") |> head(300), target=$progression), "diab")
            alias(v, "production")
            alert("diab", "drifting", when="drift_share > 0.3", hold="1s", notify="http://127.0.0.1:\(receiver.port)/hook")
            retrain("diab", script="\(train)", when="drifting", gate="rmse <= champion.rmse", canary=0.3, after=20)
            """)])
        #expect(setup.code == 0, "\(setup.err)")
        let port = ServeCommandTests.freePort()
        let errors = box.dir + "/serve.err"
        let pid = try ServeCommandTests.serve(box, ["diab@production", "--watch-interval", "0.2"], port: port, stderr: errors)
        defer { ServeCommandTests.stop(pid) }
        let url = "http://127.0.0.1:\(port)"
        let normal = try Self.rows(shifted: false), shifted = try Self.rows(shifted: true)
        let traffic = Traffic()
        try await onOwnThread {
            // One client sends one row per request, steadily, for the whole test.
            let client = Thread {
                var k = 0
                while !traffic.stopped {
                    let (row, label) = (traffic.isShifted ? shifted : normal)[k % normal.count]
                    k += 1
                    let r = try? HTTPClient.request("POST", url + "/v1/models/diab/predict", body: Array(#"{"rows": [\#(row)]}"#.utf8),
                                                    headers: [("Content-Type", "application/json")])
                    let json = r.flatMap { try? JSONParser.parse($0.text) }
                    var id: String?
                    if case .array(let ids)? = json?["ids"], case .string(let s)? = ids.first { id = s }
                    var model = ""
                    if case .string(let m)? = json?["model"] { model = m }
                    traffic.record(r?.status ?? 0, model, id, label)
                }
            }
            client.start()
            defer { traffic.stop() }
            func feedBack() {
                let labels = traffic.takeLabels()
                guard !labels.isEmpty else { return }
                let body = JSONWriter.text(.object([("labels", .array(labels.map {
                    .object([("id", .string($0.id)), ("label", .number($0.label))])
                }))]))
                let r = try? HTTPClient.request("POST", url + "/v1/feedback", body: Array(body.utf8), headers: [("Content-Type", "application/json")])
                #expect(r?.status == 200, "feedback: \(r?.text ?? "no answer")")
            }
            func retrains() -> [[String: Any]] {
                guard let r = try? box.mlsh(["retrains", "--json"]), r.code == 0,
                      let list = try? JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: Any]] else { return [] }
                return list
            }
            func until(_ seconds: Double, _ done: () -> Bool) -> Bool {
                let end = Date().addingTimeInterval(seconds)
                while Date() < end {
                    feedBack()
                    if done() { return true }
                    Thread.sleep(forTimeInterval: 0.3)
                }
                return done()
            }
            // Steady traffic, labeled: no alert.
            _ = until(2) { false }
            #expect(receiver.bodies.isEmpty)
            // The inputs shift: the alert fires, the server starts the retrain.
            traffic.shift()
            let fired = until(30) { receiver.bodies.contains { $0.contains(#""status":"firing""#) } }
            #expect(fired, "no firing alert; serve stderr: \((try? String(contentsOfFile: errors, encoding: .utf8)) ?? "")")
            let decided = until(90) { ["promoted", "rolled_back", "gated", "failed"].contains(retrains().first?["decision"] as? String ?? "") }
            let attempt = retrains().first ?? [:]
            #expect(decided, "attempt: \(attempt)")
            #expect(attempt["decision"] as? String == "promoted", "attempt: \(attempt)")
            #expect(attempt["trigger"] as? String == "alert drifting")
            #expect(attempt["champion"] as? Int == 1 && attempt["challenger"] as? Int == 2)
            let gate = attempt["challenger_figures"] as? [String: Any], champion = attempt["champion_figures"] as? [String: Any]
            #expect(((gate?["rmse"] as? Double) ?? .infinity) <= ((champion?["rmse"] as? Double) ?? 0))
            let canary = attempt["canary_figures"] as? [String: Any]
            #expect(((canary?["labeled"] as? Double) ?? 0) >= 20, "canary: \(String(describing: canary))")
            // The server follows the alias: diab@2 alone answers.
            let switched = until(10) {
                (try? HTTPClient.request("GET", url + "/v1/status")).flatMap { try? JSONParser.parse($0.text) }?["models"]
                    == .array([.string("diab@2")])
            }
            #expect(switched)
            Thread.sleep(forTimeInterval: 0.5)
        }
        traffic.stop()
        let (statuses, byModel) = traffic.counts
        #expect(statuses.keys.sorted() == [200], "statuses: \(statuses)")
        #expect((byModel["diab@1"] ?? 0) > 0 && (byModel["diab@2"] ?? 0) > 0, "answered by: \(byModel)")
        let lineage = try box.mlsh(["lineage", "diab@production"])
        #expect(lineage.out.contains("retrain: attempt 1 (alert drifting, promoted): labeled requests"), "\(lineage.out)")
        #expect(lineage.out.contains("requests of diab, labeled, until"), "\(lineage.out)")
        #expect(lineage.out.contains("diab@2 (production)"), "\(lineage.out)")
    }
}

/// `mlsh retrain` and `mlsh retrains` from the shell.
@Suite struct RetrainCommandTests {
    typealias Sandbox = StoreCommandTests.Sandbox

    @Test func retrainNowPolicyAndListing() throws {
        let box = try Sandbox()
        defer { box.cleanup() }
        let train = try box.script("""
            let fresh = requests(param("model"), labeled=true, until=param("until"))
            log_model(fit(ridge(), fresh |> drop($prediction, $model, $latency_ms, $at, $id) |> rename(label="progression"), target=$progression))
            """, name: "train.mls")
        let setup = try box.mlsh(["run", try box.script("""
            let [train, test] = dataset("diabetes") |> split(0.5, seed=1)
            alias(register(fit(ridge(), train |> head(40), target=$progression), "diab"), "production")
            let d = deploy("diab@production", port=0)
            for i in range(5) {
              let part = test |> head((i + 1) * 20) |> tail(20)
              feedback(d, table({id: send(d, part |> drop($progression)).id, label: part.progression}))
            }
            undeploy(d)
            """)])
        #expect(setup.code == 0, "\(setup.err)")
        let usage = try box.mlsh(["retrain", "diab"])
        #expect(usage.code != 0 && usage.err.contains("name the training script with --script FILE"), "\(usage.err)")
        let unknown = try box.mlsh(["retrain", "diab", "--script", train, "--when", "drifting"])
        #expect(unknown.code == 1 && unknown.err.contains("retrain: diab has no alert named 'drifting'"), "\(unknown.err)")
        let badGate = try box.mlsh(["retrain", "diab", "--script", train, "--gate", "rmse < champion.rsme"])
        #expect(badGate.code == 1 && badGate.err.contains("unknown figure 'champion.rsme'"), "\(badGate.err)")
        // With the caret under the figure in the gate's text.
        #expect(badGate.err.contains("rmse < champion.rsme\n") && badGate.err.contains("       ^^^^^^^^^^^^^"), "\(badGate.err)")
        let now = try box.mlsh(["retrain", "diab", "--script", train])
        #expect(now.code == 0, "\(now.err)")
        #expect(now.out.contains("promoted"), "\(now.out)")
        let policy = try box.mlsh(["retrain", "diab", "--script", train, "--every", "24h", "--canary", "0.1", "--after", "300"])
        #expect(policy.code == 0, "\(policy.err)")
        #expect(policy.out == "diab retrains with \(train) every 1d; gate: rmse <= champion.rmse; canary 0.1 for 300 labeled answers; promotes to production\n")
        let list = try box.json(["retrains", "--json"]) as? [[String: Any]] ?? []
        #expect(list.count == 1)
        #expect((try box.json(["retrains", "diab", "--json"]) as? [[String: Any]])?.count == 1)
        #expect((try box.json(["retrains", "other", "--json"]) as? [[String: Any]])?.count == 0)
        // The same script again trains the same model: gated, nothing registered.
        let again = try box.mlsh(["retrain", "diab", "--script", train])
        #expect(again.code == 0 && again.out.contains("gated"), "\(again.out)")
        #expect(list.first?["decision"] as? String == "promoted" && list.first?["trigger"] as? String == "now")
        #expect(list.first?["champion"] as? Int == 1 && list.first?["challenger"] as? Int == 2 && list.first?["holdout"] as? Int == 20)
        let models = try box.mlsh(["models"])
        #expect(models.out.contains("production"), "\(models.out)")
        let lineage = try box.mlsh(["lineage", "diab@production"])
        #expect(lineage.out.hasPrefix("diab@2 (production)") && lineage.out.contains("retrain: attempt 1 (now, promoted)"), "\(lineage.out)")
        let failing = try box.mlsh(["retrain", "diab", "--script", try box.script("fit(ridge(), requests(param(\"model\")), target=$nope)", name: "bad.mls")])
        #expect(failing.code == 1 && failing.err.contains("retrain: the attempt failed: the training script failed"), "\(failing.err)")
        let value = try box.mlsh(["retrain", "diab", "--script", train, "--canary", "1.5"])
        #expect(value.code == 1 && value.err.hasPrefix("value error: retrain: canary is the challenger's share"), "\(value.err)")
        let table = try box.mlsh(["retrains"])
        #expect(table.out.contains("promoted") && table.out.contains("failed") && table.out.contains("retrains: 3 rows"), "\(table.out)")
    }
}
