import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShServe
import MLShStore

/// A running (or stopped) server, as `deploy` returns it.
final class DeploymentValue: DomainObject {
    let server: PredictionServer
    init(_ server: PredictionServer) { self.server = server }

    var models: [String] { server.service.routes.map(\.model.label) }
    var typeName: String { "deployment" }
    func render() -> String {
        let routes = server.service.routes
        let total = routes.reduce(0.0) { $0 + $1.weight }
        let serving = routes.map { routes.count > 1 ? "\($0.model.label) (\(formatFloat(($0.weight / total * 1000).rounded() / 10))%)" : $0.model.label }
        var s = "deployment \(server.url) serving " + serving.joined(separator: ", ")
        if let sh = server.service.shadow { s += ", shadow \(sh.label)" }
        return s + (server.isRunning ? "" : " (stopped)")
    }
    var summary: String { "<deployment \(server.url)>" }
    var memberNames: [String] { ["url", "port", "id", "models", "running"] }
    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "url": .string(server.url)
        case "port": .int(Int64(server.port))
        case "id": server.deployment.map { .int($0) } ?? Value.none
        case "models": .list(models.map { .string($0) })
        case "running": .bool(server.isRunning)
        default: nil
        }
    }
    func isEqual(to other: any DomainObject) -> Bool { (other as? DeploymentValue)?.server === server }
}

/// Deployments (§8): `deploy`, `undeploy`, `status`, `requests`, and `send` to talk to a
/// server as a client would. Shares the store session with the store library.
extension StoreLibrary {
    /// The model versions a `deploy` argument names, with their weights.
    static func routes(_ v: Value, _ session: StoreSession, _ function: String) throws(MLShError) -> [Route] {
        switch v {
        case .record(let r):
            var out: [Route] = []
            for (ref, w) in r.pairs {
                guard let weight = w.number else {
                    throw MLShError.type("\(function): the weight of \"\(ref)\" must be a number, got \(w.typeName)")
                }
                out.append(Route(try servedModel(.string(ref), session, function), weight: weight, follows: Route.following(ref)))
            }
            guard !out.isEmpty else { throw MLShError.value("\(function): the traffic split names no model versions") }
            return out
        case .string(let ref):
            return [Route(try servedModel(v, session, function), weight: 1, follows: Route.following(ref))]
        case .object(let mv as ModelVersionValue):
            return [Route(try servedModel(v, session, function), weight: 1, follows: mv.asked.flatMap(Route.following))]
        default:
            return [Route(try servedModel(v, session, function), weight: 1)]
        }
    }

    static func servedModel(_ v: Value, _ session: StoreSession, _ function: String) throws(MLShError) -> ServedModel {
        let record: ModelVersionRecord
        switch v {
        case .object(let mv as ModelVersionValue): record = mv.version
        case .string(let ref):
            let store = try session.existingStore(function)
            record = try storing { () throws(StoreError) in try store.resolve(ref) }
        case .object(is ModelValue):
            throw MLShError.type("\(function) serves registered versions: register(m, \"name\") first, then \(function)(v)")
        default:
            throw MLShError.type("\(function): expected a model version (from register or model), \"name@version\" or a record of weights, got \(v.typeName)")
        }
        let store = try session.store()
        return try storing { () throws(StoreError) in try ServedModel.load(record, from: store) }
    }

    static func deployment(_ a: Arguments, _ name: String) throws(MLShError) -> PredictionServer {
        let v = try a.value(name)
        guard case .object(let d as DeploymentValue) = v else {
            throw MLShError.type("\(a.function): '\(name)' must be a deployment (from deploy), got \(v.typeName)")
        }
        return d.server
    }

    static func serveBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("deploy", ["v", "port=8080", "host=\"127.0.0.1\"", "token=none", "shadow=none"], category: "deployment",
                summary: "Serves a model version over HTTP in the background (a record {\"name@V\": weight, ...} splits traffic; shadow= scores a second version without answering with it).",
                example: "let d = deploy(model(\"diabetes@production\"), port=8080)") { a, _ throws(MLShError) in
            let routes = try routes(try a.value("v"), session, "deploy")
            var shadow: ServedModel?
            if let v = a["shadow"] { shadow = try servedModel(v, session, "deploy") }
            let port = try a.int("port", 8080)
            guard (0...65535).contains(port) else { throw MLShError.value("deploy: port must be between 0 and 65535, got \(port)") }
            var config = ServeConfiguration(host: try a.string("host", "127.0.0.1"), port: port)
            config.version = Runtime.version
            config.executable = Runtime.executable
            if let t = a["token"] {
                guard case .string(let token) = t, !token.isEmpty else { throw MLShError.type("deploy: token must be a non-empty string") }
                config.token = token
            }
            if let warning = config.exposureWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            let store = try session.store()
            let server = try serving { () throws(ServeError) in
                try PredictionServer.start(routes: routes, shadow: shadow, configuration: config, store: store)
            }
            session.deployments.append(server)
            return .object(DeploymentValue(server))
        },
        Builtin("undeploy", ["d"], category: "deployment",
                summary: "Stops a deployment gracefully: requests in flight are answered and the request log is written out.",
                example: "undeploy(d)") { a, _ throws(MLShError) in
            let server = try deployment(a, "d")
            server.stop()
            session.deployments.removeAll { $0 === server }
            return .none
        },
        Builtin("status", ["d", "token=none"], category: "deployment",
                summary: "A deployment's state: url, id, models, request counts, errors, latency p50/p99 (ms), rows logged and dropped, and the features whose recent requests drifted from the training data. d is a deployment, or a model name (\"name\" or \"name@V\") served by another process — `mlsh serve` — that the store records as running, asked over HTTP with token= (default MLSH_TOKEN).",
                example: "status(d).p99_ms") { a, _ throws(MLShError) in
            let v = try a.value("d")
            switch v {
            case .object(let d as DeploymentValue):
                return statusValue(d.server.service.status(running: d.server.isRunning))
            case .string(let target):
                return statusValue(try remote(target, a, session).status)
            default:
                throw MLShError.type("status: expected a deployment (from deploy) or the name of a served model, got \(v.typeName)")
            }
        },
        Builtin("requests", ["d", "shadow=false", "labeled=false", "since=none", "until=none"], category: "deployment",
                summary: "The predictions a deployment (or every deployment of a model name) served, as a table: inputs, prediction, model, latency_ms, at, id; labeled=true keeps the rows a label was fed back for, with a label column; since= and until= (Unix times, as a retraining script's param(\"since\") and param(\"until\")) keep the rows answered from since and before until.",
                example: "requests(d, labeled=true) |> tail(5)") { a, _ throws(MLShError) in
            let filter: RequestFilter
            let v = try a.value("d")
            switch v {
            case .object(let d as DeploymentValue):
                d.server.service.monitor.flush()
                guard let id = d.server.deployment else { throw MLShError(.serve, "requests: this deployment has no store") }
                filter = .deployment(id)
            case .string(let name): filter = .model(name)
            default: throw MLShError.type("requests: expected a deployment or a model name, got \(v.typeName)")
            }
            let store = try session.existingStore("requests")
            let shadow = try a.bool("shadow", false), labeled = try a.bool("labeled", false)
            func time(_ name: String) throws(MLShError) -> Double? {
                guard let v = a[name] else { return nil }
                guard let d = v.number, !d.isNaN else { throw MLShError.type("requests: \(name) must be a Unix time (a number), got \(v.typeName)") }
                return d
            }
            let since = try time("since"), until = try time("until")
            let records = try storing { () throws(StoreError) in
                try store.requests(filter, shadow: shadow, labeled: labeled, since: since, until: until)
            }
            let table = TableValue(try requestsTable(records, labeled: labeled))
            // Inside a run, the requests read are the run's data (a retraining run's, say).
            if let run = session.active.last?.id {
                let of = switch filter { case .deployment(let id): "deployment \(id)"; case .model(let name): name }
                var source = "requests of " + of + (labeled ? ", labeled" : "")
                if let since { source += ", since \(formatTime(since))" }
                if let until { source += ", until \(formatTime(until))" }
                let fingerprint = table.fingerprint
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: fingerprint, kind: "requests", source: source)
                }
            }
            return .object(table)
        },
        Builtin("feedback", ["d", "t"], category: "deployment",
                summary: "Feeds back the true labels of answered rows: t has an id column (as send and requests give them) and a label column. Returns {accepted, unknown, invalid, duplicates}; a label sent again replaces the earlier one.",
                example: "feedback(d, truth |> select($id, $label))") { a, _ throws(MLShError) in
            let v = try a.value("d")
            var issued: [Int64: Int64] = [:]
            switch v {
            case .object(let d as DeploymentValue):
                d.server.service.monitor.flush()
                if let id = d.server.deployment { issued[id] = d.server.service.monitor.issued }
            case .string: break
            default: throw MLShError.type("feedback: expected a deployment or a model name, got \(v.typeName)")
            }
            let t = try a.table("t")
            guard let ids = t.index(of: "id"), let labels = t.index(of: "label") else {
                throw MLShError.value("feedback: the table needs an id column and a label column (it has \(t.names.joined(separator: ", ")))")
            }
            var entries: [JSON] = []
            entries.reserveCapacity(t.rowCount)
            for r in 0..<t.rowCount {
                let id: JSON = t.columns[ids].isMissing(r) ? .null : StoreLibrary.json(t.columns[ids].language(at: r))
                let label: JSON = t.columns[labels].isMissing(r) ? .null : StoreLibrary.json(t.columns[labels].language(at: r))
                entries.append(.object([("id", id), ("label", label)]))
            }
            let store = try session.existingStore("feedback")
            let outcome = try storing { () throws(StoreError) in try Feedback.store(entries, in: store, issued: issued) }
            return languageValue(outcome.json)
        },
        Builtin("send", ["d", "t", "token=none"], category: "deployment",
                summary: "Sends a table's rows to a deployment over HTTP, as a client would, and returns its answers: the rows with prediction, model and id columns. d is a deployment, or a model name served by another process (`mlsh serve`) that the store records as running, with token= (default MLSH_TOKEN).",
                example: "send(d, test |> head(5))") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let v = try a.value("d")
            switch v {
            case .object(let d as DeploymentValue):
                guard let name = d.server.service.routes.first?.model.name else { throw MLShError(.serve, "send: nothing is served") }
                return .object(TableValue(try send(url: d.server.url, name: name, token: d.server.service.configuration.token, t)))
            case .string(let target):
                let (server, _, token) = try remote(target, a, session)
                let name = String(target.split(separator: "@").first ?? Substring(target))
                return .object(TableValue(try send(url: server.url, name: name, token: token, t)))
            default:
                throw MLShError.type("send: expected a deployment (from deploy) or the name of a served model, got \(v.typeName)")
            }
        },
    ] }

    /// The server of a model name (or port, or URL) another process runs: the newest
    /// deployment the store records as running that answers `/v1/status` as itself (older
    /// records may be servers killed without recording their end), its status, and the
    /// token used (`token=`, else `MLSH_TOKEN`).
    static func remote(_ target: String, _ a: Arguments, _ session: StoreSession) throws(MLShError)
        -> (server: RemoteStatus.Target, status: JSON, token: String?) {
        var token = ProcessInfo.processInfo.environment["MLSH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        if let given = a["token"] {
            guard case .string(let s) = given, !s.isEmpty else { throw MLShError.type("\(a.function): token must be a non-empty string") }
            token = s
        }
        let targets = try serving { () throws(ServeError) in
            try RemoteStatus.targets(target) { () throws(StoreError) in
                guard session.exists else { return nil }
                do throws(MLShError) { return try session.store() } catch { throw StoreError(error.message) }
            }
        }
        var firstError: ServeError?
        for server in targets {
            do throws(ServeError) { return (server, try RemoteStatus.fetch(server, token: token), token) } catch { firstError = firstError ?? error }
        }
        throw MLShError(.serve, "\(a.function): " + (firstError?.message ?? "no deployment of \(target) answers"))
    }

    /// Posts the rows to `URL/v1/models/{name}/predict`, one request, and tables the answer.
    static func send(url: String, name: String, token: String?, _ t: Table) throws(MLShError) -> Table {
        var body = JSONWriter(capacity: 16 + 160 * t.rowCount)
        body.raw(#"{"rows":["#)
        for r in 0..<t.rowCount {
            if r > 0 { body.raw(",") }
            RequestMonitor.writeRow(t, r, into: &body)
        }
        body.raw("]}")
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        let reply: HTTPClient.Reply
        do {
            reply = try HTTPClient.request("POST", url + "/v1/models/\(name)/predict", body: body.bytes,
                                           headers: headers)
        } catch { throw MLShError(.serve, "send: \(error.message)") }
        let json: JSON
        do { json = try JSONParser.parse(reply.text) } catch {
            throw MLShError(.serve, "send: the server answered \(reply.status) with a body that is not JSON")
        }
        guard reply.status == 200, case .array(let predictions)? = json["predictions"], case .string(let model)? = json["model"] else {
            var message = reply.text
            if case .object? = json["error"], case .string(let m)? = json["error"]?["message"] { message = m }
            throw MLShError(.serve, "send: the server answered \(reply.status): \(message)")
        }
        let prediction = column(predictions)
        var ids: [String?] = []
        if case .array(let given)? = json["ids"] { ids = given.map { if case .string(let s) = $0 { s } else { nil } } }
        let idName = t.names.contains("id") ? "request_id" : "id"
        return try engine { () throws(EngineError) in
            try Table(names: t.names + ["prediction", "model", idName],
                      columns: t.columns + [prediction, Column(strings: Array(repeating: model, count: predictions.count)),
                                            Column(strings: ids.count == predictions.count ? ids : Array(repeating: nil, count: predictions.count))],
                      label: t.label)
        }
    }

    /// A column from JSON values: numbers as floats (ints when all integral), strings, bools.
    static func column(_ values: [JSON]) -> Column {
        var numbers = true, strings = true, bools = true, integral = true
        for v in values {
            switch v {
            case .null: break
            case .number(let d): strings = false; bools = false; if d != d.rounded() || abs(d) > 9e15 { integral = false }
            case .string: numbers = false; bools = false
            case .bool: numbers = false; strings = false
            default: numbers = false; bools = false
            }
        }
        if numbers && !values.isEmpty {
            if integral && !values.contains(.null) {
                return Column(ints: values.map { if case .number(let d) = $0 { Int64(d) } else { 0 } })
            }
            return Column(floats: values.map { if case .number(let d) = $0 { d } else { .nan } })
        }
        if bools && !values.isEmpty {
            return Column(bools: values.map { $0 == .bool(true) }, validity: values.contains(.null) ? values.map { $0 != .null } : nil)
        }
        return Column(strings: values.map { v -> String? in
            switch v {
            case .null: nil
            case .string(let s): s
            default: strings ? nil : JSONWriter.text(v)
            }
        })
    }

    /// Logged requests as a table: the input columns (first-seen order), then prediction,
    /// model, latency_ms, at, id (`request_id` when an input is named `id`), and with
    /// `labeled` the label fed back (`request_label` when an input is named `label`).
    static func requestsTable(_ records: [RequestRecord], labeled: Bool = false) throws(MLShError) -> Table {
        var names: [String] = [], index: [String: Int] = [:], cells: [[JSON]] = []
        for (r, rec) in records.enumerated() {
            guard case .object(let members)? = try? JSONParser.parse(rec.inputs) else { continue }
            for (k, v) in members {
                let j: Int
                if let i = index[k] { j = i } else {
                    j = names.count; index[k] = j; names.append(k)
                    cells.append([JSON](repeating: .null, count: records.count))
                }
                cells[j][r] = v
            }
        }
        let predictions = records.map { (try? JSONParser.parse($0.prediction)) ?? .null }
        // Inputs that are numbers are floats (a JSON number's being whole says nothing of its type).
        var columns = cells.map { c in
            let numeric = c.contains { if case .number = $0 { true } else { false } }
                && c.allSatisfy { if case .number = $0 { true } else { $0 == .null } }
            return numeric ? Column(floats: c.map { $0.double ?? .nan }) : column(c)
        }
        columns.append(column(predictions))
        columns.append(Column(strings: records.map { "\($0.name)@\($0.version)" }))
        columns.append(Column(floats: records.map(\.latencyMs)))
        columns.append(Column(strings: records.map { formatTime($0.at) }))
        var trailing = ["prediction", "model", "latency_ms", "at", names.contains("id") ? "request_id" : "id"]
        columns.append(Column(strings: records.map(\.id)))
        if labeled {
            trailing.append(names.contains("label") ? "request_label" : "label")
            columns.append(column(records.map { r in r.label.flatMap { try? JSONParser.parse($0) } ?? .null }))
        }
        return try engine { () throws(EngineError) in
            try Table(names: names + trailing, columns: columns, label: "requests")
        }
    }
}

/// A status's JSON as a record: latencies (`_ms`) as floats, other numbers (counts, ids) as ints.
func statusValue(_ json: JSON) -> Value { languageValue(json, floatKey: { $0.hasSuffix("_ms") }) }

/// JSON as a language value: objects as records, whole numbers below 2^53 as ints (floats
/// under a member name `floatKey` accepts), other numbers (larger integers too) as floats.
func languageValue(_ json: JSON, key: String = "", floatKey: (String) -> Bool = { _ in false }) -> Value {
    switch json {
    case .null: return .none
    case .bool(let b): return .bool(b)
    case .string(let s): return .string(s)
    case .number(let d):
        return floatKey(key) || d != d.rounded() || d.magnitude >= 9.007199254740992e15 ? .float(d) : .int(Int64(d))
    case .integer: return .float(json.double ?? .nan)
    case .array(let items): return .list(items.map { languageValue($0, floatKey: floatKey) })
    case .object(let members): return .record(Record(members.map { ($0.0, languageValue($0.1, key: $0.0, floatKey: floatKey)) }))
    }
}
