import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShStore

/// `tune(..., workers=N)`: a tuning search's candidates as the trials of a sweep (kind
/// `tune`) that worker processes evaluate, the table stored once as a blob.
enum TuneTrials {
    /// Evaluates every candidate with `workers` worker processes over the session's store.
    static func evaluator(_ session: StoreSession, workers: Int) -> ModelsLibrary.TuneEvaluator {
        { problem, count, table throws(ModelError) in
            do throws(MLShError) {
                return try evaluate(problem, count: count, table: table, store: try session.store(), workers: workers)
            } catch {
                throw .invalid(error.message)
            }
        }
    }

    static func evaluate(_ problem: TuneProblem, count: Int, table: Table, store: Store, workers: Int) throws(MLShError) -> [[Metrics]] {
        let source: String
        do { source = String(decoding: try JSONEncoder().encode(problem), as: UTF8.self) } catch {
            throw MLShError(.model, "tune: cannot encode the search for its workers: \(error)")
        }
        let candidates = try modeling { () throws(ModelError) in try problem.candidates() }
        var h = SHA256()
        h.update(Array(source.utf8))
        let id = try storing { () throws(StoreError) -> Int64 in
            let (data, _) = try store.putTable(table)
            let record = SweepRecord(kind: "tune", experiment: nil, data: data, script: "tune(\(problem.spec))", source: source,
                                     sourceHash: "sha256:" + h.hexDigest(), fixed: [], retries: 2,
                                     created: Date().timeIntervalSince1970, by: Store.actor)
            return try store.createSweep(record, trials: candidates.enumerated().map { i, c in
                [("candidate", .int(Int64(i + 1)))] + c.map { ($0.0, paramValue($0.1)) }
            })
        }
        let sweep = try storing { () throws(StoreError) in try store.sweep(id) }
        try Sweeps.runLocally(sweep, workers: workers, store: store, grace: Sweeps.defaultGrace) { _ in }
        let trials = try storing { () throws(StoreError) in try store.trials(sweep: id) }
        guard trials.count == count else { throw MLShError(.model, "tune: sweep \(id) has \(trials.count) trials for \(count) candidates") }
        return try trials.map { t throws(MLShError) -> [Metrics] in
            guard t.status == "finished", let result = t.result, let metrics = decode(result) else {
                throw MLShError(.model, "tune: candidate \(t.number) (sweep \(id)) \(t.status): \(t.error ?? "no result")")
            }
            return metrics
        }
    }

    /// A worker's evaluation of one candidate: its fold metrics, as JSON.
    static func run(_ claim: ClaimedTrial, store: Store) -> (error: String?, result: String?) {
        let problem: TuneProblem
        do { problem = try JSONDecoder().decode(TuneProblem.self, from: Data(claim.sweep.source.utf8)) } catch {
            return ("the tuning search of sweep \(claim.sweep.id) cannot be read: \(error)", nil)
        }
        guard case .int(let number)? = claim.trial.params.first(where: { $0.0 == "candidate" })?.1, let data = claim.sweep.data else {
            return ("trial \(claim.trial.number) of sweep \(claim.sweep.id) names no candidate or table", nil)
        }
        do throws(MLShError) {
            let table = try storing { () throws(StoreError) in try store.table(data, label: "tune") }
            let metrics = try modeling { () throws(ModelError) in try problem.evaluate(Int(number) - 1, on: table) }
            return (nil, encode(metrics))
        } catch {
            return (error.render(), nil)
        }
    }

    /// Fold metrics as JSON: `[{"task": "regression", "values": [["rmse", "52.1"], ...]}]`,
    /// numbers as Swift's shortest exact text (NaN included).
    static func encode(_ folds: [Metrics]) -> String {
        JSONWriter.text(.array(folds.map { m in
            .object([("task", .string(m.task.rawValue)),
                     ("values", .array(m.values.map { .array([.string($0.0), .string(String($0.1))]) }))])
        }))
    }

    static func decode(_ text: String) -> [Metrics]? {
        guard case .array(let folds)? = try? JSONParser.parse(text) else { return nil }
        var out: [Metrics] = []
        for f in folds {
            guard case .object(let members) = f,
                  case .string(let taskText)? = members.first(where: { $0.0 == "task" })?.1, let task = ModelTask(rawValue: taskText),
                  case .array(let values)? = members.first(where: { $0.0 == "values" })?.1 else { return nil }
            var pairs: [(String, Double)] = []
            for v in values {
                guard case .array(let p) = v, p.count == 2, case .string(let name) = p[0], case .string(let x) = p[1],
                      let d = Double(x) else { return nil }
                pairs.append((name, d))
            }
            out.append(Metrics(task: task, values: pairs, confusion: nil))
        }
        return out
    }

    /// A setting as a trial's param (for the sweep's table): lists and none as text.
    static func paramValue(_ v: SettingValue) -> ParamValue {
        switch v {
        case .number(let d): .float(d)
        case .int(let i): .int(i)
        case .bool(let b): .bool(b)
        case .string(let s): .string(s)
        default: .string(v.description)
        }
    }
}
