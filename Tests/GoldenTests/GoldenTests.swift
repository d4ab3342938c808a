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
            let first = e.render().components(separatedBy: "\n")[0]
            #expect(first == expectedError.text)
            let line = e.span.map { $0.file.location(of: $0.start).line }
            #expect(line == expectedError.line, "error line in \(script)")
        } else {
            #expect(error == nil, "\(script) failed: \(error?.render() ?? "")")
        }
    }

    @Test func foundScripts() {
        #expect(GoldenScript.all(in: Self.folder).count >= 10)
    }
}
