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
        var bad = Array("a\nx\n".utf8); bad[2] = 0xFF
        #expect(throws: EngineError.malformedFile(path: "b.csv", line: 2, column: 1, message: "not UTF-8 text in column 'a'")) {
            try CSV.read(data: bad, name: "b.csv")
        }
    }
}
