import Foundation
import Testing
@testable import MLShEngine

func parse(_ s: String, _ options: CSVOptions = .init(), name: String = "t.csv") throws(EngineError) -> Table {
    try CSV.read(data: Array(s.utf8), name: name, options: options)
}

func csvError(_ s: String, _ options: CSVOptions = .init()) -> String? {
    do { _ = try parse(s, options); return nil } catch { return error.message }
}

func cells(_ t: Table) -> [[Scalar]] {
    (0..<t.rowCount).map { r in t.columns.map { $0.value(at: r) } }
}

@Suite struct CSVTests {
    /// The progress callback's byte counts add up to the body, in several calls, from a
    /// file parsed in parallel chunks.
    @Test func progressAddsUpToTheBody() throws {
        let header = "k,x,s\n"
        var text = header
        for i in 0..<300_000 { text += "\(i % 97),\(Double(i) / 7),s\(i % 13)\n" }
        final class Tally: @unchecked Sendable {
            let lock = NSLock()
            var bytes = 0, calls = 0
        }
        let tally = Tally()
        var options = CSVOptions()
        options.progress = { n in tally.lock.lock(); tally.bytes += n; tally.calls += 1; tally.lock.unlock() }
        let t = try CSV.read(data: Array(text.utf8), name: "p.csv", options: options)
        #expect(t.rowCount == 300_000)
        #expect(tally.bytes == text.utf8.count - header.utf8.count)
        #expect(tally.calls >= 4)
    }

    @Test func inference() throws {
        let t = try parse("a,b,c,d,e\n1,2.5,true,x,\n-3,1e3,FALSE,y,\n")
        #expect(t.names == ["a", "b", "c", "d", "e"])
        #expect(t.columns.map(\.dtype) == [.int, .float, .bool, .string, .float])
        #expect(cells(t) == [[.int(1), .float(2.5), .bool(true), .string("x"), .missing],
                             [.int(-3), .float(1000), .bool(false), .string("y"), .missing]])
        #expect(t.label == "t")
    }

    @Test func quotesNewlinesBOMCRLF() throws {
        let t = try parse("\u{FEFF}name,\"note, with comma\"\r\n\"a \"\"b\"\"\",\"line1\nline2\"\r\nc,\"\"\r\n")
        #expect(t.names == ["name", "note, with comma"])
        #expect(cells(t) == [[.string("a \"b\""), .string("line1\nline2")], [.string("c"), .string("")]])
    }

    @Test func naMarkersAndMixed() throws {
        let t = try parse("x,y,z\n1,NA,a\nNaN,2,NULL\nnull,,\"NA\"\n")
        #expect(t.columns.map(\.dtype) == [.int, .int, .string])
        #expect(cells(t) == [[.int(1), .missing, .string("a")], [.missing, .int(2), .missing],
                             [.missing, .missing, .string("NA")]])
        let m = try parse("x\n1\ntrue\n")
        #expect(m.columns[0].dtype == .string)
        let f = try parse("x\n1\n2.5\n\n3\n")
        #expect(cells(f) == [[.float(1)], [.float(2.5)], [.float(3)]])
        let q = try parse("x\n\"1\"\n")
        #expect(q.columns[0].dtype == .string)
        let inf = try parse("x\ninf\n-Infinity\n1.5\n")
        #expect(cells(inf) == [[.float(.infinity)], [.float(-.infinity)], [.float(1.5)]])
    }

    @Test func carriageReturnLineEnds() throws {
        let t = try parse("a,b\r1,2\r3,4\r5,6")
        #expect(cells(t) == [[.int(1), .int(2)], [.int(3), .int(4)], [.int(5), .int(6)]])
        var big = "x,y\r"
        for r in 0..<120_000 { big += "\(r),\(r % 3 == 0 ? "a" : "b")\r" }
        let b = try parse(big)
        #expect(b.rowCount == 120_000 && col(b, "x")[119_999] == .int(119_999) && col(b, "y")[3] == .string("a"))
    }

    @Test func typesOverride() throws {
        let t = try parse("zip,n\n01234,5\n99999,\"6\"\n", CSVOptions(types: ["zip": .string, "n": .float]))
        #expect(cells(t) == [[.string("01234"), .float(5)], [.string("99999"), .float(6)]])
        #expect(csvError("a,b\n1,2\nabc,3\n", CSVOptions(types: ["a": .int])) ==
                "t.csv:3:1: column 'a' is declared int but has the value 'abc'")
        #expect(csvError("a,b\n1,2\n2.5,3\n", CSVOptions(types: ["a": .int])) ==
                "t.csv:3:1: column 'a' is declared int but has the value '2.5'")
        #expect(csvError("a\n1\n", CSVOptions(types: ["b": .int])) == "types: the file has no column 'b' (did you mean 'a'?)")
    }

    @Test func errors() {
        #expect(csvError("") == "t.csv:1:1: empty file: expected a header row")
        #expect(csvError("\n\r\n") == "t.csv:1:1: empty file: expected a header row")
        #expect(csvError("a,b,c\n1,2,3\n4,5\n") == "t.csv:3:4: expected 3 fields as in the header, found 2")
        #expect(csvError("a,b\n1,2\n4,5,6,7\n") == "t.csv:3:5: expected 2 fields as in the header, found 4")
        #expect(csvError("a,b\n1,2\n3,\"open\n4,5\n") == "t.csv:3:3: unterminated quoted field (the quote opens here)")
        #expect(csvError("a,b\n1,\"x\"y\n") == "t.csv:2:6: expected a separator or line end after the closing quote")
        #expect(csvError("a,b\n1,2\u{0}\n") == "t.csv:2:4: not a text file (NUL byte)")
        #expect(csvError("a,a\n1,2\n") == "t.csv:1:3: duplicate column name 'a'")
        #expect(throws: EngineError.malformedFile(path: "u.csv", line: 1, column: 1, message: "UTF-16 text is not supported; save the file as UTF-8")) {
            try CSV.read(data: [0xFF, 0xFE, 0x61, 0x00, 0x0A, 0x00], name: "u.csv")
        }
        var bad = Array("a\nx\n".utf8); bad[2] = 0xFF
        #expect(throws: EngineError.malformedFile(path: "b.csv", line: 2, column: 1, message: "not UTF-8 text in column 'a'")) {
            try CSV.read(data: bad, name: "b.csv")
        }
    }

    @Test func separatorsAndMarkers() throws {
        let tsv = try parse("a\tb\n1\tx y\n", name: "f.tsv")
        #expect(tsv.names == ["a", "b"] && cells(tsv) == [[.int(1), .string("x y")]])
        let semi = try parse("a;b\n1,5;2\n", CSVOptions(separator: 59))
        #expect(cells(semi) == [[.string("1,5"), .int(2)]])
        let custom = try parse("a,b\n-999,x\n3,-\n", CSVOptions(na: ["-999", "-"]))
        #expect(cells(custom) == [[.missing, .string("x")], [.int(3), .missing]])
        let noEmpty = try parse("a\n\nx\n", CSVOptions(na: []))
        #expect(cells(noEmpty) == [[.string("x")]])  // blank lines are skipped, not values
        let spaced = try parse("a,b\n 1 , 2.5 \n")
        #expect(cells(spaced) == [[.int(1), .float(2.5)]])
        #expect(throws: EngineError.invalidArgument("the separator cannot be a quote or a line break")) {
            try parse("a\n", CSVOptions(separator: 34))
        }
    }

    @Test func headerOnlyAndEmptyNames() throws {
        let t = try parse("a,b,c\n", CSVOptions(types: ["b": .string, "c": .int]))
        #expect(t.rowCount == 0 && t.columns.map(\.dtype) == [.float, .string, .int])
        let u = try parse("a,,\"\"\n1,2,3")  // no final line break
        #expect(u.names == ["a", "unnamed_1", "unnamed_2"] && cells(u) == [[.int(1), .int(2), .int(3)]])
        let lastEmpty = try parse("a,b\n1,\n")
        #expect(cells(lastEmpty) == [[.int(1), .missing]])
    }

    @Test func declaredBoolsAndInts() throws {
        let t = try parse("f,n\nTRUE,7\n,\nfalse,-8\n", CSVOptions(types: ["f": .bool, "n": .int]))
        #expect(cells(t) == [[.bool(true), .int(7)], [.missing, .missing], [.bool(false), .int(-8)]])
        #expect(csvError("f\ntrue\nyes\n", CSVOptions(types: ["f": .bool])) == "t.csv:3:1: column 'f' is declared bool but has the value 'yes'")
        let big = try parse("n\n9223372036854775807\n-9223372036854775808\n")
        #expect(cells(big) == [[.int(Int64.max)], [.int(Int64.min)]])
        let over = try parse("n\n9223372036854775808\n1\n")
        #expect(over.columns[0].dtype == .float)
    }

    @Test func quotedFieldsStayText() throws {
        // Quotes anywhere make the single-threaded path; a quoted field never counts as a number.
        let t = try parse("a,b\n\"1\",2\n\"x\"\"y\",\"\"\n")
        // `""` is the empty string, so column b is text too.
        #expect(t.columns.map(\.dtype) == [.string, .string])
        #expect(cells(t) == [[.string("1"), .string("2")], [.string("x\"y"), .string("")]])
    }

    @Test func stringDictionary() throws {
        let t = try parse("a\nx\n\"x\"\ny\nx\n\"y\"\"\"\n")
        guard case .string(let codes, let dict) = t.columns[0].storage else { Issue.record("not a string column"); return }
        #expect(dict == ["x", "y", "y\""] && codes == [0, 0, 1, 0, 2])
        var text = "c\n"
        for i in 0..<5000 { text += "v\(i % 700)\n" }
        let big = try parse(text)
        #expect(Reductions.nUnique(big.columns[0]) == 700 && col(big, "c")[4999] == .string("v\(4999 % 700)"))
    }
}

