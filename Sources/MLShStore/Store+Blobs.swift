import Foundation
import MLShEngine

extension Store {
    /// The bytes a `blobs` row holds at most: artifacts are stored in chunks of this size.
    static let blobChunk = 4 << 20

    /// Stores `bytes` in the database's `blobs` under `hash` (their SHA-256, which the
    /// caller computed), in chunks, unless that hash is there already: then its time is
    /// renewed, as a reused file is touched, so `gc` (which keeps blobs stored within its
    /// `minAge`) does not remove it while its reference is being recorded.
    func putBlob(_ bytes: [UInt8], hash: String) throws(StoreError) {
        try Store.guarded("storing artifact \(hash)") {
            try db.write { db in
                if try db.fetchOne(Int64.self, sql: "SELECT size FROM blob_sizes WHERE hash = ?", arguments: [hash]) != nil {
                    try db.execute(sql: "UPDATE blob_sizes SET created = ? WHERE hash = ?", arguments: [Date().timeIntervalSince1970, hash])
                    return
                }
                var chunk = 0, start = 0
                repeat {
                    let end = min(bytes.count, start + Store.blobChunk)
                    try db.execute(sql: "INSERT INTO blobs (hash, chunk, bytes) VALUES (?, ?, ?)",
                                   arguments: [hash, chunk, Array(bytes[start..<end])])
                    chunk += 1
                    start = end
                } while start < bytes.count
                try db.execute(sql: "INSERT INTO blob_sizes (hash, size, chunks, created) VALUES (?, ?, ?, ?)",
                               arguments: [hash, bytes.count, chunk, Date().timeIntervalSince1970])
            }
        }
    }

    /// The bytes stored in `blobs` under `hash`, nil when there are none; the chunks are
    /// checked to be all there and of the recorded size (their hash is the caller's check).
    func blob(_ hash: String) throws(StoreError) -> [UInt8]? {
        try Store.guarded("reading artifact \(hash)") {
            try db.read { db -> [UInt8]? in
                guard let size = try db.fetchOne(Int.self, sql: "SELECT size FROM blob_sizes WHERE hash = ?", arguments: [hash]) else {
                    return nil
                }
                var out: [UInt8] = []
                out.reserveCapacity(size)
                var next = 0
                try db.forEach(sql: "SELECT chunk, bytes FROM blobs WHERE hash = ? ORDER BY chunk", arguments: [hash]) { r in
                    guard r.int(0) == Int64(next) else { throw StoreError("artifact \(hash) is damaged: its chunk \(next) is missing") }
                    if case .bytes(let b) = r.value(at: 1) { out += b }
                    next += 1
                }
                guard out.count == size else {
                    throw StoreError("artifact \(hash) is damaged: \(out.count) bytes stored, \(size) recorded")
                }
                return out
            }
        }
    }

    /// Blobs nothing references (see `collectGarbage`), removed when `delete`.
    func blobGarbage(_ db: any StoreSQL, referenced: Set<String>, delete: Bool, minAge: Double) throws -> [GarbageArtifact] {
        let now = Date().timeIntervalSince1970
        var garbage: [GarbageArtifact] = []
        for r in try db.fetchAll(sql: "SELECT hash, size, created FROM blob_sizes ORDER BY hash") {
            let hash = r.text(0) ?? ""
            guard !referenced.contains(hash), now - (r.double(2) ?? now) >= minAge else { continue }
            if delete {
                try db.execute(sql: "DELETE FROM blobs WHERE hash = ?", arguments: [hash])
                try db.execute(sql: "DELETE FROM blob_sizes WHERE hash = ?", arguments: [hash])
            }
            garbage.append(GarbageArtifact(hash: hash, bytes: Int(r.int(1))))
        }
        return garbage
    }
}
