import Foundation
import MLShEngine

/// A stored version of a dataset (`snapshot(t, "name")`).
public struct SnapshotRecord: Sendable, Equatable {
    public var name: String
    public var version: Int64
    /// The hash of the snapshot file under `artifacts/`.
    public var blob: String
    /// The table's fingerprint (`sha256:...`).
    public var fingerprint: String
    public var rows: Int
    public var columns: Int
    /// The snapshot file's size.
    public var bytes: Int
    public var created: Double
    /// The run that made it, if one was active.
    public var run: Int64?
    /// `name@version`.
    public var label: String { "\(name)@\(version)" }
}

extension Store {
    /// Stores `t` as the next version of `name` and returns it, unless the latest version
    /// holds the same content (same fingerprint): that version is returned, `created` false.
    /// Versions are numbered in one transaction, so two processes get distinct versions.
    /// `fingerprint` is the table's, when the caller knows it.
    public func snapshot(_ t: MLShEngine.Table, name: String, run: Int64?, fingerprint known: String? = nil) throws(StoreError) -> (record: SnapshotRecord, created: Bool) {
        try StoreName.validate(name, "dataset")
        let fingerprint = known ?? t.fingerprint()
        if let latest = try snapshots(name: name).last, latest.fingerprint == fingerprint { return (latest, false) }
        let (blob, bytes) = try putTable(t)
        let now = Date().timeIntervalSince1970
        return try Store.guarded("storing a version of dataset \(name)") {
            try db.write { db -> (SnapshotRecord, Bool) in
                let latest = try db.fetchOne(sql: "SELECT * FROM snapshots WHERE name = ? ORDER BY version DESC LIMIT 1", arguments: [name])
                    .map(Store.snapshotRecord)
                if let latest, latest.fingerprint == fingerprint { return (latest, false) }
                let record = SnapshotRecord(name: name, version: (latest?.version ?? 0) + 1, blob: blob, fingerprint: fingerprint,
                                            rows: t.rowCount, columns: t.names.count, bytes: bytes, created: now, run: run)
                try db.execute(sql: """
                    INSERT INTO snapshots (name, version, blob, fingerprint, rows, columns, bytes, created, run)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [record.name, record.version, record.blob, record.fingerprint, record.rows, record.columns,
                                     record.bytes, record.created, record.run])
                return (record, true)
            }
        }
    }

    static func snapshotRecord(_ r: StoreRow) -> SnapshotRecord {
        SnapshotRecord(name: r["name"], version: r["version"], blob: r["blob"], fingerprint: r["fingerprint"], rows: r["rows"],
                       columns: r["columns"], bytes: r["bytes"], created: r["created"], run: r["run"])
    }

    /// Every stored version (of one dataset, when named), by name then version.
    public func snapshots(name: String? = nil) throws(StoreError) -> [SnapshotRecord] {
        try Store.guarded("reading data versions") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM snapshots WHERE CAST(?1 AS TEXT) IS NULL OR name = ?1 ORDER BY name, version",
                                 arguments: [name]).map(Store.snapshotRecord)
            }
        }
    }

    /// Resolves `name@N`, `name@latest` or `name` (the latest version). Unknown names and
    /// versions are errors listing what exists.
    public func snapshot(_ reference: String) throws(StoreError) -> SnapshotRecord {
        let parts = reference.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = parts[0], selector = parts.count > 1 ? parts[1] : "latest"
        try StoreName.validate(name, "dataset")
        let versions = try snapshots(name: name)
        guard !versions.isEmpty else {
            let names = Set(try snapshots().map(\.name)).sorted()
            throw StoreError("no dataset named '\(name)' in the store"
                             + (names.isEmpty ? " (it has no snapshots yet: snapshot(t, \"\(name)\") makes one)" : " (stored: \(names.joined(separator: ", ")))"))
        }
        if selector == "latest", let last = versions.last { return last }
        if let n = Int64(selector), let found = versions.first(where: { $0.version == n }) { return found }
        let list = versions.map { String($0.version) }.joined(separator: ", ")
        throw StoreError("unknown version '\(reference)': dataset '\(name)' has version\(versions.count == 1 ? "" : "s") \(list) (and 'latest')")
    }

    /// A stored version's table, its file checked; errors name the version.
    public func table(of record: SnapshotRecord) throws(StoreError) -> MLShEngine.Table {
        do { return try table(record.blob, label: record.label) } catch {
            throw StoreError("dataset \(record.label): \(error.message)")
        }
    }

    /// Records a dataset a run used: a stored version (`kind` "snapshot", `source` its
    /// `name@N`), a file (`"file"`, its path; `hash` the file's `sha256:`), or a table in
    /// memory (`"table"`, its fingerprint). A table recorded again by name keeps the name.
    public func recordDataset(run: Int64, fingerprint: String, kind: String = "table", source: String? = nil) throws(StoreError) {
        try Store.guarded("recording a dataset") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO datasets (run, fingerprint, kind, source) VALUES (?, ?, ?, ?)
                    ON CONFLICT (run, fingerprint) DO UPDATE SET kind = excluded.kind, source = excluded.source
                    WHERE datasets.kind = 'table'
                    """, arguments: [run, fingerprint, kind, source])
            }
        }
    }

    /// How lineage names a dataset a run used: `name@N`, `path (sha256:...)`, `requests
    /// of NAME, labeled, until ... (fingerprint)` or the fingerprint.
    static func datasetLabel(kind: String?, source: String?, fingerprint: String) -> String {
        switch (kind, source) {
        case ("snapshot", let s?): return s
        case ("file", let s?), ("requests", let s?): return "\(s) (\(fingerprint))"
        default: return fingerprint
        }
    }

    /// The SHA-256 (hex) of a file's content. Remembered by path, size, modification
    /// time and inode, as DVC does, so an unchanged file is not read again; a file changed
    /// in the last two seconds is hashed each time (its time may not tell a later change).
    public func fileHash(path: String) throws(StoreError) -> String {
        guard let real = realpath(path, nil) else { throw StoreError("cannot read '\(path)' (errno \(errno))") }
        let resolved = String(cString: real)
        free(real)
        var st = stat()
        guard stat(resolved, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { throw StoreError("'\(path)' is not a regular file") }
        let size = Int64(st.st_size), inode = Int64(bitPattern: UInt64(st.st_ino))
        let mtime = Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)
        let known: String? = try Store.guarded("reading file hashes") {
            try db.read { db in
                try db.fetchOne(String.self, sql: "SELECT sha256 FROM file_hashes WHERE path = ? AND size = ? AND mtime_ns = ? AND inode = ?",
                                    arguments: [resolved, size, mtime, inode])
            }
        }
        if let known { return known }
        let hash = try Store.hashFile(resolved, shownAs: path)
        let age = Date().timeIntervalSince1970 - Double(mtime) / 1e9
        if age > 2 {
            try Store.guarded("recording a file hash") {
                try db.write { db in
                    try db.execute(sql: "INSERT INTO file_hashes (path, size, mtime_ns, inode, sha256) VALUES (?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, inode = excluded.inode, sha256 = excluded.sha256",
                                   arguments: [resolved, size, mtime, inode, hash])
                }
            }
        }
        return hash
    }

    /// SHA-256 (hex) of a file, read in 4 MiB pieces.
    static func hashFile(_ path: String, shownAs: String) throws(StoreError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError("cannot open '\(shownAs)' (errno \(errno))") }
        defer { close(fd) }
        var h = SHA256()
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError("cannot read '\(shownAs)' (errno \(errno))")
            }
            if n == 0 { break }
            buffer.withUnsafeBufferPointer { h.update(UnsafeBufferPointer(rebasing: $0[0..<n])) }
        }
        return h.hexDigest()
    }
}
