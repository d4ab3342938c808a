import CZstd
import Foundation
import MLShEngine

/// Where a snapshot file is read from: positioned reads, safe from several threads at once.
public protocol TableFileSource: Sendable {
    /// The file's size in bytes.
    var size: Int { get }
    /// Fills `buffer` with the bytes at `offset`; false when they are not all there.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool
}

/// A snapshot file held in memory.
public struct TableFileBytes: TableFileSource {
    let bytes: [UInt8]
    /// Reads from `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// The number of bytes.
    public var size: Int { bytes.count }
    /// Copies the bytes at `offset`; false past the end.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        guard offset >= 0, offset <= bytes.count, buffer.count <= bytes.count - offset else { return false }
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + buffer.count)])) }
        return true
    }
}

/// A snapshot file read from an open descriptor with `pread` (the caller keeps it open).
public struct TableFileDescriptor: TableFileSource {
    let fd: Int32
    /// The file's size in bytes (from `fstat`).
    public let size: Int
    /// Reads `size` bytes from `fd`.
    public init(fd: Int32, size: Int) { self.fd = fd; self.size = size }
    /// `pread`s the bytes at `offset`, resuming after interruptions; false on a short read.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var done = 0
        while done < buffer.count {
            let r = pread(fd, base + done, buffer.count - done, off_t(offset + done))
            if r < 0 && errno == EINTR { continue }
            guard r > 0 else { return false }
            done += r
        }
        return true
    }
}

extension TableFile {
    /// A table read back from a snapshot file, with the fingerprint its header records and
    /// the checksum it ends with (both verified against the bytes read).
    public struct Decoded: Sendable {
        /// The table (without a label).
        public let table: Table
        /// `Table.fingerprint()` as the writer recorded it.
        public let fingerprint: String
        /// The 32-byte checksum the file ends with (its name in the store, as hex).
        public let checksum: [UInt8]
    }

    /// Reads the snapshot file in `bytes`.
    public static func decode(_ bytes: [UInt8]) throws(StoreError) -> Decoded {
        try read(TableFileBytes(bytes))
    }

    /// Reads a snapshot file: prefix, header and block list checked before anything is
    /// allocated; blocks read straight into the columns' arrays and hashed in parallel; the
    /// checksum verified before the table is returned.
    public static func read(_ source: some TableFileSource) throws(StoreError) -> Decoded {
        let size = source.size
        var prefix = [UInt8](repeating: 0, count: min(size, prefixSize))
        guard prefix.withUnsafeMutableBytes({ source.read(into: $0, at: 0) }) else {
            throw StoreError("snapshot file cannot be read: truncated at byte 0")
        }
        guard size >= magic.count, Array(prefix[0..<magic.count]) == magic else {
            throw StoreError("not a snapshot file: bad magic (the file does not start with MLSHTABL)")
        }
        guard let fileVersion = le(UInt32.self, prefix, 8) else {
            throw StoreError("snapshot file is truncated at byte \(size): too short to hold its format version")
        }
        guard fileVersion == UInt32(version) else {
            throw StoreError("unsupported snapshot file version \(fileVersion) (this mlsh reads version \(version))")
        }
        guard size >= prefixSize + checksumSize, let flags = le(UInt32.self, prefix, 12),
              let headerLength = le(UInt64.self, prefix, 16), let dataLength = le(UInt64.self, prefix, 24) else {
            throw StoreError("snapshot file is truncated at byte \(size): an empty one has \(prefixSize + checksumSize)")
        }
        let total = UInt64(size)
        guard headerLength <= total, dataLength <= total,
              UInt64(prefixSize + checksumSize) + headerLength + dataLength == total else {
            throw StoreError("snapshot file is truncated or has extra bytes: its lengths (header \(headerLength), data \(dataLength)) "
                             + "need \(UInt64(prefixSize + checksumSize) &+ headerLength &+ dataLength) bytes, the file has \(size)")
        }
        guard flags == 0 else { throw StoreError("malformed snapshot file: unknown flags \(flags) (version 1 writes 0)") }
        guard headerLength % 8 == 0, dataLength % 8 == 0 else {
            throw StoreError("malformed snapshot file: header and data lengths must be multiples of 8 (\(headerLength), \(dataLength))")
        }
        let dataStart = prefixSize + Int(headerLength), dataCount = Int(dataLength)
        var head = [UInt8](repeating: 0, count: dataStart)
        guard head.withUnsafeMutableBytes({ source.read(into: $0, at: 0) }) else {
            throw StoreError("snapshot file is truncated at byte \(size): its header is cut short")
        }
        let header = try parseHeader(Array(head[prefixSize...]))
        let plan = try validate(header, dataLength: dataCount)
        var sum = SHA256()
        sum.update(head)

        let digests = TableFileSlots<[UInt8]>(count: plan.blockCount, initial: [])
        let failures = TableFileSlots<StoreError?>(count: plan.blockCount, initial: nil)
        let reader = BlockReader(source: source, dataStart: dataStart, digests: digests, failures: failures)
        var columns: [Column] = []
        var names: [String] = []
        var dictionaries: [(column: Int, offsets: [UInt64], bytes: [UInt8])] = []
        for c in plan.columns {
            names.append(c.entry.name)
            let a = c.arrays
            func mask() -> [Bool]? { a.count > 1 ? reader.read(Bool.self, a[1]) : nil }
            switch c.entry.dtype {
            case "float":
                columns.append(Column(floats: reader.read(Double.self, a[0])))
            case "int":
                columns.append(Column(ints: reader.read(Int64.self, a[0]), validity: mask()))
            case "bool":
                columns.append(Column(bools: reader.read(Bool.self, a[0]), validity: mask()))
            default:
                let codes = reader.read(Int32.self, a[0], dictionary: c.entry.dictionary ?? 0)
                dictionaries.append((columns.count, reader.read(UInt64.self, a[1]), reader.read(UInt8.self, a[2])))
                columns.append(Column(.string(codes: codes, dictionary: [])))
            }
        }
        for d in digests.values { sum.update(d) }
        let checksum = sum.finalize()
        var trailer = [UInt8](repeating: 0, count: checksumSize)
        guard trailer.withUnsafeMutableBytes({ source.read(into: $0, at: size - checksumSize) }) else {
            throw StoreError("snapshot file is truncated at byte \(size - checksumSize): its checksum cannot be read")
        }
        guard trailer == checksum else {
            throw StoreError("snapshot file checksum mismatch: the file is damaged (its bytes no longer match the checksum it ends with)")
        }
        if let failure = failures.values.lazy.compactMap({ $0 }).first { throw failure }
        for d in dictionaries {
            guard case .string(let codes, _) = columns[d.column].storage else { continue }
            let dict = try dictionary(d.offsets, d.bytes, column: names[d.column])
            columns[d.column] = Column(.string(codes: codes, dictionary: dict))
        }
        let table: Table
        do { table = try Table(names: names, columns: columns) } catch {
            throw StoreError("malformed snapshot file: \(error)")
        }
        return Decoded(table: table, fingerprint: header.fingerprint, checksum: checksum)
    }

    /// The header's JSON, decoded.
    static func parseHeader(_ bytes: [UInt8]) throws(StoreError) -> Header {
        let data = Data(bytes)
        guard (try? JSONSerialization.jsonObject(with: data)) != nil else {
            throw StoreError("malformed snapshot file: the header is not valid JSON")
        }
        do { return try JSONDecoder().decode(Header.self, from: data) } catch {
            throw StoreError("malformed snapshot file: the header does not describe a table (\(error))")
        }
    }

    /// The little-endian integer at `offset` of `bytes`, or nil past their end.
    static func le<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], _ offset: Int) -> T? {
        let n = MemoryLayout<T>.size
        guard offset >= 0, offset <= bytes.count - n else { return nil }
        var v: T = 0
        for k in 0..<n { v |= T(bytes[offset + k]) << (8 * k) }
        return v
    }

    /// A string column's dictionary from its offsets and bytes: offsets from 0, never
    /// decreasing, ending at the byte count; every entry valid UTF-8.
    static func dictionary(_ offsets: [UInt64], _ bytes: [UInt8], column: String) throws(StoreError) -> [String] {
        guard offsets.first == 0, offsets.last == UInt64(bytes.count) else {
            throw StoreError("malformed snapshot file: column \(column)'s dictionary offsets do not span its \(bytes.count) bytes")
        }
        var out: [String] = []
        out.reserveCapacity(offsets.count - 1)
        for i in 1..<offsets.count {
            let a = offsets[i - 1], b = offsets[i]
            guard a <= b, b <= UInt64(bytes.count) else {
                throw StoreError("malformed snapshot file: column \(column)'s dictionary offsets decrease or pass its bytes at entry \(i - 1)")
            }
            let slice = bytes[Int(a)..<Int(b)]
            let s = String(decoding: slice, as: UTF8.self)
            guard s.utf8.elementsEqual(slice) else {
                throw StoreError("malformed snapshot file: column \(column)'s dictionary entry \(i - 1) is not valid UTF-8")
            }
            out.append(s)
        }
        return out
    }
}
