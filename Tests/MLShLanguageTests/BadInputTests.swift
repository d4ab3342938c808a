import MLShLanguage
import Testing

/// Hostile input is an error with a position — never a crash, a hang or a stack overflow.
@Suite struct BadInputTests {
    /// What a failed run left: read on the evaluator's thread (an `MLShError` returned
    /// across `onLargeStack` was seen corrupted in debug test builds).
    struct Failure: Sendable {
        let kind: String, message: String, span: Span?, incomplete: Bool
        init(_ e: MLShError) { kind = e.kind.rawValue; message = e.message; span = e.span; incomplete = e.incomplete }
    }

    /// Runs source on the evaluator's large stack; returns the error, if any.
    func run(_ bytes: [UInt8]) -> Failure? {
        Interpreter.onLargeStack {
            let interp = Interpreter()
            interp.output = { _ in }
            interp.display = { _ in }
            do throws(MLShError) {
                try interp.run(SourceFile(name: "bad.mls", bytes: bytes))
                return nil
            } catch { return Failure(error) }
        }
    }
    func run(_ text: String) -> Failure? { run(Array(text.utf8)) }

    @Test func deepNestingIsAnError() throws {
        let e = try #require(run(String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)))
        #expect(e.message == "nesting too deep (more than 200 levels)")
        #expect(e.span != nil)
        let lists = try #require(run("let x = " + String(repeating: "[", count: 5_000) + String(repeating: "]", count: 5_000)))
        #expect(lists.message.hasPrefix("nesting too deep"))
        let blocks = try #require(run(String(repeating: "if true { ", count: 1_000) + String(repeating: "}", count: 1_000)))
        #expect(blocks.message.hasPrefix("nesting too deep"))
    }

    @Test func longOperatorChainIsAnError() throws {
        let e = try #require(run("let x = 1" + String(repeating: " + 1", count: 20_000)))
        #expect(e.message.hasPrefix("expression too long"))
        #expect(run("let x = 1" + String(repeating: " + 1", count: 5_000) + "\nassert x == 5001") == nil)
    }

    @Test func invalidUTF8GivesItsByteOffset() throws {
        let e = try #require(run(Array("let x = \"a".utf8) + [0xFF, 0x22]))
        #expect(e.message == "invalid UTF-8 at byte offset 10")
        let overlong = try #require(run([0x6C, 0xC0, 0xAF]))
        #expect(overlong.message == "invalid UTF-8 at byte offset 1")
        let truncated = try #require(run([0x31, 0xE2, 0x82]))
        #expect(truncated.message == "invalid UTF-8 at byte offset 1")
    }

    @Test func nulByteIsAnError() throws {
        let e = try #require(run(Array("let x = 1".utf8) + [0] + Array("\n".utf8)))
        #expect(e.message == "NUL byte at byte offset 9")
    }

    @Test func hugeLiteralIsAnError() throws {
        let e = try #require(run("let x = " + String(repeating: "9", count: 5_000)))
        #expect(e.message.hasPrefix("integer literal does not fit in 64 bits"))
        let f = try #require(run("let x = 1." + String(repeating: "9", count: 5_000)))
        #expect(f.message.hasPrefix("invalid float literal"))
        #expect(run("assert 1e400 == inf") == nil)
    }

    @Test func unterminatedStringAndBlockAreIncomplete() throws {
        let s = try #require(run("let s = \"abc\nprint(s)"))
        #expect(s.incomplete)
        let b = try #require(run("fn f() {\n  1\n"))
        #expect(b.incomplete)
        #expect(b.message == "'{' is never closed: expected '}' to close the block")
        let interp = try #require(run("\"a {1 + \""))
        #expect(interp.incomplete)
    }

    @Test func deepRecursionIsAnError() throws {
        let e = try #require(run("fn f(n) => f(n + 1)\nf(0)"))
        #expect(e.kind == "recursion error")
    }

    @Test func longListLineRuns() {
        let n = 200_000
        let source = "let xs = [" + (0..<n).map(String.init).joined(separator: ",") + "]\nassert len(xs) == \(n)\nassert xs[-1] == \(n - 1)"
        #expect(source.utf8.count > 1_000_000)
        #expect(run(source) == nil)
    }

    @Test func randomBytesNeverCrash() {
        var rng = SplitMix(seed: 42)
        let alphabet = Array("()[]{}$\"\\r`#%^+-*/=<>!|.,;:0123456789eE_abcxyz \n\tletfnifor".utf8)
        for _ in 0..<300 {
            let len = Int(rng.next() % 200)
            let bytes = (0..<len).map { _ in
                rng.next() % 10 == 0 ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            _ = parse(SourceFile(name: "fuzz", bytes: bytes))
        }
    }
}

/// A tiny seeded generator for test inputs.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
