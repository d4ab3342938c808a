import Foundation
import Testing
import TestSupport
@testable import MLShEngine

/// The Parquet fixtures (written by pyarrow and Polars, `fixtures/parquet/make.py`).
let parquetFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("fixtures/parquet").path

/// Whether two tables hold the same names, dtypes and values (fingerprints, which tell
/// -0.0 from 0.0 and count NaN as missing); on a difference, the first differing cell.
func sameTable(_ a: Table, _ b: Table) -> String? {
    if a.names != b.names { return "names \(a.names) vs \(b.names)" }
    if a.rowCount != b.rowCount { return "\(a.rowCount) rows vs \(b.rowCount)" }
    for (k, name) in a.names.enumerated() {
        if a.columns[k].dtype != b.columns[k].dtype { return "\(name): \(a.columns[k].dtype) vs \(b.columns[k].dtype)" }
        let x = col(a, name).map(\.text), y = col(b, name).map(\.text)
        if let i = x.indices.first(where: { x[$0] != y[$0] }) { return "\(name) row \(i): \(x[i]) vs \(y[i])" }
    }
    if a.fingerprint() != b.fingerprint() { return "fingerprints differ" }
    return nil
}

@Suite struct ParquetReadTests {
    static let matrix: [String] = ["plain", "dict"].flatMap { e in
        ["1", "2"].flatMap { v in ["none", "snappy", "gzip", "zstd"].map { "\(e)-v\(v)-\($0)" } }
    } + ["encodings-v1", "encodings-v2", "legacy", "row-groups", "fallback", "polars"]

    func twin(_ name: String) throws -> Table { try CSV.read(path: "\(parquetFixtures)/\(name).csv") }

    /// Every type × encoding × page version × codec pyarrow writes (and Polars' own
    /// writer) reads back as the CSV twin of its data reads.
    @Test(arguments: matrix)
    func fixtureEqualsItsCSVTwin(_ name: String) throws {
        let t = try Parquet.read(path: "\(parquetFixtures)/\(name).parquet")
        #expect(t.label == name)
        let problem = sameTable(t, try twin("data"))
        #expect(problem == nil, "\(name): \(problem ?? "")")
    }

    /// The resident bytes of the mapping that starts at `base` (/proc/self/smaps), in KiB.
    static func residentKiB(_ base: UnsafeRawPointer) throws -> Int {
        // Read to its end (Foundation's String(contentsOfFile:) stops short on /proc files).
        let h = try #require(FileHandle(forReadingAtPath: "/proc/self/smaps"))
        defer { try? h.close() }
        let smaps = String(decoding: try h.readToEnd() ?? Data(), as: UTF8.self)
        let start = String(UInt(bitPattern: Int(bitPattern: base)), radix: 16)
        var inside = false
        for line in smaps.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit) {
                inside = line[..<dash].drop(while: { $0 == "0" }) == start[...]
            } else if inside, line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
            }
        }
        return -1
    }

    /// Reading a mapped file lets each chunk's pages go once decoded: afterwards the
    /// mapping holds little more than the page headers and the footer, where a read of
    /// the same mapping that keeps them holds what it read. Both columns (here: one thread
    /// per column, row groups in order) and one (its row groups in parallel).
    @Test(arguments: [nil, ["a"]] as [[String]?])
    func aMappedFileLeavesMemoryChunkByChunk(_ columns: [String]?) throws {
        let rows = 1 << 20
        let t = try Table(names: ["a", "b"], columns: [Column(floats: (0..<rows).map { Double($0) * 0.5 }),
                                                       Column(ints: (0..<rows).map { Int64($0) * 3 })])
        let path = try temporaryFolder("parquet-pages") + "/big.parquet"
        defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        try Parquet.write(t, to: path, compression: .none, rowGroupRows: 1 << 17)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        defer { close(fd) }
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size > 16_000_000)
        let read = columns == nil ? size : size / 2
        let expected = try columns.map { try t.select($0) } ?? t
        var resident: [Bool: Int] = [:]
        for mapped in [false, true] {
            let m = try #require(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0))
            #expect(m != MAP_FAILED)
            defer { munmap(m, size) }
            let back = try Parquet.parse(UnsafeRawBufferPointer(start: m, count: size), name: path, columns: columns, mapped: mapped)
            #expect(sameTable(back, expected) == nil)
            resident[mapped] = try Self.residentKiB(m)
        }
        let kept = try #require(resident[false]), released = try #require(resident[true])
        #expect(kept >= 0 && released >= 0, "the mappings are not in /proc/self/smaps")
        #expect(kept * 1024 > read * 9 / 10, "kept \(kept) KiB of \(read / 1024)")
        // What stays: the footer, page headers, and pages at chunk edges with the kernel's
        // fault-around (up to 64 KiB mapped per fault) — well under a twentieth.
        #expect(released * 1024 < size / 20, "released to \(released) KiB of \(size / 1024)")
    }

    @Test(arguments: ["logical", "int96"])
    func logicalTypesMapAsDocumented(_ name: String) throws {
        let t = try Parquet.read(path: "\(parquetFixtures)/\(name).parquet")
        let problem = sameTable(t, try twin(name))
        #expect(problem == nil, "\(name): \(problem ?? "")")
    }

    @Test func noRowsKeepsTheColumns() throws {
        let t = try Parquet.read(path: "\(parquetFixtures)/empty.parquet")
        #expect(t.rowCount == 0)
        #expect(t.names == ["i32", "i64", "u32", "f32", "f64", "b", "s", "name", "req"])
        #expect(t.columns.map(\.dtype) == [.int, .int, .int, .float, .float, .bool, .string, .string, .int])
    }

    @Test func projectionReadsTheNamedColumnsInOrder() throws {
        let path = "\(parquetFixtures)/dict-v2-snappy.parquet"
        let t = try Parquet.read(path: path, columns: ["s", "i32", "b"])
        #expect(sameTable(t, try twin("data").select(["s", "i32", "b"])) == nil)
        #expect(throws: EngineError.unknownColumn("i33", table: "dict-v2-snappy", suggestion: "i32")) {
            try Parquet.read(path: path, columns: ["i33"])
        }
        #expect(throws: EngineError.duplicateColumn("s")) { try Parquet.read(path: path, columns: ["s", "s"]) }
        #expect(try Parquet.read(path: path, columns: []).names.isEmpty)
    }

    /// A projection never touches other columns' chunks: with one chunk's bytes
    /// destroyed, the full read fails and a projection without that column does not.
    @Test func projectionSkipsOtherChunks() throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(parquetFixtures)/plain-v1-zstd.parquet")))
        let range = try bytes.withUnsafeBytes { buf in
            let (meta, _) = try ParquetReader(file: buf, label: "x").footer()
            let m = try #require(meta.rowGroups[0].columns[4].meta)   // f64
            return Int(m.dataPageOffset)..<Int(m.dataPageOffset + m.totalCompressedSize)
        }
        for i in range { bytes[i] = 0xEE }
        #expect(throws: EngineError.self) { try Parquet.read(data: bytes, name: "x.parquet") }
        let t = try Parquet.read(data: bytes, name: "x.parquet", columns: ["i32", "s", "req"])
        #expect(sameTable(t, try twin("data").select(["i32", "s", "req"])) == nil)
    }

    /// What mlsh does not read is an error naming the column and the feature; the other
    /// columns of such a file still load by name.
    @Test func unsupportedFeaturesNameColumnAndFeature() throws {
        let cases: [(String, String)] = [
            ("nested", "column 'tags' is a list, which mlsh does not read (it reads flat columns of numbers, bools and strings)"),
            ("lz4", "column 'req', row group 0 is compressed with LZ4_RAW, which mlsh does not read (it reads SNAPPY, GZIP, ZSTD and uncompressed pages)"),
            ("flba", "column 'id' is FIXED_LEN_BYTE_ARRAY, which mlsh does not read"),
            ("binary", "column 'blob' holds binary values that are not UTF-8 text, which mlsh does not read"),
        ]
        for (name, message) in cases {
            let path = "\(parquetFixtures)/\(name).parquet"
            #expect(throws: EngineError.unsupportedFile(path: path, message: message)) { try Parquet.read(path: path) }
        }
        for name in ["nested", "flba", "binary"] {
            let t = try Parquet.read(path: "\(parquetFixtures)/\(name).parquet", columns: ["req", "s"])
            #expect(t.rowCount == 20 && t.names == ["req", "s"])
        }
    }

    /// An encoding mlsh does not know (a page header changed to say 42) names the column.
    @Test func unknownEncodingNamesTheColumn() throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(parquetFixtures)/plain-v1-none.parquet")))
        let header = try bytes.withUnsafeBytes { buf in
            let (meta, _) = try ParquetReader(file: buf, label: "x").footer()
            return Int(try #require(meta.rowGroups[0].columns[1].meta).dataPageOffset)   // i64
        }
        // type, sizes, then the data page header's value count and encoding (PLAIN, 0).
        let ints = CompactIntegers.find(in: Array(bytes[header...]))
        #expect(ints[4].2 == 0)
        bytes[header + ints[4].0] = CompactIntegers.zigzag(42)[0]
        #expect(throws: EngineError.unsupportedFile(path: "x.parquet", message: "column 'i64', row group 0: a page is in unknown encoding 42, which mlsh does not read")) {
            try Parquet.read(data: bytes, name: "x.parquet")
        }
        #expect(try Parquet.read(data: bytes, name: "x.parquet", columns: ["i32"]).rowCount == 200)
    }

    @Test func notParquetAndTruncatedFilesSayWhere() throws {
        #expect(throws: EngineError.malformedData(path: "a.parquet", offset: 0, message: "not a Parquet file: 3 bytes is too short for its magic numbers and footer")) {
            try Parquet.read(data: [1, 2, 3], name: "a.parquet")
        }
        #expect(throws: EngineError.malformedData(path: "a.parquet", offset: 0, message: "not a Parquet file: it does not start with PAR1")) {
            try Parquet.read(data: Array("id,name\n1,x\n".utf8), name: "a.parquet")
        }
        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: "\(parquetFixtures)/dict-v1-none.parquet")))
        #expect(throws: EngineError.malformedData(path: "t.parquet", offset: 96, message: "the file does not end with PAR1: it is truncated, or not a Parquet file")) {
            try Parquet.read(data: Array(bytes[..<100]), name: "t.parquet")
        }
        #expect(throws: EngineError.io(path: "\(parquetFixtures)/missing.parquet", message: "No such file or directory")) {
            try Parquet.read(path: "\(parquetFixtures)/missing.parquet")
        }
    }
}

@Suite struct ParquetWriteTests {
    /// Every type, nulls in each, the extremes of each.
    static func everything(rows: Int = 11) throws -> Table {
        let f: [Double] = [0.1, 3.0, 1e-07, -0.0, .infinity, -.infinity, 1e300, .leastNonzeroMagnitude, .pi, .nan, 123456789.125]
        let i: [Int64] = [0, -1, Int64.min, Int64.max, 42, 7, 8, 9, 10, 11, 12]
        let valid = [true, true, true, true, false, true, true, true, true, true, true]
        let s: [String?] = ["", " lead", "1", "NA", "true", "a,b", "q\"q", "multi\nline\r\nx", "é ü 😀", nil, "inf"]
        func cycle<T>(_ xs: [T]) -> [T] { (0..<rows).map { xs[$0 % xs.count] } }
        return try Table(names: ["f", "i", "b", "s", "full_i", "full_b", "full_s", "name, with \"comma\""],
                         columns: [Column(floats: cycle(f)),
                                   Column(ints: cycle(i), validity: cycle(valid)),
                                   Column(bools: cycle([true, false, true]), validity: cycle([true, false, true, true, true])),
                                   Column(strings: cycle(s)),
                                   Column(ints: cycle(i)),
                                   Column(bools: cycle([true, false, false])),
                                   Column(strings: (0..<rows).map { "v\($0 % 97)" }),
                                   Column(strings: (0..<rows).map { $0 % 3 == 0 ? nil : "x\($0)" })])
    }

    @Test(arguments: ParquetCompression.allCases)
    func roundTripsEveryTypeWithNulls(_ compression: ParquetCompression) throws {
        let t = try Self.everything()
        let back = try Parquet.read(data: try Parquet.encode(t, compression: compression), name: "rt.parquet")
        #expect(sameTable(back, t) == nil, "\(sameTable(back, t) ?? "")")
    }

    /// Many row groups and several pages per chunk, as large files have.
    @Test func roundTripsRowGroupsAndPages() throws {
        let small = try Self.everything(rows: 100)
        let tiny = try Parquet.read(data: try Parquet.encode(small, compression: .snappy, rowGroupRows: 7), name: "rg.parquet")
        #expect(sameTable(tiny, small) == nil, "row groups of 7: \(sameTable(tiny, small) ?? "")")
        let t = try Self.everything(rows: 140_000)
        for rows in [60_000, 1 << 20] {
            let bytes = try Parquet.encode(t, compression: .snappy, rowGroupRows: rows)
            let back = try Parquet.read(data: bytes, name: "rg.parquet")
            #expect(sameTable(back, t) == nil, "row groups of \(rows): \(sameTable(back, t) ?? "")")
            // One column at a time: fewer columns than workers, so its row groups decode in
            // parallel (and string columns merge their chunks' dictionaries).
            for name in t.names where rows == 60_000 {
                let one = try Parquet.read(data: bytes, name: "rg.parquet", columns: [name])
                let problem = sameTable(one, try t.select([name]))
                #expect(problem == nil, "\(name): \(problem ?? "")")
            }
        }
    }

    /// Pages without missing values, several per chunk (their values decompress in place).
    @Test func roundTripsLargeColumnsWithoutMissingValues() throws {
        let s = try synth("classification", rows: 300_000, features: 3, seed: 4)
        let t = try Table(names: s.names + ["n"], columns: s.columns + [Column(ints: (0..<300_000).map { Int64($0) * 7 - 5 })])
        for c in [ParquetCompression.snappy, .zstd, .gzip] {
            let back = try Parquet.read(data: try Parquet.encode(t, compression: c, rowGroupRows: 200_000), name: "big.parquet")
            #expect(sameTable(back, t) == nil, "\(c): \(sameTable(back, t) ?? "")")
        }
    }

    @Test func roundTripsEmptyTables() throws {
        let none = try Parquet.read(data: try Parquet.encode(Table.empty), name: "e.parquet")
        #expect(none.names.isEmpty && none.rowCount == 0)
        let t = try Self.everything(rows: 0)
        let back = try Parquet.read(data: try Parquet.encode(t), name: "e.parquet")
        #expect(back.names == t.names && back.rowCount == 0)
    }

    @Test func writesAtomicallyThroughFileOutput() throws {
        let dir = try temporaryFolder("parquet")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try Self.everything()
        try Parquet.write(t, to: dir + "/out.parquet")
        try Parquet.write(t, to: dir + "/out.parquet", compression: .gzip)
        let back = try Parquet.read(path: dir + "/out.parquet")
        #expect(back.label == "out" && sameTable(back, t) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.parquet"])
        #expect(throws: EngineError.io(path: dir + "/nope/x.parquet", message: "No such file or directory")) {
            try Parquet.write(t, to: dir + "/nope/x.parquet")
        }
    }

    /// mlsh's reading of pyarrow's files and its own are one code path; a fixture written
    /// again by mlsh reads back the same.
    @Test func rewritesEveryFixture() throws {
        for name in ParquetReadTests.matrix + ["logical", "int96"] {
            let t = try Parquet.read(path: "\(parquetFixtures)/\(name).parquet")
            let back = try Parquet.read(data: try Parquet.encode(t), name: name)
            #expect(sameTable(back, t) == nil, "\(name): \(sameTable(back, t) ?? "")")
        }
    }
}

@Suite struct ParquetPieceTests {
    @Test func hybridRunsRoundTrip() throws {
        var rng = SeededRandom(seed: 3)
        for width in [1, 2, 3, 7, 8, 12, 16, 20, 31, 32] {
            let limit = UInt64(1) << UInt64(width)
            var values: [UInt32] = []
            for _ in 0..<40 {
                let v = UInt32(rng.next() % limit)
                let run = Int(rng.next() % 30) + 1
                for _ in 0..<run { values.append(rng.next() % 3 == 0 ? UInt32(rng.next() % limit) : v) }
            }
            var encoded: [UInt8] = []
            values.withUnsafeBufferPointer { parquetEncodeHybrid($0, width: width, into: &encoded) }
            var out = [UInt32](repeating: 0, count: values.count)
            try encoded.withUnsafeBytes { raw in
                var d = ParquetHybridDecoder(ParquetRegion(bytes: raw, origin: 0, exact: true))
                try out.withUnsafeMutableBufferPointer { try d.values(values.count, width: width, into: $0.baseAddress!) }
            }
            #expect(out == values, "width \(width)")
        }
    }

    @Test func thriftSkipsWhatItDoesNotKnow() throws {
        var w = ThriftWriter()
        w.beginStruct(nil)
        w.i32(1, 7)
        w.beginStruct(40)          // an unknown struct field, with a list and a bool inside
        w.listHeader(1, .i64, count: 20)
        for k in 0..<20 { w.zigzag(Int64(k) * -1_000_000_007) }
        w.bool(2, true)
        w.endStruct()
        w.string(41, "unknown")
        w.i64(3, -5)
        w.endStruct()
        let bytes = w.bytes
        var seen: [Int16: Int64] = [:]
        try bytes.withUnsafeBufferPointer { buf in
            var r = ThriftReader(buf, origin: 0)
            try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                guard t == ThriftType.i32.rawValue || t == ThriftType.i64.rawValue else { return false }
                seen[id] = try r.i64()
                return true
            }
            #expect(r.pos == buf.count)
        }
        #expect(seen == [1: 7, 3: -5])
    }

    @Test func temporalTextIsISO8601() {
        #expect(ParquetTemporal.date(0) == "1970-01-01")
        #expect(ParquetTemporal.date(-1) == "1969-12-31")
        #expect(ParquetTemporal.date(19_783) == "2024-03-01")
        #expect(ParquetTemporal.timestamp(-1, unit: .millis, utc: true, fraction: true) == "1969-12-31T23:59:59.999Z")
        #expect(ParquetTemporal.timestamp(1_709_296_200_250_000, unit: .micros, utc: false, fraction: true) == "2024-03-01T12:30:00.250000")
        #expect(ParquetTemporal.time(45_000_000_000_000, unit: .nanos, fraction: false) == "12:30:00")
    }
}
