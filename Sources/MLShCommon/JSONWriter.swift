/// Writes JSON text, compact (`write`) or spread over lines (`writePretty`); non-finite
/// numbers become `null` (JSON has no NaN).
public struct JSONWriter {
    /// The text written so far, UTF-8.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Appends `v` without spaces or line breaks.
    public mutating func write(_ v: JSON) {
        switch v {
        case .null, .bool, .number, .integer, .string: scalar(v)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                write(item)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (k, (key, item)) in members.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                string(key)
                bytes.append(UInt8(ascii: ":"))
                write(item)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `v` over several lines, as Foundation's `.prettyPrinted` lays it out: two
    /// spaces per level, `"key" : value`, an empty container as its brackets on two lines.
    public mutating func writePretty(_ v: JSON, level: Int = 0) {
        func indent(_ n: Int) { bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: 2 * n)) }
        switch v {
        case .null, .bool, .number, .integer, .string: scalar(v)
        case .array(let items):
            raw("[\n")
            for (k, item) in items.enumerated() {
                if k > 0 { raw(",\n") }
                indent(level + 1)
                writePretty(item, level: level + 1)
            }
            raw("\n")
            indent(level)
            raw("]")
        case .object(let members):
            raw("{\n")
            for (k, (key, item)) in members.enumerated() {
                if k > 0 { raw(",\n") }
                indent(level + 1)
                string(key)
                raw(" : ")
                writePretty(item, level: level + 1)
            }
            raw("\n")
            indent(level)
            raw("}")
        }
    }

    private mutating func scalar(_ v: JSON) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let d): number(d)
        case .integer(let negative, let magnitude):
            if negative { bytes.append(UInt8(ascii: "-")) }
            unsigned(magnitude)
        case .string(let s): string(s)
        case .array, .object: write(v)
        }
    }

    /// Appends bytes as they are.
    public mutating func raw(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// Appends text as it is.
    public mutating func raw(_ s: String) {
        // Literals and native strings are contiguous: one copy, not the generic append.
        if s.utf8.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil {
            bytes.append(contentsOf: s.utf8)
        }
    }

    /// A finite number in the shortest form that reads back the same; integers without `.0`.
    public mutating func number(_ d: Double) {
        guard d.isFinite else { raw("null"); return }
        if d == d.rounded(), abs(d) < 1e15 { integer(Int64(d)); return }
        raw(d.description)
    }

    /// An integer's decimal digits, written in place.
    public mutating func integer(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        unsigned(v.magnitude)
    }

    /// A magnitude's decimal digits, written in place.
    private mutating func unsigned(_ magnitude: UInt64) {
        var m = magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buf in
            var i = buf.count   // 20 places: UInt64's largest value has 20 digits
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m > 0
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[i...]))
        }
    }

    /// A string in quotes, escaped: `\"`, `\\` and control characters (`\n`, `\u0001`).
    public mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings (column names, labels) need no escape: one copy.
        let plain = s.utf8.withContiguousStorageIfAvailable { u -> Bool in
            guard !u.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) else { return false }
            bytes.append(contentsOf: u)
            return true
        }
        if plain == true { bytes.append(UInt8(ascii: "\"")); return }
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case 0x0A: raw("\\n")
            case 0x0D: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                raw("\\u00")
                bytes.append(hex[Int(c >> 4)])
                bytes.append(hex[Int(c & 15)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The text of one value, compact or pretty.
    public static func text(_ v: JSON, pretty: Bool = false) -> String {
        var w = JSONWriter()
        if pretty { w.writePretty(v) } else { w.write(v) }
        return String(decoding: w.bytes, as: UTF8.self)
    }
}
