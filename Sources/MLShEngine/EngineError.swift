/// Errors raised by the engine. They carry no source position: the runtime attaches
/// the span of the expression being evaluated.
public enum EngineError: Error, Sendable, Equatable {
    /// A column name that the table does not have.
    case unknownColumn(String, table: String?, suggestion: String?)
    /// Two columns with one name.
    case duplicateColumn(String)
    /// A column whose length differs from the table's.
    case lengthMismatch(column: String, expected: Int, actual: Int)
    /// An operation applied to a type it does not accept.
    case typeMismatch(String)
    /// A bad argument value.
    case invalidArgument(String)
    /// A malformed input file, with its 1-based line and column.
    case malformedFile(path: String, line: Int, column: Int, message: String)
    /// A malformed binary file (such as Parquet), with the byte offset where it goes wrong.
    case malformedData(path: String, offset: Int, message: String)
    /// A well-formed file that uses a feature mlsh does not read.
    case unsupportedFile(path: String, message: String)
    /// A file that cannot be read or written.
    case io(path: String, message: String)
    /// A failed data-quality expectation (one message per failed check).
    case expectationFailed([String])

    /// The message shown to the user.
    public var message: String {
        switch self {
        case .unknownColumn(let n, let t, let s):
            var m = "unknown column $\(n)"
            if let t { m += " in table \(t)" }
            if let s { m += " (did you mean $\(s)?)" }
            return m
        case .duplicateColumn(let n): return "duplicate column name '\(n)'"
        case .lengthMismatch(let c, let e, let a):
            return "column '\(c)' has \(a) values, expected \(e)"
        case .typeMismatch(let m), .invalidArgument(let m): return m
        case .malformedFile(let p, let l, let c, let m): return "\(p):\(l):\(c): \(m)"
        case .malformedData(let p, let o, let m): return "\(p): at byte \(o): \(m)"
        case .unsupportedFile(let p, let m): return "\(p): \(m)"
        case .io(let p, let m): return "\(p): \(m)"
        case .expectationFailed(let ms): return "expectation failed: " + ms.joined(separator: "; ")
        }
    }
}
