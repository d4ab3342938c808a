import Foundation
import MLShEngine

/// Blobs as files: a folder store's `artifacts/`, and a PostgreSQL store's artifacts folder
/// (`--artifacts`, a folder the machines that use the store share). The files are named by
/// their hash and written atomically in both; the folder of a PostgreSQL store is recorded
/// in its database (`settings`), so that every process finds it without being told.
extension Store {
    /// The name of the database setting that records a PostgreSQL store's artifacts folder.
    static let artifactsSettingName = "artifacts"

    /// The artifacts folder this process was given (`mlsh --artifacts PATH` sets it for the
    /// processes it starts): `MLSH_ARTIFACTS`, nil when unset or empty.
    public static func artifactsSetting(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        guard let p = environment["MLSH_ARTIFACTS"], !p.isEmpty else { return nil }
        return p
    }

    /// What a process started on this store needs to open it as this one did: `MLSH_STORE`
    /// (in the environment, so a PostgreSQL URL's password stays out of the process list)
    /// and, when the store writes its blobs to a folder, `MLSH_ARTIFACTS`.
    public var processEnvironment: [String: String] {
        var env = ["MLSH_STORE": location]
        if let artifactsFolder { env["MLSH_ARTIFACTS"] = artifactsFolder }
        return env
    }

    /// A PostgreSQL store's artifacts folder: `given` (recorded in the database when none is
    /// yet, `record`, and it is a folder here: a mistyped path is not recorded for every
    /// later process), else the recorded one, else nil (blobs go to the database).
    static func artifactsRoot(_ db: any StoreDatabase, given: String?, record: Bool) throws(StoreError) -> String? {
        try Store.guarded("reading the store's artifacts folder") {
            var isDir: ObjCBool = false
            if let given, record, FileManager.default.fileExists(atPath: given, isDirectory: &isDir), isDir.boolValue {
                try db.write { db in
                    try db.execute(sql: "INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
                                   arguments: [artifactsSettingName, given])
                }
                return given
            }
            if let given { return given }
            return try db.read { db in
                try db.fetchOne(String.self, sql: "SELECT value FROM settings WHERE name = ?", arguments: [artifactsSettingName])
            }
        }
    }

    /// The artifacts folder recorded in a PostgreSQL store's database (which may differ
    /// from the one this `Store` uses, given to override it); nil when none is, or for a
    /// folder's store.
    public func recordedArtifactsFolder() throws(StoreError) -> String? {
        guard postgres != nil else { return nil }
        return try Store.artifactsRoot(db, given: nil, record: false)
    }

    /// Why files cannot be written in `dir`, as one line, when the folder is the cause: it
    /// does not exist, is not a folder, or is not writable by this user.
    static func folderProblem(_ dir: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) else {
            return "the artifacts folder \(dir) does not exist (is the shared folder mounted here?)"
        }
        guard isDir.boolValue else { return "the artifacts folder \(dir) is not a folder" }
        guard access(dir, W_OK | X_OK) == 0 else { return "the artifacts folder \(dir) is not writable by this user" }
        return nil
    }

    /// Writes `bytes` as the file of `hash` in `dir` (a temp file beside it, synced, renamed
    /// into place, so a reader never sees half a file), unless that file is there already:
    /// then it is touched, when `touch`, so `gc` (which keeps recently touched files) does
    /// not remove it while its reference is being recorded.
    func writeFile(_ bytes: [UInt8], hash: String, in dir: String, touch: Bool) throws(StoreError) {
        let final = dir + "/" + hash
        if touch {
            if utimes(final, nil) == 0 { return }
            if errno != ENOENT, FileManager.default.fileExists(atPath: final) { return }
        } else if FileManager.default.fileExists(atPath: final) {
            return
        }
        do { try FileOutput.write(bytes, to: final) } catch {
            throw StoreError(Store.folderProblem(dir) ?? "cannot write artifact \(hash) in \(dir): \(error.message)")
        }
    }

    /// The path of the file of `hash` in the store's files folder (a folder store's
    /// `artifacts/` when it has none: then no such file is ever written).
    func artifactPath(_ hash: String) -> String { (filesFolder ?? folder + "/artifacts") + "/" + hash }

    /// That blob `hash` (an `artifact` or `snapshot`, `what`) is in neither place, and when
    /// a PostgreSQL store's artifacts folder is not there at all, that too.
    func missing(_ what: String, _ hash: String) -> StoreError {
        if postgres != nil, let dir = filesFolder, !FileManager.default.fileExists(atPath: dir) {
            return StoreError("\(what) \(hash) is missing: the artifacts folder \(dir) does not exist (is the shared folder mounted here?), and the blobs of \(folder) do not hold it")
        }
        return StoreError("\(what) \(hash) is missing from \(artifactsShown)")
    }

    /// The content of the file of `hash` in the store's files folder; nil when there is no
    /// such folder or file.
    func fileBlob(_ hash: String) -> [UInt8]? {
        guard let dir = filesFolder else { return nil }
        return FileManager.default.contents(atPath: dir + "/" + hash).map { [UInt8]($0) }
    }

    /// The files in `dir` that nothing references (`referenced`) and that were not touched
    /// in the last `minAge` seconds, and files set aside as damaged (`<hash>.damaged`);
    /// removed when `delete`. Temp files and other names are never touched.
    func fileGarbage(in dir: String, referenced: Set<String>, delete: Bool, minAge: Double) throws -> [GarbageArtifact] {
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
