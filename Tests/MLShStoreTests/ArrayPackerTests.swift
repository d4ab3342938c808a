import MLShCommon
import Testing
@testable import MLShStore

/// How the model file sorts the state's number arrays into its data section: the rules
/// that keep every value (and the file's bytes) exactly as written.
@Suite struct ArrayPackerTests {
    static func kind(_ items: [JSON]) -> String {
        switch NumberArray(items) {
        case .ints(let v)?: "ints \(v)"
        case .doubles(let v)?: "doubles \(v)"
        case .unsigned?: "unsigned"
        case nil: "none"
        }
    }

    @Test func arraysAreIntsDoublesOrLeftAsTheyAre() {
        let big = JSON.integer(negative: false, magnitude: (1 << 60) + 1)
        #expect(Self.kind([.number(1), .number(-2), big]) == "ints [1, -2, \((1 << 60) + 1)]")
        #expect(Self.kind([.number(1), .integer(negative: true, magnitude: 1 << 63)]) == "ints [1, \(Int64.min)]")
        #expect(Self.kind([]) == "ints []")
        #expect(Self.kind([.number(-0.0), .number(1)]) == "doubles [-0.0, 1.0]")      // -0 is no integer
        #expect(Self.kind([.number(0.5), big]) == "doubles [0.5, 1.152921504606847e+18]")
        #expect(Self.kind([.number(1e20), .number(1)]) == "doubles [1e+20, 1.0]")
        #expect(Self.kind([.integer(negative: false, magnitude: .max), .number(1), .number(-0.0)]) == "unsigned")
        #expect(Self.kind([.integer(negative: false, magnitude: .max), .number(-1)]) == "doubles [1.8446744073709552e+19, -1.0]")
        #expect(Self.kind([.number(1), .string("a")]) == "none")
    }

    @Test func packingFollowsSortedKeysAndKeepsShortArraysInTheHeader() throws {
        let eight = JSON.array((0..<8).map { .number(Double($0)) })
        var packer = ArrayPacker()
        let packed = try packer.pack(.object([("b", eight), ("a", .array([eight, .array([.number(0.5), .integer(negative: false, magnitude: 1 << 60)])]))]),
                                     path: "")
        #expect(packer.directory.map(\.path) == ["a.0", "b"])
        #expect(packer.directory.map(\.dtype) == ["i64", "i64"] && packer.data.count == 128)
        #expect(packed["b"] == .object([("$array", .number(1))]))
        #expect(packed["a"] == .array([.object([("$array", .number(0))]), .array([.number(0.5), .number(0x1p60)])]))
        #expect(throws: StoreError("cannot encode the model: its state uses the reserved key $array at x")) {
            try packer.pack(.object([("x", .object([("$array", .number(0))]))]), path: "")
        }
    }
}
