import Foundation
import Testing
@testable import MLShEngine

/// The compiler's passes, seen through the program listing and results.
@Suite struct KernelCompilerTests {
    static let t = try! Table(names: ["a", "b", "n", "k"], columns: [
        Column(floats: [1, 2, 3, -4]), Column(floats: [0.5, 0, -1, 2]),
        Column(ints: [1, 2, 3, 4], validity: [true, false, true, true]), Column(ints: [1, 2, 3, 4]),
    ], label: "t")
    let a = KExpr.column("a"), b = KExpr.column("b")
    func call(_ n: String, _ args: KExpr...) -> KExpr { .call(n, args) }
    func listing(_ e: KExpr) throws -> String { try KernelProgram.compile(e, for: Self.t).disassembly() }
    func count(_ needle: String, in s: String) -> Int { s.components(separatedBy: needle).count - 1 }
    func floats(_ e: KExpr) throws -> [Double] {
        guard case .float(let v) = try KernelProgram.compile(e, for: Self.t).run(on: Self.t).storage else { return [] }
        return v
    }

    @Test func foldsSafeConstants() throws {
        let l = try listing(call("add", call("mul", .float(2), .float(3)), a))
        #expect(l.contains("#6.0"), "\(l)")
        #expect(count("mul_fff", in: l) == 0)
        #expect(try floats(call("add", call("mul", .float(2), .float(3)), a)) == [7, 8, 9, 2])
    }

    @Test func neverFoldsDivisionByZeroNaNOrNegativeZero() throws {
        for e in [call("div", .float(1), .float(0)), call("mul", .float(0), .float(-1)),
                  call("add", .float(.nan), .float(1)), call("sqrt", .float(-1)), call("log", .float(0))] {
            let l = try listing(call("add", e, a))
            #expect(!["#inf", "#-inf", "#-0.0"].contains { l.contains($0) }, "folded \(e):\n\(l)")
            #expect(count("<- #", in: l) >= 1, "folded \(e):\n\(l)")
        }
        // Semantics are still IEEE at run time.
        #expect(try floats(call("div", .float(1), call("mul", .float(0), .float(-1)))).allSatisfy { $0 == -.infinity })
        let z = try floats(call("mul", .float(0), .float(-1)))
        #expect(z.allSatisfy { $0 == 0 && $0.sign == .minus })
    }

    @Test func intOverflowIsNotFoldedButRaised() throws {
        let e = call("add", .int(Int64.max), .int(1))
        #expect(count("add_iii", in: try listing(e)) == 1)
        #expect(throws: EngineError.invalidArgument("integer overflow in 9223372036854775807 + 1")) {
            try KernelProgram.compile(e, for: Self.t).run(on: Self.t)
        }
    }

    @Test func commonSubexpressionsComputeOnce() throws {
        let l = try listing(call("add", call("mul", a, b), call("sqrt", call("mul", a, b))))
        #expect(count("mul_fff", in: l) == 1, "\(l)")
        let m = try listing(call("div", call("sub", a, .reduce("mean", a, [])), .reduce("std", a, [])))
        #expect(m.contains("p0 = mean($a)") && m.contains("p1 = std($a)"), "\(m)")
        // The same reduction twice is one parameter.
        let r = try listing(call("add", .reduce("sum", a, []), .reduce("sum", a, [])))
        #expect(!r.contains("p1"), "\(r)")
    }

    @Test func fusesMultiplyAddOnlyForSingleUseProducts() throws {
        #expect(count("fma_ffff", in: try listing(call("add", call("mul", a, b), .column("a")))) == 1)
        let shared = try listing(call("add", call("mul", a, b), call("exp", call("mul", a, b))))
        #expect(count("fma_ffff", in: shared) == 0, "\(shared)")
    }

    @Test func fusesSubtractDivideBitForBit() throws {
        let e = call("div", call("sub", a, b), call("add", b, .float(3)))
        let l = try listing(e)
        #expect(count("subDivF_ffff", in: l) == 1 && count("sub_fff", in: l) == 0 && count("div_fff", in: l) == 0, "\(l)")
        var off = KCompileOptions()
        off.fuseSubtractDivide = false
        let unfused = try KernelProgram.compile(e, for: Self.t, options: off, toOutput: true).run(on: Self.t)
        guard case .float(let want) = unfused.storage else { Issue.record("not float"); return }
        let got = try floats(e)
        #expect(got.count == 4 && zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(got) vs \(want)")
        // A difference used twice is computed once, not fused.
        let shared = try listing(call("add", call("div", call("sub", a, b), b), call("sub", a, b)))
        #expect(count("subDivF_ffff", in: shared) == 0, "\(shared)")
    }

    /// Runs `e` with every fuse pass on and with `off` applied; the two must agree bit for bit.
    func expectSameBits(_ e: KExpr, _ off: (inout KCompileOptions) -> Void, on table: Table = Self.t) throws {
        var options = KCompileOptions()
        off(&options)
        let unfused = try KernelProgram.compile(e, for: table, options: options, toOutput: true).run(on: table)
        let fused = try KernelProgram.compile(e, for: table).run(on: table)
        guard case .float(let want) = unfused.storage, case .float(let got) = fused.storage else { Issue.record("not float"); return }
        #expect(got.count == want.count && zip(got, want).allSatisfy { $0.bitPattern == $1.bitPattern }, "\(e): \(got) vs \(want)")
    }

    @Test func fusesCompareSelectBitForBit() throws {
        let nan = try Table(names: ["a", "b"], columns: [Column(floats: [1, -2, .nan, 0, -0.0, .infinity]),
                                                       Column(floats: [.nan, 3, 1, -0.0, 0, 2])], label: "t")
        for cmp in ["gt", "ge", "lt", "le", "eq", "ne"] {
            let e = call("mul", call("if_else", call(cmp, a, .float(0)), a, b), b)
            let l = try listing(e)
            #expect(count("cmpSelF_fffff", in: l) == 1 && count("if_else_fbff", in: l) == 0 && l.contains("cmp=\(cmp)"), "\(l)")
            try expectSameBits(e, { $0.fuseCompareSelect = false }, on: nan)
        }
        // A mask used twice stays a mask.
        let shared = try listing(call("if_else", call("gt", a, b), a, call("cast", call("gt", a, b), .string("float"))))
        #expect(count("cmpSelF_fffff", in: shared) == 0, "\(shared)")
    }

    @Test func fusesSquareRootAbsAndNegationAsEpilogues() throws {
        // sqrt(a*a + b*b): the product, then one loop for the multiply-add and the root.
        let norm = call("sqrt", call("add", call("mul", a, a), call("mul", b, b)))
        let l = try listing(norm)
        #expect(count("fma_ffff+sqrt", in: l) == 1 && count("sqrt_ff", in: l) == 0 && l.contains("1 register"), "\(l)")
        #expect(try floats(norm) == [1, 2, 3, 4].enumerated().map { k, x in (x * x + [0.25, 0, 1, 4][k]).squareRoot() })
        // Inexact products (one rounding or two shows), signed zeros, NaN, huge and tiny values.
        let inexact = try Table(names: ["a", "b"], columns: [
            Column(floats: [0.1, 1.0 / 3, 1e8 + 0.1, -0.0, 3, .nan, 2.5e-300, 1e16 + 2]),
            Column(floats: [0.3, 0.7, 1e-8, 0.0, -3, 1, 1e300, 1])], label: "t")
        for e in [norm, call("abs", call("sub", a, b)), call("neg", call("div", a, b)), call("sqrt", call("max2", a, b)),
                  call("abs", call("div", call("sub", a, b), call("add", b, .float(1)))), call("sqrt", call("sub", b, a)),
                  call("neg", call("sub", a, a)), call("sqrt", call("add", call("mul", a, b), .float(0.1))),
                  call("neg", call("add", call("mul", a, b), b))] {
            try expectSameBits(e, { $0.fuseEpilogues = false }, on: inexact)
            let fused = try listing(e)
            #expect(count("+sqrt", in: fused) + count("+abs", in: fused) + count("+neg", in: fused) == 1, "\(fused)")
        }
        // A result that is also used elsewhere is stored before its root is taken.
        let shared = try listing(call("add", call("sqrt", call("mul", a, b)), call("mul", a, b)))
        #expect(count("+sqrt", in: shared) == 0, "\(shared)")
        // Only arithmetic ops take an epilogue: sqrt of sqrt, or of exp, stays two loops.
        let chained = try listing(call("sqrt", call("sqrt", call("add", a, b))))
        #expect(count("+sqrt", in: chained) == 1 && count("sqrt_ff", in: chained) == 1, "\(chained)")
        let transcendental = try listing(call("sqrt", call("exp", a)))
        #expect(count("+sqrt", in: transcendental) == 0 && count("sqrt_ff", in: transcendental) == 1, "\(transcendental)")
    }

    @Test func registersAreReused() throws {
        var e = a
        for k in 0..<20 { e = call(k % 2 == 0 ? "add" : "mul", e, call("sqrt", b)) }
        let p = try KernelProgram.compile(e, for: Self.t)
        #expect(p.registerCount <= 3, "\(p.disassembly())")
        #expect(p.instrs.allSatisfy { ins in ![ins.a, ins.b, ins.c, ins.d].contains(ins.dst) }, "a destination aliases an operand")
    }

    @Test func explicitCastsAppearInTheListing() throws {
        let l = try listing(call("add", .column("n"), a))
        #expect(l.contains("cast_fi"), "\(l)")
        #expect(l.contains("nanmask_ffb") && l.contains("zeromask_iib"), "\(l)")
        let i = try listing(call("add", .column("k"), .int(1)))
        #expect(i.contains("add_iii") && !i.contains("cast"), "\(i)")
    }

    @Test func validationRejectsBadPrograms() {
        var bad = KPasses.Allocation()
        bad.slots = [.column("a", .f), .register(0), .output(.f)]
        bad.instrs = [KInstr(op: .addF, dst: 2, a: 0, b: 1)]   // r0 read before written
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .addI, dst: 2, a: 0, b: 0)]   // float operands to an int op
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .addF, dst: 0, a: 0, b: 0)]   // writes an input
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .addF, dst: 2, a: 0, b: 0, post: .expF)]   // exp is no epilogue
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .expF, dst: 2, a: 0, post: .sqrtF)]   // exp takes none
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .fmaF, dst: 2, a: 0, b: 0, d: 0)]   // operands out of place (c unset)
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .cmpSelF, dst: 2, a: 0, b: 0, c: 0, d: 0, imm: Int64(KOp.addF.rawValue))]   // no comparison
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .cmpSelF, dst: 2, a: 0, b: 0, c: 0, imm: Int64(KOp.gtF.rawValue))]   // three operands
        #expect(throws: EngineError.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .addF, dst: 2, a: 0, b: 0)]
        #expect(throws: Never.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
        bad.instrs = [KInstr(op: .cmpSelF, dst: 2, a: 0, b: 0, c: 0, d: 0, imm: Int64(KOp.gtF.rawValue))]
        #expect(throws: Never.self) { try KPasses.validate(bad, auxCount: 0, toOutput: true, hasValidity: false) }
    }

    @Test func recompilesForAnotherTableShape() throws {
        let p = try KernelProgram.compile(call("add", .column("k"), .int(1)), for: Self.t)
        let other = try Table(names: ["k"], columns: [Column(ints: [5, 6], validity: [false, true])])
        guard case .int(let v, let m) = try p.run(on: other).storage else { Issue.record("not int"); return }
        #expect(v[1] == 7 && m == [false, true])
    }

    @Test func listingShowsTypedOpsAndSemantics() throws {
        let cond = call("and", call("gt", a, .float(0)), call("lt", b, .float(1)))
        let l = try listing(call("mul", call("if_else", cond, a, .float(0)), b))
        #expect(l.contains("gt_bff") && l.contains("and_bbb") && l.contains("if_else_fbff") && l.contains("mul_fff"), "\(l)")
        #expect(l.contains("c ? a : b"))
        #expect(l.hasPrefix("kernel if_else($a > 0.0 and $b < 1.0, $a, 0.0) * $b"), "\(l)")
    }
}
