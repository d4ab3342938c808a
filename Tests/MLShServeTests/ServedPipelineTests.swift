import Foundation
import MLShEngine
import MLShModels
import Testing
@testable import MLShServe

/// What the server answers for the newer pipeline parts, over a real socket on both routes:
/// a bool target's predictions are JSON booleans, a `features` step is computed from the raw
/// inputs, and `onehot(unknown="error")` refuses an unseen category with a 422.
@Suite(.serialized) struct ServedPipelineTests {
    static func table() throws -> Table {
        let x = (0..<30).map { Double($0) }
        return try Table(names: ["city", "x", "y", "flag"], columns: [
            Column(strings: x.map { Int($0) % 2 == 0 ? "Oslo" : "Lima" }), Column(floats: x),
            Column(floats: x.map { 2 * $0 * $0 + (Int($0) % 2 == 0 ? 5 : 0) }), Column(bools: x.map { $0 >= 15 }),
        ])
    }

    @Test func boolFeaturesAndUnknownCategories() async throws {
        try await ServerSocketTests.offPool { try Self.boolFeaturesAndUnknownCategories() }
    }

    static func boolFeaturesAndUnknownCategories() throws {
        let t = try table()
        let classifier = try fit(PipelineSpec(.tree(TreeSpec())), on: t, target: "flag", features: ["x"])
        let features = FeaturesSpec(names: ["x2"], exprs: [.call("pow", [.column("x"), .int(2)])])
        let pipeline = PipelineSpec(steps: [.features(features), .onehot(OneHotSpec(columns: ["city"], unknown: "error"))],
                                    model: .linear(LinearSpec()))
        let regressor = try fit(pipeline, on: t, target: "y", features: ["city", "x2"])
        #expect(regressor.features.map(\.name) == ["city", "x"])

        let bools = try PredictionServer.start(routes: [Route(ServedModel(name: "flags", version: 1, model: classifier), weight: 1)],
                                               configuration: ServeConfiguration(port: 0), store: nil)
        defer { bools.stop() }
        let rows = #"[{"x": 3}, {"x": 20}]"#
        let mlsh = try HTTPClient.request("POST", bools.url + "/v1/models/flags/predict", body: Array(#"{"rows": \#(rows)}"#.utf8))
        #expect(mlsh.status == 200 && mlsh.text.hasPrefix(#"{"model":"flags@1","predictions":[false,true],"probabilities":"#), "\(mlsh.text)")
        let mlflow = try HTTPClient.request("POST", bools.url + "/invocations", body: Array(#"{"dataframe_records": \#(rows)}"#.utf8))
        #expect(mlflow.text == #"{"predictions":[false,true]}"#)

        let served = try PredictionServer.start(routes: [Route(ServedModel(name: "cities", version: 2, model: regressor), weight: 1)],
                                                configuration: ServeConfiguration(port: 0), store: nil)
        defer { served.stop() }
        // Raw inputs in; the answer is the model's own prediction from them (x2 computed by the server).
        let raw = try Table(names: ["city", "x"], columns: [Column(strings: ["Oslo", "Lima"]), Column(floats: [4, 7])])
        let local = try regressor.predict(raw)
        guard case .float(let expected) = try local.column("prediction").storage else { Issue.record("not floats"); return }
        let ok = try HTTPClient.request("POST", served.url + "/invocations",
                                        body: Array(#"{"dataframe_split": {"columns": ["city", "x"], "data": [["Oslo", 4], ["Lima", 7]]}}"#.utf8))
        #expect(ok.text == #"{"predictions":[\#(expected[0]),\#(expected[1])]}"#, "\(ok.text)")
        #expect(abs(expected[0] - (2 * 16 + 5)) < 1e-6 && abs(expected[1] - 2 * 49) < 1e-6)
        let unseen = try HTTPClient.request("POST", served.url + "/v1/models/cities/predict",
                                            body: Array(#"{"rows": [{"city": "Oslo", "x": 1}, {"city": "Rome", "x": 2}]}"#.utf8))
        #expect(unseen.status == 422)
        #expect(unseen.text == #"{"error":{"code":"invalid_input","message":"column city has category \"Rome\" (row 2), which onehot(unknown=\"error\") did not see in training; known: Lima, Oslo"}}"#)
        // The derived column is not an input: a request sending it instead of x is refused.
        let derived = try HTTPClient.request("POST", served.url + "/v1/models/cities/predict",
                                             body: Array(#"{"rows": [{"city": "Oslo", "x2": 16}]}"#.utf8))
        #expect(derived.status == 422 && derived.text.contains("x2") && derived.text.contains("missing"), "\(derived.text)")
    }
}
