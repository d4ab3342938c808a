import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShStore

/// Data versions (§5): `snapshot`, `dataset("name@N")`, `datasets()`, and the datasets a
/// run used (tables by `name@N`, files by path and SHA-256, else by fingerprint).
extension StoreLibrary {
    static func datasetBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("snapshot", ["t", "name"], category: "data",
                summary: "Stores the table as the next version of a named dataset and returns \"name@N\"; content equal to the latest version returns that version.",
                example: #"let v = snapshot(clean, "houses-clean")   # "houses-clean@1""#) { a, _ throws(MLShError) in
            guard case .object(let t as TableValue) = try a.value("t") else {
                throw MLShError.type("snapshot: 't' must be a table, got \(try a.value("t").typeName)")
            }
            let name = try a.string("name")
            if bundledDatasetNames.contains(name) {
                throw MLShError.value("snapshot: '\(name)' is a bundled dataset's name (dataset(\"\(name)\") loads it); choose another name")
            }
            let store = try session.store(), run = session.active.last?.id
            let (record, _) = try storing { () throws(StoreError) in
                try store.snapshot(t.table, name: name, run: run, fingerprint: t.fingerprint)
            }
            if let run {
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: record.fingerprint, kind: "snapshot", source: record.label)
                }
            }
            return .string(record.label)
        },
        Builtin("datasets", [], category: "data",
                summary: "The stored data versions: a table of name, version, rows, columns, fingerprint, bytes, created and the run that made each.",
                example: "datasets() |> filter($name == \"houses-clean\")") { _, _ throws(MLShError) in
            var versions: [SnapshotRecord] = []
            if session.exists {
                let store = try session.store()
                versions = try storing { () throws(StoreError) in try store.snapshots() }
            }
            return .object(TableValue(try StoreTables.datasets(versions)))
        },
    ] }

    /// `dataset`: a bundled name as before; `name@N`, `name@latest` or a stored name
    /// loads that version from the store (recorded for the active run and the stage
    /// being evaluated).
    static func storedDatasets(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            let name = try a.string("name")
            if !name.contains("@"), bundledDatasetNames.contains(name) { return try next.run(a, interp) }
            guard session.exists else {
                if name.contains("@") {
                    throw MLShError(.store, "dataset: no stored version '\(name)': there is no store at \(session.folder ?? Store.locate()) yet (snapshot(t, \"name\") makes one)")
                }
                return try next.run(a, interp)
            }
            let store = try session.store()
            let record: SnapshotRecord
            do throws(StoreError) { record = try store.snapshot(name) } catch {
                var m = "dataset: " + error.message
                if !name.contains("@") { m += "; bundled datasets: " + bundledDatasetNames.joined(separator: ", ") }
                throw MLShError(.store, m)
            }
            let t = try storing { () throws(StoreError) in try store.table(of: record) }
            if let run = session.active.last?.id {
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: record.fingerprint, kind: "snapshot", source: record.label)
                }
            }
            if !name.contains("@") || name.hasSuffix("@latest") {
                session.noteStageRead(StageRead(kind: "dataset", name: name, value: String(record.version), shown: record.name))
            }
            return .object(TableValue(t, origin: .snapshot(record.label), fingerprint: record.fingerprint))
        }
    }

    /// `load`: the table remembers its file; the active run records the file's path and
    /// SHA-256, and a stage being evaluated depends on it.
    static func recordingLoad(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            let result = try next.run(a, interp)
            guard case .object(let t as TableValue) = result else { return result }
            let shown = try a.string("path"), path = DataArgs.resolve(shown, interp)
            let loaded = TableValue(t.table, origin: .file(shown: shown, path: path))
            let inStage = !session.stageReads.isEmpty
            guard inStage || session.active.last?.id != nil else { return .object(loaded) }
            let store = try session.store()
            let hash = try storing { () throws(StoreError) in try store.fileHash(path: path) }
            if let run = session.active.last?.id {
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: "sha256:" + hash, kind: "file", source: shown)
                }
            }
            if inStage {
                let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
                session.noteStageRead(StageRead(kind: "file", name: absolute, value: hash, shown: shown))
            }
            return .object(loaded)
        }
    }

    /// Records for a run the table it used: by `name@N` when it is a stored version, by
    /// path and SHA-256 when `load` read it, else by fingerprint.
    static func recordTable(_ t: TableValue, run: Int64, _ session: StoreSession) throws(MLShError) {
        let store = try session.store()
        switch t.origin {
        case .snapshot(let label)?:
            try storing { () throws(StoreError) in
                try store.recordDataset(run: run, fingerprint: t.fingerprint, kind: "snapshot", source: label)
            }
        case .file(let shown, let path)?:
            try storing { () throws(StoreError) in
                let hash = try store.fileHash(path: path)
                try store.recordDataset(run: run, fingerprint: "sha256:" + hash, kind: "file", source: shown)
            }
        default:
            let fp = t.fingerprint
            try storing { () throws(StoreError) in try store.recordDataset(run: run, fingerprint: fp) }
        }
    }
}
