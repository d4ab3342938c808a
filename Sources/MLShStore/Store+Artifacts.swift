import Foundation
import MLShCommon
import MLShEngine
import MLShModels

extension Store {
    /// Stores bytes under their SHA-256 (as a file of the store's files folder, written
    /// atomically, or as `blobs` rows of its database); returns the hex hash.
    public func putArtifact(_ bytes: [UInt8]) throws(StoreError) -> String {
        var h = SHA256()
        h.update(bytes)
        let hash = h.hexDigest()
        if let dir = filesFolder {
            try writeFile(bytes, hash: hash, in: dir, touch: true)
        } else {
            try putBlob(bytes, hash: hash)
        }
        return hash
    }

    /// An artifact's bytes, checked against the hash they are stored under.
    public func artifact(_ hash: String) throws(StoreError) -> [UInt8] {
        let bytes = try rawBlob(hash)
        var h = SHA256()
        h.update(bytes)
        guard h.hexDigest() == hash else {
            throw StoreError("artifact \(hash) is corrupted: its content no longer matches its hash" + setAside(hash))
        }
        return bytes
    }

    /// Where the artifacts are, in messages: the folder, the database's `blobs`, or both (a
    /// PostgreSQL store with an artifacts folder reads blobs stored before it had one).
    var artifactsShown: String {
        guard postgres != nil else { return folder + "/artifacts" }
        return (filesFolder.map { $0 + " and " } ?? "") + "the blobs of " + folder
    }

    /// Moves a file whose content does not match its name out of the way (to
    /// `<hash>.damaged`), so storing that content again writes it afresh; says where. A
    /// PostgreSQL store without such a file deletes the damaged blob from its database.
    func setAside(_ hash: String) -> String {
        if let dir = filesFolder {
            let from = dir + "/" + hash, to = from + ".damaged"
            if rename(from, to) == 0 { return " (moved to \(to))" }
        }
        if postgres != nil {
            let removed = try? Store.guarded("removing a damaged blob") {
                try db.write { db in
                    try db.execute(sql: "DELETE FROM blobs WHERE hash = ?", arguments: [hash])
                    try db.execute(sql: "DELETE FROM blob_sizes WHERE hash = ?", arguments: [hash])
                }
            }
            return removed == nil ? "" : " (removed from the store)"
        }
        return ""
    }

    /// Stores a fitted model in the safe model format; returns its hash.
    public func putModel(_ model: FittedModel, mlshVersion: String) throws(StoreError) -> String {
        try putArtifact(try ModelFile.encode(model, mlshVersion: mlshVersion))
    }

    /// Loads a fitted model artifact, validating it before use.
    public func model(_ hash: String) throws(StoreError) -> FittedModel {
        try ModelFile.decode(try artifact(hash))
    }

    /// What a stored model artifact is (`ModelSummary`), as a JSON object: for readers that
    /// show models without fitting or scoring them.
    public func modelSummary(_ hash: String) throws(StoreError) -> JSON {
        try model(hash).summary.json
    }

    /// Records that a run produced an artifact under a name (`model`, ...).
    public func attach(run: Int64, name: String, hash: String, kind: String, size: Int) throws(StoreError) {
        try Store.guarded("recording an artifact") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO artifacts (run, name, hash, kind, size, created) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [run, name, hash, kind, size, Date().timeIntervalSince1970])
            }
        }
    }

    /// The hash of the latest artifact a run recorded under a name.
    public func runArtifact(run: Int64, name: String) throws(StoreError) -> String? {
        try Store.guarded("reading artifacts") {
            try db.read { db in
                try db.fetchOne(String.self, sql: "SELECT hash FROM artifacts WHERE run = ? AND name = ? ORDER BY rowid DESC LIMIT 1",
                                    arguments: [run, name])
            }
        }
    }

    /// The latest run that recorded this artifact as its model, if any.
    public func runProducing(model hash: String) throws(StoreError) -> Int64? {
        try Store.guarded("reading artifacts") {
            try db.read { db in
                try db.fetchOne(Int64.self, sql: "SELECT run FROM artifacts WHERE hash = ? AND name = 'model' AND run IS NOT NULL ORDER BY rowid DESC LIMIT 1",
                                   arguments: [hash])
            }
        }
    }
}
