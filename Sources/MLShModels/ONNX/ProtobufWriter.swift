/// The protocol-buffer wire format, for the few ONNX messages `ONNXGraph` writes: fields are
/// appended in order as tag (field number and wire type) and value. Repeated scalars are
/// written one field each (the unpacked form every parser reads).
struct ProtobufWriter {
    /// The message so far.
    private(set) var bytes: [UInt8] = []

    private mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }

    private mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

    /// An int32, int64 or enum field (a negative value takes ten bytes, as protobuf says).
    mutating func int(_ field: Int, _ value: Int64) {
        tag(field, 0)
        varint(UInt64(bitPattern: value))
    }

    /// A 32-bit float field.
    mutating func float(_ field: Int, _ value: Float) {
        tag(field, 5)
        let b = value.bitPattern
        for k in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: b >> (8 * k))) }
    }

    /// A bytes field.
    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string field (UTF-8).
    mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

    /// An embedded message field.
    mutating func message(_ field: Int, _ value: ProtobufWriter) { bytes(field, value.bytes) }

    /// An embedded message field built by `build`.
    mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
        var m = ProtobufWriter()
        build(&m)
        message(field, m)
    }
}
