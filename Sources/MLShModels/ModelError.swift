import MLShEngine

/// Errors raised while building specs, fitting, predicting or scoring models. They carry
/// no source position: the runtime attaches the span of the expression being evaluated.
public enum ModelError: Error, Sendable, Equatable {
    /// A model or transform name that does not exist.
    case unknownKind(String, accepted: [String], suggestion: String?)
    /// A setting the model or transform does not have.
    case unknownSetting(kind: String, name: String, accepted: [String], suggestion: String?)
    /// A setting given a value of the wrong type.
    case wrongSettingType(kind: String, name: String, expected: String, actual: String)
    /// A setting whose value is out of range.
    case invalidSetting(kind: String, name: String, reason: String)
    /// A feature column with missing values where the model needs every value.
    case missingValues(column: String, count: Int)
    /// A classification target with a single class.
    case oneClass(target: String, label: String)
    /// A table with no rows given to `fit`.
    case emptyTable
    /// A string feature reaching a model without being encoded.
    case stringFeature(column: String)
    /// A column the model was trained with is absent.
    case missingColumn(String, suggestion: String?)
    /// A column whose type differs from the one the model was trained on.
    case wrongColumnType(column: String, expected: String, actual: String)
    /// `k` (neighbours or clusters) larger than the number of rows.
    case kTooLarge(kind: String, k: Int, rows: Int)
    /// A pipeline with a step after the model.
    case modelNotLast
    /// A pipeline with no model at its end.
    case noModel
    /// A category `onehot(unknown="error")` did not see in training (`row` 0-based).
    case unknownCategory(column: String, value: String, row: Int, known: [String])
    /// Any other invalid use, with its message.
    case invalid(String)
    /// An error raised by the engine.
    case engine(EngineError)

    /// The message shown to the user.
    public var message: String {
        switch self {
        case .unknownKind(let k, let accepted, let s):
            var m = "unknown model or transform '\(k)'"
            if let s { m += " (did you mean '\(s)'?)" }
            return m + "; accepted: " + accepted.joined(separator: ", ")
        case .unknownSetting(let kind, let name, let accepted, let s):
            var m = "\(kind)() has no setting '\(name)'"
            if let s { m += " (did you mean '\(s)'?)" }
            return m + "; accepted: " + (accepted.isEmpty ? "none" : accepted.joined(separator: ", "))
        case .wrongSettingType(let kind, let name, let expected, let actual):
            return "\(kind)(\(name)=...) expects \(expected), got \(actual)"
        case .invalidSetting(let kind, let name, let reason):
            return "\(kind)(\(name)=...) \(reason)"
        case .missingValues(let c, let n):
            return "column \(c) has \(n) missing value\(n == 1 ? "" : "s"); add impute() before the model"
        case .oneClass(let t, let l):
            return "target column \(t) has only one class ('\(l)'); a classifier needs at least two"
        case .emptyTable:
            return "the training table has no rows"
        case .stringFeature(let c):
            return "feature column \(c) is a string; add onehot($\(c)) before the model or leave it out of features"
        case .missingColumn(let c, let s):
            var m = "the model was trained with column \(c), which this table lacks"
            if let s { m += " (did you mean \(s)?)" }
            return m
        case .wrongColumnType(let c, let e, let a):
            return "column \(c) is \(a), but the model was trained on \(e)"
        case .kTooLarge(let kind, let k, let rows):
            return "\(kind)(k=\(k)) needs at least \(k) rows, the table has \(rows)"
        case .modelNotLast:
            return "a model must be the last step"
        case .noModel:
            return "the pipeline has no model; end it with one, such as >> ridge()"
        case .unknownCategory(let c, let v, let row, let known):
            let shown = known.prefix(10).joined(separator: ", ") + (known.count > 10 ? ", … (\(known.count))" : "")
            return "column \(c) has category \"\(v)\" (row \(row + 1)), which onehot(unknown=\"error\") did not see in training; known: \(shown)"
        case .invalid(let m):
            return m
        case .engine(let e):
            return e.message
        }
    }
}

/// Runs an engine call, wrapping its error.
@inline(__always)
func engineCall<T>(_ body: () throws(EngineError) -> T) throws(ModelError) -> T {
    do { return try body() } catch { throw .engine(error) }
}
