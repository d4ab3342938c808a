import Foundation
import Testing
import TestSupport
@testable import MLShEngine

/// Reductions, broadcast and aggregated, per table and per group, exactly.
@Suite struct KernelReductionTests {
    static let t = try! Table(names: ["x", "n", "g", "s"], columns: [
        Column(floats: [1, 2, .nan, 4, 10, -3]),
        Column(ints: [5, 1, 7, 3, 2, 9], validity: [true, true, false, true, true, true]),
        Column(bools: [true, false, true, true, false, true]),
        Column(strings: ["a", "b", "a", nil, "c", "b"]),
    ], label: "t")
    static let groups = Grouping(ids: [0, 0, 1, 1, 0, 1], count: 3)   // group 2 is empty
    let x = KExpr.column("x"), n = KExpr.column("n")

    func agg(_ e: KExpr, _ g: Grouping? = nil) throws -> Column { try KernelAggregate.aggregate(e, on: Self.t, groups: g) }
    func fl(_ c: Column) -> [Double] { if case .float(let v) = c.storage { return v }; return [] }
    func same(_ a: [Double], _ b: [Double], tol: Double = 1e-12) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { isClose($0, $1, relative: tol, absolute: tol) }
    }

    @Test func wholeTable() throws {
        #expect(try evaluateScalar(.reduce("sum", x, []), on: Self.t) == 14)
        #expect(try evaluateScalar(.reduce("mean", x, []), on: Self.t) == 2.8)
        #expect(try evaluateScalar(.reduce("count", x, []), on: Self.t) == 5)
        #expect(try evaluateScalar(.reduce("count_nan", x, []), on: Self.t) == 1)
        #expect(try evaluateScalar(.reduce("min", x, []), on: Self.t) == -3)
        #expect(try evaluateScalar(.reduce("max", x, []), on: Self.t) == 10)
        #expect(try evaluateScalar(.reduce("median", x, []), on: Self.t) == 2)
        #expect(try evaluateScalar(.reduce("quantile", x, [.float(0.25)]), on: Self.t) == 1)
        let v = try #require(try evaluateScalar(.reduce("var", x, []), on: Self.t))
        #expect(abs(v - 22.7) < 1e-12)
        let s = try #require(try evaluateScalar(.reduce("std", x, []), on: Self.t))
        #expect(abs(s - 22.7.squareRoot()) < 1e-12)
        #expect(try evaluateScalar(.reduce("n_unique", .column("s"), []), on: Self.t) == 3)
        #expect(try evaluateScalar(.reduce("count", .column("s"), []), on: Self.t) == 5)
    }

    /// A large offset with a small spread, over several blocks and 512-row spans, with NaN
    /// runs (a whole span among them): the span and block merges keep the variance that a
    /// sum of squares would lose to cancellation (1e18 against 0.5).
    @Test func varianceOfALargeOffsetMatchesTwoPasses() throws {
        let rows = 3 * KernelExecutor.blockSize + 7
        let xs = (0..<rows).map { k -> Double in (k % 97 == 0 || (1024..<1536).contains(k)) ? .nan : 1e9 + sin(Double(k)) }
        let t = try Table(names: ["x"], columns: [Column(floats: xs)], label: "t")
        let present = xs.filter { !$0.isNaN }
        let mean = present.reduce(0, +) / Double(present.count)
        let want = present.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(present.count - 1)
        let got = try #require(try evaluateScalar(.reduce("var", x, []), on: t))
        #expect(abs(got - want) <= 1e-6 * want, "var \(got), two passes \(want)")
        #expect(abs(want - 0.5) < 0.01)   // the data are what the test means
    }

    /// Each way a span's moments are taken — the unmasked shifted pass, the masked one when
    /// a NaN shows, the two-pass sums when the shift is far from the mean or a value is
    /// infinite — agrees with a compensated two-pass reference, and each way is taken.
    @Test func spanMomentsTakeEachPathAndAgree() {
        func reference(_ xs: [Double]) -> (Double, Double, Double) {
            let present = xs.filter { !$0.isNaN }
            var s = 0.0, c = 0.0
            for x in present { let y = x - c; let t = s + y; c = (t - s) - y; s = t }   // Kahan
            let mean = s / Double(present.count)
            var m2 = 0.0; c = 0
            for x in present { let y = (x - mean) * (x - mean) - c; let t = m2 + y; c = (t - m2) - y; m2 = t }
            return (Double(present.count), s, m2)
        }
        func moments(_ xs: [Double]) -> (Double, Double, Double) {
            var xs = xs
            return xs.withUnsafeMutableBufferPointer { KReduceLoop.spanMoments($0.baseAddress!, $0.count) }
        }
        func shifted(_ xs: [Double], masked: Bool) -> ((Double, Double, Double)?, sawNaN: Bool) {
            var xs = xs
            let shift = xs[0]
            return xs.withUnsafeMutableBufferPointer { KReduceLoop.shiftedMoments($0.baseAddress!, $0.count, shift, masked: masked) }
        }
        func unmasked(_ xs: [Double]) -> ((Double, Double, Double)?, sawNaN: Bool) { shifted(xs, masked: false) }
        let n = KReduceLoop.momentsSpan
        let offset = (0..<n).map { 1e9 + sin(Double($0)) }                 // one unmasked pass
        var holes = offset; for k in stride(from: 3, to: n, by: 7) { holes[k] = .nan }   // masked
        var outlier = (0..<n).map { cos(Double($0)) }; outlier[0] = 1e12    // shift far from the mean
        let ragged = Array(offset.prefix(n - 5))                             // a tail past the vectors
        #expect(unmasked(offset).0 != nil)
        #expect(unmasked(holes).0 == nil && unmasked(holes).sawNaN)
        #expect(shifted(holes, masked: true).0 != nil)
        #expect(unmasked(outlier).0 == nil && !unmasked(outlier).sawNaN)
        // The shift is the first finite value, wherever it is.
        var lateStart = offset; lateStart[0] = .nan; lateStart[1] = .nan
        var infFirst = (0..<n).map { cos(Double($0)) }; infFirst[0] = .infinity
        for xs in [offset, holes, outlier, ragged, lateStart, [5.0], [2.0, 4.0, 9.0], [.nan, 3.0, 5.0]] {
            let (c, s, m2) = moments(xs), (rc, rs, rm2) = reference(xs)
            #expect(c == rc)
            #expect(abs(s - rs) <= 1e-15 * abs(rs) * Double(xs.count), "sum \(s) vs \(rs)")
            #expect(abs(m2 - rm2) <= 1e-12 * rm2, "M2 \(m2) vs \(rm2) over \(xs.count) values")
        }
        // Infinities: the two-pass sums, as they always were.
        var inf = offset; inf[9] = .infinity
        var both = inf; both[10] = -.infinity
        for xs in [inf, both, infFirst] {
            var a = xs, b = xs
            let one = a.withUnsafeMutableBufferPointer { KReduceLoop.spanMoments($0.baseAddress!, $0.count) }
            let two = b.withUnsafeMutableBufferPointer { KReduceLoop.twoPassMoments($0.baseAddress!, $0.count) }
            #expect(one.0 == two.0 && one.1.bitPattern == two.1.bitPattern && one.2.bitPattern == two.2.bitPattern)
        }
    }

    @Test func intsStayIntAndSkipMissing() throws {
        let c = try agg(.reduce("sum", n, []))
        guard case .int(let v, _) = c.storage else { Issue.record("sum of int is \(c.dtype)"); return }
        #expect(v == [20])
        #expect(try evaluateScalar(.reduce("max", n, []), on: Self.t) == 9)
        #expect(try evaluateScalar(.reduce("mean", n, []), on: Self.t) == 4)
        #expect(try evaluateScalar(.reduce("sum", .column("g"), []), on: Self.t) == 4)
        #expect(try evaluateScalar(.reduce("count_nan", n, []), on: Self.t) == 1)
    }

    @Test func perGroupIncludingAnEmptyGroup() throws {
        #expect(same(fl(try agg(.reduce("mean", x, []), Self.groups)), [13.0 / 3, 0.5, .nan]))
        #expect(same(fl(try agg(.reduce("sum", x, []), Self.groups)), [13, 1, 0]))
        #expect(same(fl(try agg(.reduce("max", x, []), Self.groups)), [10, 4, .nan]))
        #expect(same(fl(try agg(.reduce("median", x, []), Self.groups)), [2, 0.5, .nan]))
        #expect(same(fl(try agg(.reduce("std", x, []), Self.groups)), [(((1 - 13.0 / 3) * (1 - 13.0 / 3) + (2 - 13.0 / 3) * (2 - 13.0 / 3) + (10 - 13.0 / 3) * (10 - 13.0 / 3)) / 2).squareRoot(), (24.5 / 1).squareRoot(), .nan]))
        let mn = try agg(.reduce("min", n, []), Self.groups)
        guard case .int(let v, let m) = mn.storage else { Issue.record("min of int is \(mn.dtype)"); return }
        #expect(v[0] == 1 && v[1] == 3 && m == [true, true, false])
    }

    @Test func expressionsOfReductions() throws {
        #expect(try evaluateScalar(.call("sub", [.reduce("max", x, []), .reduce("min", x, [])]), on: Self.t) == 13)
        #expect(same(fl(try agg(.call("sub", [.reduce("max", x, []), .reduce("min", x, [])]), Self.groups)), [9, 7, .nan]))
        // Fused: sum(x * 2) never materialises x * 2.
        #expect(try evaluateScalar(.reduce("sum", .call("mul", [x, .float(2)]), []), on: Self.t) == 28)
        #expect(try evaluateScalar(.float(3), on: Self.t) == 3)
    }

    @Test func broadcastZScorePerGroup() throws {
        let z = KExpr.call("div", [.call("sub", [x, .reduce("mean", x, [])]), .reduce("std", x, [])])
        let col = try KernelProgram.compile(z, for: Self.t).run(on: Self.t, groups: Self.groups)
        let v = fl(col)
        let s0 = (((1 - 13.0 / 3) * (1 - 13.0 / 3) + (2 - 13.0 / 3) * (2 - 13.0 / 3) + (10 - 13.0 / 3) * (10 - 13.0 / 3)) / 2).squareRoot()
        #expect(same(v, [(1 - 13.0 / 3) / s0, (2 - 13.0 / 3) / s0, .nan, (4 - 0.5) / 24.5.squareRoot(), (10 - 13.0 / 3) / s0, (-3 - 0.5) / 24.5.squareRoot()]))
        // Int min/max of an empty group broadcast as missing.
        let m = try KernelProgram.compile(.call("add", [.reduce("max", n, []), .int(1)]), for: Self.t)
            .run(on: Self.t, groups: Grouping(ids: [0, 0, 1, 0, 0, 0], count: 2))
        guard case .int(let iv, let valid) = m.storage else { Issue.record("not int"); return }
        #expect(iv[0] == 10 && valid == [true, true, false, true, true, true])
    }

    @Test func emptyTable() throws {
        let e = try Table(names: ["x"], columns: [Column(floats: [])])
        #expect(try evaluateScalar(.reduce("sum", x, []), on: e) == 0)
        #expect(try evaluateScalar(.reduce("mean", x, []), on: e)?.isNaN == true)
        #expect(try KernelProgram.compile(.call("sub", [x, .reduce("mean", x, [])]), for: e).run(on: e).count == 0)
    }

    @Test func errors() throws {
        #expect(throws: EngineError.invalidArgument("aggregate expression uses $x outside a reduction (wrap it in sum, mean, ...)")) {
            try agg(.call("add", [x, .reduce("sum", x, [])]))
        }
        #expect(throws: EngineError.invalidArgument("quantile's q must be between 0 and 1, got 1.5")) {
            try agg(.reduce("quantile", x, [.float(1.5)]))
        }
        #expect(throws: EngineError.invalidArgument("unknown reduction 'mode'")) { try agg(.reduce("mode", x, [])) }
        #expect(throws: EngineError.unknownColumn("y", table: "t", suggestion: "x")) { try agg(.reduce("sum", .column("y"), [])) }
        let big = try Table(names: ["n"], columns: [Column(ints: [Int64.max, 1])])
        #expect(throws: EngineError.invalidArgument("integer overflow in sum($n)")) { try evaluateScalar(.reduce("sum", n, []), on: big) }
        #expect(throws: EngineError.invalidArgument("grouping has 2 rows, table has 6")) {
            try agg(.reduce("sum", x, []), Grouping(ids: [0, 0], count: 1))
        }
        #expect(throws: EngineError.invalidArgument("grouping has a group id outside 0..<2")) {
            try agg(.reduce("sum", x, []), Grouping(ids: [0, 0, 5, 0, 0, 0], count: 2))
        }
    }
}
