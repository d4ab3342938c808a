/// A strict RFC 8259 parser over bytes, plus the `NaN`, `Infinity` and `-Infinity`
/// literals Python's `json` writes (MLflow clients send them). Nesting is limited so a
/// hostile body cannot exhaust the stack.
///
/// Numbers are read as `Double`s; with `exactIntegers` (what the model file asks for) an
/// integer beyond ±2^53, however spelled (`1e16` too), is `.integer`, digit for digit.
public struct JSONParser {
    /// The deepest nesting of arrays and objects read.
    public static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    let exactIntegers: Bool
    var i = 0

    /// The byte offset reading has reached.
    public var offset: Int { i }

    /// Parses a whole document.
    public static func parse(_ bytes: UnsafeRawBufferPointer, exactIntegers: Bool = false) throws(JSONError) -> JSON {
        var p = JSONParser(bytes: bytes, exactIntegers: exactIntegers)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.error("unexpected text after the JSON value") }
        return v
    }

    /// Parses a whole document from text.
    public static func parse(_ text: String, exactIntegers: Bool = false) throws(JSONError) -> JSON {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBytes { raw -> Result<JSON, JSONError> in
            do throws(JSONError) { return .success(try parse(raw, exactIntegers: exactIntegers)) } catch { return .failure(error) }
        }.get()
    }

    /// A parser at the start of `bytes`, for reading a document piece by piece (the
    /// server's direct path); `parse` reads a whole one.
    public init(bytes: UnsafeRawBufferPointer, exactIntegers: Bool = false) {
        self.bytes = bytes
        self.exactIntegers = exactIntegers
    }

    private func error(_ reason: String) -> JSONError { JSONError(offset: i, reason: reason) }

    /// The next byte, if any.
    public var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    /// Steps over `c` if it comes next.
    public mutating func take(_ c: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == c else { return false }
        i += 1
        return true
    }

    /// The bytes of a string key without escapes or non-ASCII bytes, stepped over; nil
    /// (nothing taken) for any other key.
    public mutating func plainKey() -> UnsafeRawBufferPointer? {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { return nil }
        var k = i + 1
        while k < bytes.count {
            let c = bytes[k]
            if c == UInt8(ascii: "\"") {
                let key = UnsafeRawBufferPointer(rebasing: bytes[(i + 1)..<k])
                i = k + 1
                return key
            }
            guard c >= 0x20, c < 0x80, c != UInt8(ascii: "\\") else { return nil }
            k += 1
        }
        return nil
    }

    /// Steps over JSON whitespace.
    public mutating func skipSpace() {
        while i < bytes.count {
            let c = bytes[i]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    private mutating func literal(_ word: StaticString, _ v: JSON) throws(JSONError) -> JSON {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("unexpected end of input") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw error("unexpected character") }
        i += n
        return v
    }

    /// The value that starts here, nested `depth` levels deep already.
    public mutating func value(depth: Int) throws(JSONError) -> JSON {
        guard let c = peek else { throw error("unexpected end of input") }
        switch c {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "N"): return try literal("NaN", .number(.nan))
        case UInt8(ascii: "I"): return try literal("Infinity", .number(.infinity))
        case UInt8(ascii: "-") where i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "I"):
            i += 1
            return try literal("Infinity", .number(-.infinity))
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Unicode.Scalar(c))'")
        }
    }

    private mutating func object(depth: Int) throws(JSONError) -> JSON {
        guard depth <= JSONParser.maxDepth else { throw error("nested deeper than \(JSONParser.maxDepth) levels") }
        i += 1
        var members: [(String, JSON)] = []
        skipSpace()
        if peek == UInt8(ascii: "}") { i += 1; return .object(members) }
        while true {
            skipSpace()
            guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipSpace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            i += 1
            skipSpace()
            members.append((key, try value(depth: depth)))
            skipSpace()
            guard let c = peek else { throw error("unexpected end of input in an object") }
            i += 1
            if c == UInt8(ascii: "}") { return .object(members) }
            guard c == UInt8(ascii: ",") else { i -= 1; throw error("expected ',' or '}' in an object") }
        }
    }

    private mutating func array(depth: Int) throws(JSONError) -> JSON {
        guard depth <= JSONParser.maxDepth else { throw error("nested deeper than \(JSONParser.maxDepth) levels") }
        i += 1
        var items: [JSON] = []
        skipSpace()
        if peek == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value(depth: depth))
            skipSpace()
            guard let c = peek else { throw error("unexpected end of input in an array") }
            i += 1
            if c == UInt8(ascii: "]") { return .array(items) }
            guard c == UInt8(ascii: ",") else { i -= 1; throw error("expected ',' or ']' in an array") }
        }
    }

    /// A number: `.number`, or with `exactIntegers` `.integer` for an integer beyond ±2^53.
    private mutating func number() throws(JSONError) -> JSON {
        let start = i
        if peek == UInt8(ascii: "-") { i += 1 }
        func digits(_ p: inout JSONParser) -> Int {
            let s = p.i
            while let c = p.peek, c >= 0x30, c <= 0x39 { p.i += 1 }
            return p.i - s
        }
        let intStart = i
        let n = digits(&self)
        guard n > 0 else { throw error("expected a digit") }
        if n > 1 && bytes[intStart] == UInt8(ascii: "0") { i = intStart; throw error("a number cannot start with 0") }
        if peek == UInt8(ascii: ".") {
            i += 1
            guard digits(&self) > 0 else { throw error("expected a digit after '.'") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            i += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { i += 1 }
            guard digits(&self) > 0 else { throw error("expected a digit in the exponent") }
        }
        let literal = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
        let d: Double
        if let exact = JSONParser.exact(literal) {
            d = exact
        } else {
            guard let slow = Double(String(decoding: literal, as: UTF8.self)) else { i = start; throw error("number out of range") }
            d = slow
        }
        // Beyond 2^53 (the test is on the rounded value: the text may say 2^53 + 1) an
        // integer keeps its digits.
        if exactIntegers, d.magnitude >= Double(JSON.exactDoubleLimit), d == d.rounded(), let (negative, magnitude) = JSONParser.integer(literal) {
            return .integer(negative: negative, magnitude: magnitude)
        }
        return .number(d)
    }

    /// The exact value of a well-formed number literal that is an integer beyond 2^53 in
    /// magnitude (`-12345678901234567`, `1.5e17`), within `Int64` when negative and
    /// `UInt64` when not; nil for any other.
    static func integer(_ t: UnsafeRawBufferPointer) -> (negative: Bool, magnitude: UInt64)? {
        var k = 0, negative = false
        if k < t.count, t[k] == UInt8(ascii: "-") { negative = true; k += 1 }
        var digits: [UInt8] = [], scale = 0
        while k < t.count, t[k] >= 0x30, t[k] <= 0x39 { digits.append(t[k] - 0x30); k += 1 }
        if k < t.count, t[k] == UInt8(ascii: ".") {
            k += 1
            while k < t.count, t[k] >= 0x30, t[k] <= 0x39 { digits.append(t[k] - 0x30); scale -= 1; k += 1 }
        }
        if k < t.count, t[k] == UInt8(ascii: "e") || t[k] == UInt8(ascii: "E") {
            k += 1
            var sign = 1, e = 0
            if k < t.count, t[k] == UInt8(ascii: "+") || t[k] == UInt8(ascii: "-") { sign = t[k] == UInt8(ascii: "-") ? -1 : 1; k += 1 }
            while k < t.count, t[k] >= 0x30, t[k] <= 0x39 {
                e = e * 10 + Int(t[k] - 0x30); k += 1
                guard e < 100_000 else { return nil }
            }
            scale += sign * e
        }
        guard k == t.count else { return nil }
        // A fraction's digits must all be zeros; then the value is the rest times 10^scale.
        if scale < 0 {
            guard -scale <= digits.count, digits.suffix(-scale).allSatisfy({ $0 == 0 }) else { return nil }
            digits.removeLast(-scale)
            scale = 0
        }
        var m: UInt64 = 0
        for d in digits {
            let (times10, o1) = m.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            m = sum
        }
        for _ in 0..<scale {
            let (times10, o) = m.multipliedReportingOverflow(by: 10)
            guard !o else { return nil }
            m = times10
        }
        guard m > JSON.exactDoubleLimit, !negative || m <= UInt64(Int64.max) + 1 else { return nil }
        return (negative, m)
    }

    /// Powers of ten a Double holds exactly.
    private static let exactPowers: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { x, _ in x * 10 } }

    /// A well-formed number with at most 15 significant digits and a small exponent, read
    /// exactly: its digits as an integer below 2^53 times or over an exact power of ten is
    /// one correctly rounded operation (Clinger's fast path), so the result equals
    /// `Double(text)`'s. Nil for the rest, which go through `Double(text)`.
    static func exact(_ t: UnsafeRawBufferPointer) -> Double? {
        var k = 0, negative = false
        if k < t.count, t[k] == UInt8(ascii: "-") { negative = true; k += 1 }
        var mantissa: UInt64 = 0, digits = 0, scale = 0
        while k < t.count, t[k] >= 0x30, t[k] <= 0x39 {
            mantissa = mantissa &* 10 &+ UInt64(t[k] - 0x30); digits += 1; k += 1
        }
        if k < t.count, t[k] == UInt8(ascii: ".") {
            k += 1
            while k < t.count, t[k] >= 0x30, t[k] <= 0x39 {
                mantissa = mantissa &* 10 &+ UInt64(t[k] - 0x30); digits += 1; scale -= 1; k += 1
            }
        }
        if k < t.count, t[k] == UInt8(ascii: "e") || t[k] == UInt8(ascii: "E") {
            k += 1
            var sign = 1, e = 0, n = 0
            if k < t.count, t[k] == UInt8(ascii: "+") || t[k] == UInt8(ascii: "-") { sign = t[k] == UInt8(ascii: "-") ? -1 : 1; k += 1 }
            while k < t.count, t[k] >= 0x30, t[k] <= 0x39, n < 4 { e = e * 10 + Int(t[k] - 0x30); n += 1; k += 1 }
            guard k == t.count else { return nil }
            scale += sign * e
        }
        guard k == t.count, digits <= 15, abs(scale) <= 22 else { return nil }
        let m = Double(mantissa)
        let d = scale >= 0 ? m * exactPowers[scale] : m / exactPowers[-scale]
        return negative ? -d : d
    }

    private mutating func string() throws(JSONError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes.
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<i])
                i += 1
                return try validated(raw, at: start)
            }
            if c == UInt8(ascii: "\\") { break }
            guard c >= 0x20 else { throw error("control character in a string") }
            i += 1
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<min(i, bytes.count)]))
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                let s = String(validating: out, as: UTF8.self)
                guard let s else { throw JSONError(offset: start, reason: "invalid UTF-8 in a string") }
                return s
            }
            guard c >= 0x20 else { throw error("control character in a string") }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard let e = peek else { break }
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    guard i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired surrogate in \\u escape")
                    }
                    i += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let u = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                out.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                i -= 1
                throw error("invalid escape '\\\(Unicode.Scalar(e))'")
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    private func validated(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(JSONError) -> String {
        // ASCII (column names, most values) is valid UTF-8 as it is; the generic validator
        // costs a runtime type lookup per string.
        if !raw.contains(where: { $0 >= 0x80 }) { return String(decoding: raw, as: UTF8.self) }
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw JSONError(offset: offset, reason: "invalid UTF-8 in a string")
        }
        return s
    }
}
