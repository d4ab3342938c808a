import Foundation

/// One deployment's logged rows as columns: what pages of counts, latencies and traffic
/// over time read, without any row's inputs or prediction.
public struct RequestTimes: Sendable {
    /// The answered rows (shadow scorings apart), in the order read: each one's rowid (to
    /// fetch its inputs later), time, latency and version (a place in `versions`).
    public var rowids: [Int64] = []
    public var at: [Double] = []
    public var latencyMs: [Double] = []
    public var version: [Int32] = []
    /// `name@N` of every version that answered, in order of first row read.
    public var versions: [String] = []
    /// Rows shadow models scored.
    public var shadowRows = 0

    public init() {}
}

extension Store {
    /// A deployment's logged rows as `RequestTimes`: one pass over its rows reading five
    /// numbers and the model name each.
    public func requestTimes(deployment: Int64) throws(StoreError) -> RequestTimes {
        try Store.guarded("reading requests") {
            try db.read { db in
                var out = RequestTimes()
                var lastName = "", lastVersion = Int64.min, last: Int32 = -1
                var known: [String: Int32] = [:]
                try Store.eachRow(db, "SELECT rowid, at, latency_ms, shadow, version, name FROM requests WHERE deployment = ?", [deployment]) { r in
                    if r.int(3) != 0 { out.shadowRows += 1; return }
                    let version = r.int(4), name = r.text(5) ?? ""
                    if version != lastVersion || name != lastName {
                        lastName = name
                        lastVersion = version
                        let label = name + "@\(version)"
                        if let k = known[label] { last = k } else {
                            last = Int32(out.versions.count)
                            known[label] = last
                            out.versions.append(label)
                        }
                    }
                    out.rowids.append(r.int(0))
                    out.at.append(r.double(1) ?? .nan)
                    out.latencyMs.append(r.double(2) ?? .nan)
                    out.version.append(last)
                }
                return out
            }
        }
    }

    /// The inputs (a JSON object's text) of logged rows by rowid, in the order given; an
    /// empty text for a rowid the log does not hold.
    public func requestInputs(rowids: [Int64]) throws(StoreError) -> [String] {
        try Store.guarded("reading request inputs") {
            try db.read { db in
                try rowids.map { id in try db.fetchOne(String.self, sql: "SELECT inputs FROM requests WHERE rowid = ?", arguments: [id]) ?? "" }
            }
        }
    }

    /// The newest `limit` answered rows of a deployment with a label fed back, oldest first:
    /// when each was answered, by which version (`name@N`), and its prediction, label and
    /// positive-class probability.
    public func labeledRequests(deployment: Int64, limit: Int) throws(StoreError) -> [(at: Double, version: String, row: LabeledRow)] {
        try Store.guarded("reading labeled requests") {
            try db.read { db in
                try db.fetchAll(sql: """
                    SELECT r.at, r.name, r.version, r.prediction, l.label, r.score
                    FROM \(db.dialect.orderedJoin("labels l", "requests r", on: "r.deployment = l.deployment AND r.rid = l.rid AND r.shadow = 0"))
                    WHERE l.deployment = ? ORDER BY l.rid DESC LIMIT ?
                    """, arguments: [deployment, limit]).reversed().map { row in
                    let name: String = row[1], version: Int64 = row[2]
                    return (row[0], "\(name)@\(version)", LabeledRow(prediction: row[3], label: row[4], score: row[5]))
                }
            }
        }
    }
}
