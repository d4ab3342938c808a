import Foundation
import MLShEngine
import Testing
import TestSupport
@testable import MLShMonitor

/// The LCG and exact-arithmetic samples of scripts/reference/drift_reference.py, bit for bit.
struct Sample {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }

    mutating func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / 9007199254740992.0
    }

    /// Centred Irwin–Hall(4): the sum of four uniforms minus 2, scaled, shifted.
    mutating func bell(_ n: Int, shift: Double = 0, scale: Double = 1) -> [Double] {
        (0..<n).map { _ in
            let s = uniform() + uniform() + uniform() + uniform()
            return (s - 2.0) * scale + shift
        }
    }

    mutating func labels(_ n: Int, _ cuts: [Double], _ names: [String]) -> [String] {
        (0..<n).map { _ in
            let u = uniform()
            var k = 0
            while k < cuts.count && u >= cuts[k] { k += 1 }
            return names[k]
        }
    }
}

func floats(_ name: String, _ values: [Double]) throws -> Table {
    try Table(names: [name], columns: [Column(floats: values)])
}

func strings(_ name: String, _ values: [String?]) throws -> Table {
    try Table(names: [name], columns: [Column(strings: values)])
}

/// One feature's score through the public API.
func score(_ reference: Table, _ current: Table, _ method: DriftMethod? = nil) throws -> DriftScore {
    let scores = try Drift.scores(reference: reference, current: current, method: method)
    return try #require(scores.first)
}

/// |a − b| within `relative` of b (or within `absolute`, for values near 0).

let colours = ["red", "green", "blue", "black"]

/// Scores checked against scipy 1.17.1 / numpy 2.4.6, printed by
/// `/work/main/.bench-venv/bin/python scripts/reference/drift_reference.py`.
@Suite struct DriftReferenceValueTests {
    static let ks: [(String, [Double], [Double], Double)] = {
        var s = (1...14).map { Sample(UInt64($0)) }
        func q(_ v: [Double]) -> [Double] { v.map { ($0 * 4).rounded(.down) / 4 } }
        return [
            ("ks equal n", s[0].bell(60), s[1].bell(60, shift: 0.3), 0.0005569710611454617),
            ("ks unequal n", s[2].bell(200), s[3].bell(150, shift: 0.2), 0.016922837527726345),
            ("ks unequal null", s[4].bell(500), s[5].bell(800), 0.2376557309973071),
            ("ks ties", q(s[6].bell(300)), q(s[7].bell(400, shift: 0.1)), 0.5680499378614858),
            ("ks asymptotic null", s[8].bell(1000), s[9].bell(12000), 0.019424435819405606),
            ("ks asymptotic shift", s[10].bell(1000), s[11].bell(12000, shift: 0.1), 0.00011031289425702807),
            ("ks asymptotic small shift", s[12].bell(1000), s[13].bell(12000, shift: 0.04), 0.0065221379970479085),
        ]
    }()

    @Test(arguments: 0..<7)
    func ksMatchesScipy(_ k: Int) throws {
        let (name, a, b, expected) = Self.ks[k]
        let s = try score(try floats("x", a), try floats("x", b))
        #expect(s.method == .ks, "\(name)")
        #expect(isClose(s.score, expected, relative: 1e-8), "\(name): \(s.score) vs scipy \(expected)")
        #expect(s.drifted == (expected < 0.05), "\(name)")
    }

    @Test func wassersteinMatchesScipy() throws {
        var r = Sample(15), c = Sample(16)
        let s = try score(try floats("x", r.bell(3000)), try floats("x", c.bell(2000, shift: 0.05, scale: 1.1)))
        #expect(s.method == .wasserstein)
        #expect(isClose(s.score, 0.13469288001372517))
        #expect(s.drifted)
    }

    @Test func numericJensenShannonMatchesScipy() throws {
        var r = Sample(17), c = Sample(18)
        let s = try score(try floats("x", r.bell(3000)), try floats("x", c.bell(2000, shift: 0.2)), .jensenshannon)
        #expect(s.method == .jensenshannon)
        #expect(isClose(s.score, 0.14390851574299318))
        #expect(s.drifted)
    }

    @Test func numericPSIMatchesNumpy() throws {
        var r = Sample(19), c = Sample(20)
        let s = try score(try floats("x", r.bell(3000)), try floats("x", c.bell(2000, shift: 0.15)), .psi)
        #expect(s.method == .psi)
        #expect(isClose(s.score, 0.08132119438873481))
        #expect(!s.drifted)
    }

    @Test func categoricalScoresMatchScipy() throws {
        var s21 = Sample(21), s22 = Sample(22), s23 = Sample(23), s24 = Sample(24)
        let ref = try strings("colour", s21.labels(600, [0.5, 0.8], colours))
        let cur = try strings("colour", s22.labels(400, [0.4, 0.75, 0.97], colours))
        let ref2 = try strings("colour", s23.labels(600, [0.5, 0.8], colours))
        let cur2 = try strings("colour", s24.labels(450, [0.45, 0.8], colours))

        let newCategory = try score(ref, cur)
        #expect(newCategory.method == .chisquare && newCategory.score == 0 && newCategory.drifted)
        let shifted = try score(ref2, cur2)
        #expect(shifted.method == .chisquare)
        #expect(isClose(shifted.score, 0.0014190863172931804))
        let js = try score(ref2, cur2, .jensenshannon)
        #expect(isClose(js.score, 0.05854204390599003))
        #expect(!js.drifted)
        let psi = try score(ref, cur, .psi)
        #expect(isClose(psi.score, 0.24967250284306577))
        #expect(psi.drifted)
    }

    @Test(arguments: [
        (0.5, 0.1, 0.6547208460185768), (1.5, 3.0, 0.11161022509471268), (4.0, 2.0, 0.857123460498547),
        (10.0, 25.0, 0.0002214766382487835), (50.0, 45.0, 0.7531979655998298), (0.5, 30.0, 9.485737571073857e-15),
    ])
    func upperIncompleteGammaMatchesScipy(_ a: Double, _ x: Double, _ expected: Double) {
        #expect(isClose(DriftMath.gammaQ(a, x), expected, relative: 1e-12), "gammaincc(\(a), \(x))")
    }

    @Test(arguments: [
        (923, 0.02, 0.8466241690703107), (923, 0.05, 0.01912683424652487), (923, 0.06, 0.0024881470053067485),
        (5000, 0.01, 0.6954557253913853), (200, 0.08, 0.1463961356372503), (200, 0.6, 2.2284451128877564e-69),
    ])
    func kolmogorovTailMatchesScipy(_ n: Int, _ d: Double, _ expected: Double) {
        #expect(isClose(DriftMath.kolmogorovSF(n: n, d), expected, relative: 1e-8), "kstwo.sf(\(d), \(n))")
    }
}

/// Seeded synthetic shifts: a moved feature is flagged and untouched ones are not, for every
/// method in both size regimes.
@Suite struct DriftShiftTests {
    /// A reference and a current table: `moved` shifts by 0.6 (about one standard deviation),
    /// `kind` changes its mix, `steady` and `same` keep their distributions.
    static func tables(reference n: Int, current m: Int) throws -> (Table, Table) {
        var r = Sample(100), c = Sample(200)
        let ref = try Table(names: ["steady", "moved", "kind", "same"], columns: [
            Column(floats: r.bell(n)), Column(floats: r.bell(n)),
            Column(strings: r.labels(n, [0.5, 0.8], colours)), Column(strings: r.labels(n, [0.3, 0.6], colours)),
        ])
        let cur = try Table(names: ["same", "kind", "moved", "steady", "prediction", "latency_ms"], columns: [
            Column(strings: c.labels(m, [0.3, 0.6], colours)), Column(strings: c.labels(m, [0.3, 0.7], colours)),
            Column(floats: c.bell(m, shift: 0.6)), Column(floats: c.bell(m)),
            Column(floats: c.bell(m, shift: 5)), Column(floats: c.bell(m, shift: 50)),
        ])
        return (ref, cur)
    }

    /// Reference ≤ 1000 rows (p-value tests) and > 1000 (distances), each with a window
    /// smaller than or equal to the reference, as in monitoring. (Evidently's chi-squared takes
    /// the reference frequencies as exact, so with a window as large as a large reference it
    /// flags unchanged features more often than 5% of the time.)
    static let regimes = [(1000, 1000), (20000, 2000)]

    @Test(arguments: [DriftMethod?.none, .ks, .wasserstein, .chisquare, .jensenshannon, .psi], 0..<2)
    func shiftedFeaturesAreFlagged(_ method: DriftMethod?, _ regime: Int) throws {
        let (n, m) = Self.regimes[regime]
        let (ref, cur) = try Self.tables(reference: n, current: m)
        let scores = try Drift.scores(reference: ref, current: cur, method: method)
        #expect(scores.map(\.feature) == ["steady", "moved", "kind", "same"], "reference order, log columns left out")
        let flagged = scores.filter(\.drifted).map(\.feature)
        #expect(flagged == ["moved", "kind"], "\(method?.rawValue ?? "default") at \(n) rows: \(scores)")
    }

    @Test(arguments: 0..<2)
    func defaultMethodsFollowEvidently(_ regime: Int) throws {
        let (n, m) = Self.regimes[regime]
        let (ref, cur) = try Self.tables(reference: n, current: m)
        let methods = try Drift.scores(reference: ref, current: cur).map(\.method)
        #expect(methods == (n <= 1000 ? [.ks, .ks, .chisquare, .chisquare] : [.wasserstein, .wasserstein, .jensenshannon, .jensenshannon]))
    }

    @Test func explicitMethodsApplyWhereDefined() throws {
        let (ref, cur) = try Self.tables(reference: 1000, current: 1000)
        #expect(try Drift.scores(reference: ref, current: cur, method: .wasserstein).map(\.method) == [.wasserstein, .wasserstein, .chisquare, .chisquare])
        #expect(try Drift.scores(reference: ref, current: cur, method: .chisquare).map(\.method) == [.ks, .ks, .chisquare, .chisquare])
        #expect(try Drift.scores(reference: ref, current: cur, method: .psi).map(\.method) == [.psi, .psi, .psi, .psi])
        for s in try Drift.scores(reference: ref, current: cur, method: .psi) { #expect(s.threshold == 0.1) }
    }

    @Test func newCategoryInCurrentIsDriftInBothRegimes() throws {
        for (n, seed) in [(500, 1), (3000, 2)] {
            var r = Sample(UInt64(300 + seed)), c = Sample(UInt64(400 + seed))
            let ref = try strings("kind", r.labels(n, [0.5, 0.8], colours))
            let cur = try strings("kind", c.labels(n / 2, [0.5, 0.8, 0.9], colours))
            let s = try score(ref, cur)
            #expect(s.drifted, "\(s)")
            #expect(s.method == (n <= 1000 ? .chisquare : .jensenshannon))
        }
    }

    @Test func lowCardinalityNumbersAndBoolsAreCategorical() throws {
        let ref = try Table(names: ["grade", "flag"], columns: [
            Column(ints: (0..<600).map { Int64($0 % 4) }), Column(bools: (0..<600).map { $0 % 3 == 0 }),
        ])
        let cur = try Table(names: ["grade", "flag"], columns: [
            Column(ints: (0..<300).map { Int64($0 % 5) }), Column(bools: (0..<300).map { $0 % 3 == 0 }),
        ])
        let scores = try Drift.scores(reference: ref, current: cur)
        #expect(scores.map(\.method) == [.chisquare, .chisquare])
        #expect(scores[0].score == 0 && scores[0].drifted, "grade 4 never occurs in the reference")
        #expect(scores[1].score == 1 && !scores[1].drifted)
    }
}

/// Missing values, empty sides, errors, and reuse of a prepared reference.
@Suite struct DriftEdgeTests {
    @Test func missingValuesAreDropped() throws {
        var r = Sample(7), c = Sample(8)
        let a = r.bell(400), b = c.bell(300)
        let withGaps = a.enumerated().map { $0.offset % 5 == 0 ? Double.nan : $0.element }
        let clean = try score(try floats("x", withGaps.filter { !$0.isNaN }), try floats("x", b))
        let gappy = try score(try floats("x", withGaps + [.infinity]), try floats("x", b + [.nan, -.infinity]))
        #expect(clean == gappy)
        let text = try score(try strings("k", ["a", nil, "b", "a"]), try strings("k", ["a", "b", nil]))
        // a:b is 2:1 in the reference and 1:1 now: chi² = 0.25 on 1 degree of freedom.
        #expect(isClose(text.score, erfc((0.125).squareRoot()), relative: 1e-12), "\(text)")
    }

    @Test func sideWithNoValuesScoresNaN() throws {
        let ref = try Table(names: ["x", "k"], columns: [Column(floats: [1, 2, 3]), Column(strings: ["a", "b", "a"])])
        let cur = try Table(names: ["x", "k"], columns: [Column(floats: [.nan, .nan]), Column(strings: [nil, nil])])
        for method in [DriftMethod?.none, .ks, .wasserstein, .chisquare, .jensenshannon, .psi] {
            for s in try Drift.scores(reference: ref, current: cur, method: method) {
                #expect(s.score.isNaN && !s.drifted, "\(s)")
            }
            for s in try Drift.scores(reference: cur, current: ref, method: method) {
                #expect(s.score.isNaN && !s.drifted, "\(s)")
            }
        }
    }

    @Test func errorsAreClear() throws {
        let ref = try floats("x", [1, 2, 3])
        #expect(throws: DriftError.noSharedColumns(reference: ["x"], current: ["y"])) {
            try Drift.scores(reference: ref, current: try Table(names: ["y", "prediction"], columns: [Column(floats: [1]), Column(floats: [1])]))
        }
        #expect(throws: DriftError.incompatibleColumn(feature: "x", reference: .float, current: .string)) {
            try Drift.scores(reference: ref, current: try strings("x", ["a"]))
        }
        #expect(DriftError.unknownMethod("kl").message == "drift: unknown method 'kl' (known: ks, wasserstein, chisquare, jensenshannon, psi, or none for Evidently's defaults)")
        #expect(DriftError.noSharedColumns(reference: ["x"], current: ["y"]).message
            == "drift: the tables share no feature column (reference has x; current has y)")
    }

    @Test func preparedReferenceScoresWindows() throws {
        var r = Sample(9), c = Sample(10)
        let ref = try floats("x", r.bell(2000))
        let prepared = DriftReference(ref)
        #expect(prepared.features == ["x"])
        for shift in [0.0, 0.5] {
            let window = try floats("x", c.bell(500, shift: shift))
            let once = try prepared.score(window)
            #expect(once == (try Drift.scores(reference: ref, current: window)))
            #expect(once[0].drifted == (shift > 0))
        }
    }

    @Test func tableHasTheDocumentedColumns() throws {
        let t = try Drift.table([DriftScore(feature: "x", method: .ks, score: 0.01)])
        #expect(t.names == ["feature", "method", "score", "threshold", "drifted"])
        #expect(t.columns.map(\.dtype) == [.string, .string, .float, .float, .bool])
        guard case .bool(let flags, _) = t.columns[4].storage else { Issue.record("drifted is not bool"); return }
        #expect(flags == [true])
    }

    @Test func radixSortAgreesWithSort() {
        var s = Sample(11)
        var values = s.bell(10_000, scale: 1e6).map { ($0 * 10).rounded() / 10 }
        values += [0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 3, 3, 3]
        #expect(FeatureProfile.radixSorted(values) == values.sorted())
    }

    /// A million rows a column (radix-sorted profiles, binned strings) score as smaller
    /// samples do.
    @Test func millionRowsScore() throws {
        var r = Sample(12), c = Sample(13)
        let n = 1_000_000
        let ref = try Table(names: ["a", "b", "k"], columns: [
            Column(floats: r.bell(n)), Column(floats: r.bell(n)), Column(strings: r.labels(n, [0.5, 0.8], colours)),
        ])
        let cur = try Table(names: ["a", "b", "k"], columns: [
            Column(floats: c.bell(n, shift: 0.3)), Column(floats: c.bell(n)), Column(strings: c.labels(n, [0.5, 0.8], colours)),
        ])
        let scores = try Drift.scores(reference: ref, current: cur)
        #expect(scores.map(\.drifted) == [true, false, false])
    }
}
