import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif
@testable import MLShEngine

@Suite struct CSVRoundTripTests {
    func tricky() throws -> Table {
        try Table(names: ["f", "i", "b", "s", "name, with \"comma\""],
                  columns: [Column(floats: [0.1, 3.0, 1e-07, -0.0, .infinity, -.infinity, 1e300, .leastNonzeroMagnitude, .pi, .nan, 123456789.125]),
                            Column(ints: [0, -1, Int64.min, Int64.max, 42, 7, 8, 9, 10, 11, 12],
                                   validity: [true, true, true, true, false, true, true, true, true, true, true]),
                            Column(bools: [true, false, true, false, true, false, true, false, true, false, true],
                                   validity: [true, true, false, true, true, true, true, true, true, true, true]),
                            Column(strings: ["", " lead", "1", "NA", "true", "a,b", "q\"q", "multi\nline\r\nx", "é ü 😀", nil, "inf"]),
                            Column(strings: ["x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "z"])])
    }

    @Test func encodeReadBack() throws {
        let t = try tricky()
        let bytes = CSV.encode(t)
        let back = try CSV.read(data: bytes, name: "rt.csv")
        #expect(back.names == t.names)
        #expect(back.columns.map(\.dtype) == t.columns.map(\.dtype))
        #expect(back.fingerprint() == t.fingerprint())
        for c in t.names { #expect(col(back, c).map(\.text) == col(t, c).map(\.text)) }
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("f,i,b,s,\"name, with \"\"comma\"\"\"\n0.1,0,true,\"\",x\n3.0,-1,false,\" lead\",y\n"))
    }

    @Test func largeRoundTrip() throws {
        let t = try synth("classification", rows: 30_000, features: 3, seed: 4)
        let back = try CSV.read(data: CSV.encode(t), name: "synth.csv")
        #expect(back.fingerprint() == t.fingerprint())
        #expect(back.rowCount == 30_000)
    }

    @Test func writeFileAtomically() throws {
        let dir = try temporaryFolder("engine")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try tricky()
        try CSV.write(t, to: dir + "/out.csv")
        try CSV.write(t, to: dir + "/out.csv")  // overwrite
        let back = try CSV.read(path: dir + "/out.csv")
        #expect(back.fingerprint() == t.fingerprint() && back.label == "out")
        try CSV.write(t, to: dir + "/out.tsv", separator: 9)
        #expect(try CSV.read(path: dir + "/out.tsv").fingerprint() == t.fingerprint())
        // Only the final file is left behind.
        let listing = try dataReadFile(dir + "/out.csv").count
        #expect(listing > 0)
        #expect(throws: EngineError.io(path: dir + "/nope/x.csv", message: "No such file or directory")) {
            try CSV.write(t, to: dir + "/nope/x.csv")
        }
        #expect(throws: EngineError.io(path: dir + "/missing.csv", message: "No such file or directory")) {
            try CSV.read(path: dir + "/missing.csv")
        }
    }

    /// A file over 1 MiB is parsed in two chunks; types resolve across them and error
    /// lines count from the start of the file.
    @Test func parallelChunks() throws {
        var s = "a,b,c,d,e\n"
        let n = 60_000
        for r in 0..<n {
            let a = r < n - 5 ? "\(r)" : "\(r).5"           // int, then float near the end
            let b = r == n - 2 ? "word" : "\(r % 10)"        // numbers, then a word (second pass)
            let c = r % 3 == 0 ? "" : (r % 2 == 0 ? "true" : "false")
            let d = "\(Double(r) * 0.25)"
            let e = r == 5 ? "NA" : "\(r * 1000)"
            s += "\(a),\(b),\(c),\(d),\(e)\n"
        }
        let t = try parse(s)
        #expect(t.rowCount == n)
        #expect(t.columns.map(\.dtype) == [.float, .string, .bool, .float, .int])
        #expect(col(t, "a")[n - 1] == .float(Double(n - 1) + 0.5) && col(t, "a")[7] == .float(7))
        #expect(col(t, "b")[n - 2] == .string("word") && col(t, "b")[n - 1] == .string("\((n - 1) % 10)"))
        #expect(col(t, "c")[0] == .missing && col(t, "c")[2] == .bool(true) && col(t, "c")[n - 1] == .bool(false))
        #expect(col(t, "e")[5] == .missing && col(t, "e")[n - 1] == .int(Int64(n - 1) * 1000))
        #expect(try Reductions.sum(t.column("d")) == Double(n - 1) * Double(n) / 2 * 0.25)
        let bad = s + "1,2\n"
        #expect(csvError(bad) == "t.csv:\(n + 2):4: expected 5 fields as in the header, found 2")
        let typed = s.replacingLast("word", with: "x")
        #expect(csvError(typed, CSVOptions(types: ["b": .int])) == "t.csv:\(n):9: column 'b' is declared int but has the value 'x'")
    }

    /// Files with quotes are split where the quote count is even, and the cut is checked:
    /// the result always equals a one-chunk parse, also when stray quotes mislead the cut.
    @Test func quotedChunksMatchOneChunk() throws {
        func both(_ text: String) -> (String, String) {
            let bytes = Array(text.utf8)
            func run(_ split: Bool) -> String {
                do {
                    let t = try bytes.withUnsafeBufferPointer { (b) throws(EngineError) -> Table in
                        try CSV.parse(b, name: "q.csv", options: .init(), allowSplit: split)
                    }
                    return t.fingerprint() + " \(t.rowCount) \(t.columns.map(\.dtype))"
                } catch { return error.message }
            }
            return (run(true), run(false))
        }
        var good = "id,note,x\n"
        for r in 0..<60_000 {
            let note = r % 7 == 0 ? "\"multi\nline, \"\"quoted\"\" \(r)\"" : "plain \(r % 13)"
            good += "\(r),\(note),\(Double(r) / 8)\n"
        }
        let (a, b) = both(good)
        #expect(good.utf8.count > 1 << 20)
        #expect(a == b && a.contains(" 60000 "))
        let t = try parse(good)
        #expect(col(t, "note")[7] == .string("multi\nline, \"quoted\" 7") && col(t, "x")[59_999] == .float(59_999.0 / 8))
        // Stray quotes inside unquoted fields make the quote count odd: the cut is wrong
        // and detected, or the parse fails the same way in both modes.
        var stray = "a,b\n"
        for r in 0..<150_000 { stray += r == 17 ? "x\"y,\(r)\n" : "\(r),\"q\nq\"\n" }
        #expect(stray.utf8.count > 1 << 20)
        let (c, d) = both(stray)
        #expect(c == d)
        var unterminated = good
        unterminated += "1,\"never closed\n2,3\n"
        let (e, f) = both(unterminated)
        #expect(e == f && e.hasPrefix("q.csv:"))
    }

    @Test func floatParsingIsExact() throws {
        var r = SeededRandom(seed: 11)
        var values: [Double] = []
        for _ in 0..<3000 {
            let bits = r.next()
            let d = Double(bitPattern: bits)
            if d.isFinite { values.append(d) }
            values.append(r.nextGaussian() * 1000)
            values.append(Double(r.nextInt(below: 1_000_000)) / 1000)
        }
        values += [0.1, 0.2, 0.30000000000000004, 9007199254740994, 1.7976931348623157e308, 2.2250738585072014e-308, .leastNonzeroMagnitude,
                   123456789012345678901234567890.0, 0.000001234567890123456789]
        let text = "x\n" + values.map { "\($0)" }.joined(separator: "\n") + "\n"
        let t = try parse(text)
        let got = try t.column("x").doubles()
        #expect(got.count == values.count)
        for (a, b) in zip(got, values) where a.bitPattern != b.bitPattern { Issue.record("\(b) read as \(a)") }
        // Long mantissas and odd spellings.
        let odd = try parse("x\n0.1000000000000000055511151231257827\n1E2\n+5.\n.5e-1\n 7 \n00012\n")
        #expect(try odd.column("x").doubles() == [0.1, 100, 5, 0.05, 7, 12])
        // Halfway cases round to even; subnormals and long inputs go through strtod.
        let hard = try parse("x\n9007199254740993.0\n4.9e-324\n2.4703282292062328e-324\n1e23\n8.5e-15\n")
        #expect(try hard.column("x").doubles() == [9007199254740992, .leastNonzeroMagnitude, .leastNonzeroMagnitude, 1e23, 8.5e-15])
    }

    @Test func fuzzNeverCrashes() {
        var r = SeededRandom(seed: 99)
        let alphabet: [UInt8] = Array("ab,\"\n\r1.5e-NA \t;".utf8) + [0, 0xFF, 0xC3, 0xA9, 0xEF, 0xBB, 0xBF]
        let base = Array("a,b,c\n1,\"x,y\",2.5\n3,\"q\"\"\",\n".utf8)
        var outcomes = (tables: 0, errors: 0)
        for k in 0..<3000 {
            var bytes: [UInt8]
            if k % 2 == 0 {
                bytes = (0..<r.nextInt(below: 60)).map { _ in alphabet[r.nextInt(below: alphabet.count)] }
            } else {
                bytes = base
                for _ in 0..<(1 + r.nextInt(below: 4)) {
                    let pos = r.nextInt(below: bytes.count + 1)
                    switch r.nextInt(below: 3) {
                    case 0: bytes.insert(alphabet[r.nextInt(below: alphabet.count)], at: pos)
                    case 1: if pos < bytes.count { bytes.remove(at: pos) }
                    default: if pos < bytes.count { bytes[pos] = alphabet[r.nextInt(below: alphabet.count)] }
                    }
                }
            }
            do {
                let t = try CSV.read(data: bytes, name: "fuzz.csv")
                for c in t.columns { #expect(c.count == t.rowCount) }
                outcomes.tables += 1
            } catch {
                if case .malformedFile = error {} else if case .invalidArgument = error {} else { Issue.record("unexpected \(error)") }
                outcomes.errors += 1
            }
        }
        #expect(outcomes.tables > 100 && outcomes.errors > 100)
    }
}

extension String {
    func replacingLast(_ a: String, with b: String) -> String {
        guard let r = self.ranges(of: a).last else { return self }
        var s = self
        s.replaceSubrange(r, with: b)
        return s
    }
}
