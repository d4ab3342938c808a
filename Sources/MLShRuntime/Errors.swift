import MLShEngine
import MLShModels
import MLShLanguage

/// Domain errors are typed and positionless; these turn them into language errors,
/// whose span the evaluator attaches (at the `$column` named, when there is one).
extension EngineError {
    /// The error as the language reports it.
    var language: MLShError {
        switch self {
        case .unknownColumn(let name, _, _):
            var e = MLShError("error", message)
            e.culprit = name
            return e
        case .duplicateColumn, .lengthMismatch, .invalidArgument: return MLShError.value(message)
        case .typeMismatch: return MLShError.type(message)
        case .malformedFile: return MLShError("data error", message)
        case .io: return MLShError("io error", message)
        case .expectationFailed(let failures): return MLShError("expectation failed", failures.joined(separator: "; "))
        }
    }
}

/// Runs engine work, reporting its errors in the language's terms.
@inline(__always)
func engine<T>(_ body: () throws(EngineError) -> T) throws(MLShError) -> T {
    do { return try body() } catch { throw error.language }
}

extension ModelError {
    /// The error as the language reports it.
    var language: MLShError { MLShError("model error", message) }
}

/// Runs model work, reporting its errors in the language's terms.
@inline(__always)
func modeling<T>(_ body: () throws(ModelError) -> T) throws(MLShError) -> T {
    do { return try body() } catch { throw error.language }
}
