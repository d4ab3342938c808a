import Foundation

/// A JSON document as a tree of plain values: what `ModelFile` walks to move the number
/// arrays of a `FittedState` into a model file's binary section and back.
///
/// Numbers keep their exact Swift value: a number is `.int` only when it reads as an `Int64`
/// *and* that integer converts to exactly the `Double` the text reads as (bit for bit, so
/// `-0` stays a `.double`); otherwise it is `.double`. Text written by `JSONEncoder` is the
/// shortest form that reads back to the same value, so tree → text → tree is lossless.
indirect enum JSONTree: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])
    /// A number array read back from the binary section (encoded as a JSON array).
    case doubles([Double])
    /// An integer array read back from the binary section (encoded as a JSON array).
    case ints([Int64])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let d = try? c.decode(Double.self) {
            if let i = try? c.decode(Int64.self), Double(i).bitPattern == d.bitPattern {
                self = .int(i)
            } else {
                self = .double(d)
            }
            return
        }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        if let a = try? c.decode([JSONTree].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONTree].self))
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .doubles(let a): try c.encode(a)
        case .ints(let a): try c.encode(a)
        }
    }

    /// The elements as numbers when every one is a number: all integers, or else doubles
    /// (an integer in a mixed array came from a `Double` and converts back exactly).
    static func numbers(_ items: [JSONTree]) -> JSONTree? {
        var ints: [Int64] = []
        ints.reserveCapacity(items.count)
        var allInts = true
        for item in items {
            switch item {
            case .int(let i): ints.append(i)
            case .double: allInts = false
            default: return nil
            }
        }
        if allInts { return .ints(ints) }
        var doubles: [Double] = []
        doubles.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .int(let i): doubles.append(Double(i))
            case .double(let d): doubles.append(d)
            default: return nil
            }
        }
        return .doubles(doubles)
    }
}
