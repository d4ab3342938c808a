import Foundation
import Testing
@testable import MLShEngine

/// String functions and `none` in column expressions.
@Suite struct KernelStringFunctionTests {
    static let t = try! Table(names: ["s", "age", "x", "ok"], columns: [
        Column(strings: ["  Ada-1 ", "bob", nil, "Cy-Ro-9", "bob"]),
        Column(ints: [36, -1, 41, -5, 7], validity: [true, true, true, true, false]),
        Column(floats: [1.5, -2, .nan, 4, -0.5]),
        Column(bools: [true, false, true, false, true]),
    ], label: "t")
    let s = KExpr.column("s")
    func call(_ n: String, _ args: KExpr...) -> KExpr { .call(n, args) }
    func run(_ e: KExpr) throws -> Column { try KernelProgram.compile(e, for: Self.t).run(on: Self.t) }
    func strings(_ e: KExpr) throws -> [String?] {
        let c = try run(e)
        return (0..<c.count).map { if case .string(let v) = c.value(at: $0) { return v } else { return nil } }
    }

    @Test func eachFunctionOnAColumnWithMissingValues() throws {
        #expect(try strings(call("trim", s)) == ["Ada-1", "bob", nil, "Cy-Ro-9", "bob"])
        #expect(try strings(call("lower", s)) == ["  ada-1 ", "bob", nil, "cy-ro-9", "bob"])
        #expect(try strings(call("upper", s)) == ["  ADA-1 ", "BOB", nil, "CY-RO-9", "BOB"])
        #expect(try strings(call("replace", s, .string("-"), .string("--"))) == ["  Ada--1 ", "bob", nil, "Cy--Ro--9", "bob"])
        #expect(try strings(call("replace", s, .string("b"), .string(""))) == ["  Ada-1 ", "o", nil, "Cy-Ro-9", "o"])
        #expect(try strings(call("split_text", s, .string("-"), .int(0))) == ["  Ada", "bob", nil, "Cy", "bob"])
        #expect(try strings(call("split_text", s, .string("-"), .int(2))) == [nil, nil, nil, "9", nil])
        #expect(try strings(call("split_text", s, .string("-"), .int(-1))) == ["1 ", "bob", nil, "9", "bob"])
        #expect(try strings(call("split_text", s, .string("-"), .int(-4))) == [nil, nil, nil, nil, nil])
    }

    @Test func appliesToTheDictionaryNotToEachRow() throws {
        // 200k rows of three distinct values: the result's dictionary holds the three
        // results (the function ran per distinct value), and its codes are shared.
        let n = 200_000
        let big = try Table(names: ["s"], columns: [Column(strings: (0..<n).map { [" a ", "b ", " a"][$0 % 3] })])
        let c = try KernelProgram.compile(call("trim", s), for: big).run(on: big)
        guard case .string(let codes, let dict) = c.storage else { Issue.record("not a string column"); return }
        #expect(dict.sorted() == ["a", "b"])
        #expect(codes.count == n && codes[0] == codes[2] && codes[0] != codes[1])
        let l = try KernelProgram.compile(call("trim", s), for: big).disassembly()
        #expect(l.contains("per code of $s: code of trim(value) in the program dictionary"), "\(l)")
        #expect(l.contains("lut_cc"), "\(l)")
    }

    @Test func composesWithComputedStringsAndLiterals() throws {
        let e = call("lower", call("trim", call("if_else", call("lt", .column("age"), .int(0)), .string(" NEG "), s)))
        #expect(try strings(e) == ["ada-1", "neg", nil, "neg", nil])
        #expect(try strings(call("upper", .string("x"))) == ["X", "X", "X", "X", "X"])
        #expect(try strings(call("split_text", .string("a"), .string(","), .int(1))) == [nil, nil, nil, nil, nil])
        // The same function over two different inputs keeps each input's values.
        let two = call("if_else", call("is_nan", s), call("upper", call("fill_nan", s, .string("z"))), call("upper", call("trim", s)))
        #expect(try strings(two) == ["ADA-1", "BOB", "Z", "CY-RO-9", "BOB"])
        let eq = try run(call("eq", call("trim", s), .string("Ada-1")))
        #expect(eq.value(at: 0) == .bool(true) && eq.value(at: 1) == .bool(false) && eq.value(at: 2) == .bool(false))
    }

    @Test func noneIsMissingOfTheTypeTheContextNeeds() throws {
        let neg = call("lt", .column("age"), .int(0))
        let i = try run(call("if_else", neg, .missing, .column("age")))
        #expect(i.dtype == .int)
        #expect((0..<5).map { i.value(at: $0) } == [.int(36), .missing, .int(41), .missing, .missing])
        let f = try run(call("if_else", call("lt", .column("x"), .float(0)), .missing, .column("x")))
        #expect(f.dtype == .float)
        #expect((0..<5).map { f.value(at: $0) } == [.float(1.5), .missing, .missing, .float(4), .missing])
        #expect(try strings(call("if_else", .column("ok"), s, .missing)) == ["  Ada-1 ", nil, nil, nil, "bob"])
        let b = try run(call("if_else", neg, .column("ok"), .missing))
        #expect(b.dtype == .bool && (0..<5).map { b.value(at: $0) } == [.missing, .bool(false), .missing, .bool(false), .missing])
        let sum = try run(call("add", .column("age"), .missing))
        #expect(sum.dtype == .int && sum.missingCount == 5)
        #expect(try run(.missing).dtype == .float)
        #expect(try strings(call("trim", .missing)) == [nil, nil, nil, nil, nil])
        #expect(try strings(call("fill_nan", s, .missing)) == ["  Ada-1 ", "bob", nil, "Cy-Ro-9", "bob"])
        #expect(throws: EngineError.invalidArgument("cannot compare with none (a missing value equals nothing); use is_nan(x) to find missing values")) {
            try run(call("eq", s, .missing))
        }
    }

    @Test func printsAsWritten() {
        #expect(call("if_else", call("lt", .column("age"), .int(0)), .missing, .column("age")).description
                == "if_else($age < 0, none, $age)")
        #expect(call("split_text", s, .string("-"), .int(0)).description == "split_text($s, \"-\", 0)")
        #expect(call("replace", call("trim", s), .string("a"), .string("b")).description == "replace(trim($s), \"a\", \"b\")")
    }

    @Test func badArgumentsAreClearErrors() {
        #expect(throws: EngineError.typeMismatch("trim expects a string, got float")) { try run(call("trim", .column("x"))) }
        #expect(throws: EngineError.invalidArgument("replace's old must not be empty")) {
            try run(call("replace", s, .string(""), .string("x")))
        }
        #expect(throws: EngineError.invalidArgument("replace's old must be a string constant, got $s")) {
            try run(call("replace", s, s, .string("x")))
        }
        #expect(throws: EngineError.invalidArgument("split_text in a column expression takes the part's index: split_text($s, \"-\", 0)")) {
            try run(call("split_text", s, .string("-")))
        }
        #expect(throws: EngineError.invalidArgument("split_text's index must be an int constant, got 1.5")) {
            try run(call("split_text", s, .string("-"), .float(1.5)))
        }
        #expect(throws: EngineError.invalidArgument("lower takes 1 argument, got 2")) { try run(call("lower", s, s)) }
    }
}
