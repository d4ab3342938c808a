import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShStore

/// A sweep as `sweep` returns it; its members read the store each time.
final class SweepValue: DomainObject {
    let store: Store
    let id: Int64
    init(store: Store, id: Int64) { self.store = store; self.id = id }

    var typeName: String { "sweep" }

    func render() -> String {
        guard let s = try? store.sweep(id), let trials = try? store.trials(sweep: id) else { return "sweep \(id)" }
        var counts: [(String, Int)] = []
        for status in ["finished", "failed", "running", "queued"] {
            let n = trials.filter { $0.status == status }.count
            if n > 0 { counts.append((status, n)) }
        }
        return "sweep \(id) of \(s.script)" + (s.experiment.map { " in experiment \($0)" } ?? "") + ": \(Sweeps.trialCount(trials.count)), "
            + counts.map { "\($0.1) \($0.0)" }.joined(separator: ", ")
    }

    var summary: String { "<sweep \(id)>" }
    var memberNames: [String] { ["id", "experiment", "script", "status", "runs", "done"] }

    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "id": return .int(id)
        case "experiment", "script":
            let s = try storing { () throws(StoreError) in try store.sweep(id) }
            return name == "script" ? .string(s.script) : s.experiment.map { .string($0) } ?? .none
        case "status":
            let trials = try storing { () throws(StoreError) in try store.trials(sweep: id) }
            return .object(TableValue(try Sweeps.statusTable(trials, store: store)))
        case "runs":
            let (s, trials) = try storing { () throws(StoreError) in (try store.sweep(id), try store.trials(sweep: id)) }
            let ids = Set(trials.compactMap(\.run))
            let records = try storing { () throws(StoreError) -> [RunRecord] in
                guard let e = s.experiment else { return [] }
                return try store.runRecords(experiment: try store.existingExperiment(e)).filter { ids.contains($0.id) }
            }
            return .object(TableValue(try StoreLibrary.runsTable(records)))
        case "done":
            let trials = try storing { () throws(StoreError) in try store.trials(sweep: id) }
            return .bool(!trials.contains { $0.status == "queued" || $0.status == "running" })
        default: return nil
        }
    }

    func isEqual(to other: any DomainObject) -> Bool { (other as? SweepValue).map { $0.id == id && $0.store === store } ?? false }
}

extension StoreLibrary {
    /// `sweep`: a script run once per point of a grid or space, as trials workers claim.
    static func sweepBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("sweep", ["exp", "script", "grid=none", "trials=none", "space=none", "params=none", "workers=1", "retries=2", "seed=0"],
                category: "experiments",
                summary: "Runs a script once per point of grid= (or trials=N draws from space=) as runs of exp, each with the point's param(...) values; workers=N local worker processes share the trials (workers=0 only queues them for `mlsh worker`). Returns the sweep: .status (a table per trial), .runs, .done.",
                example: #"let s = sweep(exp, "train.mls", grid={alpha: [0.1, 1, 10]})"#) { a, interp throws(MLShError) in
            let experiment: String
            switch try a.value("exp") {
            case .object(let e as ExperimentValue): experiment = e.name
            case .string(let s): experiment = s
            case let v: throw MLShError.type("sweep: 'exp' must be an experiment (from experiment(\"name\")) or its name, got \(v.typeName)")
            }
            let script = try a.string("script")
            var space = SweepSpace(seed: UInt64(max(0, try a.int("seed", 0))))
            if let v = a["grid"] {
                guard case .record(let r) = v else { throw MLShError.type("sweep: grid must be a record of lists, like grid={alpha: [0.1, 1]}") }
                for (k, v) in zip(r.keys, r.values) {
                    guard case .list(let xs) = v else { throw MLShError.type("sweep: grid value of \(k) must be a list, got \(v.typeName)") }
                    space.grid.append((k, try xs.map { x throws(MLShError) in try sweepParam(x, k) }))
                }
            }
            if let v = a["space"] {
                guard case .record(let r) = v else {
                    throw MLShError.type("sweep: space must be a record, like space={alpha: {low: 0.001, high: 10, log: true}, depth: [3, 5]}")
                }
                for (k, v) in zip(r.keys, r.values) { space.space.append((k, try sweepDimension(v, k))) }
            }
            if a["trials"] != nil { space.trials = try a.int("trials") }
            var fixed: [(String, ParamValue)] = []
            if let v = a["params"] {
                guard case .record(let r) = v else { throw MLShError.type("sweep: params must be a record, like params={data: \"houses.csv\"}") }
                for (k, v) in zip(r.keys, r.values) { fixed.append((k, try sweepParam(v, k))) }
            }
            let workers = try a.int("workers", 1), retries = try a.int("retries", 2)
            guard workers >= 0 else { throw MLShError.value("sweep: workers must be 0 or more, got \(workers)") }
            try session.flush()
            let store = try session.store()
            let (sweep, _) = try Sweeps.create(script: script, readingFrom: DataArgs.resolve(script, interp), space: space, fixed: fixed, experiment: experiment,
                                               retries: retries, store: store)
            try Sweeps.runLocally(sweep, workers: workers, store: store, grace: Sweeps.defaultGrace) { _ in }
            return .object(SweepValue(store: store, id: sweep.id))
        },
    ] }

    /// A param value of a sweep: a number, bool or string.
    static func sweepParam(_ v: Value, _ name: String) throws(MLShError) -> ParamValue {
        switch v {
        case .int, .float, .bool, .string: return ParamValue(v)
        default: throw MLShError.type("sweep: values of \(name) must be numbers, bools or strings, got \(v.typeName)")
        }
    }

    /// A dimension of a sweep's space: a list to draw from, or {low:, high:, log:}.
    static func sweepDimension(_ v: Value, _ name: String) throws(MLShError) -> SweepSpace.Dimension {
        switch v {
        case .list(let xs):
            guard !xs.isEmpty else { throw MLShError.value("sweep: the space gives '\(name)' no values") }
            return .values(try xs.map { x throws(MLShError) in try sweepParam(x, name) })
        case .record(let r):
            var low: Value?, high: Value?, log = false
            for (k, x) in zip(r.keys, r.values) {
                switch (k, x) {
                case ("low", _): low = x
                case ("high", _): high = x
                case ("log", .bool(let b)): log = b
                default: throw MLShError.value("sweep: the range of '\(name)' takes low, high and log (a bool), got \(k)")
                }
            }
            func number(_ x: Value?) -> Double? {
                switch x { case .int(let i)?: Double(i); case .float(let d)?: d; default: nil }
            }
            guard let lo = number(low), let hi = number(high) else {
                throw MLShError.value("sweep: the range of '\(name)' needs numbers low and high, like {low: 0.001, high: 10, log: true}")
            }
            var integer = false
            if case .int? = low, case .int? = high { integer = true }
            return try SweepSpace.range(name, low: lo, high: hi, log: log, integer: integer)
        default:
            throw MLShError.type("sweep: the space of '\(name)' must be a list or {low:, high:, log:}, got \(v.typeName)")
        }
    }
}
