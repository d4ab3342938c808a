import CKernels
import Testing
@testable import MLShEngine

/// Verbs against naive reference implementations on random tables with missing values.
@Suite struct DifferentialTests {
    func randomTable(_ seed: UInt64, rows: Int) throws -> Table {
        var r = SeededRandom(seed: seed)
        var ints: [Int64] = [], valid: [Bool] = [], floats: [Double] = [], strs: [String?] = []
        let words = ["b", "a", "c", "ä", "B", ""]
        for _ in 0..<rows {
            ints.append(Int64(r.nextInt(below: 7)) - 3)
            valid.append(r.nextInt(below: 6) != 0)
            let f = r.nextInt(below: 8)
            floats.append(f == 0 ? .nan : (f == 1 ? -0.0 : Double(r.nextInt(below: 5)) / 2 - 1))
            strs.append(r.nextInt(below: 7) == 0 ? nil : words[r.nextInt(below: words.count)])
        }
        return try Table(names: ["i", "f", "s"], columns: [Column(ints: ints, validity: valid), Column(floats: floats), Column(strings: strs)])
    }

    /// A filter over enough rows to be cut into pieces compacted in parallel keeps exactly
    /// the rows a naive take of the mask's indices keeps, whatever the pieces hold: random
    /// masks, nothing, everything, one row at either end, whole pieces empty or full.
    @Test func filterOfManyRowsMatchesTakingTheMasksRows() throws {
        let rows = 200_003
        let base = try randomTable(7, rows: rows)
        var r = SeededRandom(seed: 11)
        let bools = (0..<rows).map { _ in r.nextInt(below: 3) == 0 }
        let boolValid = (0..<rows).map { _ in r.nextInt(below: 5) != 0 }
        let t = try Table(names: base.names + ["b"], columns: base.columns + [Column(bools: bools, validity: boolValid)])
        #expect(DataMaskPieces(Array(repeating: true, count: rows), rows: rows).ranges.count > 1)
        var masks: [(String, [Bool])] = [
            ("random 40 %", (0..<rows).map { _ in r.nextInt(below: 5) < 2 }),
            ("random 99 %", (0..<rows).map { _ in r.nextInt(below: 100) != 0 }),
            ("none", Array(repeating: false, count: rows)),
            ("all", Array(repeating: true, count: rows)),
            ("first row", (0..<rows).map { $0 == 0 }),
            ("last row", (0..<rows).map { $0 == rows - 1 }),
            ("blocks of 50,000", (0..<rows).map { ($0 / 50_000) % 2 == 1 }),
        ]
        masks.append(("all but the last", (0..<rows).map { $0 != rows - 1 }))
        // Runs of 1 to 70 rows, kept and dropped in turn: whole 32-row blocks kept and
        // dropped, and blocks with every count of kept rows.
        var runs: [Bool] = [], keep = false
        while runs.count < rows {
            runs += Array(repeating: keep, count: min(1 + r.nextInt(below: 70), rows - runs.count))
            keep.toggle()
        }
        masks.append(("runs of 1 to 70", runs))
        for (what, mask) in masks {
            let got = t.rows(where: mask)
            let want = t.take((0..<rows).filter { mask[$0] })
            #expect(got.rowCount == want.rowCount, "\(what)")
            #expect(got.fingerprint() == want.fingerprint(), "\(what)")
            if got.fingerprint() != want.fingerprint() {   // name the column that differs
                for name in t.names { #expect(col(got, name) == col(want, name), "\(what): column \(name)") }
            }
        }
    }

    /// CKernels' compaction, on 8- and 4-byte values: the kept values in order, as many as
    /// fit in `room`, and not a byte written past it (a sentinel after it stays).
    @Test func compactionKeepsTheMasksValuesAndStaysInItsRoom() {
        var r = SeededRandom(seed: 5)
        for trial in 0..<3000 {
            let n = r.nextInt(below: 400), density = r.nextInt(below: 101)
            let mask = (0..<n).map { _ in r.nextInt(below: 100) < density }
            let src64 = (0..<n).map { UInt64($0) &* 7 &+ 1 }, src32 = (0..<n).map { UInt32($0) &* 3 &+ 2 }
            let kept = (0..<n).filter { mask[$0] }
            let room = trial % 3 == 0 && !kept.isEmpty ? r.nextInt(below: kept.count) : kept.count
            var dst64 = [UInt64](repeating: 0xDEAD, count: room + 8), dst32 = [UInt32](repeating: 0xBEEF, count: room + 8)
            let k64 = mlsh_compact64(src64, mask, n, &dst64, room), k32 = mlsh_compact32(src32, mask, n, &dst32, room)
            #expect(k64 == room && k32 == room, "trial \(trial)")
            #expect(Array(dst64[..<room]) == kept.prefix(room).map { src64[$0] }, "trial \(trial)")
            #expect(Array(dst32[..<room]) == kept.prefix(room).map { src32[$0] }, "trial \(trial)")
            #expect(dst64[room...].allSatisfy { $0 == 0xDEAD } && dst32[room...].allSatisfy { $0 == 0xBEEF }, "trial \(trial): written past its room")
        }
    }

    /// Missing last, then by value; descending reverses values only.
    func less(_ a: Scalar, _ b: Scalar, _ desc: Bool) -> Bool? {
        switch (a, b) {
        case (.missing, .missing): return nil
        case (.missing, _): return false
        case (_, .missing): return true
        case (.string(let x), .string(let y)): return x == y ? nil : (desc ? x > y : x < y)
        default:
            guard let x = a.doubleValue, let y = b.doubleValue else { return nil }
            return x == y ? nil : (desc ? x > y : x < y)
        }
    }

    @Test func sortMatchesNaiveStableSort() throws {
        for seed in 0..<20 as Range<UInt64> {
            let t = try randomTable(seed, rows: 300)
            let keys: [(name: String, descending: Bool)] = [("s", seed % 2 == 0), ("f", seed % 3 == 0), ("i", false)]
            let got = try t.sorted(by: keys)
            let cols = keys.map { col(t, $0.name) }
            let want = (0..<t.rowCount).sorted { x, y in
                for (k, c) in zip(keys, cols) {
                    if let l = less(c[x], c[y], k.descending) { return l }
                }
                return x < y
            }
            #expect(got.fingerprint() == t.take(want).fingerprint(), "seed \(seed)")
        }
    }

    @Test func groupingMatchesNaive() throws {
        for seed in 0..<10 as Range<UInt64> {
            let t = try randomTable(seed, rows: 400)
            let (g, keys) = try t.grouping(by: ["s", "i"])
            var seen: [String: Int32] = [:]
            var ids: [Int32] = []
            let (ts, ti) = (col(t, "s"), col(t, "i"))
            for r in 0..<t.rowCount {
                let key = "\(ts[r])|\(ti[r])"
                if let id = seen[key] { ids.append(id) } else { let id = Int32(seen.count); seen[key] = id; ids.append(id) }
            }
            #expect(g.ids == ids && g.count == seen.count && keys.rowCount == seen.count)
            #expect(try t.distinct(["s", "i"]).rowCount == seen.count)
        }
    }

    /// Grouping large enough to run in parallel chunks, under every kind of key: dense ints,
    /// ints spread wide, floats, strings, bools, near-unique keys, and several together.
    @Test func parallelGroupingMatchesNaive() throws {
        var r = SeededRandom(seed: 42)
        let n = 70_000   // above the rows grouped on one thread
        var dense: [Int64] = [], wide: [Int64] = [], valid: [Bool] = [], floats: [Double] = [], strs: [String?] = []
        var bools: [Bool] = [], unique: [Int64] = []
        for i in 0..<n {
            dense.append(Int64(r.nextInt(below: 900)) - 400)
            wide.append(Int64(r.nextInt(below: 50)) * 1_000_000_007_000 - 3)
            valid.append(r.nextInt(below: 9) != 0)
            let f = r.nextInt(below: 40)
            floats.append(f == 0 ? .nan : (f == 1 ? -0.0 : Double(f) / 4))
            strs.append(r.nextInt(below: 11) == 0 ? nil : "k\(r.nextInt(below: 60))")
            bools.append(r.nextInt(below: 2) == 0)
            unique.append(Int64(i % 97_001) * 7_919_000_001)
        }
        let t = try Table(names: ["d", "w", "f", "s", "b", "u"],
                          columns: [Column(ints: dense, validity: valid), Column(ints: wide, validity: valid.reversed()),
                                    Column(floats: floats), Column(strings: strs),
                                    Column(bools: bools, validity: valid.shuffled(using: &r)), Column(ints: unique)])
        // Each value's text once (-0.0 as 0.0: one key; every missing value is one key).
        let texts = t.names.map { name in
            col(t, name).map { v -> String in
                if case .float(let x) = v, x == 0 { return "float 0" }
                return String(describing: v)
            }
        }
        for keys in [["d"], ["w"], ["f"], ["s"], ["b"], ["u"], ["s", "b"], ["f", "d"], ["u", "s"], ["b", "w", "f"]] {
            let (g, keyTable) = try t.grouping(by: keys)
            let picked = keys.map { k in texts[t.names.firstIndex(of: k) ?? 0] }
            var seen: [String: Int32] = [:], ids: [Int32] = [], firsts: [Int] = []
            ids.reserveCapacity(n)
            for row in 0..<n {
                let key = picked.map { $0[row] }.joined(separator: "|")
                if let id = seen[key] { ids.append(id) } else {
                    let id = Int32(seen.count); seen[key] = id; ids.append(id); firsts.append(row)
                }
            }
            #expect(g.count == seen.count, "\(keys)")
            #expect(g.ids == ids, "\(keys)")
            #expect(try keyTable.fingerprint() == t.select(keys).take(firsts).fingerprint(), "\(keys)")
        }
    }

    /// numpy's default quantile of sorted values (linear interpolation); NaN when empty.
    func sortedQuantile(_ xs: [Double], _ q: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let pos = q * Double(xs.count - 1)
        let lo = Int(pos.rounded(.down)), hi = min(lo + 1, xs.count - 1), t = pos - Double(lo)
        let (a, b) = (xs[lo], xs[hi])
        return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t
    }

    /// Per-group median, quantiles and distinct counts against sorting each group: few and
    /// many groups, ties, sorted and reversed runs, missing values, enough rows for the
    /// parallel path.
    @Test func groupedQuantilesAndDistinctMatchSorting() throws {
        var r = SeededRandom(seed: 9)
        for (n, groups) in [(1_000, 1), (5_000, 7), (120_000, 3), (120_000, 5_000)] {
            var keys: [Int64] = [], xs: [Double] = []
            for i in 0..<n {
                keys.append(Int64(r.nextInt(below: groups)))
                switch i % 4 {
                case 0: xs.append(Double(r.nextInt(below: 5)))            // ties
                case 1: xs.append(Double(i))                              // ascending
                case 2: xs.append(r.nextInt(below: 10) == 0 ? .nan : -Double(i) / 3)   // descending, missing
                default: xs.append(Double(r.nextInt(below: 1_000_000)) / 7)
                }
            }
            let t = try Table(names: ["k", "x"], columns: [Column(ints: keys), Column(floats: xs)])
            let (g, _) = try t.grouping(by: ["k"])
            var buckets = [[Double]](repeating: [], count: g.count)
            for i in 0..<n where !xs[i].isNaN { buckets[Int(g.ids[i])].append(xs[i]) }
            for q in [0.0, 0.1, 0.5, 0.75, 1.0] {
                let got = try KernelAggregate.aggregate(.reduce("quantile", .column("x"), [.float(q)]), on: t, groups: g)
                let want = buckets.map { sortedQuantile($0.sorted(), q) }
                #expect(try got.doubles() == want, "n \(n) groups \(groups) q \(q)")
            }
            let distinct = try KernelAggregate.aggregate(.reduce("n_unique", .column("x"), []), on: t, groups: g)
            #expect(try distinct.doubles() == buckets.map { Double(Set($0).count) }, "n \(n) groups \(groups)")
        }
    }

    /// Joins large enough for parallel chunks of left rows: missing keys, right keys
    /// repeated (many-to-many) or absent, and one-row-per-left-row lookups.
    @Test func parallelJoinMatchesLookup() throws {
        var r = SeededRandom(seed: 5)
        let n = 80_000
        var lk: [Int64] = [], lv: [Bool] = []
        for _ in 0..<n { lk.append(Int64(r.nextInt(below: 400))); lv.append(r.nextInt(below: 20) != 0) }
        let left = try Table(names: ["k", "row"], columns: [Column(ints: lk, validity: lv), Column(ints: (0..<n).map(Int64.init))])
        for repeated in [true, false] {
            // Right keys 0..<300, some twice when repeated; keys 300..<400 never match.
            var rk: [Int64] = []
            for k in 0..<300 { rk.append(Int64(k)); if repeated && k % 7 == 0 { rk.append(Int64(k)) } }
            let right = try Table(names: ["k", "pos"], columns: [Column(ints: rk), Column(ints: (0..<rk.count).map(Int64.init))])
            var byKey: [Int64: [Int]] = [:]
            for (i, k) in rk.enumerated() { byKey[k, default: []].append(i) }
            for how in [JoinKind.inner, .left, .outer] {
                var li: [Int] = [], ri: [Int] = [], hit = Set<Int>()
                for x in 0..<n {
                    let ms = lv[x] ? byKey[lk[x]] ?? [] : []
                    if ms.isEmpty, how != .inner { li.append(x); ri.append(-1) }
                    for m in ms { li.append(x); ri.append(m); hit.insert(m) }
                }
                let rightOnly = how == .outer ? (0..<rk.count).filter { !hit.contains($0) } : []
                let got = try left.joined(right, on: ["k"], how: how)
                #expect(got.rowCount == li.count + rightOnly.count, "\(how) repeated \(repeated)")
                #expect(col(got, "row") == li.map { Scalar.int(Int64($0)) } + rightOnly.map { _ in .missing }, "\(how) repeated \(repeated)")
                #expect(col(got, "pos") == (ri + rightOnly).map { $0 < 0 ? .missing : .int(Int64($0)) }, "\(how) repeated \(repeated)")
            }
        }
    }

    @Test func joinMatchesNestedLoop() throws {
        for seed in 0..<10 as Range<UInt64> {
            let a = try randomTable(seed, rows: 60), b = try randomTable(seed + 100, rows: 40)
            for how in [JoinKind.inner, .left] {
                let got = try a.joined(b, on: ["s", "f"], how: how)
                var li: [Int] = [], ri: [Int] = []
                let (aS, aF, bS, bF) = (col(a, "s"), col(a, "f"), col(b, "s"), col(b, "f"))
                for x in 0..<a.rowCount {
                    var matched = false
                    for y in 0..<b.rowCount {
                        let ks = [aS[x], aF[x]], kb = [bS[y], bF[y]]
                        if ks.contains(.missing) || kb.contains(.missing) { continue }
                        if ks[0] == kb[0], ks[1].doubleValue == kb[1].doubleValue { li.append(x); ri.append(y); matched = true }
                    }
                    if !matched && how == .left { li.append(x); ri.append(-1) }
                }
                #expect(col(got, "i") == li.map { col(a, "i")[$0] }, "seed \(seed) \(how)")
                #expect(col(got, "i_right") == ri.map { $0 < 0 ? .missing : col(b, "i")[$0] }, "seed \(seed) \(how)")
            }
        }
    }

    /// Outer, semi and anti joins against a nested loop: keys of any type (string and
    /// float together, then an int key alone), missing keys, many-to-many matches.
    @Test func outerSemiAntiMatchNestedLoop() throws {
        for seed in 0..<10 as Range<UInt64> {
            let a = try randomTable(seed, rows: 50), b = try randomTable(seed + 200, rows: 35)
            for on in [["s", "f"], ["i"]] {
                let (ka, kb) = (on.map { col(a, $0) }, on.map { col(b, $0) })
                func match(_ x: Int, _ y: Int) -> Bool {
                    let l = ka.map { $0[x] }, r = kb.map { $0[y] }
                    if l.contains(.missing) || r.contains(.missing) { return false }
                    return zip(l, r).allSatisfy { p, q in p.doubleValue.map { $0 == q.doubleValue } ?? (p == q) }
                }
                var li: [Int] = [], ri: [Int] = [], matchedRight = Set<Int>(), semi: [Int] = [], anti: [Int] = []
                for x in 0..<a.rowCount {
                    let ys = (0..<b.rowCount).filter { match(x, $0) }
                    if ys.isEmpty { li.append(x); ri.append(-1); anti.append(x) } else { semi.append(x) }
                    for y in ys { li.append(x); ri.append(y); matchedRight.insert(y) }
                }
                let rightOnly = (0..<b.rowCount).filter { !matchedRight.contains($0) }
                let outer = try a.joined(b, on: on, how: .outer, suffix: "_b")
                #expect(outer.rowCount == li.count + rightOnly.count, "seed \(seed) \(on)")
                // Left columns: the left rows, then missing for the right-only rows.
                let other = on == ["i"] ? "s" : "i"
                #expect(col(outer, other) == li.map { col(a, other)[$0] } + rightOnly.map { _ in .missing }, "seed \(seed) \(on)")
                // Right columns: the matches, then the right-only rows; names taken get the suffix.
                #expect(col(outer, other + "_b") == (ri + rightOnly).map { $0 < 0 ? .missing : col(b, other)[$0] }, "seed \(seed) \(on)")
                // Keys: the left's, then the right-only rows' own.
                for (k, name) in on.enumerated() {
                    let want = li.map { ka[k][$0] } + rightOnly.map { kb[k][$0] }
                    #expect(col(outer, name) == want, "seed \(seed) \(on) key \(name)")
                }
                #expect(try a.joined(b, on: on, how: .semi).fingerprint() == a.take(semi).fingerprint(), "seed \(seed) \(on)")
                #expect(try a.joined(b, on: on, how: .anti).fingerprint() == a.take(anti).fingerprint(), "seed \(seed) \(on)")
                #expect(try a.joined(b, on: on, how: .semi).names == a.names)
            }
        }
    }
}
