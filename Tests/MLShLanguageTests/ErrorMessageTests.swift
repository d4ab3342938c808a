import MLShLanguage
import Testing

/// Exact diagnostics, rendered as users see them (kind, position, line, caret).
@Suite struct ErrorMessageTests {
    func diagnostic(_ source: String) -> String? {
        let interp = Interpreter()
        interp.output = { _ in }
        do throws(MLShError) {
            try interp.run(SourceFile(name: "t.mls", text: source))
            return nil
        } catch { return error.render() }
    }

    static let table: [(String, String)] = [
        ("let petal_length = 1\npetal_lenght", """
        name error: unknown name 'petal_lenght' (did you mean 'petal_length'?)
          --> t.mls:2:1
           |
         2 | petal_lenght
           | ^^^^^^^^^^^^
        """),
        ("f(1, 2", """
        syntax error: '(' is never closed: expected ')' to close the arguments
          --> t.mls:1:2
           |
         1 | f(1, 2
           |  ^
        """),
        ("print(1 < 2 < 3)", """
        syntax error: comparisons do not chain: write 'a < b and b < c'
          --> t.mls:1:13
           |
         1 | print(1 < 2 < 3)
           |             ^
        """),
        ("range(3, foo=2)", """
        type error: unknown argument 'foo' for range (accepted: start, stop, step)
          --> t.mls:1:10
           |
         1 | range(3, foo=2)
           |          ^^^^^
        """),
        ("range(3, stpe=2)", """
        type error: unknown argument 'stpe' for range (accepted: start, stop, step); did you mean 'step'?
          --> t.mls:1:10
           |
         1 | range(3, stpe=2)
           |          ^^^^^^
        """),
        ("range(1, 2, 3, 4)", """
        type error: range takes at most 3 arguments (got 4); usage: range(start, stop=none, step=1)
          --> t.mls:1:16
           |
         1 | range(1, 2, 3, 4)
           |                ^
        """),
        ("fn f(a) => a\nf(a=1, a=2)", """
        type error: argument 'a' given twice
          --> t.mls:2:8
           |
         2 | f(a=1, a=2)
           |        ^
        """),
        ("let x = [1, 2]\nx[2]", """
        index error: index 2 out of range for a list of 2
          --> t.mls:2:1
           |
         2 | x[2]
           | ^^^^
        """),
        ("{a: 1}.b", """
        key error: record has no field 'b'
          --> t.mls:1:1
           |
         1 | {a: 1}.b
           | ^^^^^^^^
        """),
        ("let s = \"abc", """
        syntax error: unterminated string: expected '"'
          --> t.mls:1:9
           |
         1 | let s = "abc
           |         ^
        """),
        ("x = 1", """
        name error: cannot assign to 'x': it is not defined (use 'let x = ...')
          --> t.mls:1:1
           |
         1 | x = 1
           | ^^^^^
        """),
        ("break", """
        syntax error: 'break' outside a loop
          --> t.mls:1:1
           |
         1 | break
           | ^^^^^
        """),
        ("if 1 { 2 }", """
        type error: the if condition must be true or false, got int 1
          --> t.mls:1:4
           |
         1 | if 1 { 2 }
           |    ^
        """),
        ("let a = 1 let b = 2", """
        syntax error: expected end of line or ';' after statement, found 'let'
          --> t.mls:1:11
           |
         1 | let a = 1 let b = 2
           |           ^^^
        """),
        ("let x = 12abc", """
        syntax error: invalid number literal '12abc'
          --> t.mls:1:9
           |
         1 | let x = 12abc
           |         ^^^^^
        """),
        ("\"bad \\q escape\"", """
        syntax error: unknown escape '\\q' (expected one of \\n \\t \\r \\\\ \\" \\{ \\} \\u{...})
          --> t.mls:1:6
           |
         1 | "bad \\q escape"
           |      ^^
        """),
        ("let [a, b] = [1, 2, 3]", """
        value error: cannot destructure a list of 3 into 2 names
          --> t.mls:1:5
           |
         1 | let [a, b] = [1, 2, 3]
           |     ^^^^^^
        """),
        ("fn f() => 1\nf(2)", """
        type error: f takes 0 arguments, got 1
          --> t.mls:2:1
           |
         2 | f(2)
           | ^^^^
        """),
    ]

    @Test(arguments: 0..<table.count)
    func message(_ i: Int) {
        let (source, expected) = Self.table[i]
        #expect(diagnostic(source) == expected)
    }

    @Test func severalSyntaxErrorsReportedOnceEach() {
        let text = diagnostic("let a = )\nlet b = 1\nlet c = (]\n") ?? ""
        #expect(text.components(separatedBy: "syntax error:").count - 1 == 2)
        #expect(text.contains("t.mls:1:9"))
        #expect(text.contains("t.mls:3:"))
    }
}
