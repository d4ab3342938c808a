import Foundation
import Testing
import TestSupport
import MLShEngine
@testable import MLShStore

/// A PostgreSQL store with an artifacts folder (`--artifacts`): blobs written as files
/// there, the folder recorded in the database for later opens, overridden per process,
/// blobs stored in the database before still read, damage detected by the hash, `gc` and
/// `store copy` over the folder, the environment of the processes the store starts, and
/// the errors (a folder store given one, a folder that is missing or not writable).
@Suite struct ArtifactsFolderTests {
    func database(_ label: String = "artifacts") throws -> String {
        switch PostgresCluster.shared {
        case .success(let c): return try c.database(label)
        case .failure(let e): throw e
        }
    }

    func blobRows(_ store: Store) throws -> Int {
        try store.db.read { db in try db.fetchOne(Int.self, sql: "SELECT count(*) FROM blob_sizes") } ?? -1
    }

    func table(_ xs: [Double]) throws -> MLShEngine.Table {
        try MLShEngine.Table(names: ["x"], columns: [Column(floats: xs)])
    }

    /// The first folder given is recorded: a second open without it writes and reads there.
    @Test func theFolderIsRecordedAndFoundByLaterOpens() throws {
        let url = try database(), dir = try temporaryFolder("artifacts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Store(folder: url, artifacts: dir)
        #expect(first.artifactsFolder == dir)
        let model = try first.putModel(try smallModel(), mlshVersion: "t")
        #expect(FileManager.default.fileExists(atPath: dir + "/" + model))
        #expect(try blobRows(first) == 0)

        let later = try Store(folder: url)
        #expect(later.artifactsFolder == dir)
        #expect(try later.recordedArtifactsFolder() == dir)
        #expect(try later.model(model).kind == "ridge")
        let (snap, _) = try later.putTable(try table([1, 2, 3]))
        #expect(FileManager.default.fileExists(atPath: dir + "/" + snap))
        #expect(try later.table(snap, label: nil).rowCount == 3)
        #expect(try blobRows(later) == 0)
        #expect(later.artifactsShown == dir + " and the blobs of " + later.folder)
        // Opened read-only, the store finds it too.
        #expect(try Store(folder: url, readOnly: true).artifactsFolder == dir)
        // A folder given as a relative path is recorded as an absolute one.
        let url2 = try database(), share = try temporaryFolder("artifacts")
        defer { try? FileManager.default.removeItem(atPath: share) }
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + share.dropFirst()
        #expect(try Store(folder: url2, artifacts: relative).artifactsFolder == share)
        #expect(try Store(folder: url2).recordedArtifactsFolder() == share)
    }

    /// A folder given later overrides the recorded one for that `Store` (the share mounted
    /// elsewhere) without changing what the database records.
    @Test func aFolderGivenLaterOverridesTheRecordedOne() throws {
        let url = try database(), recorded = try temporaryFolder("artifacts"), elsewhere = try temporaryFolder("artifacts")
        defer { for d in [recorded, elsewhere] { try? FileManager.default.removeItem(atPath: d) } }
        _ = try Store(folder: url, artifacts: recorded)
        let here = try Store(folder: url, artifacts: elsewhere)
        #expect(here.artifactsFolder == elsewhere)
        #expect(try here.recordedArtifactsFolder() == recorded)
        let h = try here.putArtifact(Array("on the share".utf8))
        #expect(FileManager.default.fileExists(atPath: elsewhere + "/" + h))
        #expect(!FileManager.default.fileExists(atPath: recorded + "/" + h))
        #expect(try Store(folder: url).artifactsFolder == recorded)
        #expect(here.processEnvironment == ["MLSH_STORE": url, "MLSH_ARTIFACTS": elsewhere])
    }

    /// A store whose blobs were in its database before it was given a folder reads them
    /// still; new blobs go to the folder.
    @Test func blobsStoredInTheDatabaseBeforeAreStillRead() throws {
        let url = try database(), dir = try temporaryFolder("artifacts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let before = try Store(folder: url)
        #expect(before.artifactsFolder == nil)
        #expect(before.processEnvironment == ["MLSH_STORE": url])
        let old = try before.putArtifact(Array("old".utf8))
        let (oldSnap, _) = try before.putTable(try table([4, 5]))
        #expect(try blobRows(before) == 2)

        let after = try Store(folder: url, artifacts: dir)
        let new = try after.putArtifact(Array("new".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == [new])
        #expect(try after.artifact(old) == Array("old".utf8))
        #expect(try after.artifact(new) == Array("new".utf8))
        #expect(try after.table(oldSnap, label: nil).rowCount == 2)
        let missing = String(repeating: "b", count: 64)
        #expect(throws: StoreError("artifact \(missing) is missing from \(dir) and the blobs of \(after.folder)")) { try after.artifact(missing) }
        #expect(throws: StoreError("snapshot \(missing) is missing from \(dir) and the blobs of \(after.folder)")) {
            try after.table(missing, label: nil)
        }
    }

    /// A file whose bytes no longer match its hash is an error naming it, set aside; the
    /// same content stored again is written afresh.
    @Test func aDamagedFileIsDetectedByItsHash() throws {
        let url = try database(), dir = try temporaryFolder("artifacts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(folder: url, artifacts: dir)
        let hash = try store.putModel(try smallModel(), mlshVersion: "t")
        let path = dir + "/" + hash
        var data = try #require(FileManager.default.contents(atPath: path))
        data[data.count / 2] ^= 0x01
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError("artifact \(hash) is corrupted: its content no longer matches its hash (moved to \(path).damaged)")) {
            try store.model(hash)
        }
        #expect(FileManager.default.fileExists(atPath: path + ".damaged"))
        #expect(try store.putModel(try smallModel(), mlshVersion: "t") == hash)
        #expect(try store.model(hash).kind == "ridge")
        // A snapshot file: its checksum.
        let (snap, _) = try store.putTable(try table([1, 2]))
        var bytes = try #require(FileManager.default.contents(atPath: dir + "/" + snap))
        bytes[8] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: dir + "/" + snap))
        #expect(throws: StoreError.self) { try store.table(snap, label: nil) }
        #expect(FileManager.default.fileExists(atPath: dir + "/" + snap + ".damaged"))
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + snap))
    }

    /// `gc` removes the unreferenced files of the folder (and unreferenced blobs of the
    /// database) and keeps the referenced ones and those touched within `minAge`.
    @Test func gcRemovesOrphanedFilesAndKeepsReferencedOnes() throws {
        let url = try database(), dir = try temporaryFolder("artifacts")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let oldStore = try Store(folder: url)
        let oldOrphan = try oldStore.putArtifact([9, 9])
        let store = try Store(folder: url, artifacts: dir)
        let exp = try store.experiment("g")
        let run = try store.startRun(experiment: exp, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let kept = try store.putArtifact([1, 2, 3])
        try store.attach(run: run, name: "model", hash: kept, kind: "model", size: 3)
        let orphan = try store.putArtifact([6, 6, 6, 6])
        let recent = try store.putArtifact([7])
        let old = Date().addingTimeInterval(-7200)
        for h in [kept, orphan] { try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: dir + "/" + h) }
        // Not a blob's name: never touched.
        try Data("notes".utf8).write(to: URL(fileURLWithPath: dir + "/README"))

        let dry = try store.collectGarbage(delete: false, minAge: 3600)
        #expect(dry == [GarbageArtifact(hash: orphan, bytes: 4)])
        #expect(FileManager.default.fileExists(atPath: dir + "/" + orphan))
        #expect(try store.collectGarbage(delete: true, minAge: 3600) == dry)
        #expect(!FileManager.default.fileExists(atPath: dir + "/" + orphan))
        #expect(try store.artifact(kept) == [1, 2, 3])
        // With no grace: the recent file and the database's orphan go; the referenced one stays.
        #expect(try store.collectGarbage(delete: true, minAge: 0) == [GarbageArtifact(hash: oldOrphan, bytes: 2), GarbageArtifact(hash: recent, bytes: 1)])
        #expect(try blobRows(store) == 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["README", kept].sorted())
        #expect(try store.collectGarbage(delete: true, minAge: 0).isEmpty)
    }

    /// `copyAll` from such a store into a folder store: the blobs of both places become the
    /// folder's files; and into a PostgreSQL store with its own artifacts folder.
    @Test func copyToAFolderStoreAndToAnotherFolder() throws {
        let url = try database(), dir = try temporaryFolder("artifacts"), copies = try temporaryFolder("copy")
        let target = copies + "/store", otherDir = try temporaryFolder("artifacts")
        defer { for d in [dir, otherDir, copies] { try? FileManager.default.removeItem(atPath: d) } }
        let inDatabase = try Store(folder: url).putModel(try smallModel(), mlshVersion: "t")
        let store = try Store(folder: url, artifacts: dir)
        _ = try store.register(name: "m", artifact: inDatabase, run: nil)
        let snap = try store.snapshot(try table([1, 2, 3]), name: "d", run: nil).record
        let copy = try Store(folder: target)
        let report = try store.copyAll(to: copy)
        #expect(report.blobs == 2)
        for h in [inDatabase, snap.blob] { #expect(FileManager.default.fileExists(atPath: target + "/artifacts/" + h)) }
        #expect(try copy.model(copy.resolve("m@1").artifact).kind == "ridge")
        #expect(try copy.table(of: copy.snapshot("d@1")).rowCount == 3)

        let url2 = try database()
        let pgCopy = try Store(folder: url2, artifacts: otherDir)
        #expect(try copy.copyAll(to: pgCopy).blobs == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: otherDir).sorted() == [inDatabase, snap.blob].sorted())
        #expect(try blobRows(pgCopy) == 0)
        #expect(try Store(folder: url2).model(inDatabase).kind == "ridge")
    }

    /// A folder store refuses an artifacts folder, saying why; a folder that is missing or
    /// not writable is one line when a blob is written.
    @Test func errorsAreOneLine() throws {
        let folder = try temporaryFolder("store")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: StoreError("an artifacts folder (/srv/share) is for a PostgreSQL store; the store at \(folder) is a folder, whose artifacts are in \(folder)/artifacts")) {
            try Store(folder: folder, artifacts: "/srv/share")
        }
        let url = try database()
        let missing = try temporaryFolder("gone")
        try FileManager.default.removeItem(atPath: missing)
        let store = try Store(folder: url, artifacts: missing)
        #expect(throws: StoreError("the artifacts folder \(missing) does not exist (is the shared folder mounted here?)")) {
            try store.putArtifact([1])
        }
        #expect(throws: StoreError("the artifacts folder \(missing) does not exist (is the shared folder mounted here?)")) {
            try store.putTable(try table([1]))
        }
        let h = String(repeating: "c", count: 64)
        #expect(throws: StoreError("artifact \(h) is missing: the artifacts folder \(missing) does not exist (is the shared folder mounted here?), and the blobs of \(store.folder) do not hold it")) {
            try store.artifact(h)
        }
        // A folder that is not there is not recorded for later processes.
        #expect(try store.recordedArtifactsFolder() == nil)
        let files = try temporaryFolder("file")
        defer { try? FileManager.default.removeItem(atPath: files) }
        let file = files + "/plain"
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(throws: StoreError("the artifacts folder \(file) is not a folder")) {
            try Store(folder: url, artifacts: file).putArtifact([2])
        }
        #expect(try Store(folder: url).artifactsFolder == nil)
    }

    /// `MLSH_ARTIFACTS` is read only when set and not empty.
    @Test func theSettingComesFromTheEnvironment() {
        #expect(Store.artifactsSetting(environment: ["MLSH_ARTIFACTS": "/mnt/share"]) == "/mnt/share")
        #expect(Store.artifactsSetting(environment: ["MLSH_ARTIFACTS": ""]) == nil)
        #expect(Store.artifactsSetting(environment: [:]) == nil)
    }
}
