import Foundation
import MLShCommon
import MLShStore

/// A running server's status asked over HTTP (`GET /v1/status`), for servers this process
/// did not start: `mlsh status` and `status("name")`.
public enum RemoteStatus {
    /// A server to ask: its URL, and its deployment id when the store named it.
    public struct Target: Sendable, Equatable {
        public var url: String
        public var deployment: Int64?
    }

    /// The servers a target names: a port (`8080`, on 127.0.0.1), a URL (`http://host:8080`),
    /// or a model name or `name@version` (the deployments serving it that the store records
    /// as running, newest first); nil names every deployment recorded as running.
    public static func targets(_ target: String?, store: () throws(StoreError) -> Store?) throws(ServeError) -> [Target] {
        if let target, let port = Int(target) {
            guard (1...65535).contains(port) else { throw ServeError(400, "bad_request", "port \(port) is not between 1 and 65535") }
            return [Target(url: "http://127.0.0.1:\(port)")]
        }
        if let target, target.hasPrefix("http://") || target.hasPrefix("https://") {
            var url = target
            while url.hasSuffix("/") { url.removeLast() }
            return [Target(url: url)]
        }
        let found: Store?
        do { found = try store() } catch { throw ServeError(500, "store", error.message) }
        guard let found else {
            throw ServeError(404, "not_found", target.map { "there is no store to find the deployments of \($0) in" }
                             ?? "there is no store, so no deployments are recorded; name a port or URL")
        }
        let running: [Store.DeploymentRecord]
        do { running = try found.runningDeployments() } catch { throw ServeError(500, "store", error.message) }
        let matching = running.filter { d in
            target.map { t in d.models.contains { $0 == t || $0.hasPrefix(t + "@") } } ?? true
        }
        guard !matching.isEmpty else {
            throw ServeError(404, "not_found", target.map { "no deployment of \($0) is recorded as running in the store at \(found.folder)" }
                             ?? "no deployment is recorded as running in the store at \(found.folder)")
        }
        return matching.map { Target(url: $0.url, deployment: $0.id) }
    }

    /// The server's `/v1/status` JSON (what `status(d)` reports). A server that does not
    /// answer, answers with another deployment's id (a recorded server gone, its port
    /// reused) or refuses is an error saying so.
    public static func fetch(_ target: Target, token: String?, timeout: Double = 5) throws(ServeError) -> JSON {
        let reply: HTTPClient.Reply
        do {
            reply = try HTTPClient.request("GET", target.url + "/v1/status", headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [],
                                           timeout: timeout)
        } catch {
            let recorded = target.deployment.map { " (deployment \($0) is recorded as running: it stopped without recording its end)" } ?? ""
            throw ServeError(503, "unreachable", "nothing answers at \(target.url)\(recorded): \(error.message)")
        }
        switch reply.status {
        case 200: break
        case 401:
            throw ServeError(401, "unauthorized", "the server at \(target.url) needs its token: --token-file FILE or MLSH_TOKEN (token= in the language)")
        case 404:
            throw ServeError(404, "not_found", "the server at \(target.url) has no /v1/status: it is not an mlsh server of this version")
        default:
            throw ServeError(reply.status, "bad_status", "the server at \(target.url) answered \(reply.status) to /v1/status")
        }
        guard let json = try? JSONParser.parse(reply.text), case .object = json else {
            throw ServeError(502, "bad_answer", "the server at \(target.url) answered /v1/status with a body that is not a JSON object")
        }
        if let id = target.deployment, json["deployment"] != .number(Double(id)) {
            throw ServeError(503, "unreachable", "deployment \(id) is recorded as running at \(target.url), but another server answers there: it stopped without recording its end")
        }
        return json
    }
}
