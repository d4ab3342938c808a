import Foundation
import Testing
@testable import MLShEngine

/// Damaged Parquet files are errors with a position, never crashes: truncations at every
/// offset, flipped bytes, and every integer of the footer and of the page headers
/// replaced by lies (zero, negative, huge, off by one).
@Suite struct ParquetDamageTests {
    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: "\(parquetFixtures)/\(name).parquet")))
    }

    /// A small file of every type, with nulls, written by mlsh.
    static func small() throws -> [UInt8] {
        try Parquet.encode(try ParquetWriteTests.everything(rows: 23), compression: .snappy, rowGroupRows: 10)
    }

    /// Reads `bytes`: a table, or a malformed-data error inside the file, or an
    /// unsupported-file error; anything else is recorded.
    static func survives(_ bytes: [UInt8], _ what: @autoclosure () -> String) {
        do {
            _ = try Parquet.read(data: bytes, name: "f.parquet")
        } catch {
            switch error {
            case .malformedData(_, let offset, let message):
                if offset < 0 || offset > bytes.count { Issue.record("\(what()): offset \(offset) outside \(bytes.count) bytes: \(message)") }
            case .unsupportedFile, .duplicateColumn:
                break
            default:
                Issue.record("\(what()): unexpected \(error)")
            }
        }
    }

    @Test(arguments: ["small", "dict-v1-snappy", "plain-v2-none"])
    func truncatedAtEveryOffset(_ name: String) throws {
        let bytes = name == "small" ? try Self.small() : try Self.fixture(name)
        for n in 0..<bytes.count { Self.survives(Array(bytes[..<n]), "\(name) cut at \(n)") }
        // The data cut short under an intact footer: every chunk offset now lies.
        let footer = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        let tail = Array(bytes[(bytes.count - 8 - footer)...])
        for n in stride(from: 0, to: bytes.count - tail.count, by: name == "small" ? 1 : 29) {
            Self.survives(Array(bytes[..<n]) + tail, "\(name) data cut at \(n)")
        }
    }

    @Test(arguments: ["small", "dict-v2-zstd", "plain-v1-gzip", "encodings-v1"])
    func flippedBytes(_ name: String) throws {
        let bytes = name == "small" ? try Self.small() : try Self.fixture(name)
        // Every byte of mlsh's small file; every 13th of pyarrow's larger ones.
        let step = name == "small" ? 1 : 13
        for i in stride(from: 0, to: bytes.count, by: step) {
            for mask: UInt8 in name == "small" ? [0xFF, 0x01] : [0xFF, 0x10] {
                var b = bytes
                b[i] ^= mask
                Self.survives(b, "\(name) byte \(i) ^ \(mask)")
            }
        }
    }

    static let lies: [Int64] = [0, 1, -1, 7, 1 << 20, Int64(Int32.max), Int64(Int32.min), 1 << 40, Int64.max, Int64.min]

    /// Every integer in the footer, replaced by each lie (the footer re-sized to fit).
    @Test(arguments: ["small", "row-groups", "polars"])
    func lyingFooterIntegers(_ name: String) throws {
        let bytes = name == "small" ? try Self.small() : try Self.fixture(name)
        let length = Int(UInt32(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt32.self) }))
        let start = bytes.count - 8 - length
        let footer = Array(bytes[start..<(bytes.count - 8)])
        let places = CompactIntegers.find(in: footer)
        #expect(places.count > 20, "\(name): \(places.count) integers found in the footer")
        // Every integer of mlsh's small file; every 4th of pyarrow's and Polars' larger footers.
        for (k, (from, to, value)) in places.enumerated() where name == "small" || k % 4 == 0 {
            for lie in Self.lies + [value &+ 1, value &- 1] where lie != value {
                let changed = Array(footer[..<from]) + CompactIntegers.zigzag(lie) + Array(footer[to...])
                var file = Array(bytes[..<start]) + changed
                let n = UInt32(changed.count)
                file += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)] + Array("PAR1".utf8)
                Self.survives(file, "\(name): footer integer at \(start + from) = \(lie)")
            }
        }
    }

    /// Every integer in every page header, replaced by each lie.
    @Test(arguments: ["small", "dict-v2-snappy", "fallback"])
    func lyingPageHeaderIntegers(_ name: String) throws {
        let bytes = name == "small" ? try Self.small() : try Self.fixture(name)
        var headers: [Int] = []
        try bytes.withUnsafeBytes { buf in
            let reader = ParquetReader(file: buf, label: name)
            let (meta, _) = try reader.footer()
            for rg in meta.rowGroups {
                for c in rg.columns {
                    guard let m = c.meta else { continue }
                    var pos = Int(m.dataPageOffset)
                    if let d = m.dictionaryPageOffset, d > 0, d < m.dataPageOffset { pos = Int(d) }
                    let end = pos + Int(m.totalCompressedSize)
                    while pos < end {
                        var r = ThriftReader(UnsafeRawBufferPointer(rebasing: buf[pos...]).assumingMemoryBound(to: UInt8.self), origin: pos)
                        let h = try r.pageHeader()
                        headers.append(pos)
                        pos += r.pos + Int(h.compressedSize)
                    }
                }
            }
        }
        #expect(headers.count > 10)
        var tried = 0
        for (k, at) in headers.enumerated() where name == "small" || k % 2 == 0 {
            for (from, to, value) in CompactIntegers.find(in: Array(bytes[at..<min(bytes.count, at + 200)]), structs: 1) {
                for lie in Self.lies + [value &+ 1, value &- 1] where lie != value {
                    let file = Array(bytes[..<(at + from)]) + CompactIntegers.zigzag(lie) + Array(bytes[(at + to)...])
                    Self.survives(file, "\(name): page header at \(at), integer at \(at + from) = \(lie)")
                    tried += 1
                }
            }
        }
        #expect(tried > 100)
    }
}

/// Finds the integers (i16, i32, i64 values: zigzag varints) in compact-protocol bytes,
/// independently of the reader under test.
struct CompactIntegers {
    let b: [UInt8]
    var pos = 0
    var found: [(Int, Int, Int64)] = []

    /// The integers of the first `structs` structs in `bytes`: start, end, value.
    static func find(in bytes: [UInt8], structs: Int = 1) -> [(Int, Int, Int64)] {
        var w = CompactIntegers(b: bytes)
        for _ in 0..<structs { guard w.structure(0) else { break } }
        return w.found
    }

    static func zigzag(_ v: Int64) -> [UInt8] {
        var x = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        var out: [UInt8] = []
        while x >= 0x80 { out.append(UInt8(x & 0x7F) | 0x80); x >>= 7 }
        out.append(UInt8(x))
        return out
    }

    mutating func varint() -> UInt64? {
        var v: UInt64 = 0, shift: UInt64 = 0
        while pos < b.count && shift < 64 {
            let x = b[pos]; pos += 1
            v |= UInt64(x & 0x7F) << shift
            if x & 0x80 == 0 { return v }
            shift += 7
        }
        return nil
    }

    mutating func integer() -> Bool {
        let start = pos
        guard let u = varint() else { return false }
        found.append((start, pos, Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))))
        return true
    }

    mutating func value(_ type: UInt8, _ depth: Int) -> Bool {
        guard depth < 20 else { return false }
        switch type {
        case 1, 2: return true
        case 3: pos += 1; return pos <= b.count
        case 4, 5, 6: return integer()
        case 7: pos += 8; return pos <= b.count
        case 8:
            guard let n = varint(), n <= UInt64(b.count - pos) else { return false }
            pos += Int(n)
            return true
        case 9, 10:
            guard pos < b.count else { return false }
            let h = b[pos]; pos += 1
            var n = UInt64(h >> 4)
            if n == 15 { guard let m = varint() else { return false }; n = m }
            guard n <= UInt64(b.count) else { return false }
            for _ in 0..<n {
                if h & 0x0F == 1 || h & 0x0F == 2 { pos += 1; continue }
                guard value(h & 0x0F, depth + 1) else { return false }
            }
            return true
        case 12: return structure(depth + 1)
        default: return false
        }
    }

    mutating func structure(_ depth: Int) -> Bool {
        while pos < b.count {
            let h = b[pos]; pos += 1
            if h == 0 { return true }
            if h >> 4 == 0 { guard varint() != nil else { return false } }
            guard value(h & 0x0F, depth) else { return false }
        }
        return false
    }
}
