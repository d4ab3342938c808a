import Testing
@testable import MLShEngine

@Suite struct ScalarTests {
    @Test func inferTypes() throws {
        #expect(try Column(scalars: [.int(1), .int(2), .missing]).dtype == .int)
        #expect(try Column(scalars: [.int(1), .float(2.5)]).dtype == .float)
        #expect(try Column(scalars: [.bool(true), .missing]).dtype == .bool)
        #expect(try Column(scalars: [.string("a"), .missing]).dtype == .string)
        #expect(try Column(scalars: []).dtype == .float)
        #expect(throws: EngineError.typeMismatch("cannot make a column from mixed values (int, string)")) {
            try Column(scalars: [.int(1), .string("a")])
        }
        let c = try Column(scalars: [.int(1), .missing, .int(3)])
        #expect(c.value(at: 0) == .int(1))
        #expect(c.value(at: 1) == .missing)
        #expect(c.value(at: 3) == .missing)
        #expect(c.value(at: -1) == .missing)
        let d = try c.doubles()
        #expect(d[0] == 1 && d[1].isNaN && d[2] == 3)
        #expect(throws: EngineError.self) { try Column(strings: ["a"]).doubles() }
    }

    @Test func taking() {
        let c = Column(ints: [10, 20, 30])
        let t = c.taking([2, -1, 0])
        #expect(t.value(at: 0) == .int(30))
        #expect(t.value(at: 1) == .missing)
        #expect(t.value(at: 2) == .int(10))
    }
}
