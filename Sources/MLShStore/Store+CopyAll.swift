import Foundation
import MLShEngine

/// What `Store.copyAll(to:)` copied: rows per table and the blobs.
public struct StoreCopyReport: Sendable {
    /// Each table with the rows copied, in copying order.
    public var tables: [(name: String, rows: Int)] = []
    /// Artifacts, snapshots and stage values copied (and verified in the copy).
    public var blobs = 0
    /// Their bytes.
    public var bytes = 0
}

extension Store {
    /// The store's tables in an order where every row's references come before it.
    static let copyOrder = [
        "experiments", "runs", "params", "metrics", "latest_metrics", "run_columns", "tags", "artifacts", "datasets",
        "models", "aliases", "alias_history", "snapshots", "file_hashes", "stages", "stage_blobs",
        "deployments", "requests", "labels", "request_errors", "alert_rules", "alert_events",
        "retrain_policies", "retrains", "sweeps", "trials",
    ]

    /// Tables whose rows have an `id` key, which the copy keeps.
    static let tablesWithIDs: Set<String> = ["experiments", "runs", "alias_history", "stages", "deployments", "alert_events",
                                             "retrains", "sweeps", "trials"]
    /// Tables read in the order their rows were written (`rowid`, a column of its own on
    /// PostgreSQL): copied in that order, which the target's new row ids keep.
    static let tablesInWrittenOrder: Set<String> = ["params", "metrics", "run_columns", "artifacts", "datasets", "tags",
                                                    "requests", "request_errors"]

    /// Copies everything in this store into `target`, which must be empty (a new folder or
    /// database): every table's rows (ids kept, rows in their written order) in one
    /// transaction, then every blob the rows reference. The copy is then checked: the same
    /// number of rows in every table, and every blob read back from the target and checked
    /// against its hash (a model file by its SHA-256, a snapshot by its checksum).
    public func copyAll(to target: Store) throws(StoreError) -> StoreCopyReport {
        var report = StoreCopyReport()
        let targetRows = try target.rowCounts()
        if let used = Store.copyOrder.first(where: { (targetRows[$0] ?? 0) > 0 }) {
            throw StoreError("the store at \(target.folder) is not empty (its \(used) table has rows); a store is copied into a new one")
        }
        try Store.guarded("copying the store at \(folder) to \(target.folder)") {
            try db.read { source in
                try target.db.write { dest in
                    for table in Store.copyOrder {
                        let order = Store.tablesWithIDs.contains(table) ? " ORDER BY id"
                            : Store.tablesInWrittenOrder.contains(table) ? " ORDER BY rowid" : ""
                        var rows = 0
                        var statement: (any StoreStatement)?
                        try source.forEach(sql: "SELECT * FROM \(table)\(order)", arguments: []) { row in
                            // The target numbers its own row ids.
                            let keep = row.columns.names.indices.filter { row.columns.names[$0] != "rowid" }
                            if statement == nil {
                                let names = keep.map { "\"\(row.columns.names[$0])\"" }.joined(separator: ", ")
                                let marks = Array(repeating: "?", count: keep.count).joined(separator: ", ")
                                statement = try dest.statement(sql: "INSERT INTO \(table) (\(names)) VALUES (\(marks))")
                            }
                            try statement?.execute(arguments: StoreArguments(keep.map { row.value(at: $0) }))
                            rows += 1
                        }
                        report.tables.append((table, rows))
                    }
                    if dest.dialect == .postgres {
                        // Identity columns continue after the ids the copy wrote.
                        for table in Store.copyOrder where Store.tablesWithIDs.contains(table) {
                            try dest.execute(sql: """
                                SELECT setval(pg_get_serial_sequence('\(table)', 'id'), GREATEST(COALESCE((SELECT MAX(id) FROM \(table)), 0), 1),
                                              (SELECT MAX(id) FROM \(table)) IS NOT NULL)
                                """)
                        }
                    }
                }
            }
        }
        // Blobs: artifacts and models (files named by their SHA-256), snapshots and stage
        // values (tables named by their checksum, models by their SHA-256).
        let (files, tables) = try Store.guarded("reading the store's blobs") {
            try db.read { db -> ([String], Set<String>) in
                let all = try db.fetchAll(String.self, sql: """
                    SELECT hash FROM artifacts UNION SELECT artifact FROM models
                    UNION SELECT blob FROM snapshots UNION SELECT hash FROM stage_blobs
                    """)
                let tables = Set(try db.fetchAll(String.self, sql: "SELECT blob FROM snapshots UNION SELECT hash FROM stage_blobs"))
                return (all.sorted(), tables)
            }
        }
        for hash in files {
            let bytes = try rawBlob(hash)
            var h = SHA256()
            h.update(bytes)
            let intact = h.hexDigest() == hash
                || (tables.contains(hash) && (try? TableFile.decode(bytes)).map { SHA256.hexString($0.checksum) } == hash)
            guard intact else { throw StoreError("blob \(hash) of the store at \(folder) is damaged (its content no longer matches its name); nothing after it was copied") }
            try target.putRawBlob(bytes, hash: hash)
            guard try target.rawBlob(hash) == bytes else {
                throw StoreError("blob \(hash) reads back different from the store at \(target.folder)")
            }
            report.blobs += 1
            report.bytes += bytes.count
        }
        let copied = try target.rowCounts()
        for (table, rows) in report.tables where copied[table] != rows {
            throw StoreError("the copy of \(table) has \(copied[table] ?? 0) rows, the source \(rows)")
        }
        return report
    }

    /// The number of rows in each of the store's tables.
    func rowCounts() throws(StoreError) -> [String: Int] {
        try Store.guarded("counting the store's rows") {
            try db.read { db in
                var out: [String: Int] = [:]
                for table in Store.copyOrder {
                    out[table] = try db.fetchOne(Int.self, sql: "SELECT count(*) FROM \(table)") ?? 0
                }
                return out
            }
        }
    }

    /// A blob's bytes as stored, unchecked (the caller checks them in their kind's way).
    func rawBlob(_ hash: String) throws(StoreError) -> [UInt8] {
        guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw StoreError("'\(hash)' is not an artifact hash")
        }
        // The files folder first (where blobs are written), then a PostgreSQL store's
        // database (blobs stored before it had an artifacts folder).
        if let stored = fileBlob(hash) { return stored }
        if postgres != nil, let stored = try blob(hash) { return stored }
        throw missing("artifact", hash)
    }

    /// Stores `bytes` under `hash` as they are (a file written atomically, or `blobs`
    /// rows), unless that hash is there already.
    func putRawBlob(_ bytes: [UInt8], hash: String) throws(StoreError) {
        guard let dir = filesFolder else { return try putBlob(bytes, hash: hash) }
        try writeFile(bytes, hash: hash, in: dir, touch: false)
    }
}
