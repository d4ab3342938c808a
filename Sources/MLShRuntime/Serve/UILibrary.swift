import Foundation
import MLShLanguage
import MLShUI

/// A running (or stopped) web UI, as `ui` returns it.
final class UIValue: DomainObject {
    let server: UIServer
    init(_ server: UIServer) { self.server = server }

    var typeName: String { "ui" }
    func render() -> String { "mlsh ui at \(server.url)" + (server.isRunning ? "" : " (stopped)") }
    var summary: String { "<ui \(server.url)>" }
    var memberNames: [String] { ["url", "port", "running"] }
    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "url": .string(server.url)
        case "port": .int(Int64(server.port))
        case "running": .bool(server.isRunning)
        default: nil
        }
    }
    func isEqual(to other: any DomainObject) -> Bool { (other as? UIValue)?.server === server }
}

extension StoreLibrary {
    /// `ui`: the web UI over the session's store, in the background.
    static func uiBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("ui", ["port=5000", "host=\"127.0.0.1\"", "token=none"], category: "experiments",
                summary: "Serves the web UI over the store in the background (experiments, runs, compare, models, deployments, datasets; every page also as ?format=json) and returns it: .url, .port. A host other than 127.0.0.1 needs token=.",
                example: "let u = ui(port=0)") { a, _ throws(MLShError) in
            let port = try a.int("port", 5000)
            guard (0...65535).contains(port) else { throw MLShError.value("ui: port must be between 0 and 65535, got \(port)") }
            var token: String?
            if let t = a["token"] {
                guard case .string(let s) = t, !s.isEmpty else { throw MLShError.type("ui: token must be a non-empty string") }
                token = s
            }
            let config = UIConfiguration(host: try a.string("host", "127.0.0.1"), port: port, token: token)
            if !config.isLoopback && token == nil {
                throw MLShError.value("ui: serving on \(config.host) (beyond this machine) needs token=")
            }
            let store = try session.store()
            let server: UIServer
            do throws(UIError) { server = try UIServer.start(store: store, configuration: config) } catch {
                throw MLShError(.serve, "ui: " + error.message)
            }
            return .object(UIValue(server))
        },
    ] }
}
