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
