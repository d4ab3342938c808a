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
}
