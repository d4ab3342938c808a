import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShServe
import MLShStore

/// Experiments, runs, metrics and the model registry (§7), over the `.mlsh/` store.
struct StoreLibrary: Library {
    /// The store folder (`--store`); nil for `MLSH_STORE`, else the nearest `.mlsh/`.
    var folder: String?
    /// How stages behave (`--no-cache`, `--quiet`).
    var stageOptions = StageOptions()
    /// The session to use (a retraining attempt's, which holds the attempt's run); nil: a new one.
    var session: StoreSession?

    init(folder: String? = nil, stageOptions: StageOptions = StageOptions(), session: StoreSession? = nil) {
        self.folder = folder; self.stageOptions = stageOptions; self.session = session
    }

    func register(into interp: Interpreter) {
        let session = self.session ?? StoreSession(folder: folder)
        if self.session == nil { session.stageOptions = stageOptions }
        for b in StoreLibrary.builtins(session) + StoreLibrary.registryBuiltins(session) + StoreLibrary.serveBuiltins(session)
            + StoreLibrary.datasetBuiltins(session) + StoreLibrary.stageBuiltins(session) + StoreLibrary.alertBuiltins(session)
            + StoreLibrary.retrainBuiltins(session) + StoreLibrary.uiBuiltins(session) + StoreLibrary.sweepBuiltins(session) {
            interp.register(b)
        }
        // The core's `log` is always registered first; the store's replaces it and keeps its numeric form.
        interp.register(StoreLibrary.log(session, math: interp.builtins["log"]?.first))
        interp.wrap("fit") { StoreLibrary.recordingFit($0, session) }
        interp.wrap("dataset") { StoreLibrary.storedDatasets($0, session) }
        interp.wrap("load") { StoreLibrary.recordingLoad($0, session) }
        interp.wrap("param") { StoreLibrary.recordingParam($0, session) }
        interp.wrap("tune") { StoreLibrary.tuningWithWorkers($0, session) }
        for name in ["split", "kfold", "sample", "synth", "cv", "tune", "explain"] {
            interp.wrap(name) { StoreLibrary.recordingSeed($0, session) }
        }
        for name in ["predict", "evaluate", "importance", "explain"] {
            interp.wrap(name) { StoreLibrary.acceptingVersions($0) }
        }
    }

    /// `tune(..., workers=N)` with N > 1: the candidates evaluated by worker processes
    /// over the store (`TuneTrials`); otherwise `tune` as it is.
    static func tuningWithWorkers(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            let workers = a["workers"] == nil ? 1 : try a.int("workers")
            guard workers > 1 else { return try next.run(a, interp) }
            return try ModelsLibrary.tuneValue(a, evaluate: TuneTrials.evaluator(session, workers: workers))
        }
    }

    /// A model verb that also takes a registered model version (`predict(model("m@production"), t)`).
    static func acceptingVersions(_ original: Builtin) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            if case .object(let mv as ModelVersionValue)? = a["m"], let loaded = try mv.member("model") {
                return try next.run(a.with("m", loaded), interp)
            }
            return try next.run(a, interp)
        }
    }

    /// `fit`, also recording for the active run the table it used (`recordTable`) and the model's
    /// settings as params (`trees`, `max_depth`, `seed`, ...; a param the run already has stays).
    static func recordingFit(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            if let run = session.active.last, let id = run.id, case .object(let t as TableValue)? = a["t"] {
                let store = try session.store()
                try recordTable(t, run: id, session)
                if case .object(let s as SpecValue)? = a["spec"], let settings = s.spec.model?.settings {
                    let params = settings.compactMap { k, v -> (String, ParamValue)? in
                        let value = v.language
                        if case .none = value { return nil }
                        return (k, ParamValue(value))
                    }
                    try storing { () throws(StoreError) in
                        for (k, v) in params { try store.addParam(run: id, name: k, value: v) }
                    }
                }
            }
            return try next.run(a, interp)
        }
    }

    /// A seeded builtin that records its seed for the active run as the param
    /// `<name>_seed` (`split_seed`, `cv_seed`, ...), so a run can be reproduced.
    static func recordingSeed(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            if let run = session.active.last, let id = run.id {
                let seed = a["seed"] ?? .int(0)
                let store = try session.store()
                try storing { () throws(StoreError) in
                    try store.addParam(run: id, name: "\(next.name)_seed", value: ParamValue(seed))
                }
            }
            return try next.run(a, interp)
        }
    }

    static func experimentID(_ a: Arguments, _ name: String, _ session: StoreSession) throws(MLShError) -> Int64 {
        let v = try a.value(name)
        if case .object(let e as ExperimentValue) = v { return e.id }
        guard case .string(let s) = v else {
            throw MLShError.type("\(a.function): '\(name)' must be an experiment (from experiment(\"name\")) or its name, got \(v.typeName)")
        }
        let store = try session.existingStore(a.function)
        return try storing { () throws(StoreError) in try store.existingExperiment(s) }
    }

    static func runID(_ a: Arguments, _ name: String) throws(MLShError) -> Int64 {
        let v = try a.value(name)
        switch v {
        case .object(let r as RunValue):
            guard let id = r.id else { throw MLShError(.store, "\(a.function): that run has not started") }
            return id
        case .int(let i): return i
        default: throw MLShError.type("\(a.function): '\(name)' must be a run or a run id, got \(v.typeName)")
        }
    }

    /// `log`: metrics, tags and artifacts into the active run, or (one plain argument) the natural logarithm.
    static func log(_ session: StoreSession, math: Builtin?) -> Builtin {
        Builtin("log", ["metrics=none", "step=none", "**"], category: "experiments",
                summary: "Logs into the active run: a metrics record, or name=value pairs — numbers are metrics (step= keeps a history), strings are tags, tables, plots and records are artifacts. log(x) of a number is the natural logarithm.",
                example: "log(loss=l, step=i, note=\"baseline\")") { a, interp throws(MLShError) in
            if let math, a.named.isEmpty, a["step"] == nil, let x = a["metrics"] {
                switch x {
                case .object(is MetricsValue), .record: break
                default: return try math.call([x], interp)
                }
            }
            let run = try session.current("log")
            guard let id = run.id else { return .none }
            let step: Int64? = a["step"] == nil ? nil : Int64(try a.int("step"))
            var pairs: [(String, Value)] = a.named
            switch a["metrics"] {
            case nil: break
            case .object(let m as MetricsValue)?: pairs = m.metrics.values.map { ($0.0, .float($0.1)) } + pairs
            case .record(let r)?: pairs = r.pairs + pairs
            case let v?: throw MLShError.type("log: expected a metrics record or name=value pairs, got \(v.typeName)")
            }
            if pairs.isEmpty { throw MLShError.type("log needs metrics: log(evaluate(m, test)) or log(name=value, ...)") }
            let now = Date().timeIntervalSince1970
            for (k, v) in pairs {
                if let d = v.number {
                    try session.log(run: id, MetricPoint(name: k, step: step, value: d, at: now))
                    continue
                }
                let store = try session.store()
                switch v {
                case .string(let text):
                    try storing { () throws(StoreError) in try store.setTag(run: id, name: k, value: text) }
                case .record, .object(is TableValue), .object(is PlotValue):
                    try attach(v, name: k, run: id, store: store, "log")
                default:
                    throw MLShError.type("log: '\(k)' must be a number (a metric), a string (a tag), or a table, plot or record (an artifact), got \(v.typeName)")
                }
            }
            return .none
        }
    }

    /// Stores a value as a run's artifact: a table as CSV, a plot as SVG, a record as JSON,
    /// a string naming an existing file as that file's bytes.
    static func attach(_ v: Value, name: String, run: Int64, store: Store, _ function: String) throws(MLShError) {
        let bytes: [UInt8], kind: String
        switch v {
        case .object(let t as TableValue): (bytes, kind) = (CSV.encode(t.table), "csv")
        case .object(let p as PlotValue): (bytes, kind) = (Array(p.plot.svg().utf8), "svg")
        case .record:
            var w = JSONWriter()
            w.write(json(v))
            (bytes, kind) = (w.bytes, "json")
        case .string(let path):
            // Regular files only: reading a FIFO or a device could block or never end.
            let type = (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
            guard type == .typeRegular, let data = FileManager.default.contents(atPath: path) else {
                throw MLShError(.store, "\(function): '\(path)' is not a readable file")
            }
            let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
            (bytes, kind) = ([UInt8](data), ["csv", "json", "svg"].contains(ext) ? ext : "file")
        default:
            throw MLShError.type("\(function): an artifact is a table, a plot, a record or a file's path, got \(v.typeName)")
        }
        try storing { () throws(StoreError) in
            try StoreName.validate(name, "artifact")
            let hash = try store.putArtifact(bytes)
            try store.attach(run: run, name: name, hash: hash, kind: kind, size: bytes.count)
        }
    }

    /// A record (or any value) as JSON: other values by their inline text.
    static func json(_ v: Value) -> JSON {
        switch v {
        case .none: .null
        case .bool(let b): .bool(b)
        case .int(let i): .number(Double(i))
        case .float(let d): .number(d)
        case .string(let s): .string(s)
        case .list(let xs): .array(xs.map(json))
        case .record(let r): .object(r.pairs.map { ($0.0, json($0.1)) })
        default: .string(v.inline())
        }
    }

    /// A run's artifact read back: a table (CSV), a record (JSON), a model, or text.
    static func readArtifact(run: Int64, name: String, store: Store) throws(MLShError) -> Value {
        let all = try storing { () throws(StoreError) in try store.artifacts(run: run) }
        guard let found = all.first(where: { $0.name == name }) else {
            let names = all.map(\.name)
            throw MLShError(.store, "artifact: run \(run) has no artifact named '\(name)'"
                            + (names.isEmpty ? " (it has none)" : " (it has: \(names.joined(separator: ", ")))"))
        }
        if found.kind == "model" {
            return .object(ModelValue(try storing { () throws(StoreError) in try store.model(found.hash) }))
        }
        let bytes = try storing { () throws(StoreError) in try store.artifact(found.hash) }
        switch found.kind {
        case "csv":
            return .object(TableValue(try engine { () throws(EngineError) in try CSV.read(data: bytes, name: name) }))
        case "json":
            do { return languageValue(try JSONParser.parse(String(decoding: bytes, as: UTF8.self))) } catch {
                throw MLShError(.store, "artifact: '\(name)' of run \(run) is not valid JSON: \(error.message)")
            }
        default:
            guard let text = String(bytes: bytes, encoding: .utf8) else {
                throw MLShError(.store, "artifact: '\(name)' of run \(run) is binary (\(bytes.count) bytes), not text")
            }
            return .string(text)
        }
    }

    static func builtins(_ session: StoreSession) -> [Builtin] { [
        Builtin("use_store", ["path=none", "artifacts=none"], category: "experiments",
                summary: "Uses the store in a folder (created on first write) or a PostgreSQL database (\"postgres://user:pass@host/db\"); with no path, a fresh temporary folder, deleted when the session ends. A PostgreSQL store keeps its artifacts in the database, or in the shared folder `artifacts` names (recorded in the database the first time, so later sessions find it; given again, it overrides the recorded one for this session).",
                example: "use_store(\"postgres://ann:pw@db/team\", artifacts=\"/mnt/mlsh-artifacts\")") { a, interp throws(MLShError) in
            let artifacts = try a.optionalString("artifacts")
            if let path = try a.optionalString("path") {
                try session.use(path, artifacts: artifacts)
                // A wrong pairing is said here, not at the first write.
                if artifacts != nil { _ = try session.store() }
            } else if artifacts != nil {
                throw MLShError.value("use_store: artifacts names a PostgreSQL store's shared folder; a temporary store is a folder, whose artifacts are its own")
            } else {
                try session.use(NSTemporaryDirectory() + "/mlsh-store-" + UUID().uuidString, temporary: true)
            }
            return .none
        },
        Builtin("experiment", ["name"], category: "experiments",
                summary: "The experiment with this name, created when new.",
                example: "let exp = experiment(\"diabetes-ridge\")") { a, interp throws(MLShError) in
            if session.scriptPath == nil { session.scriptPath = interp.scriptPath }
            let name = try a.string("name"), store = try session.store()
            let id = try storing { () throws(StoreError) in try store.experiment(name) }
            return .object(ExperimentValue(name: name, id: id))
        },
        Builtin("run", ["exp", "**"], category: "experiments",
                summary: "A run of an experiment; named arguments are its params. Recorded while entered with `with`.",
                example: "with run(exp, alpha=0.1) { log(rmse=0.3) }") { a, interp throws(MLShError) in
            if session.scriptPath == nil { session.scriptPath = interp.scriptPath }
            let exp = try experimentID(a, "exp", session)
            return .object(RunValue(session: session, experiment: exp, params: a.named.map { ($0.0, ParamValue($0.1)) }))
        },
        Builtin("log_model", ["m"], category: "experiments",
                summary: "Stores a fitted model as the active run's model artifact.",
                example: "log_model(m)") { a, _ throws(MLShError) in
            let run = try session.current("log_model")
            let m = try a.fitted("m"), store = try session.store()
            guard let id = run.id else { return .none }
            try storing { () throws(StoreError) in
                let bytes = try ModelFile.encode(m, mlshVersion: Runtime.version)
                let hash = try store.putArtifact(bytes)
                try store.attach(run: id, name: "model", hash: hash, kind: "model", size: bytes.count)
            }
            return .none
        },
        Builtin("log_artifact", ["x", "name=none"], category: "experiments",
                summary: "Stores an artifact in the active run: a table (as CSV), a plot (SVG), a record (JSON) or a file (its path; named after it by default).",
                example: "log_artifact(confusion(m, test), \"confusion\")") { a, _ throws(MLShError) in
            let run = try session.current("log_artifact")
            let x = try a.value("x"), store = try session.store()
            guard let id = run.id else { return .none }
            var name = try a.optionalString("name")
            if name == nil, case .string(let path) = x { name = URL(fileURLWithPath: path).lastPathComponent }
            guard let name else { throw MLShError.type("log_artifact needs a name for a \(x.typeName): log_artifact(x, \"name\")") }
            try attach(x, name: name, run: id, store: store, "log_artifact")
            return .none
        },
        Builtin("artifact", ["run", "name"], category: "experiments",
                summary: "A run's artifact read back: a table (CSV), a record (JSON), a model, or text (SVG and other files).",
                example: "artifact(best_run(exp, \"rmse\"), \"confusion\")") { a, _ throws(MLShError) in
            let id = try runID(a, "run"), name = try a.string("name"), store = try session.existingStore(a.function)
            return try readArtifact(run: id, name: name, store: store)
        },
        Builtin("runs", ["exp"], category: "experiments",
                summary: "A table of an experiment's runs: run_id status started duration, params, last metrics, then tags, parent_run and error.",
                example: "runs(exp) |> sort($rmse) |> head(3)") { a, _ throws(MLShError) in
            try session.flush()
            let exp = try experimentID(a, "exp", session), store = try session.store()
            let records = try storing { () throws(StoreError) in try store.runRecords(experiment: exp) }
            return .object(TableValue(try runsTable(records)))
        },
        Builtin("best_run", ["exp", "metric", "lower=none"], category: "experiments",
                summary: "The finished run with the best value of a metric: lowest for errors and losses (rmse, cv_rmse, val_loss, ...), highest for scores (r2, auc, ...); lower=true|false says it outright.",
                example: "best_run(exp, \"cv_rmse\")") { a, _ throws(MLShError) in
            try session.flush()
            let exp = try experimentID(a, "exp", session), metric = try a.string("metric"), store = try session.store()
            let lower: Bool
            if a["lower"] != nil {
                lower = try a.bool("lower")
            } else if let known = Metrics.lowerIsBetter(metric) {
                lower = known
            } else {
                lower = false
                FileHandle.standardError.write(Data("best_run: the name '\(metric)' does not say whether lower is better; took the highest (lower=true takes the lowest)\n".utf8))
            }
            let records = try storing { () throws(StoreError) in try store.runRecords(experiment: exp) }
            var best: (Int64, Double)?
            for r in records where r.status == "finished" {
                guard let v = r.metrics.first(where: { $0.0 == metric })?.1, !v.isNaN else { continue }
                if let b = best, lower ? v >= b.1 : v <= b.1 { continue }
                best = (r.id, v)
            }
            guard let best else { throw MLShError(.store, "best_run: no finished run logged '\(metric)'") }
            return .object(RunValue(session: session, id: best.0, experiment: exp))
        },
        Builtin("history", ["run", "metric"], category: "experiments",
                summary: "A metric's history in a run (or run id): a table of step, value.",
                example: "history(r, \"loss\")") { a, _ throws(MLShError) in
            try session.flush()
            let id = try runID(a, "run"), metric = try a.string("metric"), store = try session.existingStore(a.function)
            let h = try storing { () throws(StoreError) in try store.history(run: id, metric: metric) }
            let t = try engine { () throws(EngineError) in
                try Table(names: ["step", "value"], columns: [Column(ints: h.map(\.0)), Column(floats: h.map(\.1))])
            }
            return .object(TableValue(t))
        },
    ] }

    /// One row per run; params and metrics as columns (ints, else numbers as floats, else
    /// strings), then `tags` (`name=value, ...`; when a run has one), `parent_run` (when a run
    /// has one) and `error`. A param or metric named like a fixed column is not shown.
    /// One param across runs (nil: a run without it): ints, else numbers, else text.
    static func paramColumn(_ vals: [ParamValue?]) -> Column {
        let ints = vals.map { v -> Int64? in if case .int(let i)? = v { i } else { nil } }
        if vals.allSatisfy({ v in if case .int? = v { true } else { v == nil } }) {
            return Column(ints: ints.map { $0 ?? 0 }, validity: ints.map { $0 != nil })
        }
        let numeric = vals.allSatisfy { v in
            switch v { case .int?, .float?, nil: true; default: false }
        }
        if numeric {
            return Column(floats: vals.map { v in
                switch v { case .int(let i)?: Double(i); case .float(let d)?: d; default: .nan }
            })
        }
        return Column(strings: vals.map { $0?.text })
    }

    static func runsTable(_ records: [RunRecord]) throws(MLShError) -> Table {
        var trailing: [(String, Column)] = []
        if records.contains(where: { !$0.tags.isEmpty }) {
            trailing.append(("tags", Column(strings: records.map { r in r.tags.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") })))
        }
        if records.contains(where: { $0.parent != nil }) {
            trailing.append(("parent_run", Column(ints: records.map { $0.parent ?? 0 }, validity: records.map { $0.parent != nil })))
        }
        trailing.append(("error", Column(strings: records.map(\.error))))
        let reserved = Set(trailing.map(\.0))
        var names = ["run_id", "status", "started", "duration"]
        var columns = [
            Column(ints: records.map(\.id)),
            Column(strings: records.map(\.status)),
            Column(strings: records.map { formatTime($0.started) }),
            Column(floats: records.map { r in r.ended.map { $0 - r.started } ?? .nan }),
        ]
        var paramNames: [String] = [], metricNames: [String] = []
        for r in records {
            for (k, _) in r.params where !paramNames.contains(k) { paramNames.append(k) }
            for (k, _) in r.metrics where !metricNames.contains(k) { metricNames.append(k) }
        }
        for p in paramNames where !names.contains(p) && !reserved.contains(p) {
            names.append(p)
            columns.append(paramColumn(records.map { r in r.params.first { $0.0 == p }?.1 }))
        }
        for m in metricNames where !names.contains(m) && !reserved.contains(m) {
            names.append(m)
            columns.append(Column(floats: records.map { r in r.metrics.first { $0.0 == m }?.1 ?? .nan }))
        }
        names += trailing.map(\.0)
        columns += trailing.map(\.1)
        return try engine { () throws(EngineError) in try Table(names: names, columns: columns, label: "runs") }
    }
}
