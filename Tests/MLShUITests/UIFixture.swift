import Foundation
import MLShCommon
import MLShLanguage
import MLShRuntime
import MLShServe
import MLShStore
import MLShUI
import TestSupport

/// A store filled by real mls scripts (experiments, runs with stepped metrics, repeated
/// seeds, artifacts, hostile names, registered versions with aliases, a data version and
/// a deployment that served requests), and the UI serving it on a free loopback port.
final class UIFixture: @unchecked Sendable {
    let folder: String
    let store: Store
    let server: UIServer
    var url: String { server.url }

    /// Hostile text stored as names, params and tags; pages must show it escaped.
    static let hostileExperiment = #"x <img src=x onerror=alert(1)> "q" & 'a'"#
    static let hostileParam = "<script>alert(1)</script>"
    static let hostileTag = "<b onmouseover=alert(2)>hi</b>"
    static let hostileModel = "evil<i onclick=alert(3)>"

    static let script = #"""
        let exp = experiment("sweep")
        for a in [0.1, 0.5, 1.0] {
          for d in [2, 4] {
            with run(exp, alpha=a, depth=d) {
              for i in range(4) { log(loss=a * d / (i + 1), step=i) }
              log(rmse=a * 100 + d)
            }
          }
        }
        let seeds = experiment("seeds")
        for s in [1, 2, 3] {
          with run(seeds, alpha=0.1, depth=2, seed=s) {
            for i in range(3) { log(loss=[12, 13, 11][s - 1] + 3 - i, step=i) }
            log(rmse=[12, 13, 11][s - 1])
          }
        }
        let clash = experiment("clash")
        with run(clash, name="ridge", rmse=3) { log(duration=2.5, rmse=1.0) }
        with run(clash, name="lasso", rmse=5) { log(duration=0.5, rmse=2.0) }
        let evil = experiment("HOSTILE_EXPERIMENT")
        with run(evil, kind="HOSTILE_PARAM") {
          log(note="HOSTILE_TAG", rmse=1.5)
          log_artifact(table({x: [1, 2], label: ["<a>", "b"]}), "sample")
        }
        let diabetes = dataset("diabetes")
        print(snapshot(table({x: [1, 2, 3], y: ["a", "b", "c"]}), "tiny"))
        let models = experiment("models")
        with run(models, alpha=1.0) {
          log_model(fit(ridge(alpha=1.0), diabetes, target=$progression))
          log(rmse=50.0)
        }
        let v1 = register(best_run(models, "rmse"), "diab")
        let v2 = register(fit(ridge(alpha=0.5), diabetes, target=$progression), "diab")
        alias(v1, "staging")
        alias(v2, "production")
        register(fit(ridge(alpha=2.0), diabetes, target=$progression), "HOSTILE_MODEL")
        let d = deploy(v2, port=0)
        send(d, diabetes |> drop($progression) |> head(5));
        undeploy(d)
        """#

    init() throws {
        folder = try temporaryFolder("ui") + "/.mlsh"
        func literal(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        let text = "use_store(\(literal(folder)))\n" + Self.script
            .replacingOccurrences(of: "\"HOSTILE_EXPERIMENT\"", with: literal(Self.hostileExperiment))
            .replacingOccurrences(of: "\"HOSTILE_PARAM\"", with: literal(Self.hostileParam))
            .replacingOccurrences(of: "\"HOSTILE_TAG\"", with: literal(Self.hostileTag))
            .replacingOccurrences(of: "\"HOSTILE_MODEL\"", with: literal(Self.hostileModel))
        try Self.run(text)
        store = try Store(folder: folder)
        server = try UIServer.start(store: store, configuration: UIConfiguration(host: "127.0.0.1", port: 0))
    }

    /// Runs mls source in a fresh session, failing with its diagnostic.
    static func run(_ text: String) throws {
        let failure: String? = Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(params: [:])
            interp.output = { _ in }
            do throws(MLShError) {
                try interp.run(SourceFile(name: "fixture.mls", bytes: Array(text.utf8)), scriptPath: nil)
                return nil
            } catch { return error.render() }
        }
        if let failure { throw SetupFailure("the fixture script failed: \(failure)") }
    }

    nonisolated(unsafe) static var made: Result<UIFixture, any Error>?
    static let lock = NSLock()

    /// The one fixture every test shares (made on first use).
    static func shared() throws -> UIFixture {
        lock.lock(); defer { lock.unlock() }
        if let made { return try made.get() }
        let r = Result { try UIFixture() }
        made = r
        return try r.get()
    }

    /// `shared()` made on a thread of its own: making it runs a server, which needs the
    /// Swift concurrency pool free.
    static func sharedOffPool() async throws -> UIFixture {
        final class Box: @unchecked Sendable { var value: UIFixture? }
        let box = Box()
        try await onOwnThread { box.value = try shared() }
        guard let v = box.value else { throw SetupFailure("the UI fixture was not made") }
        return v
    }

    /// GET a page; the status and body text.
    func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPClient.Reply {
        try HTTPClient.request("GET", url + path, headers: headers)
    }

    /// GET a page's JSON twin, parsed.
    func json(_ path: String) throws -> JSON {
        let reply = try get(path + (path.contains("?") ? "&" : "?") + "format=json")
        return try JSONParser.parse(reply.text)
    }
}

/// Numbers of a JSON array of objects' member.
func numbers(_ v: JSON?, _ member: [String]) -> [Double] {
    guard case .array(let items)? = v else { return [] }
    return items.compactMap { item in
        var cur: JSON? = item
        for m in member { cur = cur?[m] }
        return cur?.double
    }
}

/// Strings of a JSON array of objects' member.
func strings(_ v: JSON?, _ member: [String]) -> [String] {
    guard case .array(let items)? = v else { return [] }
    return items.compactMap { item in
        var cur: JSON? = item
        for m in member { cur = cur?[m] }
        if case .string(let s)? = cur { return s }
        return nil
    }
}
