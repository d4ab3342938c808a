import Foundation
import MLShCommon
import MLShServe
import MLShStore
import MLShUI
import Testing
import TestSupport

/// The deployment page over a real server's log: a ridge model fitted by a real script on
/// two features, served on a real socket, sent rows whose `x` shifts by 6 standard
/// deviations halfway, refused requests among them, and labels fed back for some rows.
@Suite(.serialized) struct DeploymentPageTests {
    /// The store, the served deployment (shifted inputs, refusals, labels) and one that
    /// served a few ordinary rows without labels.
    final class Fixture: @unchecked Sendable {
        let folder: String
        let store: Store
        let ui: UIServer
        var shifted: Int64 = 0
        var plain: Int64 = 0
        static let hostile = "<script>alert(1)</script>"

        /// Deterministic values near a standard normal (sum of uniforms).
        struct Numbers {
            var state: UInt64
            mutating func next() -> Double {
                var s = 0.0
                for _ in 0..<12 {
                    state = state &* 6364136223846793005 &+ 1442695040888963407
                    s += Double(state >> 11) / Double(1 << 53)
                }
                return s - 6
            }
        }

        init() throws {
            folder = try temporaryFolder("ui-deploy") + "/.mlsh"
            var numbers = Numbers(state: 7)
            var csv = "x,z,y\n"
            for _ in 0..<600 {
                let x = numbers.next(), z = numbers.next()
                csv += "\(x),\(z),\(2 * x + z + 0.1 * numbers.next())\n"
            }
            let data = folder + "-train.csv"
            try csv.write(toFile: data, atomically: true, encoding: .utf8)
            try UIFixture.run("""
                use_store("\(folder)")
                register(fit(ridge(alpha=0.01), load("\(data)"), target=$y), "shift")
                """)
            store = try Store(folder: folder)
            let version = try #require(try store.versions(name: "shift").last)
            let model = try ServedModel.load(version, from: store)

            // 40 requests of 25 rows, x shifted by +6 from the 21st on; labels are each row's y
            // as trained (so the shifted rows' predictions miss them by about 12).
            let server = try PredictionServer.start(routes: [Route(model, weight: 1)], configuration: ServeConfiguration(port: 0), store: store)
            shifted = try #require(server.deployment)
            var labels: [(deployment: Int64, rid: Int64, label: String)] = []
            var rid: Int64 = 0
            for k in 0..<40 {
                var rows: [String] = []
                for _ in 0..<25 {
                    let x = numbers.next(), z = numbers.next()
                    rid += 1
                    rows.append("{\"x\": \(k >= 20 ? x + 6 : x), \"z\": \(z)}")
                    if rid % 2 == 0 { labels.append((shifted, rid, "\(2 * x + z)")) }
                }
                let r = try HTTPClient.request("POST", server.url + "/v1/models/shift/predict", body: Array("{\"rows\": [\(rows.joined(separator: ","))]}".utf8),
                                               headers: [("Content-Type", "application/json")])
                guard r.status == 200 else { throw SetupFailure("predict answered \(r.status): \(r.text)") }
                if k % 10 == 9 {
                    // A row without z: refused with 422, logged as an error.
                    let bad = try HTTPClient.request("POST", server.url + "/v1/models/shift/predict", body: Array(#"{"rows": [{"x": 1}]}"#.utf8),
                                                     headers: [("Content-Type", "application/json")])
                    guard bad.status == 422 else { throw SetupFailure("a row without z answered \(bad.status)") }
                }
                usleep(4_000)
            }
            let unknown = try HTTPClient.request("POST", server.url + "/v1/models/%3Cscript%3Ealert(1)%3C%2Fscript%3E/predict", body: Array(#"{"rows": []}"#.utf8),
                                                 headers: [("Content-Type", "application/json")])
            guard unknown.status == 404 else { throw SetupFailure("an unknown model answered \(unknown.status)") }
            server.stop()
            try store.storeLabels(labels)

            let quiet = try PredictionServer.start(routes: [Route(model, weight: 1)], configuration: ServeConfiguration(port: 0), store: store)
            plain = try #require(quiet.deployment)
            for _ in 0..<3 {
                _ = try HTTPClient.request("POST", quiet.url + "/v1/models/shift/predict", body: Array(#"{"rows": [{"x": 0.5, "z": -0.5}, {"x": -1, "z": 1}]}"#.utf8),
                                           headers: [("Content-Type", "application/json")])
            }
            quiet.stop()
            ui = try UIServer.start(store: store, configuration: UIConfiguration(host: "127.0.0.1", port: 0))
        }

        func get(_ path: String) throws -> HTTPClient.Reply { try HTTPClient.request("GET", ui.url + path) }
        func json(_ path: String) throws -> JSON { try JSONParser.parse(try get(path + "?format=json").text) }

        nonisolated(unsafe) static var made: Result<Fixture, any Error>?
        static let lock = NSLock()
        static func shared() async throws -> Fixture {
            final class Box: @unchecked Sendable { var value: Fixture? }
            let box = Box()
            try await onOwnThread {
                lock.lock(); defer { lock.unlock() }
                if made == nil { made = Result { try Fixture() } }
                box.value = try made?.get()
            }
            guard let v = box.value else { throw SetupFailure("the deployment fixture was not made") }
            return v
        }
    }

    let f: Fixture
    init() async throws { f = try await Fixture.shared() }

    /// The values of a JSON array of numbers (null: NaN).
    func series(_ v: JSON?) -> [Double] {
        guard case .array(let items)? = v else { return [] }
        return items.map { $0.double ?? .nan }
    }

    /// Spans holding only unshifted rows and only shifted ones: the requests over time are
    /// 20 plain then 20 shifted, so the first and last third of the non-empty spans.
    func halves(_ values: [Double], rows: [Double]) -> (early: [Double], late: [Double]) {
        let used = rows.indices.filter { rows[$0] > 0 && !values[$0].isNaN }
        let third = used.count / 3
        return (used.prefix(third).map { values[$0] }, used.suffix(third).map { values[$0] })
    }

    func monitoring(_ d: JSON) -> JSON? {
        guard case .array(let versions)? = d["monitoring"] else { return nil }
        return versions.first
    }

    @Test func driftRisesWhereInputsShift() async throws { try await onOwnThread { [f] in
        let d = try f.json("/deployments/\(f.shifted)")
        let m = try #require(monitoring(d))
        #expect(m["version"] == .string("shift@1"))
        guard case .array(let features)? = m["drift"] else { Issue.record("no drift: \(m)"); return }
        let x = try #require(features.first { $0["feature"] == .string("x") })
        #expect(x["method"] == .string("ks"))
        // x drifted most, so it comes first.
        #expect(features.first?["feature"] == .string("x"))
        let (early, late) = halves(series(x["scores"]), rows: series(m["rows"]))
        #expect(!early.isEmpty && !late.isEmpty)
        // p-values: drift makes them small.
        #expect(late.allSatisfy { $0 < 0.001 }, "late x p-values \(late)")
        #expect(early.reduce(0, +) / Double(early.count) > 0.05, "early x p-values \(early)")
        let z = try #require(features.first { $0["feature"] == .string("z") })
        let zLate = halves(series(z["scores"]), rows: series(m["rows"])).late
        #expect(zLate.reduce(0, +) / Double(zLate.count) > 0.01, "z did not shift: \(zLate)")
        #expect(d["sample_rows"]?.double == 1000)
        let page = try f.get("/deployments/\(f.shifted)").text
        #expect(page.contains("drift p-value"))
        #expect(page.contains("at most 1000 rows per span"))
    } }

    @Test func anomalyShareRisesWithOutliers() async throws { try await onOwnThread { [f] in
        let m = try #require(monitoring(try f.json("/deployments/\(f.shifted)")))
        let (early, late) = halves(series(m["anomaly_share"]), rows: series(m["rows"]))
        let mean = { (xs: [Double]) in xs.reduce(0, +) / Double(max(xs.count, 1)) }
        #expect(!early.isEmpty && mean(late) > mean(early) + 0.3, "early \(early), late \(late)")
        #expect(try f.get("/deployments/\(f.shifted)").text.contains("anomalous rows (share)"))
    } }

    @Test func liveQualityOnlyWhereLabelsWereFedBack() async throws { try await onOwnThread { [f] in
        let m = try #require(monitoring(try f.json("/deployments/\(f.shifted)")))
        #expect(series(m["labeled"]).reduce(0, +) == 500)
        let rmse = series(m["live_quality"]?["rmse"])
        let (early, late) = halves(rmse, rows: series(m["labeled"]))
        #expect(!early.isEmpty && early.allSatisfy { $0 < 1 }, "early rmse \(early)")
        #expect(late.allSatisfy { $0 > 8 }, "late rmse \(late)")
        #expect(try f.get("/deployments/\(f.shifted)").text.contains("live rmse"))

        let quiet = try #require(monitoring(try f.json("/deployments/\(f.plain)")))
        #expect(quiet["live_quality"] == .object([]))
        #expect(series(quiet["labeled"]).allSatisfy { $0 == 0 })
        let page = try f.get("/deployments/\(f.plain)").text
        #expect(page.contains("no labels fed back") && !page.contains("live rmse"))
    } }

    @Test func refusedRequestsAreCountedOverTime() async throws { try await onOwnThread { [f] in
        let d = try f.json("/deployments/\(f.shifted)")
        #expect(d["requests"]?.double == 1000)
        #expect(d["errors"]?.double == 5)
        guard case .array(let buckets)? = d["over_time"] else { Issue.record("no over_time"); return }
        #expect(buckets.compactMap { $0["errors"]?.double }.reduce(0, +) == 5)
        #expect(buckets.compactMap { $0["requests"]?.double }.reduce(0, +) == 1000)
        #expect(d["errors_by_status"] == .object([("422", .number(4)), ("404", .number(1))]))
        guard case .array(let latest)? = d["latest_errors"] else { Issue.record("no latest_errors"); return }
        #expect(latest.count == 5)
        #expect(latest.filter { $0["code"] == .string("schema_mismatch") && $0["model"] == .string("shift@1") }.count == 4)
        // Newest first.
        #expect(latest.first?["status"]?.double == 404)
        #expect(latest.last?["route"] == .string("/v1/models/shift/predict"))
        #expect(try f.store.requestErrors(deployment: f.shifted).count == 5)
        #expect(try f.json("/deployments/\(f.plain)")["errors"]?.double == 0)
        let page = try f.get("/deployments/\(f.shifted)").text
        #expect(page.contains("<h2>Refused requests</h2>") && page.contains("refused"))
    } }

    @Test func hostileStringsStayEscaped() async throws { try await onOwnThread { [f] in
        let page = try f.get("/deployments/\(f.shifted)").text
        // The unknown model's name is in the 404's reason, as sent.
        let latest = try f.json("/deployments/\(f.shifted)")["latest_errors"]
        guard case .array(let rows)? = latest else { Issue.record("no latest_errors"); return }
        #expect(rows.contains { if case .string(let r)? = $0["reason"] { r.contains(Fixture.hostile) } else { false } })
        #expect(!page.contains(Fixture.hostile))
        #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    } }
}

/// A run's model artifact shows what the model is, read from its file.
@Suite(.serialized) struct ModelSummaryPageTests {
    let ui: UIFixture
    init() async throws { ui = try await UIFixture.sharedOffPool() }

    @Test func modelArtifactListsItsFeatures() async throws { try await onOwnThread { [ui] in
        let runs = try ui.json("/experiments/models")
        let id = try #require(numbers(runs["runs"], ["id"]).first)
        let run = try ui.json("/runs/\(Int(id))")
        guard case .array(let artifacts)? = run["artifacts"], let model = artifacts.first(where: { $0["kind"] == .string("model") }) else {
            Issue.record("no model artifact: \(run)"); return
        }
        let summary = try #require(model["summary"])
        #expect(summary["kind"] == .string("ridge") && summary["task"] == .string("regression"))
        #expect(summary["target"] == .string("progression"))
        #expect(summary["training_rows"]?.double == 442 && summary["reference_rows"]?.double == 442)
        guard case .array(let features)? = summary["features"] else { Issue.record("no features: \(summary)"); return }
        let names = features.compactMap { if case .string(let n)? = $0["name"] { n } else { nil } }
        #expect(names.contains("bmi") && !names.contains("progression"))
        #expect(summary["hyperparameters"]?["alpha"].flatMap { if case .string(let v) = $0 { Double(v) } else { nil } } == 1)
        let page = try ui.get("/runs/\(Int(id))").text
        for n in names { #expect(page.contains("<td>\(n)</td>"), "\(n)") }
        #expect(page.contains("<code>ridge(alpha=1") && page.contains("<th>training rows</th><td>442</td>"))
        #expect(!page.contains("a fitted model in mlsh's model format"))
    } }
}
