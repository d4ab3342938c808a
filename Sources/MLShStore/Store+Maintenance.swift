import Foundation

/// An artifact (a file, or a PostgreSQL store's blob) that nothing in the store references.
public struct GarbageArtifact: Sendable, Equatable {
    /// Its SHA-256 (its file's name; `<hash>.damaged` for a file set aside as damaged).
    public var hash: String
    /// Its size in bytes.
    public var bytes: Int
}

extension Store {
    /// The experiments' names, oldest first.
    public func experimentNames() throws(StoreError) -> [String] {
        try Store.guarded("reading experiments") {
            try db.read { db in try db.fetchAll(String.self, sql: "SELECT name FROM experiments ORDER BY id") }
        }
    }

    /// The blobs (files under `artifacts/`, a PostgreSQL store's `blobs` rows and the files
    /// in its artifacts folder) that no run (`log_model`), model version,
    /// data version (every snapshot version is kept: it is named) or stage cache
    /// references, and that were not touched in the last `minAge` seconds (an artifact
    /// being written or reused by another process right now is kept);
    /// removed when `delete`; and files set aside as damaged (`<hash>.damaged`). Runs
    /// inside a write transaction, so no reference can be committed meanwhile. Temp files
    /// and other names are never touched.
    public func collectGarbage(delete: Bool, minAge: Double) throws(StoreError) -> [GarbageArtifact] {
        try Store.guarded("collecting unreferenced artifacts") {
            try db.write { db -> [GarbageArtifact] in
                let referenced = Set(try db.fetchAll(String.self, sql: """
                    SELECT hash FROM artifacts UNION SELECT artifact FROM models
                    UNION SELECT blob FROM snapshots UNION SELECT hash FROM stage_blobs
                    """))
                var garbage: [GarbageArtifact] = []
                if postgres != nil { garbage = try blobGarbage(db, referenced: referenced, delete: delete, minAge: minAge) }
                if let dir = filesFolder {
                    garbage += try fileGarbage(in: dir, referenced: referenced, delete: delete, minAge: minAge)
                }
                return garbage
            }
        }
    }
}
