import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import MLShCommon
import MLShEngine
import MLShModels
import MLShStore
import Testing
@testable import MLShServe

/// Models fitted once on the bundled data for every server test.
enum Fixtures {
    static let dataDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data")

    static func load(_ name: String) throws -> Table {
        try CSV.read(path: dataDirectory.appendingPathComponent("\(name).csv").path)
    }

    static let diabetes: Table = { (try? load("diabetes")) ?? (try! Table(names: [], columns: [])) }()
    static let iris: Table = { (try? load("iris")) ?? (try! Table(names: [], columns: [])) }()

    static let ridge: ServedModel = {
        let m = try! fit(PipelineSpec(.ridge(RidgeSpec(alpha: 1))), on: diabetes, target: "progression", features: nil)
        return ServedModel(name: "diabetes", version: 1, model: m)
    }()
    static let ridge2: ServedModel = {
        let m = try! fit(PipelineSpec(.ridge(RidgeSpec(alpha: 10))), on: diabetes, target: "progression", features: nil)
        return ServedModel(name: "diabetes", version: 2, model: m)
    }()
    static let logistic: ServedModel = {
        let m = try! fit(PipelineSpec(steps: [.standardize(StandardizeSpec())], model: .logistic(LogisticSpec())),
                         on: iris, target: "species", features: nil)
        return ServedModel(name: "iris", version: 3, model: m)
    }()

    /// The first diabetes row as a JSON object body member.
    static let row = #"{"age": 59, "sex": 2, "bmi": 32.1, "bp": 101, "s1": 157, "s2": 93.2, "s3": 38, "s4": 4, "s5": 4.8598, "s6": 87}"#

    static func service(_ routes: [Route], shadow: ServedModel? = nil, token: String? = nil,
                        bodyLimit: Int = 10 * 1024 * 1024, store: Store? = nil, deployment: Int64? = nil) -> PredictionService {
        var config = ServeConfiguration(port: 0, token: token)
        config.bodyLimit = bodyLimit
        return PredictionService(routes: routes, shadow: shadow, configuration: config,
                                 monitor: RequestMonitor(store: store, deployment: deployment))
    }

    static func app(_ service: PredictionService) -> some ApplicationProtocol {
        Application(responder: service, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

func json(_ buffer: ByteBuffer) throws -> JSON {
    try JSONParser.parse(String(buffer: buffer))
}

func post(_ client: some TestClientProtocol, _ uri: String, _ body: String, type: String = "application/json",
          headers: HTTPFields = [:]) async throws -> (Int, JSON?, String) {
    var h = headers
    h[.contentType] = type
    return try await client.execute(uri: uri, method: .post, headers: h, body: ByteBuffer(string: body)) { r in
        (Int(r.status.code), try? json(r.body), String(buffer: r.body))
    }
}

@Suite struct RouteTests {
    let expected: Double = {
        (try? Fixtures.ridge.model.predict(Fixtures.diabetes.take([0])).column("prediction").doubles()[0]) ?? .nan
    }()

    func prediction(_ j: JSON?) -> Double? {
        guard case .array(let p)? = j?["predictions"], case .number(let d)? = p.first else { return nil }
        return d
    }

    @Test func predictRouteAnswersWithTheModelAndItsPrediction() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let (status, body, _) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(Fixtures.row)]}"#)
            #expect(status == 200)
            #expect(body?["model"] == .string("diabetes@1"))
            let p = try #require(prediction(body))
            #expect(abs(p - expected) < 1e-9)
            // The version's label, plain and percent-encoded, names the same model.
            for path in ["/v1/models/diabetes@1/predict", "/v1/models/diabetes%401/predict", "/v1/models/%64iabetes/predict"] {
                let (s, b, _) = try await post(client, path, #"{"rows": [\#(Fixtures.row)]}"#)
                #expect(s == 200 && b?["model"] == .string("diabetes@1"), "\(path)")
            }
            #expect(try await post(client, "/v1/models/diabetes%402/predict", #"{"rows": [\#(Fixtures.row)]}"#).0 == 404)
        }
    }

    @Test func classifiersAddProbabilities() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.logistic, weight: 1)])).test(.router) { client in
            let row = #"{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}"#
            let (status, body, _) = try await post(client, "/v1/models/iris/predict", #"{"rows": [\#(row), \#(row)]}"#)
            #expect(status == 200)
            #expect(body?["predictions"] == .array([.string("setosa"), .string("setosa")]))
            guard case .array(let probs)? = body?["probabilities"], case .object(let first)? = probs.first else {
                Issue.record("no probabilities"); return
            }
            #expect(probs.count == 2)
            #expect(first.map(\.0) == ["setosa", "versicolor", "virginica"])
            let total = first.reduce(0.0) { s, m in if case .number(let d) = m.1 { s + d } else { s } }
            #expect(abs(total - 1) < 1e-9)
        }
    }

    @Test func invocationsTakesEveryMLflowForm() async throws {
        let cols = #"["age","sex","bmi","bp","s1","s2","s3","s4","s5","s6"]"#
        let values = "[59,2,32.1,101,157,93.2,38,4,4.8598,87]"
        let bodies = [
            #"{"dataframe_split": {"columns": \#(cols), "data": [\#(values)]}}"#,
            #"{"dataframe_records": [\#(Fixtures.row)]}"#,
            #"{"instances": [\#(Fixtures.row)]}"#,
            #"{"inputs": [\#(values)]}"#,
            #"{"inputs": {"age": [59], "sex": [2], "bmi": [32.1], "bp": [101], "s1": [157], "s2": [93.2], "s3": [38], "s4": [4], "s5": [4.8598], "s6": [87]}}"#,
        ]
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            for body in bodies {
                let (status, j, text) = try await post(client, "/invocations", body)
                #expect(status == 200, "\(body) → \(text)")
                #expect(j?["model"] == nil)
                let p = try #require(prediction(j))
                #expect(abs(p - expected) < 1e-9)
            }
            var h = HTTPFields()
            h[.contentType] = "application/json"
            try await client.execute(uri: "/invocations", method: .post, headers: h,
                                     body: ByteBuffer(string: bodies[1])) { r in
                #expect(r.headers[HTTPField.Name("X-MLSH-Model") ?? .server] == "diabetes@1")
            }
            let csv = "age,sex,bmi,bp,s1,s2,s3,s4,s5,s6\n59,2,32.1,101,157,93.2,38,4,4.8598,87\n"
            let (status, j, _) = try await post(client, "/invocations", csv, type: "text/csv")
            #expect(status == 200)
            #expect(abs((prediction(j) ?? .nan) - expected) < 1e-9)
            let (both, _, _) = try await post(client, "/invocations", #"{"instances": [], "inputs": []}"#)
            #expect(both == 400)
            let (none, _, _) = try await post(client, "/invocations", #"{"rows": []}"#)
            #expect(none == 400)
        }
    }

    @Test func healthModelsAndMetrics() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 3), Route(Fixtures.ridge2, weight: 1)])).test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { r in
                #expect(r.status == .ok)
                #expect((try? json(r.body)) == .object([("status", .string("ok")), ("models", .array([.string("diabetes@1"), .string("diabetes@2")]))]))
            }
            try await client.execute(uri: "/v1/models", method: .get) { r in
                let j = try json(r.body)
                guard case .array(let models)? = j["models"] else { Issue.record("no models"); return }
                #expect(models.count == 2)
                #expect(models.first?["weight"] == .number(0.75))
                guard case .array(let inputs)? = models.first?["inputs"] else { Issue.record("no inputs"); return }
                #expect(inputs.first == .object([("name", .string("age")), ("type", .string("int"))]))
                #expect(inputs.count == 10)
            }
            _ = try await post(client, "/v1/models/diabetes@1/predict", #"{"rows": [\#(Fixtures.row)]}"#)
            _ = try await post(client, "/v1/models/diabetes/predict", "{")
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                #expect(r.status == .ok)
                #expect(text.contains(#"mlsh_requests_total{model="diabetes@1",status="200"} 1"#))
                #expect(text.contains(#"status="400"} 1"#))
                #expect(text.contains("mlsh_request_duration_seconds_bucket{model=\"diabetes@1\""))
            }
        }
    }

    @Test func errorsAnswerTheContractsCodesWithAJSONBody() async throws {
        let big = String(repeating: " ", count: 2_000)
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)], bodyLimit: 1_000)).test(.router) { client in
            func code(_ uri: String, _ body: String) async throws -> (Int, String?) {
                let (s, j, _) = try await post(client, uri, body)
                if case .string(let c)? = j?["error"]?["code"] { return (s, c) }
                return (s, nil)
            }
            let route = "/v1/models/diabetes/predict"
            #expect(try await code(route, "{\"rows\": [") == (400, "bad_request"))
            #expect(try await code(route, "[1, 2]") == (400, "bad_request"))
            #expect(try await code(route, #"{"rows": [[1, 2]]}"#) == (400, "bad_request"))
            #expect(try await code(route, #"{"rows": {"age": 1}}"#) == (400, "bad_request"))
            #expect(try await code(route, "{\"rows\": []}" + big) == (413, "payload_too_large"))
            #expect(try await code("/v1/models/nope/predict", #"{"rows": []}"#) == (404, "not_found"))
            #expect(try await code("/nowhere", "{}") == (404, "not_found"))
            try await client.execute(uri: route, method: .get) { r in
                #expect(r.status == .methodNotAllowed)
                #expect(r.headers[.allow] == "POST")
                #expect((try? json(r.body))?["error"]?["code"] == .string("method_not_allowed"))
            }
            try await client.execute(uri: "/health", method: .post) { r in #expect(r.status == .methodNotAllowed) }
            let (s, _, _) = try await post(client, route, #"{"rows": []}"#, type: "text/plain")
            #expect(s == 415)
        }
    }

    @Test func schemaMismatchNamesEveryMissingExtraAndMistypedColumn() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let row = #"{"age": "old", "sex": 2, "bmi": 32.1, "bp": 101, "s1": 157, "s2": 93.2, "s3": 38, "s4": 4, "s5": 4.8598, "colour": "red"}"#
            let (status, j, text) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(row)]}"#)
            #expect(status == 422)
            #expect(j?["error"]?["code"] == .string("schema_mismatch"))
            #expect(j?["error"]?["missing"] == .array([.string("s6")]))
            #expect(j?["error"]?["extra"] == .array([.string("colour")]))
            #expect(text.contains(#"column age expects an integer, got \"old\" in row 0"#))
        }
    }

    @Test func nanAndInfinityLiteralsAreReadAndRefusedByModelsThatCannotTakeThem() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let row = Fixtures.row.replacingOccurrences(of: "32.1", with: "NaN")
            let (status, j, _) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(row)]}"#)
            #expect(status == 422)
            if case .string(let m)? = j?["error"]?["message"] { #expect(m.contains("bmi")) } else { Issue.record("no message") }
            let inf = Fixtures.row.replacingOccurrences(of: "32.1", with: "Infinity")
            let (s2, _, _) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(inf)]}"#)
            #expect(s2 == 422 || s2 == 200)
        }
    }

    @Test func bearerTokenGuardsEveryRouteButHealth() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)], token: "s3cret")).test(.router) { client in
            let body = #"{"rows": [\#(Fixtures.row)]}"#
            let (none, j, _) = try await post(client, "/v1/models/diabetes/predict", body)
            #expect(none == 401)
            #expect(j?["error"]?["code"] == .string("unauthorized"))
            let (wrong, _, _) = try await post(client, "/v1/models/diabetes/predict", body, headers: [.authorization: "Bearer nope"])
            #expect(wrong == 401)
            let (right, _, _) = try await post(client, "/v1/models/diabetes/predict", body, headers: [.authorization: "Bearer s3cret"])
            #expect(right == 200)
            try await client.execute(uri: "/metrics", method: .get) { r in #expect(r.status == .unauthorized) }
            try await client.execute(uri: "/health", method: .get) { r in #expect(r.status == .ok) }
        }
    }

    @Test func aTwelveMegabyteBodyIs413UnderTheDefaultLimit() async throws {
        let body = #"{"rows": ["# + String(repeating: "\(Fixtures.row),", count: 12_000_000 / Fixtures.row.utf8.count) + #"\#(Fixtures.row)]}"#
        #expect(body.utf8.count > 12_000_000)
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let (status, j, _) = try await post(client, "/v1/models/diabetes/predict", body)
            #expect(status == 413)
            #expect(j?["error"]?["code"] == .string("payload_too_large"))
        }
    }

    @Test func moreRowsThanTheLimitIs413BeforeAnyColumnIsBuilt() async throws {
        let body = #"{"rows": ["# + Array(repeating: "{}", count: Inputs.maxRows + 1).joined(separator: ",") + "]}"
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let (status, j, _) = try await post(client, "/v1/models/diabetes/predict", body)
            #expect(status == 413)
            #expect(j?["error"]?["message"] == .string("the request holds 100001 rows; at most 100000 are taken per request"))
        }
    }

    @Test func tenThousandRowsInOneRequest() async throws {
        let rows = Array(repeating: Fixtures.row, count: 10_000).joined(separator: ",")
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 1)])).test(.router) { client in
            let (status, j, _) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(rows)]}"#)
            #expect(status == 200)
            guard case .array(let p)? = j?["predictions"] else { Issue.record("no predictions"); return }
            #expect(p.count == 10_000)
        }
    }

    @Test func metricsExposeDriftOfRecentRequestsFromTheTrainingSample() async throws {
        let service = Fixtures.service([Route(Fixtures.ridge, weight: 1)])
        try await Fixtures.app(service).test(.router) { client in
            // 300 training rows as they were, then with bmi shifted by +15.
            let all = Fixtures.diabetes.take(Array(0..<300))
            let t = try Table(names: Array(all.names.dropLast()), columns: Array(all.columns.dropLast()))
            let rows = RequestMonitor.rowObjects(t).map { row -> String in
                guard let r = row.range(of: #""bmi":"#), let end = row[r.upperBound...].firstIndex(of: ",") else { return row }
                let bmi = Double(row[r.upperBound..<end]) ?? 0
                return row.replacingCharacters(in: r.upperBound..<end, with: String(bmi + 15))
            }
            let (status, _, _) = try await post(client, "/v1/models/diabetes/predict", "{\"rows\": [\(rows.joined(separator: ","))]}")
            #expect(status == 200)
            try await client.execute(uri: "/metrics", method: .get) { r in
                let text = String(buffer: r.body)
                let line = text.split(separator: "\n").first { $0.hasPrefix(#"mlsh_drift_score{model="diabetes@1",feature="bmi""#) }
                let score = line.flatMap { Double($0.split(separator: " ").last ?? "") }
                #expect(score.map { $0 < 1e-6 } == true, "bmi: \(line ?? "missing")")
                let age = text.split(separator: "\n").first { $0.hasPrefix(#"mlsh_drift_score{model="diabetes@1",feature="age""#) }
                #expect(age.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 > 0.05 } == true, "age: \(age ?? "missing")")
            }
            let flagged = service.drift(Fixtures.ridge)?.filter(\.drifted).map(\.feature)
            #expect(flagged == ["bmi"])
        }
    }

    @Test func trafficSplitFollowsTheWeightsOver1000Requests() async throws {
        try await Fixtures.app(Fixtures.service([Route(Fixtures.ridge, weight: 0.9), Route(Fixtures.ridge2, weight: 0.1)])).test(.router) { client in
            var counts: [String: Int] = [:]
            for _ in 0..<1000 {
                let (_, j, _) = try await post(client, "/v1/models/diabetes/predict", #"{"rows": [\#(Fixtures.row)]}"#)
                if case .string(let m)? = j?["model"] { counts[m, default: 0] += 1 }
            }
            #expect(counts.values.reduce(0, +) == 1000)
            // Binomial(1000, 0.1): mean 100, sd 9.5; ±5 sd.
            let second = counts["diabetes@2"] ?? 0
            #expect(second > 52 && second < 148, "diabetes@2 served \(second) of 1000")
        }
    }
}

@Suite struct JSONStringTests {
    func parse(_ bytes: [UInt8]) throws(JSONError) -> JSON {
        try bytes.withUnsafeBytes { raw -> Result<JSON, JSONError> in
            do throws(JSONError) { return .success(try JSONParser.parse(raw)) } catch { return .failure(error) }
        }.get()
    }

    /// ASCII strings take the direct path, others are validated: both read back exactly, and
    /// a byte that is not UTF-8 is an error naming where its string starts, never a
    /// replacement character.
    @Test func stringsAreValidatedUTF8() throws {
        #expect(try parse(Array(#"{"age": "plain", "k\"q": "tab\tend"}"#.utf8)) == .object([("age", .string("plain")), ("k\"q", .string("tab\tend"))]))
        #expect(try parse(Array(#"["élan", "日本", "😀"]"#.utf8)) == .array([.string("élan"), .string("日本"), .string("😀")]))
        for bad: [UInt8] in [[0xff], [0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0x61, 0x80]] {
            let text = Array(#"{"a": ""#.utf8) + bad + Array(#""}"#.utf8)
            #expect(throws: JSONError.self) { try parse(text) }
            do { _ = try parse(text) } catch { #expect(error.reason == "invalid UTF-8 in a string" && error.offset == 7, "\(bad): \(error)") }
        }
    }
}

@Suite struct InputColumnTests {
    let schema = InputSchema([("f", .float), ("i", .int), ("b", .bool), ("s", .string)])

    func table(_ body: String) throws(ServeError) -> Table {
        guard let json = try? JSONParser.parse(body) else { throw ServeError(400, "bad_request", "unparsable test body") }
        return try Inputs.rows(json, schema: schema)
    }

    /// Cells go straight into typed columns: absent keys and nulls are missing values, a key
    /// given twice in a row counts as its last value, and the first misfit cell is reported.
    @Test func recordsFillTypedColumns() throws {
        let t = try table(#"{"rows": [{"f": 1.5, "i": 2, "b": true, "s": "x"}, {"f": null, "i": null, "s": null}, {"i": "no", "i": 7, "b": false}]}"#)
        guard case .float(let f) = t.columns[0].storage, case .int(let i, let iv) = t.columns[1].storage,
              case .bool(let b, let bv) = t.columns[2].storage, case .string(let codes, let dict) = t.columns[3].storage else {
            Issue.record("column types: \(t.columns.map(\.dtype))"); return
        }
        #expect(f[0] == 1.5 && f[1].isNaN && f[2].isNaN)
        #expect(i == [2, 0, 7] && iv == [true, false, true])
        #expect(b == [true, false, false] && bv == [true, false, true])
        #expect(codes.map { $0 >= 0 ? dict[Int($0)] : nil } == ["x", nil, nil])
        // Every row present: no validity mask.
        let full = try table(#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x"}]}"#)
        guard case .int(_, let mask) = full.columns[1].storage else { Issue.record("i is \(full.columns[1].dtype)"); return }
        #expect(mask == nil)
    }

    @Test func theFirstMisfitCellOfEachColumnIsNamed() {
        #expect(throws: ServeError.self) { try table(#"{"rows": [{"i": 1.5}]}"#) }
        do {
            _ = try table(#"{"rows": [{"f": 1}, {"f": "a", "i": 2.5}, {"f": "b", "i": 1, "i": 2.5}, {"b": 1, "b": true}]}"#)
            Issue.record("no error")
        } catch {
            #expect(error.status == 422)
            #expect(error.message.contains("column f expects a number, got \"a\" in row 1"), "\(error.message)")
            #expect(error.message.contains("column i expects an integer, got 2.5 in row 1"), "\(error.message)")
            #expect(!error.message.contains("column b"), "\(error.message)")
        }
    }
}

@Suite struct JSONWriterTests {
    func text(_ write: (inout JSONWriter) -> Void) -> String {
        var w = JSONWriter()
        write(&w)
        return String(decoding: w.bytes, as: UTF8.self)
    }

    /// Whole numbers without `.0`, digits written in place; others in their shortest form.
    @Test func writesNumbers() {
        let cases: [(Double, String)] = [(0, "0"), (-0.0, "0"), (7, "7"), (-42, "-42"), (101, "101"),
                                         (999_999_999_999_999, "999999999999999"), (1e15, "1000000000000000.0"),
                                         (32.1, "32.1"), (4.8598, "4.8598"), (-0.5, "-0.5"), (1e-7, "1e-07"),
                                         (.nan, "null"), (.infinity, "null")]
        for (d, expected) in cases { #expect(text { $0.number(d) } == expected, "\(d)") }
        #expect(text { $0.integer(.min) } == "-9223372036854775808")
        #expect(text { $0.integer(.max) } == "9223372036854775807")
        #expect(text { $0.integer(-1) } == "-1")
        for d in [0.1, 2.0 / 3, 123.456e-200, -9.87654321e300] {
            #expect(Double(text { $0.number(d) }) == d)
        }
    }

    @Test func writesRawAndStrings() {
        let built = "built-\(Int.random(in: 10_000_000...99_999_999))-at-run-time"
        #expect(text { $0.raw("{"); $0.raw(built); $0.raw("}") } == "{" + built + "}")
        #expect(text { $0.string("a\"b\\c\n\u{1}é") } == #""a\"b\\c\n\u0001é""#)
    }
}
