import Foundation
import Testing
import TestSupport
@testable import MLShStore

/// `collectGarbage`: only unreferenced, untouched-for-a-while artifact files go.
@Suite struct GarbageTests {
    func backdate(_ path: String, by seconds: Double) throws {
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-seconds)], ofItemAtPath: path)
    }

    /// In a folder store's `artifacts/`, and in a PostgreSQL store's artifacts folder.
    @Test(arguments: [StoreBackend.sqlite, .postgresFolder]) func keepsReferencedRecentAndReusedArtifacts(_ backend: StoreBackend) throws {
        let store = try backend.newStore()
        let exp = try store.experiment("g")
        let run = try store.startRun(experiment: exp, name: nil, params: [], script: nil, scriptHash: nil, mlshVersion: "t")
        let byRun = try store.putArtifact([1, 2, 3])
        try store.attach(run: run, name: "model", hash: byRun, kind: "model", size: 3)
        let byRegistry = try store.putArtifact([4, 5])
        _ = try store.register(name: "m", artifact: byRegistry, run: nil)
        let orphan = try store.putArtifact([6, 6, 6, 6])
        let reused = try store.putArtifact([7])
        for h in [byRun, byRegistry, orphan, reused] { try backdate(store.artifactPath(h), by: 7200) }
        // Storing the same bytes again refreshes the file, so gc keeps it a while.
        #expect(try store.putArtifact([7]) == reused)

        let dry = try store.collectGarbage(delete: false, minAge: 3600)
        #expect(dry == [GarbageArtifact(hash: orphan, bytes: 4)])
        #expect(FileManager.default.fileExists(atPath: store.artifactPath(orphan)))
        let removed = try store.collectGarbage(delete: true, minAge: 3600)
        #expect(removed == dry)
        #expect(!FileManager.default.fileExists(atPath: store.artifactPath(orphan)))
        for h in [byRun, byRegistry, reused] { #expect(FileManager.default.fileExists(atPath: store.artifactPath(h))) }
        #expect(try store.artifact(byRun) == [1, 2, 3])
        // With no grace, the unreferenced reused one goes too; referenced ones never do.
        #expect(try store.collectGarbage(delete: true, minAge: 0) == [GarbageArtifact(hash: reused, bytes: 1)])
        #expect(try store.artifact(byRegistry) == [4, 5])
        #expect(try store.collectGarbage(delete: true, minAge: 0).isEmpty)
    }

    /// In a PostgreSQL store's `blobs`: storing the same bytes again renews the blob's time,
    /// so gc keeps it while the new reference is being recorded, as it keeps a touched file.
    @Test func aReusedDatabaseBlobIsKeptAWhile() throws {
        let store = try StoreBackend.postgres.newStore()
        let reused = try store.putArtifact([7, 7])
        let orphan = try store.putArtifact([8])
        try store.db.write { db in try db.execute(sql: "UPDATE blob_sizes SET created = created - 7200") }
        #expect(try store.putArtifact([7, 7]) == reused)
        #expect(try store.collectGarbage(delete: true, minAge: 3600) == [GarbageArtifact(hash: orphan, bytes: 1)])
        #expect(try store.artifact(reused) == [7, 7])
    }
}
