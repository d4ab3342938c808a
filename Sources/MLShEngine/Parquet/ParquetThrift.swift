/// Thrift's compact protocol, the encoding of Parquet's footer and page headers: just what
/// Parquet's structs use (structs, lists, i8/i16/i32/i64 as zigzag varints, binary and
/// bool), with unknown fields skipped whatever their type.
///
/// A field header is one byte `delta << 4 | type` when the id is 1 to 15 above the
/// previous field's (else the type byte, then the id as a zigzag varint); a struct ends at
/// a 0 byte. A bool field carries its value in the type (1 true, 2 false). A list header
/// is `count << 4 | element type`, or `0xF0 | type` and the count as a varint.
enum ThriftType: UInt8 {
    case stop = 0, boolTrue = 1, boolFalse = 2, i8 = 3, i16 = 4, i32 = 5, i64 = 6, double = 7
    case binary = 8, list = 9, set = 10, map = 11, structure = 12
}

/// A reading failure at a byte offset of the file.
struct ParquetFailure: Error {
    /// The file offset; nil when the failure is about the file's schema, not a place in it.
    var offset: Int?
    var message: String
    /// Whether the file is well-formed but uses a feature mlsh does not read.
    var unsupported = false
    /// An error that is not about the file's bytes (such as an unknown column asked for).
    var engine: EngineError?

    init(_ offset: Int?, _ message: String) { self.offset = offset; self.message = message }

    static func unsupported(_ message: String) -> ParquetFailure {
        var f = ParquetFailure(nil, message); f.unsupported = true; return f
    }
}

/// Reads compact-protocol values from bytes in memory; every read is checked against the
/// end, every count against the bytes left, and nesting is limited, so no input crashes
/// it or makes it allocate more than the input holds.
struct ThriftReader {
    private let p: UnsafeBufferPointer<UInt8>
    /// The end of the readable bytes (an index into `p`).
    private let end: Int
    /// The next byte to read (an index into `p`).
    private(set) var pos: Int
    /// The file offset of `p[0]`, for messages.
    private let origin: Int
    /// The previous field id of each struct being read, innermost last.
    private var lastIDs: [Int16] = []
    private var lastID: Int16 = 0

    /// The deepest nesting of structs and lists read or skipped.
    static let maxDepth = 32

    init(_ bytes: UnsafeBufferPointer<UInt8>, origin: Int) {
        p = bytes
        end = bytes.count
        pos = 0
        self.origin = origin
    }

    /// The file offset of the next byte.
    var offset: Int { origin + pos }

    func fail(_ message: String) -> ParquetFailure { ParquetFailure(origin + pos, message) }

    mutating func byte() throws(ParquetFailure) -> UInt8 {
        guard pos < end else { throw fail("unexpected end of data") }
        defer { pos += 1 }
        return p[pos]
    }

    mutating func varint() throws(ParquetFailure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw fail("varint longer than 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw fail("varint longer than 64 bits") }
        }
    }

    mutating func i64() throws(ParquetFailure) -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }

    mutating func i32() throws(ParquetFailure) -> Int32 {
        let start = pos
        let v = try i64()
        guard let x = Int32(exactly: v) else { pos = start; throw fail("value \(v) does not fit a 32-bit field") }
        return x
    }

    mutating func i16() throws(ParquetFailure) -> Int16 {
        let start = pos
        let v = try i64()
        guard let x = Int16(exactly: v) else { pos = start; throw fail("value \(v) does not fit a 16-bit field") }
        return x
    }

    /// A binary field's bytes (its length checked against the bytes left).
    mutating func binary() throws(ParquetFailure) -> UnsafeBufferPointer<UInt8> {
        let start = pos
        let n = try varint()
        guard n <= UInt64(end - pos) else {
            pos = start
            throw fail("a length of \(n) bytes runs past the end (\(end - pos - 1) bytes left)")
        }
        defer { pos += Int(n) }
        return UnsafeBufferPointer(rebasing: p[pos..<(pos + Int(n))])
    }

    /// A string field (UTF-8; invalid bytes are replaced, as names are only shown).
    mutating func string() throws(ParquetFailure) -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// Starts reading a struct's fields.
    mutating func beginStruct() throws(ParquetFailure) {
        guard lastIDs.count < Self.maxDepth else { throw fail("structures nested more than \(Self.maxDepth) deep") }
        lastIDs.append(lastID)
        lastID = 0
    }

    /// The next field's id and type, or nil at the struct's end (which ends the struct).
    mutating func field() throws(ParquetFailure) -> (id: Int16, type: UInt8)? {
        let b = try byte()
        let type = b & 0x0F
        if type == ThriftType.stop.rawValue {
            lastID = lastIDs.popLast() ?? 0
            return nil
        }
        let delta = Int16(b >> 4)
        let id: Int16
        if delta != 0 {
            let (sum, overflow) = lastID.addingReportingOverflow(delta)
            guard !overflow else { throw fail("field id overflows") }
            id = sum
        } else {
            id = try i16()
        }
        lastID = id
        return (id, type)
    }

    /// A list's element type and count (at most the bytes left: every element takes one).
    mutating func listHeader() throws(ParquetFailure) -> (type: UInt8, count: Int) {
        let start = pos
        let b = try byte()
        var n = UInt64(b >> 4)
        if n == 15 { n = try varint() }
        guard n <= UInt64(end - pos) else {
            pos = start
            throw fail("a list of \(n) elements runs past the end (\(end - pos - 1) bytes left)")
        }
        return (b & 0x0F, Int(n))
    }

    /// A list whose elements of type `type` `element` reads (elements of another type are
    /// skipped).
    mutating func list<T>(_ type: ThriftType, _ element: (inout ThriftReader) throws(ParquetFailure) -> T) throws(ParquetFailure) -> [T] {
        let (et, n) = try listHeader()
        var out: [T] = []
        if et == type.rawValue { out.reserveCapacity(n) }
        for _ in 0..<n {
            if et == type.rawValue { out.append(try element(&self)) } else { try skip(et) }
        }
        return out
    }

    /// Skips one value of `type` (a struct, list, set or map with everything inside).
    mutating func skip(_ type: UInt8, depth: Int = 0) throws(ParquetFailure) {
        guard depth < Self.maxDepth else { throw fail("values nested more than \(Self.maxDepth) deep") }
        guard let t = ThriftType(rawValue: type) else { throw fail("unknown compact type \(type)") }
        switch t {
        case .stop: throw fail("unexpected end-of-struct marker")
        case .boolTrue, .boolFalse: break
        case .i8: _ = try byte()
        case .i16, .i32, .i64: _ = try varint()
        case .double:
            guard end - pos >= 8 else { throw fail("unexpected end of data") }
            pos += 8
        case .binary: _ = try binary()
        case .list, .set:
            let (et, n) = try listHeader()
            for _ in 0..<n {
                // A bool in a list is one byte.
                if et == ThriftType.boolTrue.rawValue || et == ThriftType.boolFalse.rawValue { _ = try byte() }
                else { try skip(et, depth: depth + 1) }
            }
        case .map:
            let start = pos
            let n = try varint()
            if n == 0 { break }
            guard n <= UInt64(end - pos) else { pos = start; throw fail("a map of \(n) entries runs past the end") }
            let kv = try byte()
            for _ in 0..<n {
                for et in [kv >> 4, kv & 0x0F] {
                    if et == ThriftType.boolTrue.rawValue || et == ThriftType.boolFalse.rawValue { _ = try byte() }
                    else { try skip(et, depth: depth + 1) }
                }
            }
        case .structure:
            try beginStruct()
            while let (_, ft) = try field() { try skip(ft, depth: depth + 1) }
        }
    }
}

/// Writes compact-protocol values.
struct ThriftWriter {
    var bytes: [UInt8] = []
    private var lastIDs: [Int16] = []
    private var lastID: Int16 = 0

    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    mutating func zigzag(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    /// A field header for field `id` of `type`.
    mutating func field(_ id: Int16, _ type: ThriftType) {
        let delta = id - lastID
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta) << 4 | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            zigzag(Int64(id))
        }
        lastID = id
    }

    mutating func i32(_ id: Int16, _ v: Int32) { field(id, .i32); zigzag(Int64(v)) }
    mutating func i64(_ id: Int16, _ v: Int64) { field(id, .i64); zigzag(v) }
    mutating func i16(_ id: Int16, _ v: Int16) { field(id, .i16); zigzag(Int64(v)) }
    mutating func bool(_ id: Int16, _ v: Bool) { field(id, v ? .boolTrue : .boolFalse) }

    mutating func binary(_ id: Int16, _ b: [UInt8]) {
        field(id, .binary)
        varint(UInt64(b.count))
        bytes.append(contentsOf: b)
    }

    mutating func string(_ id: Int16, _ s: String) { binary(id, Array(s.utf8)) }

    /// Starts a struct-typed field (`id`), or a list element when `id` is nil.
    mutating func beginStruct(_ id: Int16?) {
        if let id { field(id, .structure) }
        lastIDs.append(lastID)
        lastID = 0
    }

    mutating func endStruct() {
        bytes.append(ThriftType.stop.rawValue)
        lastID = lastIDs.popLast() ?? 0
    }

    /// A list field header: `count` elements of `type` follow.
    mutating func listHeader(_ id: Int16, _ type: ThriftType, count: Int) {
        field(id, .list)
        if count < 15 {
            bytes.append(UInt8(count) << 4 | type.rawValue)
        } else {
            bytes.append(0xF0 | type.rawValue)
            varint(UInt64(count))
        }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, .i32, count: values.count)
        for v in values { zigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, .binary, count: values.count)
        for v in values { varint(UInt64(v.utf8.count)); bytes.append(contentsOf: v.utf8) }
    }
}
