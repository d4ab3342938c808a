import Foundation
import Testing
import TestSupport
@testable import MLShEngine

/// Differential tests of the CSV number parsers against `strtod`, and of chunked parsing
/// against a one-piece parse.
@Suite struct CSVNumberTests {
    /// `strtod` of `s`, the reference.
    func reference(_ s: String) -> Double { s.withCString { strtod($0, nil) } }

    /// What the float-column fast path and the general parser give for `s`, as bit patterns
    /// (nil where a parser declines the text).
    func parsed(_ s: String) -> (plain: UInt64?, general: UInt64?) {
        let bytes = Array(s.utf8)
        return bytes.withUnsafeBufferPointer { b -> (UInt64?, UInt64?) in
            guard let base = b.baseAddress else { return (nil, nil) }
            var d = 0.0
            let j = csvParsePlainDouble(base, 0, b.count, 44, &d)
            let plain: UInt64? = j == b.count ? d.bitPattern : nil
            var general: UInt64? = nil
            if let (v, next) = csvParseNumber(base, 0, b.count), next == b.count {
                switch v {
                case .float(let x): general = x.bitPattern
                case .int(let n): general = Double(n).bitPattern
                default: break
                }
            }
            return (plain, general)
        }
    }

    /// Checks both parsers against `strtod` on `s`; the general parser must accept it.
    func check(_ s: String) {
        let want = reference(s).bitPattern
        let (plain, general) = parsed(s)
        if let plain, plain != want {
            Issue.record("fast path: \(s) read as \(Double(bitPattern: plain)), strtod \(Double(bitPattern: want))")
        }
        guard let general else { Issue.record("general parser declined \(s)"); return }
        // Integers outside Int64 are floats; inside, the int's Double is what a float column holds.
        if general != want {
            Issue.record("general: \(s) read as \(Double(bitPattern: general)), strtod \(Double(bitPattern: want))")
        }
    }

    @Test func edgeCasesMatchStrtod() {
        let cases = [
            "0", "0.0", "-0.0", ".5", "5.", "-.5", "+5.", "+1.5", "00012.5000", "0000000000000000000000001.5",
            "9007199254740993", "9007199254740993.0", "9007199254740992.5", "9007199254740994.9999999",
            "9007199254740995", "18014398509481985", "1e308", "1.7976931348623157e308", "1.7976931348623159e308",
            "1e309", "-1e400", "1e-320", "4.9e-324", "2.4703282292062328e-324", "2.4703282292062327e-324",
            "2.2250738585072014e-308", "2.2250738585072011e-308", "2.225073858507201e-308", "1e-400", "0e999",
            "1e23", "8.5e-15", "0.1", "0.2", "0.30000000000000004", "1.0000000000000002", "0.9999999999999999",
            "123456789012345678", "1234567890123456789", "12345678901234567890", "98765432109876543210.5",
            "0.12345678901234567", "-1.3210174228863048", "0.0012345678901234567", "0.00000000000000000001234",
            "7.2057594037927933e16", "1.00000000000000011102230246251565404236316680908203125",
            "1.00000000000000011102230246251565404236316680908203124", "5e-324", "3e-324", "2e-324",
            "1E2", "1e+2", "1e-2", "-1.5E-3", "12.5e1", "922337203685477580.7", "9223372036854775807",
            "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "1.7976931348623158e308",
            "4503599627370496.5", "4503599627370497.5", "2251799813685248.25", "1125899906842624.125",
        ]
        for s in cases { check(s) }
    }

    @Test func randomDecimalsMatchStrtod() {
        var r = SeededRandom(seed: 21)
        for k in 0..<200_000 {
            let s: String
            switch k % 5 {
            case 0:  // the shortest round-trip text of a random double (17 digits and fewer)
                let d = Double(bitPattern: r.next())
                guard d.isFinite else { continue }
                s = "\(d)"
            case 1:  // full precision with %.17g, as pandas writes
                s = String(format: "%.17g", r.nextGaussian() * pow(10, Double(r.nextInt(below: 40) - 20)))
            case 2:  // 1 to 25 random digits with a dot somewhere and maybe an exponent
                let n = 1 + r.nextInt(below: 25)
                var digits = String((0..<n).map { _ in Character(String(r.nextInt(below: 10))) })
                let dot = r.nextInt(below: n + 1)
                digits.insert(".", at: digits.index(digits.startIndex, offsetBy: dot))
                if r.nextInt(below: 2) == 0 { digits += "e\(r.nextInt(below: 700) - 350)" }
                s = (r.nextInt(below: 2) == 0 ? "-" : "") + digits
            case 3:  // exactly halfway between neighbouring doubles, and just above
                s = halfway(&r) + (r.nextInt(below: 2) == 0 ? "" : "000001")
            default:  // subnormals and the edges of the range
                let e = r.nextInt(below: 2) == 0 ? -(300 + r.nextInt(below: 30)) : 300 + r.nextInt(below: 9)
                s = "\(1 + r.nextInt(below: 999_999)).\(r.nextInt(below: 1_000_000_000))e\(e)"
            }
            check(s)
        }
    }

    /// The exact decimal text of a point halfway between two neighbouring doubles: an
    /// integer above 2^53, or a binary fraction with at most 18 places below.
    func halfway(_ r: inout SeededRandom) -> String {
        let k = 35 + r.nextInt(below: 29)  // the double lies in [2^k, 2^(k+1))
        let mantissa = (UInt64(1) << 52) | (r.next() >> 12)
        if k >= 53 {
            let d = mantissa << UInt64(k - 52)
            return "\(d + (UInt64(1) << UInt64(k - 53)))"
        }
        let q = 53 - k  // places of the halfway point's binary fraction
        let scaled = (mantissa << 1) | 1  // the halfway point times 2^q
        let whole = scaled >> UInt64(q)
        let frac = scaled & ((UInt64(1) << UInt64(q)) - 1)
        var five: UInt64 = 1
        for _ in 0..<q { five *= 5 }
        let digits = String(frac * five)
        return "\(whole)." + String(repeating: "0", count: q - digits.count) + digits
    }

    /// A file cut into many chunks reads the same as in one piece, also when quoted fields
    /// with separators and line breaks sit right at the cuts.
    @Test func quotedFieldsAtChunkBoundaries() throws {
        let header = "id,note,x\n"
        let rowLength = 48
        let rows = 60_000
        let total = header.utf8.count + rows * rowLength
        let bounds = [UInt8](repeating: 32, count: 1).withUnsafeBufferPointer { b -> [Int] in
            guard let base = b.baseAddress else { return [] }
            return CSVReader(p: base, count: total, sep: 44, options: .init()).segmentBounds()
        }
        // Rows holding a bound get a quoted note whose inner line break or separator falls
        // on the bound; the rows around them are plain.
        var marked: [Int: Int] = [:]  // row → offset of the bound within it
        for m in bounds.dropFirst().dropLast() where m >= header.utf8.count {
            let row = (m - header.utf8.count) / rowLength
            marked[row] = (m - header.utf8.count) % rowLength
        }
        var text = header
        for r in 0..<rows {
            let id = String(format: "%06d", r)
            let x = String(format: "%.4f", Double(r) / 7)
            var line: String
            if let at = marked[r] {
                // id, `,"`, the note, `",`, x and the line break make exactly one row length.
                let noteLength = rowLength - 11 - x.count
                var note = [Character](repeating: "q", count: noteLength)
                note[noteLength - 2] = "\""  // a doubled quote at the end of the note
                note[noteLength - 1] = "\""
                var inNote = at - 8
                if inNote < 0 || inNote > noteLength - 4 { inNote = 0 }
                note[inNote] = "\n"  // the cut's search starts on a line break inside quotes
                note[inNote + 1] = ","
                line = "\(id),\"\(String(note))\",\(x)\n"
            } else {
                line = "\(id),plain \(r % 13),\(x)\n"
                while line.utf8.count < rowLength { line.insert(" ", at: line.index(line.startIndex, offsetBy: id.count + 1)) }
            }
            #expect(line.utf8.count == rowLength)
            text += line
        }
        let bytes = Array(text.utf8)
        func read(_ split: Bool) throws -> Table {
            try bytes.withUnsafeBufferPointer { (b) throws(EngineError) -> Table in
                try CSV.parse(b, name: "q.csv", options: .init(), allowSplit: split)
            }
        }
        let whole = try read(false), chunked = try read(true)
        #expect(chunked.rowCount == rows && whole.rowCount == rows)
        #expect(chunked.fingerprint() == whole.fingerprint())
        #expect(chunked.columns.map(\.dtype) == [.int, .string, .float])
        if let (row, _) = marked.first {
            let note = col(chunked, "note")[row]
            #expect(note != .missing && col(chunked, "id")[row] == .int(Int64(row)))
        }
    }

    /// A file read from disk (mapped, its parsed pages dropped as chunks finish) equals
    /// the same bytes read from memory, text spellings included.
    @Test func mappedFileMatchesBytes() throws {
        var text = "k,s,x\n"
        for r in 0..<120_000 {
            let s = r % 7 == 0 ? "\"s\(r % 50)q,\"" : "s\(r % 50)"  // some quoted, with a separator
            text += "\(r % 1000),\(s),\(Double(r) / 3)\n"
        }
        let dir = try temporaryFolder("engine")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/m.csv"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let fromFile = try CSV.read(path: path)
        let fromBytes = try CSV.read(data: Array(text.utf8), name: path)
        #expect(fromFile.rowCount == 120_000 && fromFile.fingerprint() == fromBytes.fingerprint())
        #expect(col(fromFile, "s")[7] == .string("s7q,") && col(fromFile, "s")[8] == .string("s8"))
    }

    /// Text columns coded per chunk: missing values before the first word, a column that
    /// turns text after numbers in one chunk only, and spellings shared across chunks, all
    /// read as in one piece.
    @Test func textColumnsAcrossChunks() throws {
        var text = "a,b,c\n"
        let n = 80_000
        for r in 0..<n {
            let a = r < 10 ? "NA" : "w\(r % 5)"
            let b = r == n / 2 ? "word" : (r % 4 == 0 ? "" : "\(r % 9)")
            let c = r % 3 == 0 ? "\"q\(r % 4)\"" : "q\(r % 4)"
            text += "\(a),\(b),\(c)\n"
        }
        let bytes = Array(text.utf8)
        func read(_ split: Bool) throws -> Table {
            try bytes.withUnsafeBufferPointer { (b) throws(EngineError) -> Table in
                try CSV.parse(b, name: "t.csv", options: .init(), allowSplit: split)
            }
        }
        let whole = try read(false), chunked = try read(true)
        #expect(chunked.fingerprint() == whole.fingerprint())
        #expect(chunked.columns.map(\.dtype) == [.string, .string, .string])
        #expect(col(chunked, "a")[0] == .missing && col(chunked, "a")[11] == .string("w1"))
        #expect(col(chunked, "b")[n / 2] == .string("word") && col(chunked, "b")[1] == .string("1"))
        #expect(col(chunked, "b")[0] == .missing && col(chunked, "c")[3] == .string("q3"))
        guard case .string(_, let dict) = chunked.columns[2].storage else { Issue.record("not text"); return }
        #expect(dict == ["q0", "q1", "q2", "q3"])
    }
}
