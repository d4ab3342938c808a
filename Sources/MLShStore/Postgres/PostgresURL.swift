import Foundation

/// A PostgreSQL store's address: `postgres://USER:PASSWORD@HOST:PORT/DATABASE`
/// (`postgresql://` too; `?sslmode=disable|prefer|require`, `?host=/socket/folder` for a
/// Unix socket). Shown without its password (`redacted`) in every message.
public struct PostgresURL: Sendable, Equatable {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// A Unix socket folder (the server's socket is `<folder>/.s.PGSQL.<port>`).
    public var socketFolder: String?
    /// `disable` (the default), `prefer` or `require`.
    public var sslMode: String

    /// Whether `text` names a PostgreSQL store rather than a folder.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    /// Parses a URL; the error names it without its password.
    public init(_ text: String) throws(StoreError) {
        guard Self.isURL(text), let parts = URLComponents(string: text) else {
            throw StoreError("not a PostgreSQL URL: \(Self.redact(text)) (postgres://user:password@host:port/database)")
        }
        let shown = Self.redact(text)
        guard let host = parts.host, !host.isEmpty || parts.queryItems?.contains(where: { $0.name == "host" }) == true else {
            throw StoreError("the PostgreSQL URL \(shown) names no host (postgres://user:password@host:port/database)")
        }
        self.host = host
        port = parts.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError("the PostgreSQL URL \(shown) has port \(port), outside 1...65535") }
        user = parts.user.flatMap { $0.removingPercentEncoding } ?? ProcessInfo.processInfo.environment["USER"] ?? "postgres"
        password = parts.password.flatMap { $0.removingPercentEncoding }
        let path = parts.path.hasPrefix("/") ? String(parts.path.dropFirst()) : parts.path
        database = path.isEmpty ? user : (path.removingPercentEncoding ?? path)
        guard !database.contains("/") else { throw StoreError("the PostgreSQL URL \(shown) names the database '\(database)': one name, no '/'") }
        sslMode = "disable"
        socketFolder = nil
        for item in parts.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let v = item.value, ["disable", "prefer", "require"].contains(v) else {
                    throw StoreError("the PostgreSQL URL \(shown) has sslmode=\(item.value ?? ""); mlsh takes disable, prefer or require")
                }
                sslMode = v
            case "host":
                socketFolder = item.value
            default:
                throw StoreError("the PostgreSQL URL \(shown) has an unknown parameter '\(item.name)' (mlsh takes sslmode and host)")
            }
        }
    }

    /// The URL as shown to people: never the password.
    public var redacted: String {
        var out = "postgres://" + user + "@" + host
        if port != 5432 { out += ":\(port)" }
        out += "/" + database
        var query: [String] = []
        if sslMode != "disable" { query.append("sslmode=" + sslMode) }
        if let socketFolder { query.append("host=" + socketFolder) }
        return query.isEmpty ? out : out + "?" + query.joined(separator: "&")
    }

    /// `text` with any password between `://user:` and `@` taken out.
    public static func redact(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        guard let at = rest.lastIndex(of: "@"), let colon = rest[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<scheme.upperBound]) + rest[..<colon] + rest[at...]
    }
}
