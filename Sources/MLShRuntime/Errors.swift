import MLShEngine
import MLShLanguage
import MLShModels
import MLShMonitor
import MLShServe
import MLShStore

/// The one bridge from domain errors to language errors. Engine, Models, Store, Serve
/// and Drift errors are typed and positionless; each becomes an `MLShError` here, and
/// the evaluator attaches its span (at the `$column` named, when there is one).
extension EngineError {
    /// The error as the language reports it.
    var language: MLShError {
        switch self {
        case .unknownColumn(let name, _, _):
            var e = MLShError(.error, message)
            e.culprit = name
            return e
        case .duplicateColumn, .lengthMismatch, .invalidArgument: return MLShError.value(message)
        case .typeMismatch: return MLShError.type(message)
        case .malformedFile, .malformedData, .unsupportedFile: return MLShError(.data, message)
        case .io: return MLShError(.io, message)
        case .expectationFailed(let failures): return MLShError(.expectation, failures.joined(separator: "; "))
        }
    }
}

extension ModelError {
    /// The error as the language reports it.
    var language: MLShError { MLShError(.model, message) }
}

extension StoreError {
    /// The error as the language reports it.
    var language: MLShError { MLShError(.store, message) }
}

extension ServeError {
    /// The error as the language reports it.
    var language: MLShError { MLShError(.serve, message) }
}

extension DriftError {
    /// The error as the language reports it: a column of mismatched types is a type error.
    var language: MLShError {
        if case .incompatibleColumn = self { return MLShError.type(message) }
        return MLShError.value(message)
    }
}

/// A domain error with its language form.
protocol LanguageError: Error {
    /// The error as the language reports it.
    var language: MLShError { get }
}

extension EngineError: LanguageError {}
extension ModelError: LanguageError {}
extension StoreError: LanguageError {}
extension ServeError: LanguageError {}
extension DriftError: LanguageError {}

/// Runs domain work, reporting its errors in the language's terms.
@inline(__always)
func bridged<T, E: LanguageError>(_ body: () throws(E) -> T) throws(MLShError) -> T {
    do { return try body() } catch { throw error.language }
}

/// Engine work (`bridged` for `EngineError`), and the same for the other domains below.
@inline(__always)
func engine<T>(_ body: () throws(EngineError) -> T) throws(MLShError) -> T { try bridged(body) }

@inline(__always)
func modeling<T>(_ body: () throws(ModelError) -> T) throws(MLShError) -> T { try bridged(body) }

@inline(__always)
func storing<T>(_ body: () throws(StoreError) -> T) throws(MLShError) -> T { try bridged(body) }

@inline(__always)
func serving<T>(_ body: () throws(ServeError) -> T) throws(MLShError) -> T { try bridged(body) }
