import Foundation
import HTTPTypes
import Hummingbird
import MLShCommon
import MLShEngine
import MLShMonitor
import NIOCore

/// How a server listens and what it accepts.
public struct ServeConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port.
    public var port = 8080
    /// When set, every route but `/health` needs `Authorization: Bearer <token>`.
    public var token: String?
    /// Bodies over this many bytes are refused with 413.
    public var bodyLimit = 10 * 1024 * 1024
    /// A request whose body has not arrived by then is answered 408 (slow clients).
    public var bodyTimeout: Duration = .seconds(30)
    /// Idle keep-alive connections are closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// What `/version` answers: the mlsh version (MLflow's scoring server answers its own).
    public var version = "unknown"
    /// Seconds between the server's looks at its store (with one): its alerts evaluated,
    /// its aliases followed, its canaries decided, its schedules checked.
    public var watchInterval = 2.0
    /// The `mlsh` executable a server runs retraining attempts with (`mlsh retrain
    /// --attempt`); nil: attempts it triggers are recorded failed, saying so.
    public var executable: String?

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil) {
        self.host = host; self.port = port; self.token = token
    }

    /// The warning for a server others can reach that has no token (anyone who reaches it
    /// may call every route), or nil: bound to a loopback address, or with a token.
    public var exposureWarning: String? {
        guard token == nil else { return nil }
        var v4 = in_addr(), v6 = in6_addr()
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || (inet_pton(AF_INET, bare, &v4) == 1 && UInt32(bigEndian: v4.s_addr) >> 24 == 127)
            || (inet_pton(AF_INET6, bare, &v6) == 1 && withUnsafeBytes(of: &v6) { $0.elementsEqual([UInt8](repeating: 0, count: 15) + [1]) }) {
            return nil
        }
        return "warning: serving on \(host) without a token: anyone who can reach this address can call the server; set one with --token-file or MLSH_TOKEN (token= in deploy)"
    }
}

/// One model version in a deployment, with its share of the traffic.
public struct Route: Sendable {
    public var model: ServedModel
    public var weight: Double
    /// The alias the route follows (`diabetes@production`): when it moves, the server
    /// switches to the version it names. Nil for a version fixed at start.
    public var follows: String?
    public init(_ model: ServedModel, weight: Double, follows: String? = nil) {
        self.model = model; self.weight = weight; self.follows = follows
    }

    /// The alias a route given as `ref` follows: `name@alias` follows it; `name@N`,
    /// `name@latest` and a bare name are resolved once (a new registration does not go
    /// live by itself).
    public static func following(_ ref: String) -> String? {
        guard let at = ref.firstIndex(of: "@") else { return nil }
        let selector = ref[ref.index(after: at)...]
        return selector.isEmpty || selector == "latest" || Int64(selector) != nil ? nil : ref
    }
}

/// The HTTP contract of §8 as a Hummingbird responder: routing, auth, limits, JSON errors,
/// traffic splits and shadows. Holds no connection state; `PredictionServer` runs it.
public struct PredictionService: HTTPResponder, Sendable {
    public typealias Context = BasicRequestContext

    /// The routes with one path, and the method each answers (a GET route answers HEAD too).
    static let fixedRoutes: [String: HTTPRequest.Method] = ["/health": .get, "/ping": .get, "/version": .get, "/metrics": .get,
                                                            "/v1/models": .get, "/v1/status": .get, "/invocations": .post,
                                                            "/v1/feedback": .post]

    public let routes: [Route]
    public let shadow: ServedModel?
    public let configuration: ServeConfiguration
    public let monitor: RequestMonitor
    public let metrics: ServeMetrics
    /// `http://HOST:PORT` as bound, and the deployment's id in the store: what `/v1/status` reports.
    public let url: String
    public let deployment: Int64?
    /// The largest `scoringCostPerRow` of the served versions: whether an input is cheap
    /// enough for the event loop is decided for all of a split's versions alike, so the
    /// split's weights hold on both paths.
    let maxScoringCostPerRow: Int

    public init(routes: [Route], shadow: ServedModel? = nil, configuration: ServeConfiguration,
                monitor: RequestMonitor, metrics: ServeMetrics? = nil, url: String = "", deployment: Int64? = nil) {
        self.routes = routes
        self.url = url
        self.deployment = deployment
        self.shadow = shadow
        self.configuration = configuration
        self.monitor = monitor
        self.metrics = metrics ?? ServeMetrics(routes: routes.map(\.model), shadow: shadow)
        maxScoringCostPerRow = routes.map(\.model.model.scoringCostPerRow).max() ?? 0
    }

    /// Picks a route by weight among those `eligible`.
    func pick<C: Collection<Int>>(_ eligible: C) -> ServedModel? {
        guard let first = eligible.first else { return nil }
        if eligible.count == 1 { return routes[first].model }
        let total = eligible.reduce(0.0) { $0 + routes[$1].weight }
        var x = Double.random(in: 0..<total)
        var last = first
        for i in eligible {
            x -= routes[i].weight
            if x < 0 { return routes[i].model }
            last = i
        }
        return routes[last].model   // rounding left x just past the end
    }

    /// What a request asks for, decided from its head alone (before its body is read).
    enum Target {
        case health, ping, version, metrics, models, status, feedback
        /// A prediction by `model` on MLflow's `/invocations` or on the mlsh route.
        case predict(ServedModel, mlflow: Bool)
    }

    /// Routes a request head from its method, path and `Authorization` header: method,
    /// auth and model choice (a traffic split picks here). `/health` and MLflow's `/ping`
    /// and `/version` need no token (its client sends none).
    func route(_ method: HTTPRequest.Method, _ path: Substring, authorization: String?) throws(ServeError) -> Target {
        let asked = method == .head ? HTTPRequest.Method.get : method   // HEAD answers as GET, without the body
        if let m = PredictionService.fixedRoutes[String(path)] {
            if m != asked { throw methodNotAllowed(String(path)) }
            switch path {
            case "/health": return .health
            case "/ping": return .ping
            case "/version": return .version
            default: break
            }
        }
        try authorize(authorization)
        switch (path, asked) {
        case ("/metrics", .get): return .metrics
        case ("/v1/models", .get): return .models
        case ("/v1/status", .get): return .status
        case ("/v1/feedback", .post): return .feedback
        case ("/invocations", .post):
            guard let model = pick(routes.indices) else { throw ServeError(404, "not_found", "no model is served") }
            return .predict(model, mlflow: true)
        default: break
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 5, parts[0].isEmpty, parts[1] == "v1", parts[2] == "models", parts[4] == "predict" {
            guard asked == .post else { throw methodNotAllowed(String(path), allow: "POST") }
            let raw = String(parts[3])
            let name = raw.contains("%") ? raw.removingPercentEncoding ?? raw : raw
            let eligible = routes.indices.filter { routes[$0].model.name == name || routes[$0].model.label == name }
            guard let model = pick(eligible) else {
                throw ServeError(404, "not_found", "no model named \(name) is served here (serving \(routes.map(\.model.label).joined(separator: ", ")))")
            }
            return .predict(model, mlflow: false)
        }
        throw ServeError(404, "not_found", "no route \(method) \(path)")
    }

    public func respond(to request: Request, context: Context) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let target: Target
        do { target = try route(request.method, Substring(request.uri.path), authorization: request.headers[.authorization]) } catch {
            return Response(failure(error, label: "-", route: request.uri.path))
        }
        switch target {
        case .health:
            return Response(json(200, .object([("status", .string("ok")), ("models", .array(routes.map { .string($0.model.label) }))])))
        case .ping:
            return mlflowText("\n")
        case .version:
            return mlflowText(configuration.version)
        case .status:
            return Response(json(200, status(running: true)))
        case .metrics:
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            // Live quality reads the store: once per scrape, for its gauges and the signals.
            let quality = liveQuality()
            let signals = routes.first.map { ($0.model.name, alertSignals(quality: quality)) }
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(monitor: monitor, quality: quality, signals: signals))))
        case .models:
            return Response(json(200, .object([("models", .array(modelsJSON()))])))
        case .feedback:
            if let refusal = mediaRefusal(type: request.headers[.contentType]?.lowercased() ?? "",
                                          encoding: request.headers[.contentEncoding], mlflow: false) {
                return Response(failure(refusal, label: "-", route: request.uri.path))
            }
            let body: ByteBuffer
            do { body = try await collect(request) } catch { return Response(failure(error, label: "-", route: request.uri.path)) }
            return Response(feedback(body))
        case .predict(let model, let mlflow):
            let refusal = mediaRefusal(type: request.headers[.contentType]?.lowercased() ?? "",
                                       encoding: request.headers[.contentEncoding], mlflow: mlflow)
            // A client waiting for `100 Continue` sends no body: it is answered at once. Other
            // bodies are read first, so closing after the answer does not reset it away.
            if let refusal, request.headers[.expect] != nil { return Response(failure(refusal, label: model.label, route: request.uri.path)) }
            let body: ByteBuffer
            do { body = try await collect(request) } catch { return Response(failure(error, label: model.label, route: request.uri.path)) }
            if let refusal { return Response(failure(refusal, label: model.label, route: request.uri.path)) }
            return Response(predict(model, mlflow: mlflow, contentType: request.headers[.contentType], body: body, start: start))
        }
    }

    /// MLflow's scoring server's answers to `/ping` and `/version`, type included: its
    /// client checks the status and reads the text.
    private func mlflowText(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The answer to a prediction whose whole body has arrived: the predictions, or the
    /// JSON error (counted either way).
    func predict(_ model: ServedModel, mlflow: Bool, contentType: String?, body: ByteBuffer, start: UInt64) -> Reply {
        switch input(model, mlflow: mlflow, contentType: contentType, body: body) {
        case .success(let input): return answer(model, input, mlflow: mlflow, start: start)
        case .failure(let e): return failure(e, label: model.label, route: PredictionService.predictRoute(model, mlflow: mlflow))
        }
    }

    /// Its two steps, apart for the event loop (which checks an input's cost in between):
    /// the input table, then the answer.
    func input(_ model: ServedModel, mlflow: Bool, contentType: String?, body: ByteBuffer) -> Result<Inputs.Ignoring, ServeError> {
        do { return .success(try decode(contentType, body, model, mlflow: mlflow)) } catch { return .failure(error) }
    }

    func answer(_ model: ServedModel, _ input: Inputs.Ignoring, mlflow: Bool, start: UInt64) -> Reply {
        do { return try predict(model, input, mlflow: mlflow, start: start) } catch { return failure(error, label: model.label, route: PredictionService.predictRoute(model, mlflow: mlflow)) }
    }

    /// The route a prediction for `model` came by, as the request log names it.
    static func predictRoute(_ model: ServedModel, mlflow: Bool) -> String {
        mlflow ? "/invocations" : "/v1/models/\(model.name)/predict"
    }

    /// A refusal as its JSON error, counted for the version it was meant for and logged
    /// with the route asked for.
    func failure(_ e: ServeError, label: String, route: String) -> Reply {
        monitor.refused(label, e, route: route)
        metrics.answered(label, status: e.status, seconds: nil)
        var r = json(e.status, e.body)
        if e.status == 401 { r.headers[.wwwAuthenticate] = "Bearer" }
        if e.status == 405, case .string(let allow)? = e.details.first(where: { $0.0 == "allow" })?.1 {
            r.headers[.allow] = allow
        }
        return r
    }

    private func methodNotAllowed(_ path: String, allow: String? = nil) -> ServeError {
        let fixed = PredictionService.fixedRoutes[path] ?? .get
        let allowed = allow ?? (fixed == .get ? "GET, HEAD" : fixed.rawValue)
        return ServeError(405, "method_not_allowed", "\(path) answers \(allowed) only", details: [("allow", .string(allowed))])
    }

    private func authorize(_ authorization: String?) throws(ServeError) {
        guard let token = configuration.token else { return }
        let given = authorization ?? ""
        // `Bearer`, in any case (auth schemes are case-insensitive), then one or more spaces.
        let scheme = given.utf8.prefix(7)
        let bearer = scheme.count == 7 && scheme.elementsEqual("bearer ".utf8) { c, e in (c >= 0x41 && c <= 0x5A ? c | 0x20 : c) == e }
        guard bearer, constantTimeEqual(Array(given.utf8.dropFirst(7).drop { $0 == 0x20 }), Array(token.utf8)) else {
            throw ServeError(401, "unauthorized", given.isEmpty ? "this server needs an Authorization: Bearer token"
                                                                 : "the bearer token is not valid for this server")
        }
    }

    /// Why a prediction with this `Content-Type` (lowercased; empty when not given) and
    /// `Content-Encoding` is refused (415), or nil.
    func mediaRefusal(type: String, encoding: String?, mlflow: Bool) -> ServeError? {
        if let encoding, !encoding.isEmpty, encoding.lowercased() != "identity" {
            return ServeError(415, "unsupported_media_type", "the body is \(encoding)-encoded; send it uncompressed (without Content-Encoding)")
        }
        if type.hasPrefix("text/csv") {
            return mlflow ? nil : ServeError(415, "unsupported_media_type", "this route takes application/json")
        }
        if !type.isEmpty, !type.hasPrefix("application/json") {
            return ServeError(415, "unsupported_media_type", "send application/json\(mlflow ? " or text/csv" : ""), not \(type)")
        }
        return nil
    }

    /// The body, refused when over the limit (a body that never completes is answered 408
    /// by `ConnectionGuard`).
    private func collect(_ request: Request) async throws(ServeError) -> ByteBuffer {
        let limit = configuration.bodyLimit
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw tooLarge()
        }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw tooLarge()
        } catch {
            throw ServeError(400, "bad_request", "cannot read the request body: \(error)")
        }
    }

    private func tooLarge() -> ServeError {
        ServeError(413, "payload_too_large", "the body is over this server's limit of \(configuration.bodyLimit) bytes")
    }

    /// A JSON (or, on /invocations, CSV) body as the model's input table, with the columns
    /// ignored on /invocations.
    private func decode(_ contentType: String?, _ body: ByteBuffer, _ model: ServedModel,
                        mlflow: Bool) throws(ServeError) -> Inputs.Ignoring {
        let type = contentType?.lowercased() ?? ""
        if let e = mediaRefusal(type: type, encoding: nil, mlflow: mlflow) { throw e }
        if type.hasPrefix("text/csv") {
            return try Inputs.csv(Array(buffer: body), schema: model.schema)
        }
        if let t = body.withUnsafeReadableBytes({ Inputs.direct($0, schema: model.schema, mlflow: mlflow) }) { return (t, []) }
        let parsed: JSON
        do {
            parsed = try body.withUnsafeReadableBytes { raw throws(JSONError) in try JSONParser.parse(raw) }
        } catch { throw ServeError(400, "bad_request", error.message) }
        return mlflow ? try Inputs.mlflow(parsed, schema: model.schema) : (try Inputs.rows(parsed, schema: model.schema), [])
    }

    private func predict(_ model: ServedModel, _ given: Inputs.Ignoring, mlflow: Bool, start: UInt64) throws(ServeError) -> Reply {
        let input = given.table
        let answer = try model.answer(input)
        let n = input.rowCount
        let first = monitor.issue(n), prefix = monitor.idPrefix + "-"
        var members: [(String, JSON)] = []
        if !mlflow { members.append(("model", .string(model.label))) }
        members.append(("predictions", .array(answer.predictions)))
        if !mlflow, let p = answer.probabilities { members.append(("probabilities", .array(p))) }
        if !mlflow, let sc = answer.scores { members.append(("scores", .array(sc))) }
        if !mlflow {
            var ids: [JSON] = []
            ids.reserveCapacity(n)
            for k in 0..<Int64(n) { ids.append(.string(prefix + String(first + k))) }
            members.append(("ids", .array(ids)))
        }
        var response = json(200, .object(members))
        // MLflow's answer has no place for them in the body: every prediction names its
        // version here, and its rows' ids (consecutive: `3-17`, or `3-17..3-26`).
        response.headers[modelHeader] = model.label
        if n > 0 {
            response.headers[requestIDsHeader] = n == 1 ? prefix + String(first) : prefix + String(first) + ".." + prefix + String(first + Int64(n) - 1)
        }
        if !given.ignored.isEmpty { response.headers[ignoredHeader] = ignoredHeaderValue(given.ignored) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let at = Date().timeIntervalSince1970
        metrics.answered(model.label, status: 200, seconds: seconds)
        monitor.record(.init(model: model, input: input, predictions: answer.predictions, latencyMs: seconds * 1000,
                             at: at, shadow: false, firstID: first, scores: answer.positive))
        if let shadow, monitor.beginShadow(rows: input.rowCount) {
            let monitor = monitor
            Task.detached(priority: .low) {
                defer { monitor.endShadow() }
                let s0 = DispatchTime.now().uptimeNanoseconds
                guard let a = try? shadow.answer(input) else { return }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - s0) / 1e6
                monitor.record(.init(model: shadow, input: input, predictions: a.predictions, latencyMs: ms, at: at, shadow: true,
                                     firstID: first, scores: a.positive))
            }
        }
        return response
    }

    /// Drift of a served version's recent requests from its training sample.
    public func drift(_ model: ServedModel) -> [DriftScore]? { driftScores(model, monitor: monitor) }

    /// The deployment's state, as `status(d)`, `mlsh status` and `/v1/status` give it: url,
    /// store id, models, request counts, errors (4xx and 5xx answers), latency p50/p99 (ms),
    /// rows logged and dropped, the features whose recent requests drifted, requests by
    /// version, live quality by version (`LiveQuality`, with a store), the share of recent
    /// rows flagged as anomalous by version (`AnomalyDetector`), and the request log's last
    /// write error when there is one.
    public func status(running: Bool) -> JSON {
        let s = monitor.snapshot()
        let errors = s.byStatus.filter { $0.key >= 400 }.values.reduce(0, +)
        var drifted: [JSON] = []
        for r in routes {
            for d in drift(r.model) ?? [] where d.drifted {
                drifted.append(.string(routes.count > 1 ? "\(r.model.label): \(d.feature)" : d.feature))
            }
        }
        var members: [(String, JSON)] = [
            ("url", .string(url)), ("deployment", deployment.map { .number(Double($0)) } ?? .null), ("running", .bool(running)),
            ("models", .array(routes.map { .string($0.model.label) })), ("requests", .number(Double(s.requests))),
            ("errors", .number(Double(errors))), ("p50_ms", .number(s.p50)), ("p99_ms", .number(s.p99)),
            ("logged", .number(Double(s.logged))), ("dropped", .number(Double(s.dropped))), ("drifted", .array(drifted)),
            ("by_model", .object(s.byModel.sorted { $0.key < $1.key }.map { ($0.key, .number(Double($0.value))) })),
        ]
        let quality = liveQuality()
        if !quality.isEmpty { members.append(("quality", .object(quality.map { ($0.0, $0.1.json) }))) }
        let anomalies = routes.compactMap { r in r.model.anomalyShare(monitor).map { (r.model.label, JSON.number($0)) } }
        if !anomalies.isEmpty { members.append(("anomaly_share", .object(anomalies))) }
        if let e = s.lastWriteError { members.append(("log_error", .string(e))) }
        return .object(members)
    }

    private func modelsJSON() -> [JSON] {
        let total = routes.reduce(0.0) { $0 + $1.weight }
        var out: [JSON] = routes.map { r in
            entry(r.model, weight: total > 0 ? r.weight / total : 0, shadow: false)
        }
        if let shadow { out.append(entry(shadow, weight: 0, shadow: true)) }
        return out
    }

    private func entry(_ m: ServedModel, weight: Double, shadow: Bool) -> JSON {
        .object([("name", .string(m.name)), ("version", .number(Double(m.version))), ("model", .string(m.label)),
                 ("weight", .number(weight)), ("shadow", .bool(shadow)), ("kind", .string(m.model.kind)),
                 ("task", .string(m.model.task.rawValue)), ("inputs", m.schemaJSON)])
    }

    func json(_ status: Int, _ value: JSON) -> Reply {
        var w = JSONWriter()
        w.write(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Reply(status: .init(code: status), headers: headers, body: ByteBuffer(bytes: w.bytes))
    }
}

/// A whole answer: written by Hummingbird, or straight from the event loop for small
/// prediction requests (`InlinePredictionHandler`).
struct Reply {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

extension Response {
    init(_ r: Reply) { self.init(status: r.status, headers: r.headers, body: .init(byteBuffer: r.body)) }
}

/// The response header naming the version that answered (`diabetes@4`).
let modelHeader: HTTPField.Name = HTTPField.Name("X-MLSH-Model") ?? .server  // a valid name: never the fallback
/// The response header naming the answered rows' request ids (`3-17`, or `3-17..3-26`).
let requestIDsHeader: HTTPField.Name = HTTPField.Name("X-MLSH-Request-Ids") ?? .server  // a valid name: never the fallback
/// The response header naming the columns `/invocations` ignored (`note,id`).
let ignoredHeader: HTTPField.Name = HTTPField.Name("X-MLSH-Ignored-Columns") ?? .server  // a valid name: never the fallback

/// The value of `X-MLSH-Ignored-Columns`: the names, comma-separated, each
/// percent-encoded outside HTTP's token characters (so `a,b` is `a%2Cb` and `é` is
/// `%C3%A9`), at most about 1 KB: past that the rest are counted (`(+4990 more)`), so
/// no client or proxy refuses the header for its length.
func ignoredHeaderValue(_ names: [String], limit: Int = 1024) -> String {
    var out = ""
    for (k, name) in names.enumerated() {
        var encoded = ""
        for b in name.utf8 {
            let token = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || "!#$&'*+-.^_`|~".utf8.contains(b)
            if token { encoded.unicodeScalars.append(Unicode.Scalar(b)) } else { encoded += "%" + String(format: "%02X", b) }
        }
        if k > 0 && out.utf8.count + encoded.utf8.count + 1 > limit { return out + ",(+\(names.count - k) more)" }
        out += (k > 0 ? "," : "") + encoded
    }
    return out
}

/// Compares secrets in time independent of where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    for i in 0..<max(a.count, b.count) {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}
