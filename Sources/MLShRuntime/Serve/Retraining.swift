import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShMonitor
import MLShServe
import MLShStore

/// The retraining loop's steps that run mlsh code: a policy checked when it is written
/// (`retrain(...)`, `mlsh retrain`), and an attempt run from its trigger to its decision —
/// the training script as a run of the model's experiment, challenger and champion
/// evaluated on the same fresh labeled holdout, the gate, then promotion or a canary the
/// serving servers decide (`RetrainDriver`).
enum Retraining {
    /// The most recent labeled rows both are evaluated on: a fifth of them, at least this many.
    static let minimumHoldout = 20

    /// A policy from the arguments of `retrain` or `mlsh retrain`, checked: the model is
    /// registered, the script exists (resolved against `base`), `when` names an alert of
    /// the model, `every` is a duration, the gate parses and names known figures (default:
    /// the challenger at least as good as the champion on rmse or accuracy), `canary` is
    /// in [0, 1), `after` is positive.
    static func policy(model: String, script: String, base: String?, when: String?, every: Value?, gate: String?,
                       canary: Double, after: Int, promote: String, store: Store, function: String) throws(MLShError) -> RetrainPolicyRecord {
        let versions = try storing { () throws(StoreError) in
            try StoreName.validate(model, "model")
            return try store.versions(name: model)
        }
        guard let latest = versions.last else { throw MLShError(.store, "\(function): no model named '\(model)' is registered") }
        try storing { () throws(StoreError) in try StoreName.validate(promote, "alias") }
        if promote == "latest" || Int64(promote) != nil {
            throw MLShError.value("\(function): promote names an alias such as \"production\", not '\(promote)'")
        }
        var path = script
        if !path.hasPrefix("/") { path = (base ?? FileManager.default.currentDirectoryPath) + "/" + path }
        path = URL(fileURLWithPath: path).standardizedFileURL.path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue else {
            throw MLShError.value("\(function): there is no script at \(path)")
        }
        if let when {
            let alerts = try storing { () throws(StoreError) in try store.alertRules(model: model) }
            guard alerts.contains(where: { $0.name == when }) else {
                var m = "\(function): \(model) has no alert named '\(when)'"
                m += alerts.isEmpty ? " (write one first with alert(\"\(model)\", \"\(when)\", when=...))"
                                    : " (its alerts: \(alerts.map(\.name).joined(separator: ", ")))"
                throw MLShError.value(m)
            }
        }
        let seconds = try every.map { v throws(MLShError) in try StoreLibrary.duration(v, "\(function): every") }
        if let seconds, !(seconds >= 1) { throw MLShError.value("\(function): every must be at least a second") }
        guard canary >= 0 && canary < 1 else {
            throw MLShError.value("\(function): canary is the challenger's share of traffic, from 0 (promote at the gate) to below 1, got \(formatFloat(canary))")
        }
        guard after >= 1 else { throw MLShError.value("\(function): after is a number of labeled answers, at least 1, got \(after)") }
        if canary > 0, (try? store.resolve("\(model)@\(promote)")) == nil {
            throw MLShError.value("\(function): a canary is served by the servers of \(model)@\(promote), and no version is \(promote) yet: alias(v, \"\(promote)\") first, or canary=0")
        }
        let champion = try storing { () throws(StoreError) in try store.model(latest.artifact) }
        let text = gate ?? (champion.task == .regression ? "rmse <= champion.rmse" : "accuracy >= champion.accuracy")
        // The figures of the model's task (auc: two classes).
        let figures = champion.task == .regression ? ["rmse", "mae", "r2"]
            : ["accuracy", "f1"] + (champion.classes.count == 2 ? ["auc"] : [])
        let tree = try StoreLibrary.conditionTree(text, names: figures + figures.map { "champion." + $0 }, what: "\(function): gate")
        return RetrainPolicyRecord(model: model, script: path, onAlert: when, every: seconds, gate: text,
                                   gateTree: JSONWriter.text(tree.json), canary: canary, after: after, promote: promote)
    }

    /// Records an attempt for `policy` and runs it in this process; an error when the
    /// model has an attempt in progress.
    static func now(_ policy: RetrainPolicyRecord, trigger: String = "now", store: Store, folder: String?,
                    function: String) throws(MLShError) -> RetrainRecord {
        let record = RetrainRecord(model: policy.model, trigger: trigger, policy: policy, started: Date().timeIntervalSince1970)
        let (id, started) = try storing { () throws(StoreError) in try store.beginRetrain(record) }
        guard started else {
            throw MLShError(.store, "\(function): \(policy.model) has retraining attempt \(id) in progress; mlsh retrains shows it")
        }
        return run(attempt: id, store: store, folder: folder)
    }

    /// Runs a `running` attempt to its decision and returns it as recorded. Every outcome,
    /// a failure of the script included, is recorded; nothing here throws.
    static func run(attempt id: Int64, store: Store, folder: String?) -> RetrainRecord {
        guard var a = try? store.retrain(id) else {
            var missing = RetrainRecord(model: "?", trigger: "?", policy: RetrainPolicyRecord(model: "?", script: "", onAlert: nil, every: nil, gate: "", gateTree: "", canary: 0, after: 1, promote: ""), started: 0)
            missing.decision = "failed"
            missing.error = "there is no retraining attempt \(id)"
            return missing
        }
        guard a.decision == "running" else { return a }
        do throws(MLShError) {
            try attempt(&a, store: store, folder: folder)
        } catch {
            a.decision = "failed"
            a.error = error.message
            a.ended = Date().timeIntervalSince1970
            _ = try? store.updateRetrain(a, from: ["running"])
        }
        return (try? store.retrain(id)) ?? a
    }

    private static func attempt(_ a: inout RetrainRecord, store: Store, folder: String?) throws(MLShError) {
        // The champion: the version the alias names (the latest when it names none yet).
        let champion = try storing { () throws(StoreError) in
            if let v = try? store.resolve("\(a.model)@\(a.promote)") { return v }
            return try store.resolve("\(a.model)@latest")
        }
        a.champion = champion.version
        // The holdout: the most recent labeled rows, a fifth of them and at least `minimumHoldout`.
        let labeled = try storing { () throws(StoreError) in try store.requests(.model(a.model), labeled: true) }
            .sorted { $0.at < $1.at }
        guard labeled.count >= minimumHoldout else {
            throw MLShError(.store, "the gate needs at least \(minimumHoldout) labeled rows to hold out; \(a.model) has \(labeled.count) (feed labels back with feedback or POST /v1/feedback)")
        }
        let until = labeled[labeled.count - max(minimumHoldout, labeled.count / 5)].at
        let holdout = labeled.filter { $0.at >= until }
        let previous = try storing { () throws(StoreError) in try store.retrains(model: a.model) }
            .last { $0.decision == "promoted" && $0.challenger == champion.version }
        a.until = until
        a.since = previous?.until
        a.holdout = holdout.count
        _ = try? store.updateRetrain(a, from: ["running"])

        // The training script, as a run of the champion's experiment (the model's name without one).
        let experiment = try storing { () throws(StoreError) -> Int64 in
            if let run = champion.run { return try store.existingExperiment(try store.run(run).experiment) }
            return try store.experiment(a.model)
        }
        let runID = try train(&a, experiment: experiment, window: labeled.count - holdout.count, folder: folder)
        a.run = runID
        _ = try? store.updateRetrain(a, from: ["running"])
        guard let hash = try storing({ () throws(StoreError) in try store.runArtifact(run: runID, name: "model") }) else {
            throw MLShError(.store, "the script \(a.script) logged no model: its run must call log_model(m)")
        }
        let challengerModel = try storing { () throws(StoreError) in try store.model(hash) }
        let championModel = try storing { () throws(StoreError) in try store.model(champion.artifact) }
        // Clients of the alias send the champion's inputs: a challenger must read the same.
        func inputs(_ m: FittedModel) -> [String: Bool] {
            Dictionary(m.features.map { ($0.name, $0.dtype == .float || $0.dtype == .int) }, uniquingKeysWith: { a, _ in a })
        }
        guard inputs(challengerModel) == inputs(championModel) else {
            let names = { (m: FittedModel) in m.features.map(\.name).joined(separator: ", ") }
            throw MLShError(.store, "the challenger reads other inputs (\(names(challengerModel))) than the champion \(champion.label) (\(names(championModel))): clients of \(a.model)@\(a.promote) send the champion's")
        }

        // Both on the same holdout; the gate sees both figures.
        let challengerFigures = try figures(challengerModel, holdout, "the challenger")
        let championFigures = try figures(championModel, holdout, "the champion \(champion.label)")
        a.challengerFigures = QualityFigures.json(challengerFigures)
        a.championFigures = QualityFigures.json(championFigures)
        guard let gate = AlertExpr.gate(a.gateTree) else { throw MLShError(.store, "the gate '\(a.gate)' is not readable") }
        let now = Date().timeIntervalSince1970
        let same = hash == champion.artifact
        guard !same, gate.passes(challenger: challengerFigures, champion: championFigures) else {
            a.decision = "gated"
            if same { a.error = "the challenger is the champion's model (the same artifact): nothing to promote" }
            a.ended = now
            _ = try? store.updateRetrain(a, from: ["running"])
            return
        }
        let version = try storing { () throws(StoreError) in try store.register(name: a.model, artifact: hash, run: runID) }
        a.challenger = version.version
        if a.canary > 0 {
            a.decision = "canary"
            a.canaryStarted = now
            _ = try? store.updateRetrain(a, from: ["running"])
        } else {
            a.ended = now
            _ = try storing { () throws(StoreError) in try store.promoteRetrain(a) }
        }
    }

    /// A model's figures on labeled requests.
    private static func figures(_ model: FittedModel, _ rows: [RequestRecord], _ who: String) throws(MLShError) -> [(String, Double)] {
        do throws(ServeError) { return try QualityFigures.of(model, requests: rows) } catch {
            throw MLShError(.serve, "\(who) cannot score the holdout: \(error.message)")
        }
    }

    /// Runs the script in a fresh interpreter on the same store, inside a run of
    /// `experiment` whose params say what to train on (`since`, `until`: Unix times;
    /// `retrain`: the attempt). Returns the run's id; a failing script fails the attempt.
    private static func train(_ a: inout RetrainRecord, experiment: Int64, window: Int, folder: String?) throws(MLShError) -> Int64 {
        guard let data = FileManager.default.contents(atPath: a.script) else {
            throw MLShError(.store, "cannot read the training script \(a.script)")
        }
        var params: [(String, Value)] = [("retrain", .int(a.id)), ("model", .string(a.model))]
        params.append(("since", a.since.map { .float($0) } ?? .float(0)))
        params.append(("until", a.until.map { .float($0) } ?? .float(Date().timeIntervalSince1970)))
        let session = StoreSession(folder: folder)
        session.scriptPath = a.script
        let libraries: [Library] = [DataLibrary(), ModelsLibrary(), StoreLibrary(folder: folder, session: session), PlotLibrary(),
                                    MonitorLibrary()]
        let interp = Runtime.makeInterpreter(libraries: libraries, params: Dictionary(uniqueKeysWithValues: params))
        interp.display = { _ in }
        let run = RunValue(session: session, experiment: experiment, params: params.map { ($0.0, ParamValue($0.1)) })
        try run.enter()
        guard let id = run.id else { throw MLShError(.store, "the training run did not start") }
        a.run = id
        do throws(MLShError) {
            try interp.run(SourceFile(name: a.script, bytes: Array(data)), scriptPath: a.script)
        } catch {
            try? run.exit(error: error)
            var hint = ""
            if window == 0 { hint = " (no labeled row was answered before the holdout: rows answered in one request share their time, so one batch falls wholly on one side)" }
            throw MLShError(error.kind, "the training script failed: " + error.render() + hint)
        }
        try run.exit(error: nil)
        try session.flush()
        return id
    }
}

/// `mlsh retrain` and `mlsh retrains`, for the command line.
public enum RetrainCommandLine {
    /// Writes a policy (with `when` or `every`) and, with `now` or neither, runs an attempt
    /// now; returns what to print. An attempt that ends failed is an error.
    public static func retrain(model: String, script: String, when: String?, every: String?, gate: String?, canary: Double,
                               after: Int, promote: String, now: Bool, folder: String) throws -> String {
        guard let store = try StoreListing(folder: folder).existing() else {
            throw StoreError("there is no store at \(folder): register a model first")
        }
        let policy = try Retraining.policy(model: model, script: script, base: nil, when: when, every: every.map { .string($0) },
                                           gate: gate, canary: canary, after: after, promote: promote, store: store,
                                           function: "retrain")
        var out: [String] = []
        if when != nil || policy.every != nil {
            try store.putRetrainPolicy(policy)
            var trigger = [String]()
            if let when { trigger.append("when \(when) fires") }
            if let e = policy.every { trigger.append("every \(durationText(e))") }
            out.append("\(model) retrains with \(policy.script) \(trigger.joined(separator: " and ")); gate: \(policy.gate)"
                       + (policy.canary > 0 ? "; canary \(formatFloat(policy.canary)) for \(policy.after) labeled answers" : "")
                       + "; promotes to \(policy.promote)")
            guard now else { return out.joined(separator: "\n") }
        }
        let attempt = try Retraining.now(policy, store: store, folder: folder, function: "retrain")
        out.append(StoreListing.render(try StoreTables.retrains([attempt])))
        if attempt.decision == "failed" { throw StoreError(out.joined(separator: "\n") + "\nretrain: the attempt failed: \(attempt.error ?? "")") }
        return out.joined(separator: "\n")
    }

    /// Runs attempt `id`, recorded `running` by a server, in this process; exit code 0
    /// unless it failed.
    public static func attempt(_ id: Int64, folder: String) -> Int32 {
        guard let store = try? StoreListing(folder: folder).existing() else { return 1 }
        try? store.claimRetrain(id)
        return Retraining.run(attempt: id, store: store, folder: folder).decision == "failed" ? 1 : 0
    }
}
