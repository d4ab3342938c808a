import Foundation
import MLShCommon
import Testing

@Suite struct JSONTests {
    static func parse(_ text: String) throws -> JSON { try JSONParser.parse(text) }

    @Test func valuesRoundTripThroughText() throws {
        let text = #"{"b":[1,-2.5,true,false,null,"x\"\\\n\t\u0001é😀"],"a":{"n":0.1,"e":[]},"z":{}}"#
        let v = try Self.parse(text)
        // Objects keep their order; the writer's text reads back to the same value.
        guard case .object(let members) = v else { Issue.record("not an object"); return }
        #expect(members.map(\.0) == ["b", "a", "z"])
        #expect(JSONWriter.text(v) == text)
        #expect(try Self.parse(JSONWriter.text(v)) == v)
        #expect(v["b"] == .array([.number(1), .number(-2.5), .bool(true), .bool(false), .null, .string("x\"\\\n\t\u{1}é😀")]))
        #expect(try Self.parse(#""\u00e9\ud83d\ude00\/""#) == .string("é😀/"))
        #expect(try Self.parse(" [ NaN , Infinity , -Infinity ] ") == .array([.number(.nan), .number(.infinity), .number(-.infinity)]))
        #expect(JSONWriter.text(.array([.number(.nan), .number(3), .number(-0.5)])) == "[null,3,-0.5]")
    }

    /// Read with `exactIntegers`, integers beyond 2^53 keep every digit, however they are
    /// spelled; smaller ones and fractions are Doubles. Read without, every number is a Double.
    @Test func largeIntegersKeepTheirDigits() throws {
        let cases: [(String, JSON)] = [
            ("18446744073709551615", .integer(negative: false, magnitude: .max)),
            ("-9223372036854775808", .integer(negative: true, magnitude: 1 << 63)),
            ("9007199254740993", .integer(negative: false, magnitude: (1 << 53) + 1)),
            ("9007199254740992", .number(9007199254740992)),
            ("-9007199254740992", .number(-9007199254740992)),
            ("1e16", .integer(negative: false, magnitude: 10_000_000_000_000_000)),
            ("1.5e17", .integer(negative: false, magnitude: 150_000_000_000_000_000)),
            ("1.152921504606847e+18", .integer(negative: false, magnitude: 1_152_921_504_606_847_000)),
            ("9007199254740993.5", .number(9007199254740994)),
            ("18446744073709551616", .number(18446744073709551616)),
            ("-9223372036854775809", .number(-9223372036854775809)),
            ("1e300", .number(1e300)),
            ("-0", .number(-0.0)),
            ("0.1", .number(0.1)),
        ]
        for (text, expected) in cases {
            let v = try JSONParser.parse(text, exactIntegers: true)
            #expect(v == expected, "\(text)")
            if case .number(let d) = expected { #expect(v.double?.bitPattern == d.bitPattern, "\(text)") }
            #expect(try Self.parse(text) == .number(Double(text) ?? .nan), "\(text)")
        }
        #expect(JSONWriter.text(try JSONParser.parse("[18446744073709551615,-9223372036854775808,1e16]", exactIntegers: true))
                == "[18446744073709551615,-9223372036854775808,10000000000000000]")
        #expect(JSON(Int64.min) == .integer(negative: true, magnitude: 1 << 63) && JSON(Int64(-5)) == .number(-5))
        #expect(JSON(Int64.min).int64 == .min && JSON(Int64.max).int64 == .max && JSON.number(-0.0).int64 == nil)
        #expect(JSON.integer(negative: false, magnitude: .max).int64 == nil && JSON.number(2.5).int64 == nil)
        #expect(JSON.integer(negative: true, magnitude: 1 << 60).double == -0x1p60)
    }

    /// The `Codable` conformance reads numbers as the parser with `exactIntegers` does, and
    /// writes what reads back.
    @Test func codableAgreesWithTheParser() throws {
        let text = #"{"a":[18446744073709551615,-9223372036854775808,9007199254740993,1e16,0.5,-0,3],"b":"s","c":null,"d":true,"e":{}}"#
        let parsed = try JSONParser.parse(text, exactIntegers: true)
        let decoded = try JSONDecoder().decode(JSON.self, from: Data(text.utf8))
        #expect(decoded == parsed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let written = String(decoding: try encoder.encode(parsed), as: UTF8.self)
        #expect(written == #"{"a":[18446744073709551615,-9223372036854775808,9007199254740993,10000000000000000,0.5,-0,3],"b":"s","c":null,"d":true,"e":{}}"#)
        #expect(try JSONParser.parse(written, exactIntegers: true) == parsed)
    }

    /// Each malformed document names the byte where reading stopped and why.
    @Test func malformedInputIsReportedWithItsOffset() {
        let cases: [(String, Int, String)] = [
            ("", 0, "unexpected end of input"),
            ("[1,2", 4, "unexpected end of input in an array"),
            ("[1 2]", 3, "expected ',' or ']' in an array"),
            (#"{"a" 1}"#, 5, "expected ':' after a key"),
            (#"{"a":1,}"#, 7, "expected a string key"),
            (#"{"a":1 "b":2}"#, 7, "expected ',' or '}' in an object"),
            ("[01]", 1, "a number cannot start with 0"),
            ("[1.]", 3, "expected a digit after '.'"),
            ("[1e]", 3, "expected a digit in the exponent"),
            ("[-]", 2, "expected a digit"),
            ("tru", 0, "unexpected end of input"),
            ("trux", 0, "unexpected character"),
            ("@", 0, "unexpected character '@'"),
            (#""abc"#, 4, "unterminated string"),
            ("\"a\u{1}\"", 2, "control character in a string"),
            (#""\x""#, 2, "invalid escape '\\x'"),
            (#""\ud800""#, 7, "unpaired surrogate in \\u escape"),
            (#""\u12G4""#, 5, "invalid hex digit in \\u escape"),
            ("[1] x", 4, "unexpected text after the JSON value"),
            (String(repeating: "[", count: 66), 64, "nested deeper than 64 levels"),
        ]
        for (text, offset, reason) in cases {
            let e = #expect(throws: JSONError.self, "\(text)") { try Self.parse(text) }
            #expect(e?.offset == offset && e?.reason == reason, "\(text): \(e?.message ?? "")")
        }
        let e = #expect(throws: JSONError.self) { try Self.parse("[1,x]") }
        #expect(e?.message == "malformed JSON at byte 3: unexpected character 'x'")
        let invalidUTF8: [UInt8] = [0x22, 0x61, 0xFF, 0x22]
        let u = #expect(throws: JSONError.self) { try invalidUTF8.withUnsafeBytes { raw throws(JSONError) in try JSONParser.parse(raw) } }
        #expect(u?.offset == 1 && u?.reason == "invalid UTF-8 in a string")
    }

    /// Pretty text is laid out as Foundation's `.prettyPrinted` lays it out.
    @Test func prettyTextMatchesFoundationsLayout() throws {
        let value: JSON = .array([.object([
            ("a", .number(1)), ("b", .array([])), ("c", .object([])), ("d", .null), ("e", .number(0.5)),
            ("f", .array([.number(1), .string("x")])), ("g", .object([("z", .bool(true))])),
        ])])
        let foundation: Any = [["a": 1, "b": [Any](), "c": [String: Any](), "d": NSNull(), "e": 0.5,
                                "f": [1, "x"] as [Any], "g": ["z": true]] as [String: Any]]
        let expected = String(decoding: try JSONSerialization.data(withJSONObject: foundation, options: [.sortedKeys, .prettyPrinted]),
                              as: UTF8.self)
        #expect(JSONWriter.text(value, pretty: true) == expected)
        #expect(JSONWriter.text(.array([]), pretty: true) == "[\n\n]")
    }

    @Test func sortingKeysSortsEveryObject() {
        let v: JSON = .object([("b", .object([("y", .null), ("x", .null)])), ("a", .array([.object([("d", .null), ("c", .null)])]))])
        #expect(JSONWriter.text(v.sortingKeys()) == #"{"a":[{"c":null,"d":null}],"b":{"x":null,"y":null}}"#)
        #expect(JSONWriter.text(v.sortingKeys(by: >)) == #"{"b":{"y":null,"x":null},"a":[{"d":null,"c":null}]}"#)
    }
}
