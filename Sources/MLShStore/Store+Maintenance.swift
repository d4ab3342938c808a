import Foundation

/// An artifact file that nothing in the store references.
public struct GarbageArtifact: Sendable, Equatable {
    /// Its SHA-256 (the file name under `artifacts/`).
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

    /// The artifact files under `artifacts/` that no run (`log_model`), model version,
    /// data version (every snapshot version is kept: it is named) or stage cache
    /// references, and that were not touched in the last `minAge` seconds (an artifact
    /// being written or reused by another process right now is kept);
    /// removed when `delete`; and files set aside as damaged (`<hash>.damaged`). Runs
    /// inside a write transaction, so no reference can be committed meanwhile. Temp files
    /// and other names are never touched.
    public func collectGarbage(delete: Bool, minAge: Double) throws(StoreError) -> [GarbageArtifact] {
        let dir = folder + "/artifacts"
        return try Store.guarded("collecting unreferenced artifacts") {
            try db.write { db -> [GarbageArtifact] in
                let referenced = Set(try db.fetchAll(String.self, sql: """
                    SELECT hash FROM artifacts UNION SELECT artifact FROM models
                    UNION SELECT blob FROM snapshots UNION SELECT hash FROM stage_blobs
                    """))
                if postgres != nil { return try blobGarbage(db, referenced: referenced, delete: delete, minAge: minAge) }
                let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                let now = Date().timeIntervalSince1970
                var garbage: [GarbageArtifact] = []
                for name in names.sorted() {
                    // A blob, or one set aside because its content no longer matched its name.
                    let hash = name.hasSuffix(".damaged") ? String(name.dropLast(8)) : name
                    guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { continue }
                    guard hash != name || !referenced.contains(name) else { continue }
                    let path = dir + "/" + name
                    var st = stat()
                    guard lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                    let mtime = Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9
                    guard now - mtime >= minAge else { continue }
                    if delete, unlink(path) != 0 {
                        throw StoreError("cannot remove \(path) (errno \(errno))")
                    }
                    garbage.append(GarbageArtifact(hash: name, bytes: Int(st.st_size)))
                }
                return garbage
            }
        }
    }
}
