/// A JSON value: what the server reads and writes, the store's model-file header, and the
/// command line's `--json` output. Objects keep their key order.
///
/// Numbers are `Double`s, except where an integer beyond ±2^53 must keep every digit
/// (a model file's `UInt64` seed): `.integer` holds it, as the `Decodable` conformance and
/// `JSONParser` with `exactIntegers` read it.
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    /// An integer of magnitude above 2^53, within `Int64` when negative and `UInt64` when not.
    case integer(negative: Bool, magnitude: UInt64)
    case string(String)
    case array([JSON])
    case object([(String, JSON)])

    /// 2^53: integers up to this magnitude are exact as `Double`s.
    public static let exactDoubleLimit: UInt64 = 1 << 53

    /// Equal values; NaN equals NaN, and objects compare members in order.
    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y || (x.isNaN && y.isNaN)
        case (.integer(let n, let m), .integer(let o, let p)): return n == o && m == p
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// An integer: `.number` up to 2^53 in magnitude, `.integer` beyond.
    public init(_ i: Int64) {
        self = i.magnitude <= JSON.exactDoubleLimit ? .number(Double(i)) : .integer(negative: i < 0, magnitude: i.magnitude)
    }

    /// The member `key` of an object (the first, if repeated).
    public subscript(key: String) -> JSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    /// A number (either case) as a `Double`, rounded to the nearest for a large `.integer`.
    public var double: Double? {
        switch self {
        case .number(let d): d
        case .integer(let negative, let magnitude): negative ? -Double(magnitude) : Double(magnitude)
        default: nil
        }
    }

    /// A number that is an `Int64` exactly (`-0.0` and fractions are not).
    public var int64: Int64? {
        switch self {
        case .number(let d):
            guard d == d.rounded(), d.magnitude <= Double(JSON.exactDoubleLimit), d != 0 || d.sign == .plus else { return nil }
            return Int64(d)
        case .integer(true, let magnitude): return magnitude <= UInt64(Int64.max) + 1 ? Int64(bitPattern: 0 &- magnitude) : nil
        case .integer(false, let magnitude): return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
        default: return nil
        }
    }

    /// The value with every object's members (nested ones too) sorted by key.
    public func sortingKeys(by areInIncreasingOrder: (String, String) -> Bool = (<)) -> JSON {
        switch self {
        case .array(let items): .array(items.map { $0.sortingKeys(by: areInIncreasingOrder) })
        case .object(let members):
            .object(members.sorted { areInIncreasingOrder($0.0, $1.0) }.map { ($0.0, $0.1.sortingKeys(by: areInIncreasingOrder)) })
        default: self
        }
    }

    /// The name of the value's JSON type, for messages.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number, .integer: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// A JSON syntax error at a byte offset of the body.
public struct JSONError: Error, Sendable, Equatable {
    /// Where reading stopped, in bytes from the start.
    public let offset: Int
    /// What was wrong there ("expected ':' after a key").
    public let reason: String
    /// The error as one line for a person.
    public var message: String { "malformed JSON at byte \(offset): \(reason)" }
}
