import Foundation

/// A JSON document as a tree of plain values: what `ModelFile` walks to move the number
/// arrays of a `FittedState` into a model file's binary section and back.
///
/// Numbers keep their exact Swift value: a number (an array of numbers) is `.int` (`.ints`)
/// only when it reads as `Int64` *and* each integer converts to exactly the `Double` the
/// text reads as (bit for bit, so `-0` stays a `.double`); otherwise `.double` (`.doubles`). Text written by `JSONEncoder` is the
/// shortest form that reads back to the same value, so tree → text → tree is lossless.
indirect enum JSONTree: Codable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    /// An integer above `Int64.max`.
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])
    /// An array of numbers, not all integers (encoded as a JSON array).
    case doubles([Double])
    /// An array of integers, each exactly the `Double` its text reads as (encoded as a JSON array).
    case ints([Int64])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let d = try? c.decode(Double.self) {
            if let i = try? c.decode(Int64.self), Double(i).bitPattern == d.bitPattern {
                self = .int(i)
            } else if let u = try? c.decode(UInt64.self), Double(u).bitPattern == d.bitPattern {
                self = .uint(u)
            } else {
                self = .double(d)
            }
            return
        }
        if let i = try? c.decode(Int64.self) { self = .int(i); return }
        // Number arrays in bulk (the large part of a state): two attempts per array instead
        // of several per element.
        if let doubles = try? c.decode([Double].self) {
            if let ints = try? c.decode([Int64].self) {
                let exact = ints.count == doubles.count && zip(ints, doubles).allSatisfy { Double($0).bitPattern == $1.bitPattern }
                self = exact ? .ints(ints) : .doubles(doubles)
                return
            }
            // Integers beyond Int64 (a UInt64 seed, say) are kept one by one, exactly.
            if (try? c.decode([UInt64].self)) == nil {
                self = .doubles(doubles)
                return
            }
        }
        if let a = try? c.decode([JSONTree].self) { self = .array(a); return }
        self = .object(try c.decode([String: JSONTree].self))
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .uint(let u): try c.encode(u)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        case .doubles(let a): try c.encode(a)
        case .ints(let a): try c.encode(a)
        }
    }
}
