import Testing
@testable import MLShEngine

/// A small table: id int, name string (with a missing), score float (with NaN), ok bool.
func people() throws -> Table {
    try Table(names: ["id", "name", "score", "ok"],
              columns: [Column(ints: [3, 1, 2, 1, 5]),
                        Column(strings: ["cat", "ant", nil, "bee", "ant"]),
                        Column(floats: [2.5, .nan, 1.0, 2.5, -1.0]),
                        Column(bools: [true, false, true, true, false])],
              label: "people")
}

func col(_ t: Table, _ name: String) -> [Scalar] {
    guard let c = try? t.column(name) else { return [] }
    return (0..<c.count).map { c.value(at: $0) }
}

@Suite struct VerbTests {
    @Test func headTailTakeMask() throws {
        let t = try people()
        #expect(col(t.head(2), "id") == [.int(3), .int(1)])
        #expect(col(t.head(99), "id").count == 5)
        #expect(t.head(-1).rowCount == 0)
        #expect(col(t.tail(2), "name") == [.string("bee"), .string("ant")])
        #expect(col(t.take([4, 0]), "score") == [.float(-1), .float(2.5)])
        #expect(col(t.rows(where: [true, false, false, true, false]), "id") == [.int(3), .int(1)])
        // Mask entries past the last row are dropped; a short mask keeps rows it names.
        #expect(col(t.rows(where: [true, false, false, true, false, true, true]), "id") == [.int(3), .int(1)])
        #expect(col(t.rows(where: [false, true]), "id") == [.int(1)])
        #expect(t.head(2).label == "people")
        let m = Column(bools: [true, true, false, true, true], validity: [true, false, true, true, true])
        #expect(col(try t.rows(where: m), "id") == [.int(3), .int(1), .int(5)])
        #expect(throws: EngineError.typeMismatch("a filter condition must give bool values, got int")) { try t.rows(where: Column(ints: [1])) }
        #expect(throws: EngineError.lengthMismatch(column: "filter condition", expected: 5, actual: 1)) { try t.rows(where: Column(bools: [true])) }
    }

    /// A repeated name is refused whether the table has few columns (compared pairwise)
    /// or many (hashed); distinct names are taken.
    @Test func duplicateNamesAreRefusedAtAnyWidth() throws {
        func table(_ names: [String]) throws -> Table {
            try Table(names: names, columns: names.map { _ in Column(floats: [1]) })
        }
        let many = (0..<20).map { "c\($0)" }
        #expect(try table(many).names == many)
        #expect(try table(Array(many.prefix(16))).names.count == 16)
        #expect(throws: EngineError.duplicateColumn("a")) { try table(["a", "b", "a"]) }
        #expect(throws: EngineError.duplicateColumn("c15")) { try table(Array(many.prefix(16)) + ["c15"]) }
        #expect(throws: EngineError.duplicateColumn("c2")) { try table(many + ["c2"]) }
        #expect(throws: EngineError.duplicateColumn("c3")) { try table(Array(many.prefix(15)) + ["c3"]) }
    }

    @Test func selectDropRenameSetting() throws {
        let t = try people()
        #expect(try t.select(["score", "id"]).names == ["score", "id"])
        #expect(throws: EngineError.unknownColumn("scor", table: "people", suggestion: "score")) { try t.select(["scor"]) }
        #expect(try t.drop(["name", "ok"]).names == ["id", "score"])
        #expect(try t.renamed([("id", "key")]).names == ["key", "name", "score", "ok"])
        #expect(throws: EngineError.duplicateColumn("name")) { try t.renamed([("id", "name")]) }
        let s = try t.setting("id", Column(ints: [0, 0, 0, 0, 0]))
        #expect(s.names == t.names && col(s, "id") == Array(repeating: .int(0), count: 5))
        #expect(try t.setting("new", Column(floats: [1, 2, 3, 4, 5])).names.last == "new")
        #expect(throws: EngineError.lengthMismatch(column: "new", expected: 5, actual: 1)) {
            try t.setting("new", Column(floats: [1]))
        }
    }

    @Test func sortStableMissingLast() throws {
        let t = try people()
        let a = try t.sorted(by: [(name: "score", descending: false)])
        #expect(col(a, "id") == [.int(5), .int(2), .int(3), .int(1), .int(1)])
        #expect(col(a, "name") == [.string("ant"), .missing, .string("cat"), .string("bee"), .string("ant")])
        let d = try t.sorted(by: [(name: "score", descending: true)])
        #expect(col(d, "id") == [.int(3), .int(1), .int(2), .int(5), .int(1)])  // ties stable, NaN last
        let s = try t.sorted(by: [(name: "name", descending: false)])
        #expect(col(s, "name") == [.string("ant"), .string("ant"), .string("bee"), .string("cat"), .missing])
        let m = try t.sorted(by: [(name: "id", descending: false), (name: "name", descending: true)])
        #expect(col(m, "id") == [.int(1), .int(1), .int(2), .int(3), .int(5)])
        #expect(col(m, "name") == [.string("bee"), .string("ant"), .missing, .string("cat"), .string("ant")])
        let neg = try Table(names: ["x"], columns: [Column(ints: [5, -3, Int64.min, Int64.max, 0])])
        #expect(col(try neg.sorted(by: [(name: "x", descending: false)]), "x") ==
                [.int(Int64.min), .int(-3), .int(0), .int(5), .int(Int64.max)])
        let f = try Table(names: ["x"], columns: [Column(floats: [.nan, -.infinity, 1e-300, -0.0, .infinity, -2])])
        #expect(col(try f.sorted(by: [(name: "x", descending: true)]), "x") ==
                [.float(.infinity), .float(1e-300), .float(-0.0), .float(-2), .float(-.infinity), .missing])
    }

    @Test func sortLarge() throws {
        var r = SeededRandom(seed: 1)
        let v = (0..<5000).map { _ in Double(r.nextInt(below: 100)) - 50 }
        let t = try Table(names: ["v", "i"], columns: [Column(floats: v), Column(ints: (0..<5000).map { Int64($0) })])
        let s = try t.sorted(by: [(name: "v", descending: false)])
        let expected = (0..<5000).sorted { (v[$0], $0) < (v[$1], $1) }
        #expect(col(s, "i") == expected.map { .int(Int64($0)) })
    }

    @Test func distinctAndGrouping() throws {
        let t = try people()
        #expect(col(try t.distinct(["name"]), "id") == [.int(3), .int(1), .int(2), .int(1)])
        #expect(try t.distinct([]).rowCount == 5)
        let (g, keys) = try t.grouping(by: ["name"])
        #expect(g.ids == [0, 1, 2, 3, 1] && g.count == 4)
        #expect(col(keys, "name") == [.string("cat"), .string("ant"), .missing, .string("bee")])
        let (g2, k2) = try t.grouping(by: ["ok", "id"])
        #expect(g2.ids == [0, 1, 2, 3, 4] && k2.names == ["ok", "id"])
        let (g3, _) = try t.grouping(by: ["score"])
        #expect(g3.ids == [0, 1, 2, 0, 3])
    }

    @Test func joins() throws {
        let l = try Table(names: ["k", "v"], columns: [Column(ints: [1, 2, 3, 2]), Column(strings: ["a", "b", "c", "d"])], label: "l")
        let r = try Table(names: ["k", "v", "w"], columns: [Column(floats: [2, 3, 3, .nan]), Column(strings: ["x", "y", "z", "q"]),
                                                             Column(ints: [20, 30, 31, 0])], label: "r")
        let i = try l.joined(r, on: ["k"], how: .inner)
        #expect(i.names == ["k", "v", "v_right", "w"])
        #expect(col(i, "k") == [.int(2), .int(3), .int(3), .int(2)])
        #expect(col(i, "v_right") == [.string("x"), .string("y"), .string("z"), .string("x")])
        #expect(col(i, "w") == [.int(20), .int(30), .int(31), .int(20)])
        let lj = try l.joined(r, on: ["k"], how: .left)
        #expect(col(lj, "v") == [.string("a"), .string("b"), .string("c"), .string("c"), .string("d")])
        #expect(col(lj, "w") == [.missing, .int(20), .int(30), .int(31), .int(20)])
        let bad = try Table(names: ["k"], columns: [Column(strings: ["1"])], label: "s")
        #expect(throws: EngineError.typeMismatch("join: key column 'k' is int in l but string in s")) {
            try l.joined(bad, on: ["k"], how: .inner)
        }
        let sl = try Table(names: ["s", "a"], columns: [Column(strings: ["x", "y", nil]), Column(ints: [1, 2, 3])])
        let sr = try Table(names: ["s", "b"], columns: [Column(strings: ["y", nil, "x"]), Column(ints: [20, 0, 10])])
        #expect(col(try sl.joined(sr, on: ["s"], how: .left), "b") == [.int(10), .int(20), .missing])
    }

    @Test func concatTables() throws {
        let a = try Table(names: ["x", "s"], columns: [Column(ints: [1, 2]), Column(strings: ["p", "q"])])
        let b = try Table(names: ["s", "x"], columns: [Column(strings: ["q", "r"]), Column(floats: [0.5, .nan])])
        let c = try Table.concat([a, b])
        #expect(c.names == ["x", "s"])
        #expect(col(c, "x") == [.float(1), .float(2), .float(0.5), .missing])
        #expect(col(c, "s") == [.string("p"), .string("q"), .string("q"), .string("r")])
        if case .string(_, let d) = try c.column("s").storage { #expect(d == ["p", "q", "r"]) }
        let bad = try Table(names: ["x"], columns: [Column(ints: [1])])
        #expect(throws: EngineError.invalidArgument("concat: table 2 lacks 's' (every table needs the same columns)")) {
            try Table.concat([a, bad])
        }
        let mixed = try Table(names: ["x", "s"], columns: [Column(ints: [1]), Column(ints: [1])])
        #expect(throws: EngineError.typeMismatch("concat: column 's' has types string, int in the tables; they cannot be combined")) {
            try Table.concat([a, mixed])
        }
    }

    @Test func sampleReproducible() throws {
        let t = try people()
        let a = try t.sample(n: 3, fraction: nil, seed: 7), b = try t.sample(n: 3, fraction: nil, seed: 7)
        #expect(a.rowCount == 3 && col(a, "id") == col(b, "id"))
        #expect(try t.sample(n: nil, fraction: 0.4, seed: 1).rowCount == 2)
        #expect(Set(col(try t.sample(n: 5, fraction: nil, seed: 3), "name").map(\.text)) == ["cat", "ant", "NA", "bee"])
        #expect(throws: EngineError.invalidArgument("sample: n = 6 is more than the 5 rows")) { try t.sample(n: 6, fraction: nil, seed: 0) }
        #expect(throws: EngineError.invalidArgument("sample: give either n or frac")) { try t.sample(n: 1, fraction: 0.5, seed: 0) }
    }

    @Test func describeIrisMatchesPandas() throws {
        let iris = try bundledDataset("iris")
        let d = iris.describe()
        #expect(d.names == ["stat", "sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
        #expect(col(d, "stat").map(\.text) == ["count", "missing", "mean", "std", "min", "25%", "50%", "75%", "max", "unique", "top", "freq"])
        let pandas: [String: [Double]] = [
            "sepal_length": [150.0, 5.843333333333334, 0.828066127977863, 4.3, 5.1, 5.8, 6.4, 7.9],
            "sepal_width": [150.0, 3.0573333333333337, 0.4358662849366982, 2.0, 2.8, 3.0, 3.3, 4.4],
            "petal_length": [150.0, 3.7580000000000005, 1.7652982332594662, 1.0, 1.6, 4.35, 5.1, 6.9],
            "petal_width": [150.0, 1.1993333333333336, 0.7622376689603465, 0.1, 0.3, 1.3, 1.8, 2.5],
        ]
        for (name, want) in pandas {
            let got = try d.column(name).doubles()
            let mine = [got[0], got[2], got[3], got[4], got[5], got[6], got[7], got[8]]
            for (a, b) in zip(mine, want) { #expect(abs(a - b) <= 1e-9, "\(name): \(a) vs \(b)") }
            #expect(got[1] == 0 && got[9].isNaN)
        }
        #expect(col(d, "species").map(\.text) == ["150", "0", "NA", "NA", "NA", "NA", "NA", "NA", "NA", "3", "setosa", "50"])
        let s = iris.schema()
        #expect(col(s, "dtype").map(\.text) == ["float", "float", "float", "float", "string"])
        #expect(col(s, "missing") == Array(repeating: .int(0), count: 5))
    }

    @Test func groupedReductions() throws {
        let iris = try bundledDataset("iris")
        let (g, keys) = try iris.grouping(by: ["species"])
        let c = try iris.column("petal_length")
        let means = try Reductions.grouped(.mean, c, by: g).doubles()
        // pandas: iris.groupby("species").petal_length.agg(["mean", "std", "median"])
        let want: [(Double, Double, Double)] = [(1.4620000000000002, 0.1736639964801841, 1.5), (4.26, 0.46991097723995784, 4.35), (5.5520000000000005, 0.5518946956639835, 5.55)]
        let stds = try Reductions.grouped(.std, c, by: g).doubles()
        let medians = try Reductions.grouped(.median, c, by: g).doubles()
        for k in 0..<3 {
            #expect(abs(means[k] - want[k].0) < 1e-12 && abs(stds[k] - want[k].1) < 1e-12 && medians[k] == want[k].2)
        }
        #expect(col(keys, "species").map(\.text) == ["setosa", "versicolor", "virginica"])
        let counts = try Reductions.grouped(.count, c, by: g)
        #expect((0..<3).map { counts.value(at: $0) } == [.int(50), .int(50), .int(50)])
        let nu = try Reductions.grouped(.nUnique, Column(strings: ["a", "b", "a", nil]), by: Grouping(ids: [0, 0, 0, 1], count: 2))
        #expect([nu.value(at: 0), nu.value(at: 1)] == [.int(2), .int(0)])
        #expect(try Reductions.apply(.countMissing, Column(floats: [1, .nan])) == .int(1))
        #expect(try Reductions.apply(.quantile, Column(floats: [1, 2, 3, 4]), q: 0.5) == .float(2.5))
        #expect(ReductionKind(rawValue: "n_unique") == .nUnique && ReductionKind(rawValue: "var") == .variance)
    }

    @Test func reductions() throws {
        let c = Column(floats: [1, 2, .nan, 4])
        #expect(try Reductions.sum(c) == 7)
        #expect(try Reductions.mean(c) == 7.0 / 3)
        #expect(abs(try Reductions.std(c) - 1.5275252316519468) < 1e-15)
        #expect(abs(try Reductions.variance(c) - 2.3333333333333335) < 1e-15)
        #expect(try Reductions.min(c) == 1 && Reductions.max(c) == 4)
        #expect(try Reductions.median(c) == 2)
        #expect(try Reductions.quantile(c, 0.25) == 1.5)
        #expect(Reductions.count(c) == 3 && Reductions.countMissing(c) == 1)
        #expect(Reductions.nUnique(Column(strings: ["a", "b", nil, "a"])) == 2)
        #expect(throws: EngineError.typeMismatch("mean needs a numeric column, got string")) { try Reductions.mean(Column(strings: ["a"])) }
        #expect(throws: EngineError.invalidArgument("quantile: q must be in 0...1, got 1.5")) { try Reductions.quantile(c, 1.5) }
        #expect(try Reductions.std(Column(ints: [1])).isNaN)
        #expect(try Reductions.mean(Column(floats: [])).isNaN)
        let big = (0..<100_003).map { Double($0 % 7) * 0.1 }
        #expect(abs(Reductions.sum(big) - big.reduce(0, +)) < 1e-6)
        #expect(Reductions.count(big) == 100_003)
        #expect(try Reductions.sum(Column(ints: [1, 2], validity: [true, false])) == 1)
        let list: [Double] = [3, .nan, 1, 2, 2]
        #expect(Reductions.sum(list) == 8 && Reductions.mean(list) == 2 && Reductions.median(list) == 2)
        #expect(Reductions.min(list) == 1 && Reductions.max(list) == 3 && Reductions.count(list) == 4)
        #expect(Reductions.countMissing(list) == 1 && Reductions.nUnique(list) == 3)
        #expect(try Reductions.quantile(list, 0.9) == 2.7 && Reductions.variance(list) == 2.0 / 3)
        let many = (0..<1000).map { Double(($0 * 7919) % 1000) }
        #expect(try Reductions.quantile(many, 0.25) == 249.75 && Reductions.median(many) == 499.5)
    }
}

/// The repository's `data/` directory (tests run from the package root).
func dataDir() -> String {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    while let last = parts.last, last != "Tests" { parts.removeLast() }
    if !parts.isEmpty { parts.removeLast() }
    return parts.isEmpty ? "data" : parts.joined(separator: "/") + "/data"
}
