/// JSON as a `Codable` value, for headers that hold JSON inside a `Codable` struct (the
/// model file's `state`). Numbers decode as `JSONParser` with `exactIntegers` reads them
/// (an integer beyond ±2^53 as `.integer`); objects encode their members in order (an encoder set to sort
/// keys sorts them) and decode with their keys sorted.
extension JSON: Codable {
    /// Reads any JSON value.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let d = try? c.decode(Double.self) {
            self = .number(d)
            if d.magnitude >= Double(JSON.exactDoubleLimit), d == d.rounded() {
                if let i = try? c.decode(Int64.self), i.magnitude > JSON.exactDoubleLimit {
                    self = .integer(negative: i < 0, magnitude: i.magnitude)
                } else if let u = try? c.decode(UInt64.self), u > JSON.exactDoubleLimit {
                    self = .integer(negative: false, magnitude: u)
                }
            }
            return
        }
        if let items = try? c.decode([JSON].self) { self = .array(items); return }
        let o = try decoder.container(keyedBy: Key.self)
        var members: [(String, JSON)] = []
        for key in o.allKeys.sorted(by: { $0.stringValue < $1.stringValue }) {
            members.append((key.stringValue, try o.decode(JSON.self, forKey: key)))
        }
        self = .object(members)
    }

    /// Writes the value; a non-finite number is the encoder's to refuse or spell.
    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .array(let items):
            // An array of numbers (a model's weights) goes in bulk, as `[Double]`: one
            // encoder call instead of one per element.
            var doubles: [Double] = []
            doubles.reserveCapacity(items.count)
            for case .number(let d) in items { doubles.append(d) }
            if doubles.count == items.count {
                var c = encoder.singleValueContainer()
                try c.encode(doubles)
            } else {
                var c = encoder.unkeyedContainer()
                for item in items { try c.encode(item) }
            }
        case .object(let members):
            var c = encoder.container(keyedBy: Key.self)
            for (key, item) in members { try c.encode(item, forKey: Key(key)) }
        default:
            var c = encoder.singleValueContainer()
            switch self {
            case .null: try c.encodeNil()
            case .bool(let b): try c.encode(b)
            case .number(let d): try c.encode(d)
            case .integer(true, let magnitude): try c.encode(Int64(bitPattern: 0 &- magnitude))
            case .integer(false, let magnitude): try c.encode(magnitude)
            case .string(let s): try c.encode(s)
            case .array, .object: break
            }
        }
    }

    /// An object member's name.
    struct Key: CodingKey {
        let stringValue: String
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}
