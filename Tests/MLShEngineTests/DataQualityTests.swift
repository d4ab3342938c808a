import Testing
@testable import MLShEngine

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)) ==
                "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex(Array(repeating: 0x61, count: 1_000_000)) ==
                "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        // Streaming in odd pieces gives the same digest.
        var h = SHA256()
        let msg = Array("The quick brown fox jumps over the lazy dog".utf8)
        h.update(Array(msg[0..<5])); h.update(Array(msg[5..<40])); h.update(Array(msg[40...]))
        #expect(h.hexDigest() == "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592")
    }
}

@Suite struct FingerprintTests {
    @Test func sameContentSameHash() throws {
        let a = try parse("x,s,b\n1,p,true\n2,,false\n")
        let b = try Table(names: ["x", "s", "b"],
                          columns: [Column(ints: [1, 2], validity: [true, true]),
                                    Column(.string(codes: [1, -1], dictionary: ["unused", "p"])),
                                    Column(bools: [true, false])], label: "other")
        #expect(a.fingerprint() == b.fingerprint())
        #expect(a.fingerprint().hasPrefix("sha256:") && a.fingerprint().count == 71)
        let c = try Table.concat([a.head(1), a.tail(1)])
        #expect(c.fingerprint() == a.fingerprint())
    }

    @Test func differentContentDifferentHash() throws {
        let a = try parse("x,s\n1,p\n2,q\n")
        #expect(a.fingerprint() != (try parse("x,s\n2,q\n1,p\n")).fingerprint())      // order
        #expect(a.fingerprint() != (try parse("y,s\n1,p\n2,q\n")).fingerprint())      // names
        #expect(a.fingerprint() != (try parse("x,s\n1.0,p\n2.0,q\n")).fingerprint())  // dtype
        #expect(a.fingerprint() != (try parse("x,s\n1,p\n2,r\n")).fingerprint())      // value
        #expect(a.fingerprint() != (try parse("x,s\n1,p\n,q\n")).fingerprint())       // missing
        let e1 = try Table(names: ["s"], columns: [Column(strings: ["ab", "c"])])
        let e2 = try Table(names: ["s"], columns: [Column(strings: ["a", "bc"])])
        #expect(e1.fingerprint() != e2.fingerprint())
    }
}

@Suite struct CheckTests {
    func table() throws -> Table {
        try Table(names: ["id", "age", "city", "zip"],
                  columns: [Column(ints: [1, 2, 2, 3]), Column(floats: [30, 150, .nan, -1]),
                            Column(strings: ["Oslo", "Lima", "Rome", nil]),
                            Column(strings: ["12345", "1234", "54321", "ab123"])], label: "t")
    }

    @Test func report() throws {
        let t = try table()
        let items = [CheckItem(.notNull("age")), CheckItem(.between("age", 0, 120)), CheckItem(.unique("id")),
                     CheckItem(.rowsBetween(1, 10)), CheckItem(.inSet("city", [.string("Oslo"), .string("Lima")])),
                     CheckItem(.matches("zip", "^\\d{5}$")), CheckItem(.maxMissing("age", 0.5)),
                     CheckItem(.predicate(text: "$id > 1", mask: Column(bools: [false, true, true, true])))]
        let r = try t.check(items)
        #expect(r.names == ["check", "passed", "failing", "example"])
        #expect(col(r, "check").map(\.text) == ["not_null($age)", "between($age, 0, 120)", "unique($id)", "rows_between(1, 10)",
                                                 "in_set($city, [\"Oslo\", \"Lima\"])", "matches($zip, r\"^\\d{5}$\")",
                                                 "max_missing($age, 0.5)", "$id > 1"])
        #expect(col(r, "passed") == [false, false, false, true, false, false, true, false].map { .bool($0) })
        #expect(col(r, "failing") == [1, 2, 2, 0, 1, 2, 0, 1].map { .int($0) })
        #expect(col(r, "example").map(\.text) == ["NA", "150.0", "2", "NA", "Rome", "1234", "NA", "row 0"])
    }

    @Test func expectMessages() throws {
        let t = try table()
        try t.expect([CheckItem(.rowsBetween(4, 4)), CheckItem(.notNull("id"))])
        #expect(throws: EngineError.expectationFailed(["not_null($age) failed (1 failing row)",
                                                        "between($age, 0, 120) failed (2 failing rows, e.g. 150.0)",
                                                        "rows_between(10, 20) failed (4 rows)"])) {
            try t.expect([CheckItem(.notNull("age")), CheckItem(.between("age", 0, 120)),
                          CheckItem(.rowsBetween(10, 20), text: "rows_between(10, 20)"), CheckItem(.unique("zip"))])
        }
        #expect(throws: EngineError.self) { try t.check([CheckItem(.matches("zip", "("))]) }
        #expect(throws: EngineError.unknownColumn("agee", table: "t", suggestion: "age")) { try t.check([CheckItem(.notNull("agee"))]) }
    }

    /// NaN is missing in every rule: counted by not_null and max_missing, skipped by the
    /// others and by conditions (unless the condition uses it, as is_nan and fill_nan do).
    @Test func nanIsMissingInEveryRule() throws {
        let t = try Table(names: ["x", "y", "n", "s"], columns: [
            Column(floats: [1, .nan, 3, .nan]), Column(floats: [.nan, 2, 2, 5]),
            Column(ints: [1, 0, 3, 3], validity: [true, false, true, true]), Column(strings: ["a", nil, "b", "a"]),
        ], label: "t")
        let x = KExpr.column("x"), y = KExpr.column("y")
        func cond(_ e: KExpr) throws -> CheckItem { CheckItem(try t.condition(e, text: e.description)) }
        let items = [
            CheckItem(.notNull("x")), CheckItem(.maxMissing("x", 0.25)), CheckItem(.maxMissing("x", 0.5)),
            CheckItem(.between("x", 0, 5)), CheckItem(.unique("x")), CheckItem(.inSet("x", [.int(1), .int(3)])),
            CheckItem(.matches("x", "^\\d\\.0$")),
            try cond(.call("gt", [x, .float(0)])),
            try cond(.call("gt", [.call("add", [x, y]), .float(4)])),
            try cond(.call("not", [.call("is_nan", [x])])),
            try cond(.call("gt", [.call("fill_nan", [x, .float(-1)]), .float(0)])),
            try cond(.call("gt", [.call("if_else", [.call("gt", [y, .float(3)]), x, .float(1)]), .float(0)])),
            try cond(.call("lt", [.column("n"), .int(2)])),
            try cond(.call("eq", [.call("split_text", [.column("s"), .string("-"), .int(1)]), .string("z")])),
        ]
        let r = try t.check(items)
        #expect(col(r, "passed") == [false, false, true, true, true, true, true, true, true, false, false, true, false, true].map { .bool($0) })
        #expect(col(r, "failing") == [2, 2, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 2, 0].map { .int($0) })
        // Only the present rows are examples.
        #expect(col(r, "example")[12] == .string("row 2"))
        #expect(throws: EngineError.typeMismatch("check: $x + 1.0 is a float expression; a check must be true or false")) {
            try t.condition(.call("add", [x, .float(1)]), text: "$x + 1.0")
        }
    }
}

@Suite struct SplitTests {
    @Test func splitReproducibleAndStratified() throws {
        let iris = try bundledDataset("iris")
        let (a, b) = try iris.split(fraction: 0.8, seed: 42, stratify: nil)
        #expect(a.rowCount == 120 && b.rowCount == 30)
        let (a2, _) = try iris.split(fraction: 0.8, seed: 42, stratify: nil)
        #expect(a.fingerprint() == a2.fingerprint())
        let (a3, _) = try iris.split(fraction: 0.8, seed: 43, stratify: nil)
        #expect(a.fingerprint() != a3.fingerprint())
        let (s, t) = try iris.split(fraction: 0.8, seed: 1, stratify: "species")
        let (_, ks) = try s.grouping(by: ["species"])
        #expect(ks.rowCount == 3)
        for name in ["setosa", "versicolor", "virginica"] {
            #expect(col(s, "species").filter { $0 == .string(name) }.count == 40)
            #expect(col(t, "species").filter { $0 == .string(name) }.count == 10)
        }
        // Train and test together are all rows, once.
        let both = try Table.concat([a, b]).sorted(by: [("sepal_length", false), ("sepal_width", false), ("petal_length", false), ("petal_width", false), ("species", false)])
        let all = try iris.sorted(by: [("sepal_length", false), ("sepal_width", false), ("petal_length", false), ("petal_width", false), ("species", false)])
        #expect(both.fingerprint() == all.fingerprint())
        #expect(throws: EngineError.invalidArgument("split: the fraction must be between 0 and 1, got 1.5")) {
            try iris.split(fraction: 1.5, seed: 0, stratify: nil)
        }
    }

    @Test func kfolds() throws {
        let t = try Table(names: ["i", "c"], columns: [Column(ints: (0..<10).map { Int64($0) }),
                                                       Column(strings: (0..<10).map { $0 < 4 ? "a" : "b" })])
        let folds = try t.kfold(k: 3, seed: 5, stratify: nil)
        #expect(folds.map { $0.test.rowCount } == [4, 3, 3])
        var seen: [Scalar] = []
        for f in folds {
            seen += col(f.test, "i")
            #expect(f.train.rowCount + f.test.rowCount == 10)
        }
        #expect(Set(seen.map(\.text)) == Set((0..<10).map { String($0) }) && seen.count == 10)
        let again = try t.kfold(k: 3, seed: 5, stratify: nil)
        #expect(zip(folds, again).allSatisfy { $0.test.fingerprint() == $1.test.fingerprint() })
        let strat = try t.kfold(k: 2, seed: 5, stratify: "c")
        for f in strat { #expect(col(f.test, "c").filter { $0 == .string("a") }.count == 2) }
        #expect(throws: EngineError.invalidArgument("kfold: k must be at least 2, got 1")) { try t.kfold(k: 1, seed: 0, stratify: nil) }
    }
}

@Suite struct SynthTests {
    @Test func shapesAndReproducibility() throws {
        let r = try synth("regression", rows: 20_000, features: 3, seed: 0)
        #expect(r.names == ["x0", "x1", "x2", "y"] && r.rowCount == 20_000)
        #expect(r.columns.map(\.dtype) == [.float, .float, .float, .float])
        #expect(r.fingerprint() == (try synth("regression", rows: 20_000, features: 3, seed: 0)).fingerprint())
        #expect(r.fingerprint() != (try synth("regression", rows: 20_000, features: 3, seed: 1)).fingerprint())
        let x0 = try r.column("x0")
        let m0 = try Reductions.mean(x0), s0 = try Reductions.std(x0)
        #expect(abs(m0) < 0.03 && abs(s0 - 1) < 0.03)
        let c = try synth("classification", rows: 1000, features: 4, classes: 3, seed: 2)
        #expect(Reductions.nUnique(try c.column("y")) == 3 && c.columns[4].dtype == .string)
        let b = try synth("blobs", rows: 2000, features: 2, centers: 5, seed: 3)
        #expect(Reductions.nUnique(try b.column("y")) == 5)
        #expect(throws: EngineError.invalidArgument("unknown synth kind 'blob' (did you mean 'blobs'?); kinds: regression, classification, blobs")) {
            try synth("blob", rows: 1, features: 1, seed: 0)
        }
        // The first rows do not depend on how many rows follow (chunks are seeded by index).
        let small = try synth("blobs", rows: 100, features: 2, seed: 9)
        let big = try synth("blobs", rows: 20_000, features: 2, seed: 9)
        #expect(small.fingerprint() == big.head(100).fingerprint())
    }

    @Test func bundled() throws {
        for name in bundledDatasetNames {
            let t = try bundledDataset(name)
            #expect(t.label == name && t.rowCount > 100)
        }
        let digits = try bundledDataset("digits")
        #expect(digits.rowCount == 1797 && digits.columns.count == 65 && digits.columns[64].dtype == .int)
        #expect(throws: EngineError.invalidArgument("unknown dataset 'irsi' (did you mean 'iris'?); bundled datasets: iris, wine, breast_cancer, diabetes, digits")) {
            try bundledDataset("irsi")
        }
    }

    @Test func seededRandom() {
        var a = SeededRandom(seed: 5), b = SeededRandom(seed: 5)
        #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
        var r = SeededRandom(seed: 1)
        let xs = (0..<20_000).map { _ in r.nextGaussian() }
        #expect(abs(Reductions.mean(xs)) < 0.03 && abs(Reductions.std(xs) - 1) < 0.03)
        let us = (0..<20_000).map { _ in r.nextDouble() }
        #expect(us.allSatisfy { $0 >= 0 && $0 < 1 })
        var arr = Array(0..<50)
        r.shuffle(&arr)
        #expect(arr.sorted() == Array(0..<50) && arr != Array(0..<50))
    }
}
