import Foundation
import MLShCommon
import MLShEngine
import MLShModels

/// The safe model file: data only, never code; validated completely on load.
///
/// Format version 2 (written), all integers little-endian (see docs/store.md for the table):
///
/// ```
/// offset  size  field
///      0     8  magic "MLSHMODL"
///      8     4  format version, UInt32 (2)
///     12     4  flags, UInt32 (0; anything else is refused)
///     16     8  header length H, UInt64 (a multiple of 8)
///     24     8  data length L, UInt64 (a multiple of 8)
///     32     H  header: UTF-8 JSON, sorted keys, padded with spaces to H bytes
///   32+H     L  data: the arrays, back to back, each Float64 or Int64
/// 32+H+L    32  SHA-256 of bytes 0 ..< 32+H+L
/// ```
///
/// The header is `{"arrays", "format": "mlsh-model", "kind", "mlsh_version", "state",
/// "version": 2}`: `state` is the `FittedState` as `JSONEncoder` writes it (spec, task,
/// target, schema, classes, transforms, estimator, metrics, reference), except that every
/// array of at least `binaryMinimum` numbers is replaced by `{"$array": i}`, entry `i` of
/// `arrays` (`path`, `dtype` "f64" or "i64", `count`, `offset` into the data section).
///
/// Why a generic rewrite of the encoded state rather than a hand-written layout per
/// estimator: the state is already `Codable` and grows (the training `reference` came
/// after the first format), so walking its JSON tree keeps every present and future array
/// in the binary section with no second description of the state to keep in step, and the
/// header stays readable with `head -c`. Exactness: an array becomes "i64" only when every
/// element is an integer that converts to exactly the same `Double` (so `-0.0` forces
/// "f64"); `JSONEncoder` writes the header's numbers in their shortest round-trip form; and
/// on load the arrays are put back into the tree before `JSONDecoder` reads `FittedState`,
/// so every value comes back bit for bit. NaN and infinity are refused when writing (no
/// state holds them) and when reading.
///
/// Version 1 files (sorted-key JSON `{"format": "mlsh-model", "version": 1, ...}`) are
/// still read.
public enum ModelFile {
    /// The format version written; newer ones are refused.
    public static let version = 2
    /// The first eight bytes of a version 2 (or later) file.
    static let magic = Array("MLSHMODL".utf8)
    /// Bytes before the header: magic, version, flags, header length, data length.
    static let prefixSize = 32
    /// The trailing SHA-256.
    static let checksumSize = 32
    /// Number arrays at least this long go to the binary section; shorter ones (a few
    /// metrics, a one-node tree) stay readable in the header.
    static let binaryMinimum = 8

    /// One array of the data section, as the header's `arrays` lists it.
    struct ArrayEntry: Codable, Equatable {
        /// Where the array sits in the state, e.g. `estimator.knn._0.x` (for readers; loading
        /// follows the `{"$array": i}` references).
        var path: String
        /// "f64" (Float64) or "i64" (Int64), little-endian.
        var dtype: String
        var count: Int
        /// Byte offset from the start of the data section.
        var offset: Int
    }

    /// The version 2 header.
    struct Header: Codable {
        var format: String
        var version: Int
        var mlsh_version: String
        /// The model's kind (`forest`, `knn`, ...), as `spec` names it.
        var kind: String
        var arrays: [ArrayEntry]
        var state: JSON
    }

    /// The model as file bytes (deterministic: the same model gives the same bytes and hash).
    public static func encode(_ model: FittedModel, mlshVersion: String) throws(StoreError) -> [UInt8] {
        let state = model.encodeParameters()
        let tree: JSON
        do {
            let text = [UInt8](try sortedJSON(state))
            tree = try text.withUnsafeBytes { raw throws(JSONError) in try JSONParser.parse(raw, exactIntegers: true) }
        } catch let EncodingError.invalidValue(value, context) {
            // Enum payload keys (`_0`) say nothing to a reader.
            let path = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
                .filter { !$0.hasPrefix("_") }.joined(separator: ".")
            throw StoreError("cannot encode the model: it holds \(value) at \(path); model files hold finite numbers only")
        } catch {
            throw StoreError("cannot encode the model: \(error)")
        }
        var packer = ArrayPacker()
        let packed = try packer.pack(tree, path: "")
        let header = Header(format: "mlsh-model", version: version, mlsh_version: mlshVersion, kind: kind(of: state),
                            arrays: packer.directory, state: packed)
        var headerBytes: [UInt8]
        do {
            headerBytes = [UInt8](try sortedJSON(header))
        } catch {
            throw StoreError("cannot encode the model: \(error)")
        }
        while headerBytes.count % 8 != 0 { headerBytes.append(UInt8(ascii: " ")) }

        var out = magic
        out.reserveCapacity(prefixSize + headerBytes.count + packer.data.count + checksumSize)
        appendLittleEndian(UInt32(version), to: &out)
        appendLittleEndian(UInt32(0), to: &out)
        appendLittleEndian(UInt64(headerBytes.count), to: &out)
        appendLittleEndian(UInt64(packer.data.count), to: &out)
        out += headerBytes
        out += packer.data
        var h = SHA256()
        h.update(out)
        out += h.finalize()
        return out
    }

    /// A model from file bytes: layout, lengths and checksum checked, then the state
    /// validated by `FittedModel(checked:)`. Version 1 (JSON) files are read too.
    public static func decode(_ bytes: [UInt8]) throws(StoreError) -> FittedModel {
        if bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic {
            return try decodeBinary(bytes)
        }
        if let first = bytes.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }), first == UInt8(ascii: "{") {
            return try decodeVersion1(bytes)
        }
        throw StoreError("not an mlsh model file (it starts with neither the MLSHMODL magic bytes nor a version 1 JSON header)")
    }

    /// `value` as JSON with sorted keys (deterministic bytes).
    static func sortedJSON(_ value: some Encodable) throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return try enc.encode(value)
    }

    /// The kind the header names: the model's, or `pipeline` for transforms alone.
    static func kind(of state: FittedState) -> String { state.spec.model?.kind ?? "pipeline" }

    /// Validates a decoded state and builds the model.
    static func checked(_ state: FittedState) throws(StoreError) -> FittedModel {
        do { return try FittedModel(checked: state) } catch {
            throw StoreError("invalid model file: \(error.message)")
        }
    }

    static func appendLittleEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }
}
