import Foundation
import GRDB

extension Store {
    /// Makes a new store in `folder` (which must not exist yet) holding one model version
    /// of this store: its artifact, its registry row (its registration time kept, no run)
    /// and the aliases pointing at it — what a server of that version needs and nothing
    /// else. The copy is left ready to be opened read-only: its database in
    /// rollback-journal mode, vacuumed, no lock file. The same version always gives the
    /// same files, byte for byte (with the same SQLite).
    public func copyVersion(_ reference: String, into folder: String) throws(StoreError) -> ModelVersionRecord {
        let record = try resolve(reference)
        guard !FileManager.default.fileExists(atPath: folder) else {
            throw StoreError("\(folder) already exists; a store copy goes into a new folder")
        }
        let bytes = try artifact(record.artifact)
        do {
            let copy = try Store(folder: folder)
            let hash = try copy.putArtifact(bytes)
            try Store.guarded("copying \(record.label)") {
                try copy.db.write { db in
                    try db.execute(sql: "INSERT INTO models (name, version, run, artifact, created) VALUES (?, ?, NULL, ?, ?)",
                                   arguments: [record.name, record.version, hash, record.created])
                    for alias in record.aliases.sorted() {
                        try db.execute(sql: "INSERT INTO aliases (name, alias, version) VALUES (?, ?, ?)",
                                       arguments: [record.name, alias, record.version])
                    }
                }
                try copy.pool?.close()
                let queue = try DatabaseQueue(path: folder + "/store.sqlite")
                try queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA journal_mode = DELETE")
                    try db.execute(sql: "VACUUM")
                }
                try queue.close()
            }
            unlink(folder + "/open.lock")
            return ModelVersionRecord(name: record.name, version: record.version, run: nil, artifact: hash,
                                      created: record.created, aliases: record.aliases.sorted())
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }
}
