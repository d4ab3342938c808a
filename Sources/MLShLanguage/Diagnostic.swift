/// What kind of error an `MLShError` is; the raw value is the text printed before the message.
public enum ErrorKind: String, Sendable, CaseIterable, CustomStringConvertible {
    case error
    case syntax = "syntax error"
    case type = "type error"
    case value = "value error"
    case name = "name error"
    case key = "key error"
    case index = "index error"
    case `import` = "import error"
    case recursion = "recursion error"
    case overflow = "overflow error"
    /// Evaluation stopped by Ctrl-C: `try` and runs pass it on rather than catching it.
    case interrupted
    case assertion = "assertion failed"
    case expectation = "expectation failed"
    case data = "data error"
    case io = "io error"
    case model = "model error"
    case store = "store error"
    case serve = "serve error"
    case usage = "usage error"

    /// The printed text, also in string interpolation.
    public var description: String { rawValue }
}

/// An error with its kind, message and (once known) the source span it concerns.
///
/// Errors raised below the evaluator have no span; the evaluator attaches the span of
/// the node it was evaluating (`located(at:)`), the first attachment wins.
public struct MLShError: Error, Sendable, CustomStringConvertible {
    /// The kind of error, printed first: `error`, `syntax error`, `type error`, ...
    public var kind: ErrorKind
    /// What went wrong, saying what was expected where it helps.
    public var message: String
    /// Where it happened, when known.
    public var span: Span?
    /// True when a parse failed only because the input ended early (the prompt then
    /// continues the line instead of reporting).
    public var incomplete: Bool
    /// The exit code `mlsh run` uses for this error.
    public var exitCode: Int32
    /// A column name the error is about; the call that raised it points the caret at
    /// the `$name` reference among its arguments, when there is one.
    public var culprit: String?
    /// The argument the error is about; the call that raised it points the caret at it.
    public var argument: ArgumentReference?

    /// An argument of a call: one given by name, or the n-th (from 0) given by position
    /// (a piped value is the first).
    public enum ArgumentReference: Sendable, Equatable {
        case named(String)
        case position(Int)
    }

    /// This error about argument `argument` of the call that raises it.
    public func about(_ argument: ArgumentReference) -> MLShError {
        var e = self
        e.argument = argument
        return e
    }

    /// Makes an error without position.
    public init(_ kind: ErrorKind = .error, _ message: String, span: Span? = nil,
                incomplete: Bool = false, exitCode: Int32 = 1) {
        self.kind = kind; self.message = message; self.span = span
        self.incomplete = incomplete; self.exitCode = exitCode
    }

    /// A type error.
    public static func type(_ message: String) -> MLShError { MLShError(.type, message) }
    /// A value error (right type, wrong value).
    public static func value(_ message: String) -> MLShError { MLShError(.value, message) }

    /// This error with `span` attached unless it already has one.
    public func located(at span: Span) -> MLShError {
        if self.span != nil { return self }
        var e = self; e.span = span; return e
    }

    public var description: String { render() }

    /// The diagnostic as printed: kind and message, `--> file:line:col`, the source
    /// line and a caret under the culprit.
    public func render() -> String {
        var out = "\(kind.rawValue): \(message)"
        guard let span else { return out }
        let file = span.file
        let (line, col) = file.location(of: span.start)
        out += "\n  --> \(file.name):\(line):\(col)"
        let text = file.lineText(line)
        let gutter = String(line)
        let pad = String(repeating: " ", count: gutter.count + 2)
        // Caret width: the span's characters on this line, at least one.
        let (endLine, endCol) = file.location(of: span.end)
        let chars = Array(text)
        var width = endLine == line ? max(1, endCol - col) : max(1, chars.count - col + 1)
        // Long lines show a window around the culprit.
        var from = 0, caretAt = col - 1
        var prefix = "", suffix = ""
        let window = 100
        if chars.count > window {
            from = max(0, min(col - 1 - 30, chars.count - window))
            caretAt = col - 1 - from
            if from > 0 { prefix = "…"; caretAt += 1 }
            if from + window < chars.count { suffix = "…" }
            width = min(width, window - (col - 1 - from))
        }
        let shown = prefix + String(chars[min(from, chars.count)..<min(from + window, chars.count)]) + suffix
        out += "\n\(pad)|\n \(gutter) | \(shown)\n\(pad)| "
        out += String(repeating: " ", count: max(0, caretAt)) + String(repeating: "^", count: max(1, width))
        return out
    }
}
