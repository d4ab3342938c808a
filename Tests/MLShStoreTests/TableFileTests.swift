import Foundation
import Testing
import TestSupport
import MLShEngine
@testable import MLShStore

/// Snapshot files: every dtype back bit for bit, deterministic bytes, and damaged or
/// hostile files refused with a StoreError, never a crash or a wrong table.
@Suite struct TableFileTests {
    /// Every dtype, with missing values in each.
    static func mixed() throws -> Table {
        try Table(names: ["f", "i", "b", "s", "j"], columns: [
            Column(floats: [1.5, .nan, -0.0, 0, .infinity, -2]),
            Column(ints: [1, 99, -3, .max, .min, 0], validity: [true, false, true, true, true, true]),
            Column(bools: [true, true, false, true, false, false], validity: [true, true, true, false, true, true]),
            Column(strings: ["a", nil, "", "é€😀", "a", "b"]),
            Column(ints: [5, 6, 7, 8, 9, 10]),
        ])
    }

    /// The same values, bit for bit (NaN as NaN).
    static func same(_ a: Table, _ b: Table) -> Bool {
        guard a.names == b.names, a.rowCount == b.rowCount, a.fingerprint() == b.fingerprint() else { return false }
        for (x, y) in zip(a.columns, b.columns) {
            switch (x.storage, y.storage) {
            case (.float(let u), .float(let v)):
                guard zip(u, v).allSatisfy({ $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }) else { return false }
            case (.int, .int), (.bool, .bool), (.string, .string):
                guard (0..<a.rowCount).allSatisfy({ x.isMissing($0) == y.isMissing($0) }) else { return false }
            default: return false
            }
        }
        return true
    }

    static func roundTrip(_ t: Table) throws -> Table {
        let bytes = try TableFile.encode(t)
        let d = try TableFile.decode(bytes)
        #expect(d.fingerprint == t.fingerprint())
        #expect(d.table.fingerprint() == t.fingerprint())
        return d.table
    }

    @Test func everyDtypeWithAndWithoutMissingValues() throws {
        let t = try Self.mixed()
        let back = try Self.roundTrip(t)
        #expect(Self.same(t, back))
        guard case .int(let v, let m) = back.columns[1].storage, case .int(_, let none) = back.columns[4].storage,
              case .string(let codes, let dict) = back.columns[3].storage,
              case .bool(let bv, let bm) = back.columns[2].storage else { Issue.record("dtypes changed"); return }
        #expect(v == [1, 0, -3, .max, .min, 0] && m == [true, false, true, true, true, true] && none == nil)
        #expect(codes == [0, -1, 1, 2, 0, 3] && dict == ["a", "", "é€😀", "b"])
        #expect(bv == [true, true, false, false, false, false] && bm == [true, true, true, false, true, true])
    }

    @Test func emptyTables() throws {
        let noRows = try Table(names: ["f", "i", "b", "s"], columns: [
            Column(floats: []), Column(ints: []), Column(bools: []), Column(strings: []),
        ])
        #expect(Self.same(noRows, try Self.roundTrip(noRows)))
        let none = try Self.roundTrip(Table.empty)
        #expect(none.names.isEmpty && none.rowCount == 0)
    }

    @Test func nanIsMissingAndNegativeZeroIsKept() throws {
        let payload = Double(bitPattern: Double.nan.bitPattern | 0x1234)
        let t = try Table(names: ["x"], columns: [Column(floats: [-0.0, 0.0, payload, .nan, -.nan])])
        guard case .float(let v) = try Self.roundTrip(t).columns[0].storage else { Issue.record("not float"); return }
        #expect(v[0].bitPattern == (-0.0).bitPattern && v[1].bitPattern == 0)
        #expect(v[2...].allSatisfy { $0.bitPattern == Double.nan.bitPattern })
        let plain = try Table(names: ["x"], columns: [Column(floats: [-0.0, 0.0, .nan, .nan, .nan])])
        #expect(try TableFile.encode(t) == TableFile.encode(plain))
    }

    @Test func sameContentGivesTheSameBytes() throws {
        let a = try Table(names: ["s", "i"], columns: [
            Column(.string(codes: [1, 0, -1, 1], dictionary: ["y", "x", "unused"])),
            Column(ints: [1, 2, 3, 4], validity: [true, true, true, true]),
        ])
        let b = try Table(names: ["s", "i"], columns: [
            Column(.string(codes: [3, 2, -1, 0], dictionary: ["x", "y", "y", "x"])),
            Column(ints: [1, 2, 3, 4]),
        ])
        #expect(try TableFile.encode(a) == TableFile.encode(b))
        let store = try Store(folder: temporaryFolder("tablefile"))
        #expect(try store.putTable(a).hash == store.putTable(b).hash)
        let m1 = try Table(names: ["i"], columns: [Column(ints: [7, 1], validity: [false, true])])
        let m2 = try Table(names: ["i"], columns: [Column(ints: [0, 1], validity: [false, true])])
        #expect(try TableFile.encode(m1) == TableFile.encode(m2))
    }

    @Test func largeTableHasRawAndCompressedBlocks() throws {
        let n = 1_000_000
        var rng = SeededRandom(seed: 7)
        let t = try Table(names: ["noise", "steps", "flag", "word"], columns: [
            Column(floats: (0..<n).map { _ in rng.nextDouble() }),
            Column(ints: (0..<n).map { Int64($0 / 1000) }, validity: (0..<n).map { $0 % 97 != 0 }),
            Column(bools: (0..<n).map { $0 % 3 == 0 }),
            Column(strings: (0..<n).map { $0 % 11 == 0 ? nil : "w\($0 % 50)" }),
        ])
        let bytes = try TableFile.encode(t)
        let header = String(decoding: bytes[32..<(32 + Int(try #require(TableFile.le(UInt64.self, bytes, 16))))], as: UTF8.self)
        #expect(header.contains(#""encoding":"raw""#) && header.contains(#""encoding":"zstd""#))
        #expect(bytes.count < n * 8 + n * 8 / 2)
        #expect(Self.same(t, try TableFile.decode(bytes).table))
    }

    @Test func storeKeepsTablesUnderTheirChecksum() throws {
        let folder = try temporaryFolder("tablefile")
        let store = try Store(folder: folder)
        let t = try Self.mixed()
        let (hash, size) = try store.putTable(t)
        let path = folder + "/artifacts/" + hash
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int == size)
        #expect(SHA256.hexString(try TableFile.decode(TableFile.encode(t)).checksum) == hash)
        let back = try store.table(hash, label: "train")
        #expect(back.label == "train" && Self.same(t, back))
        #expect(try store.putTable(t).hash == hash)
        var bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        bytes[bytes.count - 40] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        // A damaged file is set aside, so the table can be stored again.
        #expect(throws: StoreError("snapshot file checksum mismatch: the file is damaged (its bytes no longer match the checksum it ends with) (moved to \(path).damaged)")) {
            try store.table(hash, label: nil)
        }
        #expect(FileManager.default.fileExists(atPath: path + ".damaged") && !FileManager.default.fileExists(atPath: path))
        let other = try TableFile.encode(Table(names: ["x"], columns: [Column(floats: [1])]))
        try Data(other).write(to: URL(fileURLWithPath: path))
        #expect(throws: StoreError("snapshot \(hash) is corrupted: its checksum no longer matches its name (moved to \(path).damaged)")) {
            try store.table(hash, label: nil)
        }
        #expect(throws: StoreError("snapshot \(String(repeating: "0", count: 64)) is missing from \(folder)/artifacts")) {
            try store.table(String(repeating: "0", count: 64), label: nil)
        }
    }

    @Test func truncatedAtEveryLengthIsAnError() throws {
        let bytes = try TableFile.encode(try Self.mixed())
        for n in 0..<bytes.count {
            #expect(throws: StoreError.self, "truncated to \(n) bytes") { try TableFile.decode(Array(bytes[0..<n])) }
        }
        #expect(throws: StoreError("not a snapshot file: bad magic (the file does not start with MLSHTABL)")) {
            try TableFile.decode(Array(bytes[0..<5]))
        }
        #expect(throws: StoreError("snapshot file is truncated at byte 10: too short to hold its format version")) {
            try TableFile.decode(Array(bytes[0..<10]))
        }
        #expect(throws: StoreError.self) { try TableFile.decode(bytes + [0]) }
    }

    @Test func flippedBitAnywhereIsAnError() throws {
        let bytes = try TableFile.encode(try Self.mixed())
        for i in bytes.indices {
            for bit in [0, 4, 7] {
                var damaged = bytes
                damaged[i] ^= UInt8(1 << bit)
                #expect(throws: StoreError.self, "bit \(bit) flipped in byte \(i)") { try TableFile.decode(damaged) }
            }
        }
        var version = bytes
        version[8] = 2
        #expect(throws: StoreError("unsupported snapshot file version 2 (this mlsh reads version 1)")) { try TableFile.decode(version) }
    }

    /// A file with `header` (padded) and `data`; its trailer is zeros, since every check
    /// here comes before the checksum's.
    static func build(header: String, data: [UInt8] = []) -> [UInt8] {
        var h = Array(header.utf8)
        while h.count % 8 != 0 { h.append(UInt8(ascii: " ")) }
        var out = Array("MLSHTABL".utf8)
        TableFile.appendLittleEndian(UInt32(1), to: &out)
        TableFile.appendLittleEndian(UInt32(0), to: &out)
        TableFile.appendLittleEndian(UInt64(h.count), to: &out)
        TableFile.appendLittleEndian(UInt64(data.count), to: &out)
        return out + h + data + [UInt8](repeating: 0, count: 32)
    }

    static func header(rows: String, blocks: String, dtype: String = "float", array: String = #""name":"values","type":"f64""#) -> String {
        #"{"columns":[{"arrays":[{"blocks":[\#(blocks)],\#(array)}],"dtype":"\#(dtype)","name":"x"}],"#
            + #""fingerprint":"sha256:0","format":"mlsh-table","rows":\#(rows),"version":1}"#
    }

    @Test(arguments: [
        ("9223372036854775807", #"{"encoding":"raw","length":8,"offset":0,"rawLength":8}"#,
         "malformed snapshot file: column x (values) holds 8 bytes; 9223372036854775807 f64 values need more than Int.max"),
        ("1000000000000", #"{"encoding":"raw","length":8,"offset":0,"rawLength":8}"#,
         "malformed snapshot file: column x (values) holds 8 bytes; 1000000000000 f64 values need 8000000000000"),
        ("-1", "", "malformed snapshot file: negative row count -1"),
        ("1", #"{"encoding":"raw","length":8,"offset":8,"rawLength":8}"#,
         "malformed snapshot file: block out of range: column x (values) has a block at offset 8, expected 0"),
        ("1", #"{"encoding":"raw","length":800,"offset":0,"rawLength":800}"#,
         "malformed snapshot file: block out of range: column x (values) has a block of 800 bytes at offset 0 of a 8-byte data section"),
        ("1", #"{"encoding":"zstd","length":8,"offset":0,"rawLength":9223372036854775807}"#,
         "malformed snapshot file: column x (values) has a block of 9223372036854775807 decoded bytes (1 to 8388608, whole f64 values)"),
        ("1", #"{"encoding":"raw","length":-8,"offset":0,"rawLength":8}"#,
         "malformed snapshot file: block out of range: column x (values) has a block of -8 bytes at offset 0 of a 8-byte data section"),
        ("1e300", "", "malformed snapshot file: the header does not describe a table"),
        ("1", #"{"encoding":"lz4","length":8,"offset":0,"rawLength":8}"#,
         "malformed snapshot file: column x (values) has a block with unknown encoding 'lz4'"),
    ])
    func absurdHeadersAreRefusedBeforeAllocating(rows: String, blocks: String, message: String) throws {
        let file = Self.build(header: Self.header(rows: rows, blocks: blocks), data: [UInt8](repeating: 0, count: 8))
        #expect {
            try TableFile.decode(file)
        } throws: { error in
            guard let e = error as? StoreError else { return false }
            return e.message.hasPrefix(message)
        }
    }

    @Test func otherMalformedFiles() throws {
        let notJSON = Self.build(header: "{not json")
        #expect(throws: StoreError("malformed snapshot file: the header is not valid JSON")) { try TableFile.decode(notJSON) }
        let unknown = Self.build(header: Self.header(rows: "0", blocks: "", dtype: "date"))
        #expect(throws: StoreError("malformed snapshot file: column x has unknown dtype 'date'")) { try TableFile.decode(unknown) }
        let noColumns = Self.build(header: #"{"columns":[],"fingerprint":"","format":"mlsh-table","rows":3,"version":1}"#)
        #expect(throws: StoreError("malformed snapshot file: 3 rows but no columns")) { try TableFile.decode(noColumns) }
        let spare = Self.build(header: Self.header(rows: "0", blocks: ""), data: [UInt8](repeating: 0, count: 8))
        #expect(throws: StoreError("malformed snapshot file: the data section has 8 bytes no block uses")) { try TableFile.decode(spare) }
    }
}
