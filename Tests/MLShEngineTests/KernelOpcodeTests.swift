import Testing
@testable import MLShEngine

/// Exact tests for each opcode family's edge cases, through the public compiler.
@Suite struct KernelOpcodeTests {
    static let t = try! Table(names: ["a", "b", "i", "j", "m", "p", "q", "s", "u"], columns: [
        Column(floats: [1.5, -2, 0, .nan, .infinity, -0.0]),
        Column(floats: [2, 0, 0, 1, -1, 3]),
        Column(ints: [7, -7, 0, 5, Int64.max, 3]),
        Column(ints: [2, 2, 3, 0, 1, -2], validity: [true, true, true, true, true, false]),
        Column(ints: [1, 2, 3, 4, 5, 6], validity: [true, false, true, false, true, true]),
        Column(bools: [true, false, true, false, true, false]),
        Column(bools: [true, true, false, false, true, true], validity: [true, true, true, true, false, true]),
        Column(strings: ["x", "y", nil, "x", "z", "y"]),
        Column(strings: ["y", "y", "x", nil, "a", "y"]),
    ], label: "t")

    func run(_ e: KExpr) throws -> Column { try KernelProgram.compile(e, for: Self.t).run(on: Self.t) }
    func floats(_ e: KExpr) throws -> [Double] {
        guard case .float(let v) = try run(e).storage else { Issue.record("not float: \(e)"); return [] }
        return v
    }
    func ints(_ e: KExpr) throws -> ([Int64], [Bool]?) {
        guard case .int(let v, let m) = try run(e).storage else { Issue.record("not int: \(e)"); return ([], nil) }
        return (v, m)
    }
    func bools(_ e: KExpr) throws -> ([Bool], [Bool]?) {
        guard case .bool(let v, let m) = try run(e).storage else { Issue.record("not bool: \(e)"); return ([], nil) }
        return (v, m)
    }
    func same(_ a: [Double], _ b: [Double]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
    }
    let a = KExpr.column("a"), b = KExpr.column("b"), i = KExpr.column("i"), j = KExpr.column("j")
    func call(_ n: String, _ args: KExpr...) -> KExpr { .call(n, args) }

    @Test func opcodeTableIsInRawValueOrder() {
        #expect(KOp.table.count == KOp.allCases.count)
        for (k, row) in KOp.table.enumerated() { #expect(row.op.rawValue == k, "\(row.name)") }
        #expect(Set(KOp.table.map(\.name)).count == KOp.table.count)
    }

    @Test func floatDivisionIsIEEE() throws {
        #expect(same(try floats(call("div", a, b)), [0.75, -.infinity, .nan, .nan, -.infinity, -0.0]))
        #expect(same(try floats(call("div", i, .int(0))), [.infinity, -.infinity, .nan, .infinity, .infinity, .infinity]))
    }

    @Test func floorModLikePython() throws {
        #expect(same(try floats(call("mod", .float(-7), .float(3))), [Double](repeating: 2, count: 6)))
        #expect(same(try floats(call("mod", a, b)), [1.5, .nan, .nan, .nan, .nan, 0]))   // -0.0 % 3 == 0.0 as in Python
        let (v, m) = try ints(call("mod", i, j))
        #expect(v == [1, 1, 0, 0, 0, 0])
        #expect(m == [true, true, true, false, true, false])
        let (w, _) = try ints(call("mod", .int(-7), .int(3)))
        #expect(w.allSatisfy { $0 == 2 })
    }

    @Test func intArithmeticStaysIntAndChecksOverflow() throws {
        #expect(try run(call("add", j, .int(1))).dtype == .int)
        #expect(try run(call("div", i, .int(2))).dtype == .float)
        #expect(try run(call("pow", j, .int(2))).dtype == .int)
        #expect(try run(call("pow", j, .int(-1))).dtype == .float)
        #expect(try run(call("add", i, .float(1))).dtype == .float)
        #expect(throws: EngineError.invalidArgument("integer overflow in $i * 2")) { try run(call("mul", i, .int(2))) }
        #expect(throws: EngineError.invalidArgument("integer overflow in $i + 1")) { try run(call("add", i, .int(1))) }
        let (p, _) = try ints(call("pow", .int(3), .int(4)))
        #expect(p.allSatisfy { $0 == 81 })
    }

    @Test func missingIntsPropagateValidity() throws {
        let (v, m) = try ints(call("add", .column("m"), j))
        #expect(v[0] == 3)
        #expect(m == [true, false, true, false, true, false])
        // Missing ints become NaN when the expression is float.
        let f = try floats(call("mul", .column("m"), .float(0.5)))
        #expect(same(f, [0.5, .nan, 1.5, .nan, 2.5, 3]))
    }

    @Test func comparisonsWithNaNAreFalseExceptNe() throws {
        let (lt, _) = try bools(call("lt", a, .float(1)))
        #expect(lt == [false, true, true, false, false, true])
        let (ne, _) = try bools(call("ne", a, a))
        #expect(ne == [false, false, false, true, false, false])
        let (eq, _) = try bools(call("eq", a, .float(0)))
        #expect(eq == [false, false, true, false, false, true])   // -0.0 == 0
    }

    @Test func isNanAndFillNanCoverMissing() throws {
        #expect(try bools(call("is_nan", a)).0 == [false, false, false, true, false, false])
        #expect(try bools(call("is_nan", .column("m"))).0 == [false, true, false, true, false, false])
        #expect(try bools(call("is_nan", .column("s"))).0 == [false, false, true, false, false, false])
        #expect(try bools(call("is_nan", i)).0 == [Bool](repeating: false, count: 6))
        #expect(same(try floats(call("fill_nan", a, .float(9))), [1.5, -2, 0, 9, .infinity, -0.0]))
        let (v, m) = try ints(call("fill_nan", .column("m"), .int(-1)))
        #expect(v == [1, -1, 3, -1, 5, 6])
        #expect(m == nil)
    }

    @Test func ifElseSelectsAndPropagates() throws {
        #expect(same(try floats(call("if_else", call("gt", a, .float(0)), a, .float(0))), [1.5, 0, 0, 0, .infinity, 0]))
        let (v, m) = try ints(call("if_else", .column("p"), i, .column("m")))
        #expect(v[0] == 7 && v[2] == 0 && v[4] == Int64.max)
        #expect(m == [true, false, true, false, true, true])
        // A missing condition gives a missing result.
        let f = try floats(call("if_else", .column("q"), a, b))
        #expect(same(f, [1.5, -2, 0, 1, .nan, -0.0]))
    }

    @Test func boolLogic() throws {
        let (v, m) = try bools(call("and", .column("p"), .column("q")))
        #expect(v == [true, false, false, false, true, false])
        #expect(m == [true, true, true, true, false, true])
        #expect(try bools(call("not", .column("p"))).0 == [false, true, false, true, false, true])
    }

    @Test func elementWiseFunctions() throws {
        #expect(same(try floats(call("abs", a)), [1.5, 2, 0, .nan, .infinity, 0]))
        #expect(same(try floats(call("sqrt", b)), [Double(2).squareRoot(), 0, 0, 1, .nan, Double(3).squareRoot()]))
        #expect(same(try floats(call("sign", a)), [1, -1, 0, .nan, 1, -0.0]))
        #expect(try ints(call("sign", i)).0 == [1, -1, 0, 1, 1, 1])
        #expect(same(try floats(call("floor", a)), [1, -2, 0, .nan, .infinity, -0.0]))
        #expect(same(try floats(call("ceil", a)), [2, -2, 0, .nan, .infinity, -0.0]))
        #expect(same(try floats(call("round", .float(2.5))), [Double](repeating: 2, count: 6)))
        #expect(same(try floats(call("round", .float(1.2345), .int(2))), [Double](repeating: 1.23, count: 6)))
        #expect(same(try floats(call("round", .float(1250), .int(-2))), [Double](repeating: 1200, count: 6)))
        #expect(same(try floats(call("clip", a, .float(-1), .float(1))), [1, -1, 0, .nan, 1, -0.0]))
        #expect(same(try floats(call("min2", a, b)), [1.5, -2, 0, .nan, -1, -0.0]))
        #expect(try ints(call("max2", i, .int(0))).0 == [7, 0, 0, 5, Int64.max, 3])
        #expect(same(try floats(call("exp", .float(0))), [Double](repeating: 1, count: 6)))
        #expect(same(try floats(call("log", a)), [kernelTestLog(1.5), .nan, -.infinity, .nan, .infinity, -.infinity]))
        #expect(same(try floats(call("log1p", .float(-1))), [Double](repeating: -.infinity, count: 6)))
    }

    @Test func casts() throws {
        let (v, m) = try ints(call("cast", a, .string("int")))
        #expect(v == [1, -2, 0, 0, 0, 0])
        #expect(m == [true, true, true, false, false, true])
        #expect(same(try floats(call("cast", .column("m"), .string("float"))), [1, .nan, 3, .nan, 5, 6]))
        #expect(try bools(call("cast", i, .string("bool"))).0 == [true, true, false, true, true, true])
        #expect(try run(call("cast", .column("s"), .string("string"))).dtype == .string)
        #expect(try strings(call("cast", a, .string("string"))) == ["1.5", "-2.0", "0.0", nil, "inf", "-0.0"])
        #expect(try strings(call("cast", .column("m"), .string("string"))) == ["1", nil, "3", nil, "5", "6"])
        #expect(try strings(call("cast", .column("p"), .string("string"))) == ["true", "false", "true", "false", "true", "false"])
        #expect(try KernelProgram.compile(call("cast", a, .string("string")), for: Self.t).resultType == .string)
        #expect(throws: EngineError.typeMismatch("cast of a float to string is supported only as the whole expression")) {
            try run(call("fill_nan", .column("s"), call("cast", a, .string("string"))))
        }
        #expect(throws: EngineError.invalidArgument("cast's type must be one of \"int\", \"float\", \"bool\", \"string\", got \"char\"")) {
            try run(call("cast", a, .string("char")))
        }
    }

    @Test func stringEqualityAgainstLiterals() throws {
        #expect(try bools(call("eq", .column("s"), .string("x"))).0 == [true, false, false, true, false, false])
        #expect(try bools(call("ne", .column("s"), .string("x"))).0 == [false, true, true, false, true, true])
        #expect(try bools(call("eq", .string("y"), .column("s"))).0 == [false, true, false, false, false, true])
        // A literal absent from the dictionary: all false / all true (missing too for ne).
        #expect(try bools(call("eq", .column("s"), .string("nope"))).0 == [Bool](repeating: false, count: 6))
        #expect(try bools(call("ne", .column("s"), .string("nope"))).0 == [Bool](repeating: true, count: 6))
        #expect(try bools(call("lt", .column("s"), .string("y"))).0 == [true, false, false, true, false, false])
    }

    @Test func stringColumnsCompareByValue() throws {
        #expect(try bools(call("eq", .column("s"), .column("u"))).0 == [false, true, false, false, false, true])
        #expect(try bools(call("ne", .column("s"), .column("u"))).0 == [true, false, true, true, true, false])
        #expect(try bools(call("gt", .column("s"), .column("u"))).0 == [false, false, false, false, true, false])
    }

    func strings(_ e: KExpr) throws -> [String?] {
        guard case .string(let codes, let dict) = try run(e).storage else { Issue.record("not string: \(e)"); return [] }
        return codes.map { $0 < 0 ? nil : dict[Int($0)] }
    }

    @Test func computedStrings() throws {
        #expect(try strings(call("if_else", call("gt", a, .float(0)), .string("pos"), .string("neg")))
                == ["pos", "neg", "neg", "neg", "pos", "neg"])
        #expect(try strings(call("fill_nan", .column("s"), .string("?"))) == ["x", "y", "?", "x", "z", "y"])
        #expect(try strings(call("if_else", .column("p"), .column("s"), .column("u"))) == ["x", "y", nil, nil, "z", "y"])
        // A missing condition gives a missing string.
        #expect(try strings(call("if_else", .column("q"), .string("t"), .string("f"))) == ["t", "t", "f", "f", nil, "t"])
        #expect(try strings(.string("k")) == [String?](repeating: "k", count: 6))
        #expect(throws: EngineError.typeMismatch("if_else cannot mix string and float")) { try run(call("if_else", .column("p"), .column("s"), a)) }
        #expect(try bools(call("eq", call("fill_nan", .column("s"), .string("?")), .string("?"))).0 == [false, false, true, false, false, false])
        #expect(try bools(call("ne", call("if_else", .column("p"), .column("s"), .column("u")), .column("s"))).0
                == [false, false, true, true, false, false])
        #expect(try bools(call("eq", .string("y"), call("fill_nan", .column("u"), .string("y")))).0 == [true, true, false, true, false, true])
        let l = try KernelProgram.compile(call("fill_nan", .column("s"), .string("?")), for: Self.t).disassembly()
        #expect(l.contains("\"?\"") && l.contains("lut_cc"), "\(l)")
    }

    @Test func unknownColumnMessage() throws {
        let t = try Table(names: ["petal_length", "petal_width"], columns: [Column(floats: [1]), Column(floats: [2])], label: "iris")
        do {
            _ = try KernelProgram.compile(.call("add", [.column("petal_lenght"), .float(1)]), for: t)
            Issue.record("expected an error")
        } catch {
            #expect(error == .unknownColumn("petal_lenght", table: "iris", suggestion: "petal_length"))
            #expect(error.message == "unknown column $petal_lenght in table iris (did you mean $petal_length?)")
        }
    }

    @Test func hostileInputsAreErrorsNotCrashes() throws {
        var e = a
        for _ in 0..<2_500 { e = call("add", e, .float(1)) }   // (Swift itself cannot free a 100k-deep enum)
        let deep = e
        #expect(throws: EngineError.invalidArgument("column expression nested more than 2000 levels deep")) {
            try KernelProgram.compile(deep, for: Self.t)
        }
        #expect(throws: EngineError.invalidArgument("column expression nested more than 2000 levels deep")) {
            try KernelAggregate.aggregate(.reduce("sum", deep, []), on: Self.t, groups: nil)
        }
        #expect(same(try floats(call("round", a, .int(Int64.min))), [0, -0.0, 0, .nan, .infinity, -0.0]))
        #expect(same(try floats(call("round", a, .int(Int64.max))), [1.5, -2, 0, .nan, .infinity, -0.0]))
    }

    @Test func shortValidityMaskIsAnErrorNotACrash() throws {
        let t = try Table(names: ["m"], columns: [Column(ints: [1, 2, 3], validity: [true])])
        #expect(throws: EngineError.lengthMismatch(column: "m", expected: 3, actual: 1)) {
            try KernelProgram.compile(.call("add", [.column("m"), .int(1)]), for: t).run(on: t)
        }
    }

    @Test func typeErrorsNameTheOperation() throws {
        #expect(throws: EngineError.typeMismatch("sqrt expects a number, got string")) { try run(call("sqrt", .column("s"))) }
        #expect(throws: EngineError.typeMismatch("add expects numbers, got string and int")) { try run(call("add", .column("s"), .int(1))) }
        #expect(throws: EngineError.typeMismatch("and expects bools, got float and bool")) { try run(call("and", a, .column("p"))) }
        #expect(throws: EngineError.typeMismatch("if_else expects a bool condition, got float")) { try run(call("if_else", a, a, b)) }
        #expect(throws: EngineError.typeMismatch("mean expects a number, got string")) { try run(.reduce("mean", .column("s"), [])) }
        #expect(throws: EngineError.typeMismatch("eq cannot compare float with string")) { try run(call("eq", a, .string("x"))) }
        #expect(throws: EngineError.typeMismatch("lt cannot compare string with int")) { try run(call("lt", .column("s"), i)) }
        #expect(throws: EngineError.typeMismatch("lt compares string columns only; compare the columns a computed string comes from")) {
            try run(call("lt", call("fill_nan", .column("s"), .string("?")), .string("x")))
        }
        #expect(throws: EngineError.invalidArgument("unknown column function 'frob'")) { try run(call("frob", a)) }
        #expect(throws: EngineError.invalidArgument("sqrt takes 1 argument, got 2")) { try run(call("sqrt", a, b)) }
    }
}

import Foundation
func kernelTestLog(_ x: Double) -> Double { Foundation.log(x) }
