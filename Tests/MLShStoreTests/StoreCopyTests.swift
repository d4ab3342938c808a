import Foundation
import Testing
import TestSupport
@testable import MLShStore

/// `copyVersion` (the store a container image carries) and stores opened read-only.
@Suite struct StoreCopyTests {
    @Test func aCopyHoldsOneVersionIsTheSameEachTimeAndOpensReadOnlyWithoutWriting() throws {
        let dir = try temporaryFolder("storecopy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try Store(folder: dir + "/store")
        let hash = try store.putModel(try smallModel(), mlshVersion: "t")
        _ = try store.register(name: "m", artifact: hash, run: nil)
        let v2 = try store.register(name: "m", artifact: hash, run: nil)
        try store.setAlias(name: "m", version: 2, alias: "production")

        let copied = try store.copyVersion("m@production", into: dir + "/a")
        #expect(copied.label == "m@2" && copied.aliases == ["production"] && copied.created == v2.created)
        _ = try store.copyVersion("m@2", into: dir + "/b")
        for file in ["store.sqlite", "artifacts/" + hash] {
            #expect(FileManager.default.contents(atPath: dir + "/a/" + file) == FileManager.default.contents(atPath: dir + "/b/" + file), "\(file)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a").sorted() == ["artifacts", "store.sqlite"])
        #expect(throws: StoreError("\(dir)/a already exists; a store copy goes into a new folder")) {
            try store.copyVersion("m@2", into: dir + "/a")
        }

        let readOnly = try Store(folder: dir + "/a", readOnly: true)
        #expect(try readOnly.versions().map(\.label) == ["m@2"])
        #expect(try readOnly.resolve("m@production").version == 2)
        _ = try readOnly.model(hash)
        #expect(throws: StoreError.self) { try readOnly.register(name: "m", artifact: hash, run: nil) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir + "/a").sorted() == ["artifacts", "store.sqlite"])
        #expect(throws: StoreError.self) { try Store(folder: dir + "/missing", readOnly: true) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/missing"))
    }
}
