import Foundation

/// A stage's cached value (`stage(name, f)`): what it was keyed on and what it returned.
public struct StageEntry: Sendable, Equatable {
    public var id: Int64
    public var name: String
    /// The script that ran it (nil at the prompt).
    public var script: String?
    /// The hash of the stage's name, code, captured values and mlsh version.
    public var key: String
    /// JSON: the parts of the key, to say later why a stage is stale.
    public var inputs: String
    /// JSON: what the stage read while it ran (params, files, data versions), checked before reuse.
    public var reads: String
    /// JSON: the value, with tables and models as references to blobs.
    public var value: String
    /// The blobs' total size.
    public var bytes: Int
    /// How long computing it took.
    public var seconds: Double
    public var created: Double

    public init(id: Int64 = 0, name: String, script: String?, key: String, inputs: String, reads: String, value: String,
                bytes: Int, seconds: Double, created: Double) {
        self.id = id; self.name = name; self.script = script; self.key = key; self.inputs = inputs; self.reads = reads
        self.value = value; self.bytes = bytes; self.seconds = seconds; self.created = created
    }
}

extension Store {
    static func stageEntry(_ r: StoreRow) -> StageEntry {
        StageEntry(id: r["id"], name: r["name"], script: r["script"], key: r["key"], inputs: r["inputs"], reads: r["reads"],
                   value: r["value"], bytes: r["bytes"], seconds: r["seconds"], created: r["created"])
    }

    /// The cached values under a key, newest first.
    public func stageEntries(key: String) throws(StoreError) -> [StageEntry] {
        try Store.guarded("reading the stage cache") {
            try db.read { db in
                try db.fetchAll(sql: "SELECT * FROM stages WHERE key = ? ORDER BY id DESC", arguments: [key]).map(Store.stageEntry)
            }
        }
    }

    /// The latest cached value of a stage of a script.
    public func latestStage(name: String, script: String?) throws(StoreError) -> StageEntry? {
        try Store.guarded("reading the stage cache") {
            try db.read { db in
                try db.fetchOne(sql: "SELECT * FROM stages WHERE name = ? AND script IS NOT DISTINCT FROM CAST(? AS TEXT) ORDER BY id DESC LIMIT 1",
                                 arguments: [name, script]).map(Store.stageEntry)
            }
        }
    }

    /// Every cached stage value, oldest first.
    public func stageEntries() throws(StoreError) -> [StageEntry] {
        try Store.guarded("reading the stage cache") {
            try db.read { db in try db.fetchAll(sql: "SELECT * FROM stages ORDER BY id").map(Store.stageEntry) }
        }
    }

    /// Records a stage's value, keeping the blobs it references from `gc`; returns its id.
    public func saveStage(_ entry: StageEntry, blobs: [String]) throws(StoreError) -> Int64 {
        try Store.guarded("saving stage \(entry.name)") {
            try db.write { db in
                try db.execute(sql: """
                    INSERT INTO stages (name, script, key, inputs, reads, value, bytes, seconds, created)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [entry.name, entry.script, entry.key, entry.inputs, entry.reads, entry.value, entry.bytes,
                                     entry.seconds, entry.created])
                let id = try db.lastInsertedRowID
                for b in Set(blobs) {
                    try db.execute(sql: "INSERT INTO stage_blobs (stage, hash) VALUES (?, ?) ON CONFLICT DO NOTHING", arguments: [id, b])
                }
                return id
            }
        }
    }

    /// Sets a run's param, replacing an earlier value (`stage_cached`).
    public func replaceParam(run: Int64, name: String, value: ParamValue) throws(StoreError) {
        try Store.guarded("recording param \(name)") {
            try db.write { db in
                try db.execute(sql: "INSERT INTO params (run, name, kind, value) VALUES (?, ?, ?, ?) ON CONFLICT (run, name) DO UPDATE SET kind = excluded.kind, value = excluded.value",
                               arguments: [run, name, value.kind, value.text])
                try Store.noteColumns(db, run: run, kind: "param", names: [name])
            }
        }
    }
}
