/// The kinds of tokens.
public enum TokenKind: Equatable, Sendable {
    case identifier(String)
    case keyword(Keyword)
    case int(Int64)
    case float(Double)
    /// A string literal: literal text and interpolated code spans, in order.
    case string([StringPart])
    /// `$name` or `` $`odd name` ``.
    case column(String)
    case symbol(Symbol)
    case newline
    case eof
}

/// Part of a string literal.
public enum StringPart: Equatable, Sendable {
    case text(String)
    /// The byte range of an interpolated `{expr}` (without the braces).
    case code(start: Int, end: Int)
}

/// Reserved words.
public enum Keyword: String, CaseIterable, Sendable {
    case `let`, fn, `if`, `else`, `for`, `in`, `while`, `return`, `break`, `continue`,
         with, assert, `import`, `true`, `false`, none, and, or, not
}

/// Punctuation and operators.
public enum Symbol: String, CaseIterable, Sendable {
    case lparen = "(", rparen = ")", lbracket = "[", rbracket = "]", lbrace = "{", rbrace = "}"
    case comma = ",", semicolon = ";", colon = ":", dot = ".", arrow = "=>", pipe = "|>",
         compose = ">>", eq = "==", ne = "!=", le = "<=", ge = ">=", lt = "<", gt = ">",
         plus = "+", minus = "-", star = "*", slash = "/", percent = "%", caret = "^",
         assign = "="
}

/// A token with its source span.
public struct Token: Sendable {
    /// What the token is.
    public let kind: TokenKind
    /// Where it is.
    public let span: Span
}
