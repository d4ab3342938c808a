import Foundation

/// An experiment with its run count and the time of its latest activity.
public struct ExperimentSummary: Sendable, Equatable {
    public var name: String
    public var runs: Int
    public var created: Double
    /// The latest start or end of any of its runs (its creation when it has none).
    public var lastActivity: Double
}

extension Store {
    /// Every experiment with its run count and last activity, by name.
    public func experimentSummaries() throws(StoreError) -> [ExperimentSummary] {
        try Store.guarded("reading experiments") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT e.name AS name, e.created AS created, COUNT(r.id) AS runs,
                           MAX(COALESCE(r.ended, r.started)) AS last
                    FROM experiments e LEFT JOIN runs r ON r.experiment = e.id
                    GROUP BY e.id ORDER BY e.name
                    """).map { (r: StoreRow) in
                    ExperimentSummary(name: r["name"], runs: r["runs"], created: r["created"], lastActivity: (r["last"] as Double?) ?? r["created"])
                }
            }
        }
    }

    /// Every deployment the store records, newest first.
    public func deployments() throws(StoreError) -> [DeploymentRecord] {
        try Store.guarded("reading the deployments") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT id, url, models, started, ended FROM deployments ORDER BY id DESC").map { (r: StoreRow) in
                    let models: String = r["models"]
                    return DeploymentRecord(id: r["id"], url: r["url"], models: models.split(separator: ",").map(String.init),
                                            started: r["started"], ended: r["ended"])
                }
            }
        }
    }

    /// The ids of every run, ascending (for "nearby ids" when one is unknown).
    public func allRunIDs() throws(StoreError) -> [Int64] {
        try Store.guarded("reading runs") {
            try db.read { db in try db.fetchAll(Int64.self, sql: "SELECT id FROM runs ORDER BY id") }
        }
    }
}

extension Store {
    /// The kind a run recorded an artifact under (`model`, `svg`, `csv`, ...), nil when
    /// no run recorded it.
    public func artifactKind(_ hash: String) throws(StoreError) -> String? {
        try Store.guarded("reading artifacts") {
            try db.read { db in
                try db.fetchOne(String.self, sql: "SELECT kind FROM artifacts WHERE hash = ? ORDER BY rowid DESC LIMIT 1", arguments: [hash])
            }
        }
    }
}
