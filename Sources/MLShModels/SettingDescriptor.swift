import MLShCommon
import MLShEngine

/// One setting of an estimator or transform: its key, the values it takes, its default and
/// its help text (what `:help` lists and what `fit` checks).
public struct SettingDescriptor: Sendable {
    /// The values a setting takes.
    enum Check: Sendable, Equatable {
        /// A finite number, at least `min`, above 0 when `positive`, at most `max`.
        case number(min: Double?, positive: Bool, max: Double?)
        /// An int of at least `min`; `optional` also takes none.
        case int(min: Int, optional: Bool)
        /// An int of at least 0, the seed of a random stream.
        case seed
        /// One of these strings.
        case choice([String])
        /// A number, int, bool, string or none.
        case scalar
        /// The string "auto", or a number in (0, `max`].
        case autoOrFraction(max: Double)
    }

    /// The name written in a call (`max_depth`).
    public let key: String
    let check: Check
    /// The value the spec holds when a call leaves the setting out.
    public let defaultValue: SettingValue
    /// What the setting does, for `:help`.
    public let help: String
    /// Whether a spec's display shows the setting at its default value.
    let shownAtDefault: Bool

    /// The values it takes, as `:help` words them ("an int ≥ 1 or none").
    public var valuesText: String {
        switch check {
        case .number(let min, let positive, let max):
            if positive, min == nil, let max { return "a number in (0, \(formatBound(max))]" }
            var parts: [String] = []
            if positive { parts.append("> 0") }
            if let min { parts.append("≥ \(formatSettingNumber(min))") }
            if let max { parts.append("≤ \(formatBound(max))") }
            return (["a number"] + parts).joined(separator: " ")
        case .int(let min, let optional): return "an int ≥ \(min)" + (optional ? " or none" : "")
        case .seed: return "an int ≥ 0"
        case .choice(let options): return "one of " + options.map { "\"\($0)\"" }.joined(separator: ", ")
        case .scalar: return "a number, a string or none"
        case .autoOrFraction(let max): return "\"auto\" or a number in (0, \(formatBound(max))]"
        }
    }

    /// `v` checked and in the form the spec stores (`.number`, `.int`, `.string` or `.none`),
    /// or the error a `kind(key=v)` call raises.
    func checked(_ v: SettingValue, kind: String) throws(ModelError) -> SettingValue {
        switch check {
        case .number(let min, let positive, let max):
            guard let d = v.asDouble else {
                throw .wrongSettingType(kind: kind, name: key, expected: "a number", actual: v.typeName)
            }
            if !d.isFinite { throw .invalidSetting(kind: kind, name: key, reason: "must be finite") }
            if positive, d <= 0 {
                throw .invalidSetting(kind: kind, name: key, reason: "must be greater than 0, got \(formatSettingNumber(d))")
            }
            if let min, d < min {
                throw .invalidSetting(kind: kind, name: key, reason: "must be at least \(formatSettingNumber(min)), got \(formatSettingNumber(d))")
            }
            if let max, d > max {
                throw .invalidSetting(kind: kind, name: key, reason: "must be at most \(formatBound(max)), got \(formatSettingNumber(d))")
            }
            return .number(d)
        case .int(let min, let optional):
            if optional, case .none = v { return .none }
            return .int(Int64(try intValue(v, min: min)))
        case .seed:
            return .int(Int64(try intValue(v, min: 0)))
        case .choice(let options):
            guard case .string(let s) = v else {
                throw .wrongSettingType(kind: kind, name: key, expected: "a string", actual: v.typeName)
            }
            guard options.contains(s) else {
                var reason = "must be one of " + options.map { "\"\($0)\"" }.joined(separator: ", ") + ", got \"\(s)\""
                if let c = closestName(to: s, in: options) { reason += " (did you mean \"\(c)\"?)" }
                throw .invalidSetting(kind: kind, name: key, reason: reason)
            }
            return v
        case .scalar:
            if case .strings = v {
                throw .wrongSettingType(kind: kind, name: key, expected: "a number or a string", actual: v.typeName)
            }
            return v
        case .autoOrFraction(let max):
            if case .string("auto") = v { return v }
            guard let d = v.asDouble else {
                throw .wrongSettingType(kind: kind, name: key, expected: "\"auto\" or a number", actual: v.typeName)
            }
            guard d.isFinite, d > 0, d <= max else {
                throw .invalidSetting(kind: kind, name: key, reason: "must be \"auto\" or in (0, \(formatBound(max))], got \(formatSettingNumber(d))")
            }
            return .number(d)
        }

        func intValue(_ v: SettingValue, min: Int) throws(ModelError) -> Int {
            let i: Int
            switch v {
            case .int(let x):
                guard let y = Int(exactly: x) else { throw .invalidSetting(kind: kind, name: key, reason: "is out of range") }
                i = y
            case .number(let d):
                guard d.isFinite, d == d.rounded(), abs(d) < 1e15 else {
                    throw .wrongSettingType(kind: kind, name: key, expected: "an int", actual: "\(d)")
                }
                i = Int(d)
            default:
                throw .wrongSettingType(kind: kind, name: key, expected: "an int", actual: v.typeName)
            }
            if i < min { throw .invalidSetting(kind: kind, name: key, reason: "must be at least \(min), got \(i)") }
            return i
        }
    }
}

/// An upper bound as messages write it: `1`, not `1.0`.
private func formatBound(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
}

/// A setting bound to the field of the spec `S` that holds it: the descriptor's row, and how
/// the field reads as a `SettingValue` and takes a checked one.
struct Setting<S>: Sendable {
    let key: String
    let check: SettingDescriptor.Check
    let help: String
    let shownAtDefault: Bool
    let get: @Sendable (S) -> SettingValue
    let set: @Sendable (inout S, SettingValue) -> Void

    /// The row, with the default read from `S`'s default spec.
    func descriptor(defaults: S) -> SettingDescriptor {
        SettingDescriptor(key: key, check: check, defaultValue: get(defaults), help: help, shownAtDefault: shownAtDefault)
    }

    /// A finite number, at least `min` (when given).
    static func number(_ key: String, _ field: WritableKeyPath<S, Double> & Sendable, min: Double? = nil,
                       help: String) -> Setting {
        Setting(key: key, check: .number(min: min, positive: false, max: nil), help: help, shownAtDefault: true,
                get: { .number($0[keyPath: field]) }, set: { s, v in if let d = v.asDouble { s[keyPath: field] = d } })
    }

    /// A finite number above 0.
    static func positive(_ key: String, _ field: WritableKeyPath<S, Double> & Sendable, help: String) -> Setting {
        Setting(key: key, check: .number(min: nil, positive: true, max: nil), help: help, shownAtDefault: true,
                get: { .number($0[keyPath: field]) }, set: { s, v in if let d = v.asDouble { s[keyPath: field] = d } })
    }

    /// A number in (0, 1].
    static func fraction(_ key: String, _ field: WritableKeyPath<S, Double> & Sendable, help: String) -> Setting {
        Setting(key: key, check: .number(min: nil, positive: true, max: 1), help: help, shownAtDefault: true,
                get: { .number($0[keyPath: field]) }, set: { s, v in if let d = v.asDouble { s[keyPath: field] = d } })
    }

    /// An int of at least `min`.
    static func int(_ key: String, _ field: WritableKeyPath<S, Int> & Sendable, min: Int, help: String) -> Setting {
        Setting(key: key, check: .int(min: min, optional: false), help: help, shownAtDefault: true,
                get: { .int(Int64($0[keyPath: field])) },
                set: { s, v in if case .int(let i) = v { s[keyPath: field] = Int(truncatingIfNeeded: i) } })
    }

    /// An int of at least `min`, or none.
    static func optionalInt(_ key: String, _ field: WritableKeyPath<S, Int?> & Sendable, min: Int, help: String) -> Setting {
        Setting(key: key, check: .int(min: min, optional: true), help: help, shownAtDefault: true,
                get: { $0[keyPath: field].map { .int(Int64($0)) } ?? .none },
                set: { s, v in
                    if case .int(let i) = v { s[keyPath: field] = Int(truncatingIfNeeded: i) } else { s[keyPath: field] = nil }
                })
    }

    /// `seed`: an int of at least 0 (shown as an int; a `UInt64` above `Int64.max` shows wrapped).
    static func seed(_ field: WritableKeyPath<S, UInt64> & Sendable, help: String) -> Setting {
        Setting(key: "seed", check: .seed, help: help, shownAtDefault: true,
                get: { .int(Int64(truncatingIfNeeded: $0[keyPath: field])) },
                set: { s, v in if case .int(let i) = v { s[keyPath: field] = UInt64(truncatingIfNeeded: i) } })
    }

    /// One of `options`; `shownAtDefault` false leaves it out of the display at its default.
    static func choice(_ key: String, _ field: WritableKeyPath<S, String> & Sendable, _ options: [String],
                       shownAtDefault: Bool = true, help: String) -> Setting {
        Setting(key: key, check: .choice(options), help: help, shownAtDefault: shownAtDefault,
                get: { .string($0[keyPath: field]) },
                set: { s, v in if case .string(let x) = v { s[keyPath: field] = x } })
    }

    /// "auto" (nil in the spec) or a number in (0, `max`].
    static func autoOrFraction(_ key: String, _ field: WritableKeyPath<S, Double?> & Sendable, max: Double,
                               help: String) -> Setting {
        Setting(key: key, check: .autoOrFraction(max: max), help: help, shownAtDefault: true,
                get: { $0[keyPath: field].map { .number($0) } ?? .string("auto") },
                set: { s, v in s[keyPath: field] = v.asDouble })
    }

    /// A number, int, bool, string or none, kept as written; left out of the display when none.
    static func scalar(_ key: String, _ field: WritableKeyPath<S, SettingValue> & Sendable, help: String) -> Setting {
        Setting(key: key, check: .scalar, help: help, shownAtDefault: false,
                get: { $0[keyPath: field] }, set: { s, v in s[keyPath: field] = v })
    }
}

/// Checks a call's settings against the rows: an unknown key first (in sorted order), then
/// each row's value in row order; a key left out takes the row's default. The result holds
/// every key, in the form the spec stores.
func checkSettings(_ settings: [String: SettingValue], kind: String,
                   rows: [SettingDescriptor]) throws(ModelError) -> [String: SettingValue] {
    let accepted = rows.map(\.key)
    for name in settings.keys.sorted() where !accepted.contains(name) {
        throw .unknownSetting(kind: kind, name: name, accepted: accepted, suggestion: closestName(to: name, in: accepted))
    }
    var out: [String: SettingValue] = [:]
    for row in rows {
        if let v = settings[row.key] { out[row.key] = try row.checked(v, kind: kind) } else { out[row.key] = row.defaultValue }
    }
    return out
}

/// Checks the values a spec holds (built in Swift, not checked when built) against its rows,
/// as `fit` does before fitting. Seeds are any `UInt64`, so they pass.
func checkValues(_ values: [SettingValue], kind: String, rows: [SettingDescriptor]) throws(ModelError) {
    for (row, v) in zip(rows, values) where row.check != .seed { _ = try row.checked(v, kind: kind) }
}
