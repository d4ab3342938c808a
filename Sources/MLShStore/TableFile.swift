import Dispatch
import Foundation
import MLShCommon
import MLShEngine
import CXXHash

/// The snapshot file: a table's columns as typed little-endian arrays, data only, checked
/// completely on load (see docs/store.md, "Snapshot files", for the byte table).
///
/// ```
/// offset  size  field
///      0     8  magic "MLSHTABL"
///      8     4  format version, UInt32 (1)
///     12     4  flags, UInt32 (0; anything else is refused)
///     16     8  header length H, UInt64 (a multiple of 8)
///     24     8  data length L, UInt64 (a multiple of 8)
///     32     H  header: UTF-8 JSON, sorted keys, padded with spaces to H bytes
///   32+H     L  data: the blocks, back to back, each zero-padded to a multiple of 8
/// 32+H+L    32  checksum
/// ```
///
/// The header is `{"columns", "fingerprint", "format": "mlsh-table", "rows", "version": 1}`;
/// each column is `{"arrays", "dtype", "name"}` (strings add `"dictionary"`, the entry
/// count), each array `{"blocks", "name", "type"}` and each block `{"encoding": "raw" or
/// "zstd", "length", "offset", "rawLength"}`. A column's arrays, by dtype: float `values`
/// f64; int `values` i64 and bool `values` u8 (0 or 1), each with an optional `mask` u8
/// (1 present, 0 missing; absent when nothing is missing); string `codes` i32 (-1 missing),
/// `offsets` u64 (entries + 1, from 0) and `bytes` u8 (the entries' UTF-8). An array is
/// cut into blocks of at most `blockBytes` raw bytes; a block is stored as zstd only when
/// that saves at least a tenth of it.
///
/// The checksum is SHA-256 over bytes 0 ..< 32+H followed by the XXH3-128 digest (16
/// bytes, canonical big-endian) of each block's stored bytes (padding included) in file
/// order: blocks are digested in parallel at memory speed, and any changed or missing
/// byte changes the checksum. (XXH3 catches damage, not deliberate forgery.)
///
/// Deterministic: the same content gives the same bytes (NaNs written as one pattern,
/// values under a missing mask as 0, string dictionaries in first-appearance order with
/// unused and repeated entries dropped, zstd at a fixed level).
public enum TableFile {
    /// The format version written and read.
    public static let version = 1
    /// The first eight bytes of a snapshot file.
    static let magic = Array("MLSHTABL".utf8)
    /// Bytes before the header: magic, version, flags, header length, data length.
    static let prefixSize = 32
    /// The trailing checksum.
    static let checksumSize = 32
    /// The largest raw size of a block (8 MiB: a million 8-byte values).
    static let blockBytes = 1 << 23
    /// Bytes of a block compressed on trial to decide whether zstd pays.
    static let sampleBytes = 1 << 16
    /// The zstd level blocks are written with.
    static let zstdLevel: Int32 = 3
    /// Bytes read at a time from a raw block, hashed while still in the core's L2 cache.
    static let readPiece = 1 << 18

    /// The JSON header.
    struct Header: Codable {
        var format: String
        var version: Int
        var rows: Int
        var fingerprint: String
        var columns: [ColumnEntry]
    }

    /// One column in the header.
    struct ColumnEntry: Codable {
        var name: String
        var dtype: String
        var dictionary: Int?
        var arrays: [ArrayEntry]
    }

    /// One typed array of a column.
    struct ArrayEntry: Codable {
        var name: String
        var type: String
        var blocks: [Block]
    }

    /// One stored block: `offset` into the data section, `length` stored bytes (before
    /// padding), `rawLength` bytes once decoded.
    struct Block: Codable {
        var offset: Int
        var length: Int
        var encoding: String
        var rawLength: Int
    }

    /// The size in bytes of one element of an array type.
    static func elementSize(_ type: String) -> Int? {
        switch type {
        case "f64", "i64", "u64": return 8
        case "i32": return 4
        case "u8": return 1
        default: return nil
        }
    }

    /// `n` rounded up to a multiple of 8.
    static func padded(_ n: Int) -> Int { (n + 7) & ~7 }

    static func appendLittleEndian<T: FixedWidthInteger>(_ x: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) }
    }
}

/// Runs `body(i)` for `i` in `0..<count` on up to `Processors.usable` threads.
func tableFileParallel(_ count: Int, _ body: (Int) -> Void) {
    if count <= 1 { for i in 0..<count { body(i) }; return }
    let workers = min(count, Processors.usable)
    withoutActuallyEscaping(body) { fn in
        let box = TableFileShared(fn)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            for i in stride(from: w, to: count, by: workers) { box.value(i) }
        }
    }
}

/// A value handed to parallel workers that only read it or write disjoint parts of it.
struct TableFileShared<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One result per parallel task, each written by its own task only.
final class TableFileSlots<T>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T>
    init(count: Int, initial: T) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: initial)
    }
    deinit { slots.deinitialize(); slots.deallocate() }
    subscript(i: Int) -> T {
        get { slots[i] }
        set { slots[i] = newValue }
    }
    var values: [T] { Array(slots) }
}

/// The digest of one stored block: XXH3-128 of its bytes, streamed.
final class BlockDigest {
    private let state: OpaquePointer?

    init() {
        state = XXH3_createState()
        if let state { XXH3_128bits_reset(state) }
    }

    deinit { if let state { XXH3_freeState(state) } }

    func update(_ bytes: UnsafeRawBufferPointer) {
        guard let state, let base = bytes.baseAddress, !bytes.isEmpty else { return }
        XXH3_128bits_update(state, base, bytes.count)
    }

    func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 16 canonical (big-endian) bytes; all zero if the state could not be allocated
    /// (which then fails the file's check rather than passing it).
    func finalize() -> [UInt8] {
        guard let state else { return [UInt8](repeating: 0, count: 16) }
        let h = XXH3_128bits_digest(state)
        var out: [UInt8] = []
        out.reserveCapacity(16)
        for x in [h.high64, h.low64] { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: x >> UInt64(s))) } }
        return out
    }
}
