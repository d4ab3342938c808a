import Foundation
import HTTPTypes
import Hummingbird
import MLShEngine
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

    public init(host: String = "127.0.0.1", port: Int = 8080, token: String? = nil) {
        self.host = host; self.port = port; self.token = token
    }
}

/// One model version in a deployment, with its share of the traffic.
public struct Route: Sendable {
    public var model: ServedModel
    public var weight: Double
    public init(_ model: ServedModel, weight: Double) { self.model = model; self.weight = weight }
}

/// The HTTP contract of §8 as a Hummingbird responder: routing, auth, limits, JSON errors,
/// traffic splits and shadows. Holds no connection state; `PredictionServer` runs it.
public struct PredictionService: HTTPResponder, Sendable {
    public typealias Context = BasicRequestContext

    /// The routes with one path, and the method each answers.
    static let fixedRoutes: [String: HTTPRequest.Method] = ["/health": .get, "/metrics": .get, "/v1/models": .get,
                                                            "/invocations": .post]

    public let routes: [Route]
    public let shadow: ServedModel?
    public let configuration: ServeConfiguration
    public let monitor: RequestMonitor
    public let metrics: ServeMetrics
    /// The largest `scoringCostPerRow` of the served versions: whether an input is cheap
    /// enough for the event loop is decided for all of a split's versions alike, so the
    /// split's weights hold on both paths.
    let maxScoringCostPerRow: Int

    public init(routes: [Route], shadow: ServedModel? = nil, configuration: ServeConfiguration,
                monitor: RequestMonitor, metrics: ServeMetrics? = nil) {
        self.routes = routes
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
        case health, metrics, models
        /// A prediction by `model` on MLflow's `/invocations` or on the mlsh route.
        case predict(ServedModel, mlflow: Bool)
    }

    /// Routes a request head from its method, path and `Authorization` header: method,
    /// auth and model choice (a traffic split picks here).
    func route(_ method: HTTPRequest.Method, _ path: Substring, authorization: String?) throws(ServeError) -> Target {
        if let m = PredictionService.fixedRoutes[String(path)], m != method { throw methodNotAllowed(String(path)) }
        if path == "/health" { return .health }
        try authorize(authorization)
        switch (path, method) {
        case ("/metrics", .get): return .metrics
        case ("/v1/models", .get): return .models
        case ("/invocations", .post):
            guard let model = pick(routes.indices) else { throw ServeError(404, "not_found", "no model is served") }
            return .predict(model, mlflow: true)
        default: break
        }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if parts.count == 5, parts[0].isEmpty, parts[1] == "v1", parts[2] == "models", parts[4] == "predict" {
            guard method == .post else { throw methodNotAllowed(String(path), allow: "POST") }
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
            return Response(failure(error, label: "-"))
        }
        switch target {
        case .health:
            return Response(json(200, .object([("status", .string("ok")), ("models", .array(routes.map { .string($0.model.label) }))])))
        case .metrics:
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers,
                            body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition(monitor: monitor))))
        case .models:
            return Response(json(200, .object([("models", .array(modelsJSON()))])))
        case .predict(let model, let mlflow):
            let body: ByteBuffer
            do { body = try await collect(request) } catch { return Response(failure(error, label: model.label)) }
            return Response(predict(model, mlflow: mlflow, contentType: request.headers[.contentType], body: body, start: start))
        }
    }

    /// The answer to a prediction whose whole body has arrived: the predictions, or the
    /// JSON error (counted either way).
    func predict(_ model: ServedModel, mlflow: Bool, contentType: String?, body: ByteBuffer, start: UInt64) -> Reply {
        switch input(model, mlflow: mlflow, contentType: contentType, body: body) {
        case .success(let table): return answer(model, table, mlflow: mlflow, start: start)
        case .failure(let e): return failure(e, label: model.label)
        }
    }

    /// Its two steps, apart for the event loop (which checks an input's cost in between):
    /// the input table, then the answer.
    func input(_ model: ServedModel, mlflow: Bool, contentType: String?, body: ByteBuffer) -> Result<Table, ServeError> {
        do { return .success(try decode(contentType, body, model, mlflow: mlflow)) } catch { return .failure(error) }
    }

    func answer(_ model: ServedModel, _ input: Table, mlflow: Bool, start: UInt64) -> Reply {
        do { return try predict(model, input, mlflow: mlflow, start: start) } catch { return failure(error, label: model.label) }
    }

    /// A refusal as its JSON error, counted for the version it was meant for.
    func failure(_ e: ServeError, label: String) -> Reply {
        monitor.count(label, status: e.status)
        metrics.answered(label, status: e.status, seconds: nil)
        var r = json(e.status, e.body)
        if e.status == 401 { r.headers[.wwwAuthenticate] = "Bearer" }
        if e.status == 405, case .string(let allow)? = e.details.first(where: { $0.0 == "allow" })?.1 {
            r.headers[.allow] = allow
        }
        return r
    }

    private func methodNotAllowed(_ path: String, allow: String? = nil) -> ServeError {
        let allowed = allow ?? PredictionService.fixedRoutes[path]?.rawValue ?? "GET"
        return ServeError(405, "method_not_allowed", "\(path) answers \(allowed) only", details: [("allow", .string(allowed))])
    }

    private func authorize(_ authorization: String?) throws(ServeError) {
        guard let token = configuration.token else { return }
        let given = authorization ?? ""
        guard given.hasPrefix("Bearer "), constantTimeEqual(Array(given.utf8.dropFirst(7)), Array(token.utf8)) else {
            throw ServeError(401, "unauthorized", given.isEmpty ? "this server needs an Authorization: Bearer token"
                                                                 : "the bearer token is not valid for this server")
        }
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

    /// A JSON (or, on /invocations, CSV) body as the model's input table.
    private func decode(_ contentType: String?, _ body: ByteBuffer, _ model: ServedModel,
                        mlflow: Bool) throws(ServeError) -> Table {
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("text/csv") {
            guard mlflow else { throw ServeError(415, "unsupported_media_type", "this route takes application/json") }
            return try Inputs.csv(Array(buffer: body), schema: model.schema)
        }
        if !type.isEmpty, !type.hasPrefix("application/json") {
            throw ServeError(415, "unsupported_media_type", "send application/json\(mlflow ? " or text/csv" : ""), not \(type)")
        }
        if let t = body.withUnsafeReadableBytes({ Inputs.direct($0, schema: model.schema, mlflow: mlflow) }) { return t }
        let parsed: JSON
        do {
            parsed = try body.withUnsafeReadableBytes { raw throws(JSONError) in try JSONParser.parse(raw) }
        } catch { throw ServeError(400, "bad_request", error.message) }
        return mlflow ? try Inputs.mlflow(parsed, schema: model.schema) : try Inputs.rows(parsed, schema: model.schema)
    }

    private func predict(_ model: ServedModel, _ input: Table, mlflow: Bool, start: UInt64) throws(ServeError) -> Reply {
        let answer = try model.answer(input)
        var members: [(String, JSON)] = []
        if !mlflow { members.append(("model", .string(model.label))) }
        members.append(("predictions", .array(answer.predictions)))
        if !mlflow, let p = answer.probabilities { members.append(("probabilities", .array(p))) }
        var response = json(200, .object(members))
        // MLflow's answer has no place for it in the body: every prediction names its version here.
        response.headers[modelHeader] = model.label
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let at = Date().timeIntervalSince1970
        metrics.answered(model.label, status: 200, seconds: seconds)
        monitor.record(.init(model: model, input: input, predictions: answer.predictions, latencyMs: seconds * 1000,
                             at: at, shadow: false))
        if let shadow, monitor.beginShadow(rows: input.rowCount) {
            let monitor = monitor
            Task.detached(priority: .low) {
                defer { monitor.endShadow() }
                let s0 = DispatchTime.now().uptimeNanoseconds
                guard let a = try? shadow.answer(input) else { return }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - s0) / 1e6
                monitor.record(.init(model: shadow, input: input, predictions: a.predictions, latencyMs: ms, at: at, shadow: true))
            }
        }
        return response
    }

    /// Drift of a served version's recent requests from its training sample.
    public func drift(_ model: ServedModel) -> [DriftScore]? { driftScores(model, monitor: monitor) }

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

    private func json(_ status: Int, _ value: JSON) -> Reply {
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

/// Compares secrets in time independent of where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var diff = UInt8(a.count == b.count ? 0 : 1)
    for i in 0..<max(a.count, b.count) {
        diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
    }
    return diff == 0
}
