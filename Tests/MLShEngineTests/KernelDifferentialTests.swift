import Foundation
import Testing
import TestSupport
@testable import MLShEngine

/// Seeded random generator for the differential tests.
struct KTestRandom {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func int(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func chance(_ p: Double) -> Bool { unit() < p }
    mutating func pick<T>(_ xs: [T]) -> T { xs[int(xs.count)] }
}

/// Random typed expression trees over the test table's columns.
struct KExprGenerator {
    var rng: KTestRandom
    var allowReductions = true

    mutating func expr(_ t: DType, _ d: Int) -> KExpr {
        switch t {
        case .float: return f(d)
        case .int: return i(d)
        case .string: return str(d)
        default: return b(d)
        }
    }

    mutating func f(_ d: Int) -> KExpr {
        if d <= 0 || rng.chance(0.2) {
            switch rng.int(6) {
            case 0, 1: return .column("f1")
            case 2: return .column("f2")
            case 3: return .float(rng.pick([-2.5, 0.5, 1, 3, 0, -0.0, 1e-3]))
            case 4: return .call("cast", [i(0), .string("float")])
            default: return .column(rng.pick(["f1", "f2"]))
            }
        }
        switch rng.int(16) {
        case 0: return .call(rng.pick(["add", "sub", "mul", "div", "mod", "min2", "max2"]), [f(d - 1), f(d - 1)])
        case 1: return .call(rng.pick(["add", "sub", "mul", "div"]), [f(d - 1), i(d - 1)])
        case 2, 3: return .call(rng.pick(["sqrt", "exp", "log", "log1p", "abs", "neg", "floor", "ceil", "sign", "sin", "log2"]), [f(d - 1)])
        case 4: return .call("round", [f(d - 1), .int(Int64(rng.int(3)))])
        case 5: return .call("clip", [f(d - 1), .float(-1), .float(1)])
        case 6: return .call("fill_nan", [f(d - 1), rng.chance(0.8) ? .float(7) : .missing])
        case 7:   // half the time on a float comparison: the fused compare-select's shape
            let cond = rng.chance(0.5) ? .call(rng.pick(["gt", "lt", "ge", "le", "eq", "ne"]), [f(d - 1), f(d - 1)]) : b(d - 1)
            return .call("if_else", [cond, f(d - 1), f(d - 1)])
        case 8: return .call("pow", [f(d - 1), .float(rng.pick([2, 0.5, -1]))])
        case 9: return .call("div", [i(d - 1), i(d - 1)])
        case 10 where allowReductions:
            let name = rng.pick(["mean", "std", "var", "sum", "min", "max", "median", "quantile"])
            return .reduce(name, f(min(d - 1, 1)), name == "quantile" ? [.float(rng.pick([0.1, 0.25, 0.9]))] : [])
        case 11 where allowReductions:
            return .call("sub", [.column("f1"), .reduce("mean", .column("f1"), [])])
        case 12: return .call("add", [.call("mul", [f(d - 1), f(d - 1)]), f(d - 1)])
        case 13:   // a unary op of arithmetic: the fused epilogue's shape
            return .call(rng.pick(["sqrt", "abs", "neg"]),
                         [.call(rng.pick(["add", "sub", "mul", "div", "min2", "max2"]), [f(d - 1), f(d - 1)])])
        default: return .call(rng.pick(["add", "mul"]), [f(d - 1), f(d - 1)])
        }
    }

    mutating func i(_ d: Int) -> KExpr {
        if d <= 0 || rng.chance(0.25) {
            switch rng.int(4) {
            case 0: return .column("i1")
            case 1: return .column("i2")
            case 2: return .int(Int64(rng.int(7)) - 3)
            default: return .call("cast", [.column(rng.pick(["b1", "b2"])), .string("int")])
            }
        }
        switch rng.int(10) {
        case 0: return .call(rng.pick(["add", "sub", "min2", "max2"]), [i(d - 1), i(d - 1)])
        case 1: return .call("mul", [i(d - 1), i(0)])
        case 2: return .call("mod", [i(d - 1), .column("i2")])
        case 3: return .call(rng.pick(["neg", "abs", "sign", "floor"]), [i(d - 1)])
        case 4: return .call("if_else", [b(d - 1), i(d - 1), rng.chance(0.7) ? i(d - 1) : .missing])
        case 5: return .call("fill_nan", [.column("i1"), .int(-9)])
        case 6: return .call("pow", [i(0), .int(2)])
        case 7 where allowReductions:
            switch rng.int(5) {
            case 0: return .reduce("sum", i(1), [])
            case 1: return .reduce(rng.pick(["count", "count_nan"]), rng.chance(0.5) ? f(1) : .column("i1"), [])
            case 2: return .reduce("n_unique", rng.pick([KExpr.column("i1"), .column("s1"), .column("f3"), .call("lower", [.column("s3")])]), [])
            default: return .reduce(rng.pick(["min", "max"]), i(1), [])
            }
        default: return .call("add", [i(d - 1), i(d - 1)])
        }
    }

    mutating func str(_ d: Int) -> KExpr {
        if d <= 0 || rng.chance(0.3) {
            return rng.pick([KExpr.column("s1"), .column("s2"), .column("s3"), .column("s3"), .string("a"), .string(" New-a ")])
        }
        switch rng.int(6) {
        case 0: return .call("fill_nan", [str(d - 1), str(d - 1)])
        case 1: return .call("cast", [str(d - 1), .string("string")])
        case 2: return .call(rng.pick(["trim", "lower", "upper"]), [rng.chance(0.9) ? str(d - 1) : .missing])
        case 3: return .call("replace", [str(d - 1), .string(rng.pick(["a", "-", " "])), .string(rng.pick(["", "A", "--"]))])
        case 4: return .call("split_text", [str(d - 1), .string(rng.pick(["-", "a", ", "])), .int(Int64(rng.int(5)) - 2)])
        default: return .call("if_else", [b(d - 1), str(d - 1), rng.chance(0.8) ? str(d - 1) : .missing])
        }
    }

    mutating func b(_ d: Int) -> KExpr {
        if d <= 0 || rng.chance(0.2) {
            switch rng.int(8) {
            case 0: return .column("b1")
            case 1: return .column("b2")
            case 2: return .call(rng.pick(["gt", "lt", "ge", "le", "eq", "ne"]), [.column("f1"), .float(0)])
            case 3: return .call("is_nan", [rng.pick([KExpr.column("f1"), .column("i1"), .column("s1")])])
            case 4: return .call(rng.pick(["eq", "ne", "lt", "ge"]), [.column("s1"), .string(rng.pick(["a", "b", "zz"]))])
            case 5: return .call(rng.pick(["eq", "ne", "lt", "gt"]), [.column("s1"), .column("s2")])
            case 6: return .call(rng.pick(["eq", "ne"]), [str(1), rng.chance(0.5) ? .string("a") : str(1)])
            default: return .call("eq", [.string("c"), .column("s2")])
            }
        }
        switch rng.int(7) {
        case 0, 1: return .call(rng.pick(["and", "or"]), [b(d - 1), b(d - 1)])
        case 2: return .call("not", [b(d - 1)])
        case 3: return .call(rng.pick(["lt", "eq", "ge", "ne"]), [i(d - 1), i(d - 1)])
        case 4: return .call(rng.pick(["lt", "gt", "ne"]), [i(d - 1), f(d - 1)])
        case 5: return .call("if_else", [b(d - 1), rng.chance(0.8) ? b(d - 1) : .missing, b(d - 1)])
        default: return .call("cast", [rng.chance(0.5) ? i(d - 1) : f(d - 1), .string("bool")])
        }
    }
}

/// The differential-test table: floats with NaN/±0/inf, ints and bools with and without
/// missing values, strings with different dictionaries.
func kernelTestTable(rows n: Int, seed: UInt64) throws -> Table {
    var r = KTestRandom(state: seed)
    var f1 = [Double](), f2 = [Double](), f3 = [Double](), i1 = [Int64](), i2 = [Int64](), b1 = [Bool](), b2 = [Bool]()
    var m1 = [Bool](), mb = [Bool](), s1 = [String?](), s2 = [String?](), s3 = [String?]()
    for _ in 0..<n {
        let u = r.unit()
        f1.append(u < 0.08 ? .nan : u < 0.1 ? r.pick([0, -0.0, .infinity, -.infinity]) : (r.unit() - 0.5) * 6)
        f2.append(r.chance(0.05) ? .nan : 0.1 + r.unit() * 5)
        f3.append(Double(r.int(5)) * 0.5)
        i1.append(Int64(r.int(41)) - 20); m1.append(!r.chance(0.1))
        i2.append(Int64(r.int(11)) - 5)
        b1.append(r.chance(0.5)); mb.append(!r.chance(0.1)); b2.append(r.chance(0.3))
        s1.append(r.pick(["a", "b", "c", nil])); s2.append(r.pick(["d", "c", "b", nil]))
        s3.append(r.pick([" a-b ", "A-b-c", "Ab", "a, B", "", "  ", "é-Ü", nil]))
    }
    return try Table(names: ["f1", "f2", "f3", "i1", "i2", "b1", "b2", "s1", "s2", "s3"], columns: [
        Column(floats: f1), Column(floats: f2), Column(floats: f3), Column(ints: i1, validity: m1), Column(ints: i2),
        Column(bools: b1, validity: mb), Column(bools: b2), Column(strings: s1), Column(strings: s2), Column(strings: s3),
    ], label: "t")
}

/// Compares a kernel column with reference values; nil when they agree.
func kernelMismatch(_ col: Column, _ ref: [KernelReference.RV], tolerance: Double) -> String? {
    guard col.count == ref.count else { return "length \(col.count) vs \(ref.count)" }
    for (r, want) in ref.enumerated() {
        switch (col.storage, want) {
        case (.float(let v), .f(let w)):
            let a = v[r]
            if a.isNaN && w.isNaN { continue }
            // Exact where no tolerance is allowed (-0.0 is not 0.0), else close.
            if tolerance == 0 ? a == w && a.sign == w.sign
                : isClose(a, w, relative: 0, absolute: tolerance * (1 + abs(a) + abs(w))) { continue }
            return "row \(r): \(a) vs reference \(w)"
        case (.int(let v, let m), .i(let w, let ok)):
            let valid = m?[r] ?? true
            if valid != ok { return "row \(r): validity \(valid) vs reference \(ok)" }
            if ok && v[r] != w { return "row \(r): \(v[r]) vs reference \(w)" }
        case (.string(let codes, let dict), .s(let w)):
            let c = Int(codes[r])
            let got: String? = c < 0 ? nil : (c < dict.count ? dict[c] : "<bad code \(c)>")
            if got != w { return "row \(r): \(got ?? "missing") vs reference \(w ?? "missing")" }
        case (.bool(let v, let m), .b(let w, let ok)):
            let valid = m?[r] ?? true
            if valid != ok { return "row \(r): validity \(valid) vs reference \(ok)" }
            if ok && v[r] != w { return "row \(r): \(v[r]) vs reference \(w)" }
        default: return "row \(r): type \(col.dtype) vs reference \(want)"
        }
    }
    return nil
}

@Suite struct KernelDifferentialTests {
    static let bs = KernelExecutor.blockSize

    /// Compiles without FMA fusion (so element-wise results are bit-identical to the
    /// reference, which uses the same scalar math) and compares every row.
    /// Returns how many programs used a fused compare-select and a fused epilogue.
    @discardableResult
    func differential(rows: Int, seed: UInt64, count: Int, grouped: Bool, fuse: Bool = false) throws -> (compareSelect: Int, epilogue: Int) {
        var fusedCounts = (compareSelect: 0, epilogue: 0)
        let table = try kernelTestTable(rows: rows, seed: seed)
        var rng = KTestRandom(state: seed &* 7 &+ 1)
        var gen = KExprGenerator(rng: KTestRandom(state: seed &+ 99))
        let groupCount = 1 + rng.int(5)
        let groups = grouped ? Grouping(ids: (0..<rows).map { _ in Int32(rng.int(groupCount)) }, count: groupCount + 1) : nil
        var options = KCompileOptions()
        options.fuseMultiplyAdd = fuse
        for k in 0..<count {
            let type = gen.rng.pick([DType.float, .float, .int, .bool, .string])
            let e = gen.expr(type, 1 + gen.rng.int(4))
            let program = try KernelProgram.compile(e, for: table, options: options, toOutput: true)
            #expect(program.resultType == type, "\(e)")
            if program.instrs.contains(where: { $0.op == .cmpSelF }) { fusedCounts.compareSelect += 1 }
            if program.instrs.contains(where: { $0.post != nil }) { fusedCounts.epilogue += 1 }
            var reference = KernelReference(table: table, groups: groups)
            var want: [KernelReference.RV] = []
            var overflow = false
            do { for r in 0..<rows { want.append(try reference.eval(e, r)) } } catch { overflow = true }
            let hasReduction = e.kernelContainsReduction
            do {
                let got = try program.run(on: table, groups: groups)
                #expect(!overflow, "expected overflow: \(e)")
                if let m = kernelMismatch(got, want, tolerance: hasReduction || fuse ? 1e-9 : 0) {
                    Issue.record("rows \(rows) seed \(seed) #\(k) grouped \(grouped): \(e)\n\(m)\n\(program.disassembly())")
                    return fusedCounts
                }
            } catch {
                #expect(overflow, "unexpected \(error) for \(e)")
            }
        }
        return fusedCounts
    }

    @Test(arguments: [0, 1, bs - 1, bs + 1, 3 * bs + 7])
    func randomTreesAgree(rows: Int) throws {
        let fused = try differential(rows: rows, seed: UInt64(rows) &+ 11, count: rows > 1000 ? 15 : 100, grouped: false)
        // The fuse passes are on here, so the agreement covers their loops too.
        if rows <= 1000 { #expect(fused.compareSelect > 0 && fused.epilogue > 0, "\(fused)") }
    }

    @Test(arguments: [0, 1, bs - 1, bs + 1, 3 * bs + 7])
    func randomTreesAgreePerGroup(rows: Int) throws {
        try differential(rows: rows, seed: UInt64(rows) &+ 5, count: rows > 1000 ? 12 : 100, grouped: true)
    }

    @Test func randomTreesAgreeOnTwoCores() throws {
        let rows = 2 * KernelExecutor.parallelThreshold + 13
        try differential(rows: rows, seed: 3, count: 3, grouped: false)
        try differential(rows: rows, seed: 4, count: 2, grouped: true)
    }

    @Test func randomTreesAgreeWithFusedMultiplyAdd() throws {
        try differential(rows: 3 * Self.bs + 7, seed: 77, count: 15, grouped: false, fuse: true)
    }
}
