import Foundation
import MLShCommon
import MLShEngine
import MLShModels

/// An array of JSON numbers as the model file stores it.
enum NumberArray {
    /// Every element an integer that is exactly its `Double` (`-0` is not): "i64".
    case ints([Int64])
    /// Any other numbers: "f64".
    case doubles([Double])
    /// Integers, one above `Int64.max`: kept in the header, digit for digit.
    case unsigned

    /// How `items` are stored; nil unless every one is a number.
    init?(_ items: [JSON]) {
        var ints: [Int64] = [], negativeZero = false, unsigned = true
        ints.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .number(let d):
                if d == 0 && d.sign == .minus { negativeZero = true; ints.append(0) } else if let i = item.int64 { ints.append(i) }
                if d != d.rounded() || d.magnitude > Double(JSON.exactDoubleLimit) || d < 0 { unsigned = false }
            case .integer(let negative, _):
                if let i = item.int64 { ints.append(i) }
                if negative { unsigned = false }
            default:
                return nil
            }
        }
        if ints.count == items.count {
            self = negativeZero ? .doubles(items.map { $0.double ?? .nan }) : .ints(ints)
        } else if unsigned {
            self = .unsigned
        } else {
            self = .doubles(items.map { $0.double ?? .nan })
        }
    }
}

/// Moves the number arrays of an encoded state into a data section, in tree order (object
/// keys sorted), leaving `{"$array": i}` in their place.
struct ArrayPacker {
    /// The reference key; refused as an ordinary key so references are unambiguous.
    static let referenceKey = "$array"
    var directory: [ModelFile.ArrayEntry] = []
    var data: [UInt8] = []

    mutating func pack(_ tree: JSON, path: String) throws(StoreError) -> JSON {
        switch tree {
        case .array(let items):
            switch NumberArray(items) {
            case .ints(let v)? where v.count >= ModelFile.binaryMinimum:
                directory.append(.init(path: path, dtype: "i64", count: v.count, offset: data.count))
                for x in v { ModelFile.appendLittleEndian(x, to: &data) }
                return reference(directory.count - 1)
            case .doubles(let v)? where v.count >= ModelFile.binaryMinimum:
                directory.append(.init(path: path, dtype: "f64", count: v.count, offset: data.count))
                for x in v { ModelFile.appendLittleEndian(x.bitPattern, to: &data) }
                return reference(directory.count - 1)
            case .doubles(let v)?:
                // Short, in the header, written as the Doubles they are.
                return .array(v.map(JSON.number))
            case .ints?, .unsigned?:
                return tree
            case nil:
                var out: [JSON] = []
                out.reserveCapacity(items.count)
                for (i, item) in items.enumerated() { out.append(try pack(item, path: Self.join(path, String(i)))) }
                return .array(out)
            }
        case .object(let fields):
            guard !fields.contains(where: { $0.0 == Self.referenceKey }) else {
                throw StoreError("cannot encode the model: its state uses the reserved key \(Self.referenceKey) at \(path)")
            }
            var out: [(String, JSON)] = []
            for (key, value) in fields.sorted(by: { $0.0 < $1.0 }) { out.append((key, try pack(value, path: Self.join(path, key)))) }
            return .object(out)
        default:
            return tree
        }
    }

    private func reference(_ index: Int) -> JSON { .object([(Self.referenceKey, .number(Double(index)))]) }

    static func join(_ path: String, _ part: String) -> String { path.isEmpty ? part : path + "." + part }
}

/// Little-endian reads from file bytes; every read is bounds-checked and answers nil
/// outside the bytes.
struct ByteReader {
    let bytes: [UInt8]

    func uint32(at offset: Int) -> UInt32? { read(at: offset) }
    func uint64(at offset: Int) -> UInt64? { read(at: offset) }

    private func read<T: FixedWidthInteger & UnsignedInteger>(at offset: Int) -> T? {
        let size = MemoryLayout<T>.size
        guard offset >= 0, offset <= bytes.count - size else { return nil }
        var v: T = 0
        for k in 0..<size { v |= T(bytes[offset + k]) << (8 * k) }
        return v
    }
}

extension ModelFile {
    /// Reads a file that starts with the magic bytes: version, lengths, checksum, header,
    /// arrays, state, in that order, each checked before the next is trusted.
    static func decodeBinary(_ bytes: [UInt8]) throws(StoreError) -> FittedModel {
        let r = ByteReader(bytes: bytes)
        guard let fileVersion = r.uint32(at: 8) else {
            throw StoreError("model file is truncated: \(bytes.count) bytes, too short to hold its format version")
        }
        guard fileVersion <= UInt32(version) else {
            throw StoreError("model file version \(fileVersion) is newer than this mlsh reads (\(version))")
        }
        guard fileVersion == UInt32(version) else {
            throw StoreError("malformed model file: binary model files start at format version 2, this one says \(fileVersion)")
        }
        guard bytes.count >= prefixSize + checksumSize, let flags = r.uint32(at: 12),
              let headerLength = r.uint64(at: 16), let dataLength = r.uint64(at: 24) else {
            throw StoreError("model file is truncated: \(bytes.count) bytes, fewer than the \(prefixSize + checksumSize) of an empty one")
        }
        let size = UInt64(bytes.count)
        // Both lengths are at most the file size, so the sum cannot overflow.
        guard headerLength <= size, dataLength <= size,
              UInt64(prefixSize) + headerLength + dataLength + UInt64(checksumSize) == size else {
            throw StoreError("model file is truncated or has extra bytes: its lengths (header \(headerLength), data \(dataLength)) "
                             + "need \(UInt64(prefixSize + checksumSize) &+ headerLength &+ dataLength) bytes, the file has \(bytes.count)")
        }
        let headerEnd = prefixSize + Int(headerLength), dataEnd = headerEnd + Int(dataLength)
        var h = SHA256()
        bytes.withUnsafeBufferPointer { h.update(UnsafeBufferPointer(rebasing: $0[0..<dataEnd])) }
        guard h.finalize() == Array(bytes[dataEnd..<bytes.count]) else {
            throw StoreError("model file checksum mismatch: the file is damaged (its bytes no longer match the SHA-256 it ends with)")
        }
        guard flags == 0 else { throw StoreError("malformed model file: unknown flags \(flags) (version 2 writes 0)") }
        guard headerLength % 8 == 0, dataLength % 8 == 0 else {
            throw StoreError("malformed model file: header and data lengths must be multiples of 8 (\(headerLength), \(dataLength))")
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(bytes[prefixSize..<headerEnd])) } catch {
            throw StoreError("malformed model file header: \(error)")
        }
        guard header.format == "mlsh-model", header.version == version else {
            throw StoreError("malformed model file header: format '\(header.format)' version \(header.version), expected 'mlsh-model' version \(version)")
        }
        let arrays = try readArrays(header.arrays, bytes: bytes, dataStart: headerEnd, dataLength: Int(dataLength))
        var used = [Bool](repeating: false, count: arrays.count)
        let tree = try restore(header.state, arrays: arrays, used: &used)
        if let unused = used.firstIndex(of: false) {
            throw StoreError("malformed model file: array \(unused) (\(header.arrays[unused].path)) is never referenced")
        }
        let state: FittedState
        do { state = try JSONDecoder().decode(FittedState.self, from: JSONEncoder().encode(tree)) } catch {
            throw StoreError("malformed model file: \(error)")
        }
        guard kind(of: state) == header.kind else {
            throw StoreError("malformed model file: the header says kind '\(header.kind)' but the state holds '\(kind(of: state))'")
        }
        return try checked(state)
    }

    /// The data section's arrays, as the directory lists them: each in bounds, back to back
    /// from offset 0 and filling the section exactly, finite.
    static func readArrays(_ directory: [ArrayEntry], bytes: [UInt8], dataStart: Int, dataLength: Int) throws(StoreError) -> [JSON] {
        let r = ByteReader(bytes: bytes)
        var arrays: [JSON] = []
        arrays.reserveCapacity(directory.count)
        var next = 0
        for e in directory {
            guard e.offset == next, e.count >= 0, e.count <= (dataLength - next) / 8 else {
                throw StoreError("malformed model file: array \(e.path) (offset \(e.offset), \(e.count) values) does not lie "
                                 + "at offset \(next) within the \(dataLength)-byte data section")
            }
            guard e.dtype == "f64" || e.dtype == "i64" else {
                throw StoreError("malformed model file: array \(e.path) has dtype '\(e.dtype)' (expected f64 or i64)")
            }
            let base = dataStart + next
            var bits: [UInt64] = []
            bits.reserveCapacity(e.count)
            for k in 0..<e.count {
                guard let b = r.uint64(at: base + 8 * k) else { throw StoreError("malformed model file: array \(e.path) is cut short") }
                bits.append(b)
            }
            if e.dtype == "i64" {
                arrays.append(.array(bits.map { JSON(Int64(bitPattern: $0)) }))
            } else {
                let v = bits.map(Double.init(bitPattern:))
                if let bad = v.first(where: { !$0.isFinite }) {
                    throw StoreError("malformed model file: array \(e.path) holds a non-finite number (\(bad))")
                }
                arrays.append(.array(v.map(JSON.number)))
            }
            next += 8 * e.count
        }
        guard next == dataLength else {
            throw StoreError("malformed model file: the data section has \(dataLength - next) bytes no array uses")
        }
        return arrays
    }

    /// The header's state with each `{"$array": i}` replaced by array `i`; each array may be
    /// used once.
    static func restore(_ tree: JSON, arrays: [JSON], used: inout [Bool]) throws(StoreError) -> JSON {
        switch tree {
        case .object(let fields):
            if let ref = tree[ArrayPacker.referenceKey] {
                guard fields.count == 1, let i = ref.int64 else {
                    throw StoreError("malformed model file: an array reference must be {\"\(ArrayPacker.referenceKey)\": index} alone")
                }
                guard i >= 0, i < Int64(arrays.count) else {
                    throw StoreError("malformed model file: array reference \(i) is out of range (\(arrays.count) arrays)")
                }
                guard !used[Int(i)] else { throw StoreError("malformed model file: array \(i) is referenced twice") }
                used[Int(i)] = true
                return arrays[Int(i)]
            }
            var out: [(String, JSON)] = []
            for (k, v) in fields { out.append((k, try restore(v, arrays: arrays, used: &used))) }
            return .object(out)
        case .array(let items):
            var out: [JSON] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try restore(item, arrays: arrays, used: &used)) }
            return .array(out)
        default:
            return tree
        }
    }
}
