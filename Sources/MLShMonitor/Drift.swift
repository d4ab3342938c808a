import Dispatch
import MLShEngine

/// A drift test: how one feature's current values are compared with its reference values.
public enum DriftMethod: String, Sendable, CaseIterable {
    /// Two-sample Kolmogorov–Smirnov test; the score is its p-value (numeric features).
    case ks
    /// Wasserstein distance divided by the reference's standard deviation (numeric features).
    case wasserstein
    /// Chi-squared test of current counts against reference frequencies; the score is its p-value (categorical features).
    case chisquare
    /// Jensen–Shannon distance between the two frequency distributions (every feature).
    case jensenshannon
    /// Population stability index over reference deciles or categories (every feature).
    case psi

    /// Evidently's default threshold: 0.05 for the p-value tests, 0.1 for the distances.
    public var threshold: Double { isPValue ? 0.05 : 0.1 }

    /// Whether the score is a p-value (drift below the threshold) rather than a distance (drift at or above it).
    public var isPValue: Bool { self == .ks || self == .chisquare }
}

/// One feature's drift result: a row of the table `drift` returns.
public struct DriftScore: Sendable, Equatable {
    /// The feature (column) name.
    public let feature: String
    /// The test that ran.
    public let method: DriftMethod
    /// The p-value or distance; NaN when one side has no values.
    public let score: Double
    /// The method's threshold.
    public let threshold: Double
    /// Whether the score crosses the threshold (p < threshold, distance >= threshold); false for NaN.
    public let drifted: Bool

    init(feature: String, method: DriftMethod, score: Double) {
        self.feature = feature; self.method = method; self.score = score
        threshold = method.threshold
        drifted = score.isNaN ? false : (method.isPValue ? score < threshold : score >= threshold)
    }
}

/// Why drift could not be measured.
public enum DriftError: Error, Sendable, Equatable {
    /// The two tables share no feature column.
    case noSharedColumns(reference: [String], current: [String])
    /// A method name that is not one of `DriftMethod`'s.
    case unknownMethod(String)
    /// A feature is text on one side and numbers on the other.
    case incompatibleColumn(feature: String, reference: DType, current: DType)

    /// The message shown to users.
    public var message: String {
        switch self {
        case .noSharedColumns(let r, let c):
            return "drift: the tables share no feature column (reference has \(r.joined(separator: ", ")); current has \(c.joined(separator: ", ")))"
        case .unknownMethod(let m):
            let known = DriftMethod.allCases.map(\.rawValue).joined(separator: ", ")
            return "drift: unknown method '\(m)' (known: \(known), or none for Evidently's defaults)"
        case .incompatibleColumn(let f, let r, let c):
            return "drift: column \(f) is \(r) in the reference but \(c) in the current data"
        }
    }
}

/// Drift between a reference table and current data, one row per shared feature (§8).
public enum Drift {
    /// Columns a request log adds to the model's inputs; never scored as features.
    public static let requestLogColumns: Set<String> = ["prediction", "model", "latency_ms", "at"]

    /// Scores every feature column of `reference` that `current` also has, in reference order.
    /// With `method` nil each feature gets Evidently's default test for its type and the
    /// reference's size; an explicit method applies to every feature it is defined for
    /// (see `DriftReference.score`).
    public static func scores(reference: Table, current: Table, method: DriftMethod? = nil) throws(DriftError) -> [DriftScore] {
        try DriftReference(reference).score(current, method: method)
    }

    /// The scores as a table with columns `feature, method, score, threshold, drifted`.
    public static func table(_ scores: [DriftScore]) throws(EngineError) -> Table {
        try Table(names: ["feature", "method", "score", "threshold", "drifted"], columns: [
            Column(strings: scores.map(\.feature)),
            Column(strings: scores.map(\.method.rawValue)),
            Column(floats: scores.map(\.score)),
            Column(floats: scores.map(\.threshold)),
            Column(bools: scores.map(\.drifted)),
        ], label: "drift")
    }
}

/// A reference distribution prepared once — sorted values, category counts, decile edges —
/// so that scoring a window of current rows costs one sort (or one count) per feature.
/// The server keeps one per deployment and scores the latest requests with it.
public struct DriftReference: Sendable {
    /// The feature columns, in reference order (request-log columns excluded).
    public var features: [String] { profiles.map(\.name) }
    let profiles: [FeatureProfile]

    /// Prepares every column of `reference` except `Drift.requestLogColumns`.
    /// Missing values (and ±infinity) are dropped first.
    public init(_ reference: Table) {
        let picked = reference.names.indices.filter { !Drift.requestLogColumns.contains(reference.names[$0]) }
        profiles = parallelMap(picked) { i in FeatureProfile(name: reference.names[i], column: reference.columns[i]) }
    }

    /// Scores each prepared feature that `current` also has, in reference order.
    ///
    /// With `method` nil: numeric features use `ks` (reference of at most 1000 values) or
    /// `wasserstein`; categorical ones — text, bool, or numbers with at most 5 distinct
    /// reference values — use `chisquare` or `jensenshannon`. An explicit `ks` or
    /// `wasserstein` applies to numeric and bool features, `chisquare` to categorical ones,
    /// `jensenshannon` and `psi` to all; other features keep their default, and the
    /// `method` of each row says what ran. A side with no values scores NaN, not drifted.
    /// Features are scored on Dispatch's worker threads unless `parallel` is false (a
    /// server's background thread keeps the work on itself, below its event loops).
    public func score(_ current: Table, method: DriftMethod? = nil, parallel: Bool = true) throws(DriftError) -> [DriftScore] {
        var jobs: [(FeatureProfile, Column)] = []
        for p in profiles {
            guard let i = current.index(of: p.name) else { continue }
            let c = current.columns[i]
            if (p.dtype == .string) != (c.dtype == .string) {
                throw DriftError.incompatibleColumn(feature: p.name, reference: p.dtype, current: c.dtype)
            }
            jobs.append((p, c))
        }
        guard !jobs.isEmpty else {
            throw DriftError.noSharedColumns(reference: features, current: current.names.filter { !Drift.requestLogColumns.contains($0) })
        }
        guard parallel else { return jobs.map { $0.0.score($0.1, method: method) } }
        return parallelMap(jobs.indices) { k in jobs[k].0.score(jobs[k].1, method: method) }
    }
}

/// Runs `body` over `items` on Dispatch's worker threads; results come back in order.
func parallelMap<C: RandomAccessCollection, T: Sendable>(_ items: C, _ body: (C.Element) -> T) -> [T] where C.Index == Int {
    let n = items.count
    if n <= 1 { return items.map(body) }
    let results = ResultSlots<T>(count: n)
    let start = items.startIndex
    withoutActuallyEscaping(body) { fn in
        let box = UncheckedBox((fn, items))
        DispatchQueue.concurrentPerform(iterations: n) { k in
            results.set(k, box.value.0(box.value.1[start + k]))
        }
    }
    return results.values()
}

/// Per-index result storage for `parallelMap`, guarded by a lock.
final class ResultSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = DispatchQueue(label: "mlsh.drift.slots")
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.sync { slots[i] = v } }
    func values() -> [T] { lock.sync { slots.compactMap { $0 } } }
}

/// A value read (never written) by parallel workers.
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
