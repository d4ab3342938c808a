import Foundation

/// One move of an alias: it points at `version` since `at` (Unix time), moved by `by`
/// from `previous` (nil: the alias was new).
public struct AliasMove: Sendable, Equatable {
    public var alias: String
    public var version: Int64
    public var previous: Int64?
    public var at: Double
    public var by: String
}

/// A registered model version.
public struct ModelVersionRecord: Sendable, Equatable {
    public var name: String
    public var version: Int64
    public var run: Int64?
    public var artifact: String
    public var created: Double
    public var aliases: [String]
    /// `name@version`.
    public var label: String { "\(name)@\(version)" }
}

extension Store {
    /// Registers a model artifact as the next version of `name`.
    public func register(name: String, artifact: String, run: Int64?) throws(StoreError) -> ModelVersionRecord {
        try StoreName.validate(name, "model")
        let now = Date().timeIntervalSince1970
        let v: Int64 = try Store.guarded("registering model \(name)") {
            try db.write { db in
                let next = (try db.fetchOne(Int64.self, sql: "SELECT MAX(version) FROM models WHERE name = ?", arguments: [name]) ?? 0) + 1
                try db.execute(sql: "INSERT INTO models (name, version, run, artifact, created) VALUES (?, ?, ?, ?, ?)",
                               arguments: [name, next, run, artifact, now])
                return next
            }
        }
        return ModelVersionRecord(name: name, version: v, run: run, artifact: artifact, created: now, aliases: [])
    }

    /// Points `alias` of a model at a version (moving it if it pointed elsewhere).
    /// `by` names who moved it in the alias history (default: this process's user and host).
    public func setAlias(name: String, version: Int64, alias: String, by: String = Store.actor) throws(StoreError) {
        try StoreName.validate(alias, "alias")
        if alias == "latest" || Int64(alias) != nil {
            throw StoreError("'\(alias)' cannot be an alias: 'latest' and numbers already select versions")
        }
        try Store.guarded("setting alias \(alias)") {
            try db.write { db in try Store.pointAlias(db, name: name, alias: alias, version: version, by: by) }
        }
    }

    /// Who moves an alias from this process, for the alias history: `user@host` (the
    /// login name `USER` gives, else the account's, else the uid).
    public static let actor: String = {
        let env = ProcessInfo.processInfo.environment
        let account = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        let user = env["USER"].flatMap { $0.isEmpty ? nil : $0 } ?? account ?? "\(getuid())"
        return user + "@" + RunProcess.host
    }()

    /// Points `name@alias` at `version` inside a write, recording the move in the alias
    /// history unless the alias already points there.
    static func pointAlias(_ db: any StoreSQL, name: String, alias: String, version: Int64, by: String) throws {
        let previous = try db.fetchOne(Int64.self, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, alias])
        guard previous != version else { return }
        try db.execute(sql: "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?) ON CONFLICT (name, alias) DO UPDATE SET version = excluded.version", arguments: [name, alias, version])
        try db.execute(sql: "INSERT INTO alias_history (name, alias, version, previous, at, \"by\") VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [name, alias, version, previous, Date().timeIntervalSince1970, by])
    }

    /// The moves of `name`'s aliases, oldest first.
    public func aliasHistory(name: String) throws(StoreError) -> [AliasMove] {
        try Store.guarded("reading the alias history of \(name)") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT alias, version, previous, at, \"by\" FROM alias_history WHERE name = ? ORDER BY id",
                                 arguments: [name]).map { r in
                    AliasMove(alias: r[0], version: r[1], previous: r[2], at: r[3], by: r[4])
                }
            }
        }
    }

    /// Resolves `name@N`, `name@alias`, `name@latest` or plain `name` (latest).
    public func resolve(_ reference: String) throws(StoreError) -> ModelVersionRecord {
        let parts = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0], selector = parts.count > 1 ? parts[1] : "latest"
        try StoreName.validate(name, "model")
        let version: Int64? = try Store.guarded("resolving \(reference)") {
            try db.read { db -> Int64? in
                if selector == "latest" {
                    return try db.fetchOne(Int64.self, sql: "SELECT MAX(version) FROM models WHERE name = ?", arguments: [name])
                }
                if let n = Int64(selector) {
                    return try db.fetchOne(Int64.self, sql: "SELECT version FROM models WHERE name = ? AND version = ?", arguments: [name, n])
                }
                return try db.fetchOne(Int64.self, sql: "SELECT version FROM aliases WHERE name = ? AND alias = ?", arguments: [name, selector])
            }
        }
        guard let version, let r = try versions(name: name).first(where: { $0.version == version }) else {
            let known = try versions(name: name)
            if known.isEmpty { throw StoreError("no model named '\(name)' is registered") }
            let aliases = Set(known.flatMap(\.aliases)).sorted()
            let versions = known.count == 1 ? "version 1" : "versions 1-\(known.count)"
            throw StoreError("unknown model version '\(reference)' (\(versions)\(aliases.isEmpty ? "" : "; aliases: " + aliases.joined(separator: ", ")))")
        }
        return r
    }

    /// Every registered version (of one model, when named), by name then version.
    public func versions(name: String? = nil) throws(StoreError) -> [ModelVersionRecord] {
        try Store.guarded("reading the registry") {
            try db.read { db in
                let rows = try db.fetchAll(sql: """
                    SELECT name, version, run, artifact, created FROM models
                    WHERE CAST(?1 AS TEXT) IS NULL OR name = ?1 ORDER BY name, version
                    """, arguments: [name])
                let aliasRows = try db.fetchAll(sql: "SELECT name, alias, version FROM aliases ORDER BY alias")
                return rows.map { (r: StoreRow) -> ModelVersionRecord in
                    let n: String = r["name"], v: Int64 = r["version"]
                    let al = aliasRows.filter { ($0["name"] as String) == n && ($0["version"] as Int64) == v }.map { $0["alias"] as String }
                    return ModelVersionRecord(name: n, version: v, run: r["run"], artifact: r["artifact"], created: r["created"], aliases: al)
                }
            }
        }
    }
}
