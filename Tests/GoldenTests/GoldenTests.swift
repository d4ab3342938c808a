import Foundation
import MLShLanguage
import Testing
import TestSupport

/// Runs every script under `scripts/` through the real evaluator and compares its whole
/// output (and its error, if it expects one) with the script's `# expect:` lines.
@Suite struct GoldenTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("scripts").path

    @Test(arguments: GoldenScript.all(in: folder))
    func script(_ script: GoldenScript) throws {
        let (expected, expectedError) = try script.expectations()
        let (output, error) = script.run()
        #expect(output == expected, "output of \(script)")
        if let expectedError {
            let e = try #require(error, "\(script) should stop with: \(expectedError.text)")
            #expect(e.firstLine == expectedError.text)
            #expect(e.line == expectedError.line, "error line in \(script)")
        } else {
            #expect(error == nil, "\(script) failed: \(error?.rendered ?? "")")
        }
    }

    @Test func foundScripts() {
        #expect(GoldenScript.all(in: Self.folder).count >= 10)
    }
}
