import Foundation
import MLShCommon
import MLShEngine
import MLShModels
import MLShStore
import Testing
import TestSupport
@testable import MLShServe

/// Request ids on both prediction routes and labels fed back for them
/// (`POST /v1/feedback`), on a real socket with a store.
@Suite struct FeedbackTests {
    static func post(_ url: String, _ body: String) throws -> (Int, JSON?, String?) {
        let r = try HTTPClient.request("POST", url, body: Array(body.utf8), headers: [("Content-Type", "application/json")])
        return (r.status, try? JSONParser.parse(r.text), r.header("X-MLSH-Request-Ids"))
    }

    @Test func everyAnsweredRowHasAnIdAndLabelsComeBackForThem() async throws {
        try await ServerSocketTests.offPool {
            let store = try Store(folder: temporaryFolder("feedback"))
            let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)],
                                                    configuration: ServeConfiguration(port: 0), store: store)
            defer { server.stop() }
            let d = try #require(server.deployment)
            // mlsh's route: one id per row, in the body and the header.
            let (s1, b1, h1) = try Self.post(server.url + "/v1/models/diabetes/predict", #"{"rows": [\#(Fixtures.row), \#(Fixtures.row)]}"#)
            #expect(s1 == 200 && b1?["ids"] == .array([.string("\(d)-1"), .string("\(d)-2")]))
            #expect(h1 == "\(d)-1..\(d)-2")
            // MLflow's body has no place for them: the header names them.
            let (s2, b2, h2) = try Self.post(server.url + "/invocations", #"{"dataframe_records": [\#(Fixtures.row)]}"#)
            #expect(s2 == 200 && b2?["ids"] == nil && h2 == "\(d)-3")

            // Labels: known ids stored (the last of a repeated one), the rest counted row by row.
            let (s3, b3, _) = try Self.post(server.url + "/v1/feedback", """
                {"labels": [{"id": "\(d)-1", "label": 150}, {"id": "\(d)-3", "label": 99.5}, {"id": "\(d)-1", "label": 151},
                            {"id": "\(d)-4", "label": 1}, {"id": "77-1", "label": 1}, {"id": "x", "label": 1},
                            {"id": "\(d)-2", "label": [1]}, {"id": "\(d)-2"}, 5]}
                """)
            #expect(s3 == 200)
            #expect(b3?["accepted"] == JSON(Int64(2)) && b3?["duplicates"] == JSON(Int64(1)))
            #expect(b3?["unknown"] == .array([.string("\(d)-4"), .string("77-1")]))
            guard case .array(let invalid)? = b3?["invalid"] else { Issue.record("no invalid list"); return }
            #expect(invalid.map { $0["index"] } == [JSON(Int64(5)), JSON(Int64(6)), JSON(Int64(7)), JSON(Int64(8))])
            server.service.monitor.flush()
            let labeled = try store.requests(.deployment(d), labeled: true)
            #expect(labeled.map(\.id) == ["\(d)-1", "\(d)-3"])
            #expect(labeled.map(\.label) == ["151", "99.5"])
            #expect(try store.requests(.deployment(d)).map(\.id) == ["\(d)-1", "\(d)-2", "\(d)-3"])

            // Live quality of the version on its labeled rows, in the status and the metrics.
            let predictions = try store.requests(.deployment(d)).map { Double($0.prediction) ?? .nan }
            let rmse = ((pow(predictions[0] - 151, 2) + pow(predictions[2] - 99.5, 2)) / 2).squareRoot()
            let status = try JSONParser.parse(try HTTPClient.request("GET", server.url + "/v1/status").text)
            let quality = status["quality"]?["diabetes@1"]
            #expect(quality?["labeled"] == .number(2))
            #expect(abs((quality?["rmse"]?.double ?? .nan) - rmse) < 1e-9, "\(String(describing: quality))")
            let metrics = try HTTPClient.request("GET", server.url + "/metrics").text
            #expect(metrics.contains(#"mlsh_labeled_rows{model="diabetes@1"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"mlsh_live_quality{model="diabetes@1",metric="rmse"}"#))
            // The anomaly share of the recent rows (three copies of one training row: none flagged).
            #expect(status["anomaly_share"]?["diabetes@1"] == .number(0))
            #expect(metrics.contains(#"mlsh_anomaly_share{model="diabetes@1"} 0"#), "\(metrics)")

            // A body that is not the feedback form is refused whole.
            #expect(try Self.post(server.url + "/v1/feedback", #"{"rows": []}"#).0 == 400)
            #expect(try Self.post(server.url + "/v1/feedback", "not json").0 == 400)
        }
    }

    /// A two-class classifier's positive-class probability is logged with each row, so
    /// its live quality has auc beside accuracy and f1.
    @Test func aTwoClassClassifiersLiveQualityHasAUC() async throws {
        let cancer = try Fixtures.load("breast_cancer")
        let m = try fit(PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec())),
                        on: cancer, target: "diagnosis", features: nil)
        let served = ServedModel(name: "cancer", version: 1, model: m)
        let rows = cancer.take(Array(0..<80))
        let features = rows.names.filter { $0 != "diagnosis" }
        try await ServerSocketTests.offPool {
            let store = try Store(folder: temporaryFolder("auc"))
            let server = try PredictionServer.start(routes: [Route(served, weight: 1)], configuration: ServeConfiguration(port: 0), store: store)
            defer { server.stop() }
            var body = JSONWriter()
            body.raw(#"{"rows":["#)
            for r in 0..<rows.rowCount {
                if r > 0 { body.raw(",") }
                body.write(.object(features.compactMap { f in rows.index(of: f).map { (f, JSON.number((try? rows.columns[$0].doubles()[r]) ?? .nan)) } }))
            }
            body.raw("]}")
            let (s, b, _) = try Self.post(server.url + "/v1/models/cancer/predict", String(decoding: body.bytes, as: UTF8.self))
            #expect(s == 200)
            guard case .array(let ids)? = b?["ids"], case .array(let probabilities)? = b?["probabilities"],
                  let truth = rows.index(of: "diagnosis") else { Issue.record("no ids or probabilities"); return }
            guard case .string(let codes, let names) = rows.columns[truth].storage else { Issue.record("diagnosis is not text"); return }
            let entries: [JSON] = zip(ids, codes).map { id, code in .object([("id", id), ("label", .string(names[Int(code)]))]) }
            #expect(try Self.post(server.url + "/v1/feedback", JSONWriter.text(.object([("labels", .array(entries))]))).0 == 200)
            let positive = m.classes[1]
            let expected = try MetricFunctions.auc(actual: rows.columns[truth],
                                                   score: Column(floats: probabilities.map { $0[positive]?.double ?? .nan }), positive: positive)
            AlertTests.waitFor(10) { server.service.status(running: true)["quality"]?["cancer@1"]?["auc"] != nil }
            let quality = server.service.status(running: true)["quality"]?["cancer@1"]
            #expect(quality?["labeled"] == .number(80))
            #expect(abs((quality?["auc"]?.double ?? .nan) - expected) < 1e-9, "\(String(describing: quality))")
            #expect(expected > 0.9)
        }
    }

    @Test func anOutlierDetectorAnswersItsFlagsAndScores() async throws {
        let features = Fixtures.diabetes.names.filter { $0 != "progression" }
        let m = try fit(PipelineSpec(try ModelSpec.make(kind: "isolation_forest", settings: [:])), on: Fixtures.diabetes,
                        target: nil, features: features)
        let served = ServedModel(name: "odd", version: 1, model: m)
        let expected = try m.predictions(Fixtures.diabetes.take([0]))
        try await ServerSocketTests.offPool {
            let server = try PredictionServer.start(routes: [Route(served, weight: 1)], configuration: ServeConfiguration(port: 0), store: nil)
            defer { server.stop() }
            let (s, b, _) = try Self.post(server.url + "/v1/models/odd/predict", #"{"rows": [\#(Fixtures.row)]}"#)
            #expect(s == 200)
            guard case .bool(let flag, _)? = expected.first(where: { $0.name == "prediction" })?.column.storage,
                  case .float(let score)? = expected.first(where: { $0.name == "score" })?.column.storage else {
                Issue.record("no prediction or score"); return
            }
            #expect(b?["predictions"] == .array([.bool(flag[0])]))
            #expect(b?["scores"] == .array([.number(score[0])]))
        }
    }

    @Test func withoutAStoreFeedbackIsUnavailableButIdsAreAnswered() async throws {
        try await ServerSocketTests.offPool {
            let server = try PredictionServer.start(routes: [Route(Fixtures.ridge, weight: 1)],
                                                    configuration: ServeConfiguration(port: 0), store: nil)
            defer { server.stop() }
            let (s, b, h) = try Self.post(server.url + "/v1/models/diabetes/predict", #"{"rows": [\#(Fixtures.row)]}"#)
            #expect(s == 200 && b?["ids"] == .array([.string("local-1")]) && h == "local-1")
            #expect(try Self.post(server.url + "/v1/feedback", #"{"labels": []}"#).0 == 503)
        }
    }
}
