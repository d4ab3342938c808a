import MLShCommon
import MLShEngine

/// A setting's value as written in a model or transform call (`ridge(alpha=1)`).
public enum SettingValue: Sendable, Codable, Equatable, CustomStringConvertible {
    case number(Double), int(Int64), string(String), bool(Bool), strings([String]), none

    /// The value as written in mlsh source.
    public var description: String {
        switch self {
        case .number(let d): return formatSettingNumber(d)
        case .int(let i): return String(i)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return b ? "true" : "false"
        case .strings(let s): return "[" + s.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
        case .none: return "none"
        }
    }

    var typeName: String {
        switch self {
        case .number: return "a number"
        case .int: return "an int"
        case .string: return "a string"
        case .bool: return "a bool"
        case .strings: return "a list of strings"
        case .none: return "none"
        }
    }

    /// The value as a Double when numeric.
    var asDouble: Double? {
        switch self {
        case .number(let d): return d
        case .int(let i): return Double(i)
        default: return nil
        }
    }
}

func formatSettingNumber(_ d: Double) -> String {
    if d.isFinite, d == d.rounded(), abs(d) < 1e15 { return String(format: "%.1f", d) }
    return "\(d)"
}
