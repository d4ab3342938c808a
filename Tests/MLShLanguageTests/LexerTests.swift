import Testing
@testable import MLShLanguage

/// The lexer alone: each token's kind and the exact bytes its span covers.
@Suite struct LexerTests {
    /// `kind@text` for each token, `text` being the source its span covers.
    func lex(_ text: String) throws -> [String] {
        let file = SourceFile(name: "t.mls", text: text)
        return try Lexer.tokenize(file).map { t in "\(describe(t.kind))@\(file.text(t.span))" }
    }

    func describe(_ k: TokenKind) -> String {
        switch k {
        case .identifier(let n): return "id(\(n))"
        case .keyword(let k): return "kw(\(k.rawValue))"
        case .int(let i): return "int(\(i))"
        case .float(let d): return "float(\(d))"
        case .string(let parts):
            return "str(" + parts.map { p in
                switch p {
                case .text(let s): return s
                case .code(let a, let b): return "{\(a)..<\(b)}"
                }
            }.joined(separator: "|") + ")"
        case .column(let c): return "col(\(c))"
        case .symbol(let s): return s.rawValue
        case .newline: return "nl"
        case .eof: return "eof"
        }
    }

    func failure(_ text: String) -> MLShError? {
        do throws(MLShError) { _ = try Lexer.tokenize(SourceFile(name: "t.mls", text: text)); return nil } catch { return error }
    }

    @Test func tokensCarryTheirSpans() throws {
        #expect(try lex("let x = 12 + 3.5e2") == [
            "kw(let)@let", "id(x)@x", "=@=", "int(12)@12", "+@+", "float(350.0)@3.5e2", "eof@",
        ])
        #expect(try lex("$a >= $`odd name` |> f") == [
            "col(a)@$a", ">=@>=", "col(odd name)@$`odd name`", "|>@|>", "id(f)@f", "eof@",
        ])
        #expect(try lex("a >> b != c <= d => e") == ["id(a)@a", ">>@>>", "id(b)@b", "!=@!=", "id(c)@c", "<=@<=", "id(d)@d", "=>@=>", "id(e)@e", "eof@"])
    }

    @Test func everySymbolAndKeywordLexesAsItself() throws {
        for s in Symbol.allCases {
            #expect(try lex("a " + s.rawValue + " b") == ["id(a)@a", "\(s.rawValue)@\(s.rawValue)", "id(b)@b", "eof@"], "\(s)")
        }
        for k in Keyword.allCases {
            #expect(try lex(k.rawValue) == ["kw(\(k.rawValue))@\(k.rawValue)", "eof@"])
        }
    }

    @Test func stringsKeepTextAndInterpolationRanges() throws {
        #expect(try lex(#""a\n{x + 1}b""#) == ["str(a\n|{5..<10}|b)@\"a\\n{x + 1}b\"", "eof@"])
        let file = SourceFile(name: "t.mls", text: #"print("hi {name}!")"#)
        let tokens = try Lexer.tokenize(file)
        guard case .string(let parts) = tokens[2].kind else { Issue.record("not a string: \(tokens[2].kind)"); return }
        #expect(parts.count == 3)
        #expect(parts.first == .text("hi "))
        #expect(parts.last == .text("!"))
        if case .code(let a, let b) = parts[1] { #expect(file.text(Span(file: file, start: a, end: b)) == "name") }
        else { Issue.record("no code part: \(parts)") }
        #expect(file.text(tokens[2].span) == #""hi {name}!""#)
    }

    @Test func newlinesCollapseAndContinuationLinesJoin() throws {
        #expect(try lex("a\n\n\nb").map { $0.hasPrefix("nl") ? "nl" : $0 } == ["id(a)@a", "nl", "id(b)@b", "eof@"])
        // A line starting with |>, >> or . continues the statement: no newline token.
        #expect(try lex("t\n  |> f\n  .x") == ["id(t)@t", "|>@|>", "id(f)@f", ".@.", "id(x)@x", "eof@"])
        #expect(try lex("# a comment\nx # another") == ["id(x)@x", "eof@"])
    }

    @Test func badInputIsAnErrorAtItsPosition() throws {
        let cases: [(String, String, String)] = [
            ("x = 1 @ 2", "unexpected character '@'", "@"),
            ("\"abc", "unterminated string", "\""),
            ("$`abc", "unterminated column name: expected '`'", "$`abc"),
            ("$ x", "expected a column name after '$'", "$"),
            ("$``", "empty column name", "$``"),
        ]
        for (src, message, culprit) in cases {
            let e = try #require(failure(src), "\(src)")
            #expect(e.message.hasPrefix(message), "\(src): \(e.message)")
            let span = try #require(e.span)
            #expect(span.file.text(span) == culprit, "\(src): caret under '\(span.file.text(span))'")
        }
        let nul = try #require(failure("a\u{0}b"))
        #expect(nul.message == "NUL byte at byte offset 1")
    }
}
