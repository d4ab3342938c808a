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

/// Validates and reads the settings of one model or transform call.
struct SettingReader {
    let kind: String
    let settings: [String: SettingValue]

    init(kind: String, settings: [String: SettingValue], accepted: [String]) throws(ModelError) {
        self.kind = kind
        self.settings = settings
        for name in settings.keys.sorted() where !accepted.contains(name) {
            throw .unknownSetting(kind: kind, name: name, accepted: accepted,
                                  suggestion: closestName(to: name, in: accepted))
        }
    }

    func double(_ name: String, _ def: Double, min: Double? = nil, positive: Bool = false) throws(ModelError) -> Double {
        guard let v = settings[name] else { return def }
        guard let d = v.asDouble else {
            throw .wrongSettingType(kind: kind, name: name, expected: "a number", actual: v.typeName)
        }
        if !d.isFinite { throw .invalidSetting(kind: kind, name: name, reason: "must be finite") }
        if positive, d <= 0 { throw .invalidSetting(kind: kind, name: name, reason: "must be greater than 0, got \(formatSettingNumber(d))") }
        if let min, d < min { throw .invalidSetting(kind: kind, name: name, reason: "must be at least \(formatSettingNumber(min)), got \(formatSettingNumber(d))") }
        return d
    }

    /// A number in (0, 1].
    func fraction(_ name: String, _ def: Double) throws(ModelError) -> Double {
        let d = try double(name, def, positive: true)
        if d > 1 { throw .invalidSetting(kind: kind, name: name, reason: "must be at most 1, got \(formatSettingNumber(d))") }
        return d
    }

    func int(_ name: String, _ def: Int, min: Int) throws(ModelError) -> Int {
        guard let v = settings[name] else { return def }
        return try intValue(name, v, min: min)
    }

    func optionalInt(_ name: String, _ def: Int?, min: Int) throws(ModelError) -> Int? {
        guard let v = settings[name] else { return def }
        if case .none = v { return nil }
        return try intValue(name, v, min: min)
    }

    private func intValue(_ name: String, _ v: SettingValue, min: Int) throws(ModelError) -> Int {
        let i: Int
        switch v {
        case .int(let x):
            guard let y = Int(exactly: x) else { throw .invalidSetting(kind: kind, name: name, reason: "is out of range") }
            i = y
        case .number(let d):
            guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else {
                throw .wrongSettingType(kind: kind, name: name, expected: "an int", actual: "\(d)")
            }
            i = Int(d)
        default:
            throw .wrongSettingType(kind: kind, name: name, expected: "an int", actual: v.typeName)
        }
        if i < min { throw .invalidSetting(kind: kind, name: name, reason: "must be at least \(min), got \(i)") }
        return i
    }

    func seed(_ name: String) throws(ModelError) -> UInt64 {
        guard let v = settings[name] else { return 0 }
        let i = try intValue(name, v, min: 0)
        return UInt64(i)
    }

    func string(_ name: String, _ def: String, oneOf: [String]) throws(ModelError) -> String {
        guard let v = settings[name] else { return def }
        guard case .string(let s) = v else {
            throw .wrongSettingType(kind: kind, name: name, expected: "a string", actual: v.typeName)
        }
        guard oneOf.contains(s) else {
            var reason = "must be one of " + oneOf.map { "\"\($0)\"" }.joined(separator: ", ") + ", got \"\(s)\""
            if let c = closestName(to: s, in: oneOf) { reason += " (did you mean \"\(c)\"?)" }
            throw .invalidSetting(kind: kind, name: name, reason: reason)
        }
        return s
    }

    func any(_ name: String) -> SettingValue? { settings[name] }
}
