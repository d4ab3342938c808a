import Foundation
import MLShLanguage
import Testing
import TestSupport

/// Runs every script under `scripts/` through the real evaluator and compares its whole
/// output (and its error, if it expects one) with the script's `# expect:` lines.
@Suite struct GoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts").path

    @Test(arguments: GoldenScript.all(in: folder))
    func script(_ script: GoldenScript) async throws {
        let (expected, expectedError) = try script.expectations()
        let (output, error) = await Self.offPool { script.run() }
        #expect(output == expected, "output of \(script)")
        if let expectedError {
            let e = try #require(error, "\(script) should stop with: \(expectedError.text)")
            #expect(e.firstLine == expectedError.text)
            #expect(e.line == expectedError.line, "error line in \(script)")
        } else {
            #expect(error == nil, "\(script) failed: \(error?.rendered ?? "")")
        }
    }

    /// The scripts on a fresh store (`use_store()`) under store/ and pipelines/, again on a
    /// PostgreSQL store: each `use_store()` opens a new database of the test process's
    /// cluster instead of a temporary folder. The same output is expected. (nostore.mls is
    /// about a folder that reading does not create: a database is there already.)
    static var onFreshStores: [GoldenScript] {
        ["store", "pipelines"].flatMap { GoldenScript.all(in: folder + "/" + $0) }.filter { script in
            script.description != "nostore.mls"
                && (try? String(contentsOfFile: script.path, encoding: .utf8))?.contains("use_store()") == true
        }
    }

    /// Also with an artifacts folder (`use_store(URL, artifacts=PATH)`): models, snapshots
    /// and stage values are files in it rather than rows of the database.
    @Test(arguments: onFreshStores, [false, true])
    func scriptOnPostgres(_ script: GoldenScript, artifactsFolder: Bool) async throws {
        let cluster: PostgresCluster
        switch PostgresCluster.shared {
        case .success(let c): cluster = c
        case .failure(let e): throw e
        }
        let (expected, expectedError) = try script.expectations()
        // The artifacts folders, one per store, under one folder removed afterwards.
        let root = artifactsFolder ? try temporaryFolder("golden-artifacts") : nil
        defer { if let root { try? FileManager.default.removeItem(atPath: root) } }
        let rewrite: @Sendable (String) -> String = { text in
            var out = text
            while let r = out.range(of: "use_store()") {
                let url = (try? cluster.database("golden")) ?? "postgres://unavailable/"
                let folder = root.map { $0 + "/" + UUID().uuidString }
                if let folder { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                out.replaceSubrange(r, with: "use_store(\"\(url)\"" + (folder.map { ", artifacts=\"\($0)\"" } ?? "") + ")")
            }
            return out
        }
        let (output, error) = await Self.offPool { script.run(rewrite: rewrite) }
        let place = artifactsFolder ? "PostgreSQL with an artifacts folder" : "PostgreSQL"
        #expect(output == expected, "output of \(script) on \(place)")
        if let expectedError {
            let e = try #require(error, "\(script) should stop with: \(expectedError.text)")
            #expect(e.firstLine == expectedError.text)
        } else {
            #expect(error == nil, "\(script) failed on \(place): \(error?.rendered ?? "")")
        }
    }

    /// Runs a script on its own thread, not on one of Swift concurrency's pool threads (one
    /// per core): a script that deploys a server and calls it waits on that server, which
    /// needs a pool thread to answer, so scripts blocking every pool thread would hang.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
            Thread { c.resume(returning: body()) }.start()
        }
    }

    @Test func foundScripts() {
        #expect(GoldenScript.all(in: Self.folder).count >= 10)
    }
}
