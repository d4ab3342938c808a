import MLShEngine
import Testing

@testable import MLShCommon
@testable import MLShServe

/// `Inputs.direct` reads the common bodies without a JSON tree; whenever it answers, its
/// table must be the general path's, and it must leave everything else to that path.
@Suite struct DirectInputTests {
    let schema = InputSchema([("f", .float), ("i", .int), ("b", .bool), ("s", .string)])

    func direct(_ body: String, mlflow: Bool) -> Table? {
        Array(body.utf8).withUnsafeBytes { Inputs.direct($0, schema: schema, mlflow: mlflow) }
    }

    /// The general path's table, or nil when it refuses the body.
    func general(_ body: String, mlflow: Bool) -> Table? {
        guard let json = try? JSONParser.parse(body) else { return nil }
        return mlflow ? (try? Inputs.mlflow(json, schema: schema))?.table : try? Inputs.rows(json, schema: schema)
    }

    /// Names, row count and every column's stored values exactly (floats by bit pattern:
    /// NaN, infinities and -0 stay apart; validity masks; string dictionaries).
    func describe(_ t: Table) -> String {
        let columns = t.columns.map { c -> String in
            switch c.storage {
            case .float(let v): return "f" + v.map { String($0.bitPattern, radix: 16) }.joined(separator: ",")
            case .int(let v, let valid): return "i\(v) \(valid.map { "\($0)" } ?? "-")"
            case .bool(let v, let valid): return "b\(v) \(valid.map { "\($0)" } ?? "-")"
            case .string(let codes, let dict): return "s\(codes) \(dict)"
            }
        }
        return "\(t.names) \(t.rowCount) " + columns.joined(separator: " | ")
    }

    @Test func readsTheCommonFormsAsTheGeneralPathDoes() throws {
        let rows = #"[{"f": 1.5, "i": 2, "b": true, "s": "x"}, {"s": "tab\tq\"", "b": null, "i": -7, "f": NaN}, {"f": -Infinity, "i": 3, "b": false, "s": null}]"#
        let bodies: [(String, Bool)] = [
            (#"{"rows": "# + rows + "}", false),
            (#"{"dataframe_records": "# + rows + "}", true),
            (#"{"instances": "# + rows + "}", true),
            (" \n{ \"inputs\" :\t" + rows + " } \n", true),
            (#"{"rows": []}"#, false),
            (#"{"dataframe_records": [{"f": 1e3, "i": 0, "b": true, "s": "é"}, {"f": 2}]}"#, true),
            (#"{"rows": [{"f": 0.1, "f": 0.25, "i": 9007199254740993, "b": true, "s": "a"}]}"#, false),
        ]
        for (body, mlflow) in bodies {
            let d = try #require(direct(body, mlflow: mlflow), "direct refused \(body)")
            let g = try #require(general(body, mlflow: mlflow), "general refused \(body)")
            #expect(describe(d) == describe(g), "\(body)")
        }
        let t = try #require(direct(#"{"rows": "# + rows + "}", mlflow: false))
        #expect(RequestMonitor.rowObjects(t) == [#"{"f":1.5,"i":2,"b":true,"s":"x"}"#, #"{"f":null,"i":-7,"b":null,"s":"tab\tq\""}"#,
                                                #"{"f":null,"i":3,"b":false,"s":null}"#])
    }

    @Test func leavesEverythingElseToTheGeneralPath() {
        let refused: [(String, Bool)] = [
            (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x", "extra": 1}]}"#, false),   // extra column: a 422 names it
            (#"{"rows": [{"f": 1, "i": 2, "b": true}]}"#, false),                         // s missing everywhere
            (#"{"rows": [{"f": 1, "i": 2.5, "b": true, "s": "x"}]}"#, false),             // mistyped
            (#"{"rows": [{"f": 1, "i": "no", "i": 2, "b": true, "s": "x"}]}"#, false),    // mistyped, then mended
            (#"{"rows": [{"f": [1], "i": 2, "b": true, "s": "x"}]}"#, false),             // nested value
            (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x"}], "model": "m"}"#, false),  // another member
            (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x"}]}"#, true),                 // not an MLflow form
            (#"{"dataframe_records": [{"f": 1, "i": 2, "b": true, "s": "x"}]}"#, false),   // not the mlsh form
            (#"{"dataframe_split": {"columns": ["f", "i", "b", "s"], "data": [[1, 2, true, "x"]]}}"#, true),
            (#"{"instances": [[1, 2, true, "x"]]}"#, true),
            (#"{"rows": [{"\u0066": 1, "i": 2, "b": true, "s": "x"}]}"#, false),          // escaped key
            (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x"}]} x"#, false),              // trailing text
            (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x"},]}"#, false),               // malformed
            (#"{"rows": [{"f": 01, "i": 2, "b": true, "s": "x"}]}"#, false),               // malformed number
            (#"{"rows": [1]}"#, false),
            ("", false), ("[]", true), (#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x""#, false),
        ]
        for (body, mlflow) in refused { #expect(direct(body, mlflow: mlflow) == nil, "\(body)") }
        // More rows than one request may hold: the general path answers 413.
        let many = #"{"rows": ["# + Array(repeating: #"{"f": 1, "i": 2, "b": true, "s": "x"}"#, count: Inputs.maxRows + 1).joined(separator: ",") + "]}"
        #expect(direct(many, mlflow: false) == nil)
        // A schema that names a column twice is left to the general path.
        let twice = InputSchema([("f", .float), ("f", .float)])
        #expect(Array(#"{"rows": [{"f": 1}]}"#.utf8).withUnsafeBytes { Inputs.direct($0, schema: twice, mlflow: false) } == nil)
    }

    /// Random edits of valid bodies (seeded): whenever the direct reader answers, the
    /// general path reads the same body to the same table.
    @Test func agreesWithTheGeneralPathOnEditedBodies() throws {
        let seeds = [#"{"rows": [{"f": 1.5, "i": 2, "b": true, "s": "x"}, {"i": 3, "s": "y", "f": -0.25e2, "b": false}]}"#,
                     #"{"dataframe_records": [{"f": null, "i": 10, "b": null, "s": "z\n"}, {"f": 7, "i": -1, "b": true, "s": null}]}"#]
        let alphabet = Array(#"{}[],:" 0123456789.-eEfisbtrunlNaIy\"#.utf8)
        var rng = SeededRandom(seed: 42)
        var answered = 0
        for n in 0..<6000 {
            var bytes = Array(seeds[n % 2].utf8)
            for _ in 0...(rng.next() % 3) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                default: bytes[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
            }
            let body = String(decoding: bytes, as: UTF8.self)
            let mlflow = n % 2 == 1
            guard let d = bytes.withUnsafeBytes({ Inputs.direct($0, schema: schema, mlflow: mlflow) }) else { continue }
            answered += 1
            let g = try #require(general(body, mlflow: mlflow), "the general path refused what the direct one read: \(body)")
            #expect(describe(d) == describe(g), "\(body)")
        }
        #expect(answered > 200, "only \(answered) edited bodies were read directly")
    }

    /// Short decimals are read exactly (one correctly rounded operation); the rest by
    /// `Double(text)`. Both give `Double(text)`'s value.
    @Test func numbersReadAsDoubleReadsThem() throws {
        var rng = SeededRandom(seed: 7)
        var exact = 0
        for _ in 0..<20_000 {
            let digits = 1 + Int(rng.next() % 17)
            var text = rng.next() % 2 == 0 ? "-" : ""
            text += String(1 + rng.next() % 9) + (1..<digits).map { _ in String(rng.next() % 10) }.joined()
            if digits > 1, rng.next() % 2 == 0 {   // a point after the first digit at least
                text.insert(".", at: text.index(text.endIndex, offsetBy: -1 - Int(rng.next() % UInt64(digits - 1))))
            }
            if rng.next() % 3 == 0 { text += "e" + String(Int(rng.next() % 61) - 30) }
            let read = Array(text.utf8).withUnsafeBytes { JSONParser.exact($0) }
            if let read { exact += 1; #expect(read == Double(text), "\(text)") }
            #expect(try JSONParser.parse(text) == .number(Double(text) ?? .nan), "\(text)")
        }
        #expect(exact > 5_000)
        for text in ["0.5", "-0.001", "0.1", "0.30000000000000004", "0e5", "0.0", "-0.0", "0.000123456789012345", "-0", "7e-22", "123456789012345e7"] {
            let read = Array(text.utf8).withUnsafeBytes { JSONParser.exact($0) } ?? Double(text)
            #expect(read?.bitPattern == Double(text)?.bitPattern, "\(text)")
        }
        #expect(Array("-0".utf8).withUnsafeBytes { JSONParser.exact($0) }?.sign == .minus)
        for long in ["1234567890123456", "1e23", "0.00000000000000000000001", "1e+1000"] {
            #expect(Array(long.utf8).withUnsafeBytes { JSONParser.exact($0) } == nil, "\(long)")
        }
    }

    /// A wide schema (names looked up by hash) with keys in any order.
    @Test func readsWideSchemasInAnyKeyOrder() throws {
        let wide = InputSchema((0..<40).map { ("c\($0)", DType.float) })
        let body = #"{"rows": [{"# + (0..<40).reversed().map { #""c\#($0)": \#($0)"# }.joined(separator: ", ") + "}]}"
        let d = try #require(Array(body.utf8).withUnsafeBytes { Inputs.direct($0, schema: wide, mlflow: false) })
        let g = try Inputs.rows(try JSONParser.parse(body), schema: wide)
        #expect(describe(d) == describe(g))
        #expect(Array(#"{"rows": [{"c1": 1, "nope": 2}]}"#.utf8).withUnsafeBytes { Inputs.direct($0, schema: wide, mlflow: false) } == nil)
    }

    /// MLflow's forms ignore the columns the model does not use and name them (first-seen
    /// order); the mlsh route refuses them. The direct reader leaves such bodies to the
    /// general path, whose table is the one of the same body without those columns.
    @Test func mlflowFormsIgnoreUnusedColumnsAndNameThem() throws {
        let cases: [(String, String)] = [
            (#"{"dataframe_records": [{"f": 1.5, "note": "a", "i": 2, "b": true, "s": "x"}, {"id": 7, "f": 2, "i": 3, "b": false, "s": "y", "note": "b"}]}"#,
             #"{"dataframe_records": [{"f": 1.5, "i": 2, "b": true, "s": "x"}, {"f": 2, "i": 3, "b": false, "s": "y"}]}"#),
            (#"{"dataframe_split": {"columns": ["note", "f", "i", "b", "s", "id"], "data": [["a", 1.5, 2, true, "x", 7]]}}"#,
             #"{"dataframe_split": {"columns": ["f", "i", "b", "s"], "data": [[1.5, 2, true, "x"]]}}"#),
            (#"{"inputs": {"note": ["a"], "f": [1.5], "i": [2], "b": [true], "s": ["x"], "id": [7]}}"#,
             #"{"inputs": {"f": [1.5], "i": [2], "b": [true], "s": ["x"]}}"#),
        ]
        for (body, plain) in cases {
            #expect(direct(body, mlflow: true) == nil, "\(body)")
            let got = try Inputs.mlflow(try JSONParser.parse(body), schema: schema)
            let want = try Inputs.mlflow(try JSONParser.parse(plain), schema: schema)
            #expect(describe(got.table) == describe(want.table), "\(body)")
            #expect(got.ignored == ["note", "id"], "\(body)")
            #expect(want.ignored.isEmpty)
        }
        let csv = try Inputs.csv(Array("note,f,i,b,s\nhello,1.5,2,true,x\n".utf8), schema: schema)
        #expect(csv.ignored == ["note"] && csv.table.names == ["f", "i", "b", "s"] && csv.table.rowCount == 1)
        // Still refused: a missing column beside an ignored one, and any extra on the mlsh route.
        #expect(throws: ServeError.self) { try Inputs.mlflow(try JSONParser.parse(#"{"dataframe_records": [{"f": 1, "i": 2, "b": true, "note": 1}]}"#), schema: schema) }
        #expect { try Inputs.rows(try JSONParser.parse(#"{"rows": [{"f": 1, "i": 2, "b": true, "s": "x", "note": 1}]}"#), schema: schema) }
            throws: { e in (e as? ServeError)?.status == 422 && (e as? ServeError)?.message.contains("unexpected column note") == true }
    }

    @Test func rowWriterWritesEachTypeAndEscapesNames() throws {
        let t = try Table(names: ["f", "i", "b", "s\"q"],
                          columns: [Column(floats: [1.5, .nan]), Column(ints: [3, 4], validity: [true, false]),
                                    Column(bools: [false, true], validity: [true, false]), Column(strings: ["a\\b", nil])])
        #expect(RequestMonitor.rowObjects(t) == [#"{"f":1.5,"i":3,"b":false,"s\"q":"a\\b"}"#, #"{"f":null,"i":null,"b":null,"s\"q":null}"#])
        #expect(RequestMonitor.rowObjects(try Table(names: [], columns: [])) == [])
    }
}
