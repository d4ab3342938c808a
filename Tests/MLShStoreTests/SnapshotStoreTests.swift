import Foundation
import Testing
import TestSupport
import MLShEngine
@testable import MLShStore

/// Data versions in the store: numbering, reuse of the latest, resolving `name@N`, file
/// hashes remembered by stat, and stage cache entries.
@Suite struct SnapshotStoreTests {
    func table(_ xs: [Double]) throws -> MLShEngine.Table {
        try MLShEngine.Table(names: ["x", "s"], columns: [Column(floats: xs), Column(strings: xs.map { "v\($0)" })])
    }

    @Test(arguments: StoreBackend.allCases) func versionsAreNumberedAndTheLatestIsReused(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let a = try table([1, 2, 3]), b = try table([4])
        let v1 = try store.snapshot(a, name: "d", run: nil)
        #expect(v1.created && v1.record.label == "d@1" && v1.record.rows == 3 && v1.record.columns == 2)
        #expect(v1.record.fingerprint == a.fingerprint())
        let again = try store.snapshot(a, name: "d", run: nil)
        #expect(!again.created && again.record == v1.record)
        #expect(try store.snapshot(b, name: "d", run: nil).record.version == 2)
        // Equal to an older version: a new version sharing its blob.
        let v3 = try store.snapshot(a, name: "d", run: nil).record
        #expect(v3.version == 3 && v3.blob == v1.record.blob)
        #expect(try store.snapshot("d").version == 3)
        #expect(try store.snapshot("d@latest").version == 3)
        #expect(try store.snapshot("d@2").rows == 1)
        let back = try store.table(of: try store.snapshot("d@1"))
        #expect(back.fingerprint() == a.fingerprint())
        #expect(throws: StoreError("unknown version 'd@4': dataset 'd' has versions 1, 2, 3 (and 'latest')")) { try store.snapshot("d@4") }
        #expect(throws: StoreError("unknown version 'd@x': dataset 'd' has versions 1, 2, 3 (and 'latest')")) { try store.snapshot("d@x") }
        #expect(throws: StoreError("no dataset named 'e' in the store (stored: d)")) { try store.snapshot("e") }
        #expect(throws: StoreError("dataset name 'a/b' must not contain '/'")) { try store.snapshot(a, name: "a/b", run: nil) }
        #expect(try store.snapshots().map(\.label) == ["d@1", "d@2", "d@3"])
    }

    @Test(arguments: StoreBackend.allCases) func concurrentSnapshotsGetDistinctVersions(_ backend: StoreBackend) async throws {
        let folder = try backend.newLocation()
        _ = try Store(folder: folder)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    let store = try Store(folder: folder)
                    for i in 0..<5 { _ = try store.snapshot(try self.table([Double(worker * 100 + i)]), name: "shared", run: nil) }
                }
            }
            try await group.waitForAll()
        }
        let versions = try Store(folder: folder).snapshots(name: "shared")
        #expect(versions.map(\.version) == Array(1...20))
        #expect(Set(versions.map(\.fingerprint)).count == 20)
    }

    @Test func fileHashesAreRememberedUntilTheFileChanges() throws {
        let folder = try temporaryFolder("fh")
        let store = try Store(folder: folder + "/.mlsh")
        let path = folder + "/data.csv"
        try "x\n1\n".write(toFile: path, atomically: true, encoding: .utf8)
        // An old file (its time tells changes apart) is remembered.
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, 0)
        let first = try store.fileHash(path: path)
        var h = SHA256()
        h.update(Array("x\n1\n".utf8))
        #expect(first == h.hexDigest())
        #expect(try store.fileHash(path: path) == first)
        // Same size, new content and time: hashed again.
        try "x\n2\n".write(toFile: path, atomically: false, encoding: .utf8)
        var h2 = SHA256()
        h2.update(Array("x\n2\n".utf8))
        #expect(try store.fileHash(path: path) == h2.hexDigest())
        #expect(throws: StoreError.self) { try store.fileHash(path: folder + "/missing.csv") }
        #expect(throws: StoreError("'\(folder)' is not a regular file")) { try store.fileHash(path: folder) }
    }

    @Test(arguments: StoreBackend.allCases) func stageEntriesAndTheirBlobsSurviveGC(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let (blob, _) = try store.putTable(try table([1, 2]))
        let snap = try store.snapshot(try table([5]), name: "kept", run: nil).record
        let entry = StageEntry(name: "s", script: "/x.mls", key: "k1", inputs: "{}", reads: "[]", value: "{}", bytes: 10,
                               seconds: 1.5, created: 1)
        let id = try store.saveStage(entry, blobs: [blob, blob])
        #expect(try store.stageEntries(key: "k1").map(\.id) == [id])
        #expect(try store.latestStage(name: "s", script: "/x.mls")?.seconds == 1.5)
        #expect(try store.latestStage(name: "s", script: nil) == nil)
        let orphan = try store.putArtifact(Array("orphan".utf8))
        let garbage = try store.collectGarbage(delete: true, minAge: 0)
        #expect(garbage.map(\.hash) == [orphan])
        #expect(try store.table(blob, label: "s").rowCount == 2)
        #expect(try store.table(of: snap).rowCount == 1)
    }
}
