import MLShEngine
import MLShLanguage
import MLShModels
import MLShStore

extension StoreLibrary {
    /// A model version argument: a version value or a `name@selector` string.
    static func modelVersion(_ a: Arguments, _ name: String, _ session: StoreSession) throws(MLShError) -> ModelVersionRecord {
        let v = try a.value(name)
        if case .object(let mv as ModelVersionValue) = v { return mv.version }
        guard case .string(let ref) = v else {
            throw MLShError.type("\(a.function): '\(name)' must be a model version (from register or model) or \"name@version\", got \(v.typeName)")
        }
        let store = try session.existingStore(a.function)
        return try storing { () throws(StoreError) in try store.resolve(ref) }
    }

    static func registryBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("register", ["m", "name"], category: "registry",
                summary: "Registers a model (or a run's logged model) as the next version of a name: name@N.",
                example: "let v = register(best.model, \"diabetes\")") { a, _ throws(MLShError) in
            let name = try a.string("name"), store = try session.store()
            let v = try a.value("m")
            let activeRun = session.active.last?.id
            let record: ModelVersionRecord
            switch v {
            case .object(let m as ModelValue):
                record = try storing { () throws(StoreError) in
                    try StoreName.validate(name, "model")
                    let hash = try store.putModel(m.model, mlshVersion: Runtime.version)
                    var run = activeRun
                    if run == nil { run = try store.runProducing(model: hash) }
                    return try store.register(name: name, artifact: hash, run: run)
                }
            case .object(let r as RunValue):
                guard let id = r.id else { throw MLShError(.store, "register: that run has not started") }
                record = try storing { () throws(StoreError) in
                    guard let hash = try store.runArtifact(run: id, name: "model") else {
                        throw StoreError("run \(id) has no model: call log_model(m) inside the run")
                    }
                    return try store.register(name: name, artifact: hash, run: id)
                }
            default:
                throw MLShError.type("register: 'm' must be a fitted model or a run with a logged model, got \(v.typeName)")
            }
            return .object(ModelVersionValue(session: session, record))
        },
        Builtin("alias", ["v", "alias"], category: "registry",
                summary: "Points an alias (\"production\") of a model at a version.",
                example: "alias(v, \"production\")") { a, _ throws(MLShError) in
            let v = try modelVersion(a, "v", session), alias = try a.string("alias"), store = try session.store()
            let updated = try storing { () throws(StoreError) in
                try store.setAlias(name: v.name, version: v.version, alias: alias)
                return try store.resolve(v.label)
            }
            return .object(ModelVersionValue(session: session, updated))
        },
        Builtin("model", ["ref"], category: "registry",
                summary: "A registered model version: \"name@alias\", \"name@N\" or \"name@latest\"; .model loads it.",
                example: "let prod = model(\"diabetes@production\")") { a, _ throws(MLShError) in
            let asked: String? = if case .string(let ref)? = a["ref"] { ref } else { nil }
            return .object(ModelVersionValue(session: session, try modelVersion(a, "ref", session), asked: asked))
        },
        Builtin("models", [], category: "registry",
                summary: "A table of registered model versions: name version aliases run created.",
                example: "models()") { _, _ throws(MLShError) in
            var vs: [ModelVersionRecord] = []
            if session.exists {
                let store = try session.store()
                vs = try storing { () throws(StoreError) in try store.versions() }
            }
            let t = try StoreTables.models(vs)
            return .object(TableValue(t))
        },
        Builtin("lineage", ["v"], category: "registry",
                summary: "Where a model version came from: {run, params, metrics, datasets, script, script_hash, mlsh_version, retrain} (retrain: the attempt that trained it, with the window of labeled requests it was given, or none).",
                example: "lineage(model(\"diabetes@production\"))") { a, _ throws(MLShError) in
            try session.flush()
            let v = try modelVersion(a, "v", session), store = try session.store()
            guard let runID = v.run else {
                return .record(Record([("run", .none), ("params", .record(Record())), ("metrics", .record(Record())),
                                       ("datasets", .list([])), ("script", .none), ("script_hash", .none), ("mlsh_version", .none),
                                       ("retrain", .none)]))
            }
            let r = try storing { () throws(StoreError) in try store.run(runID) }
            let attempt = try storing { () throws(StoreError) in try store.retrain(run: runID) }
            return .record(Record([
                ("run", .int(r.id)),
                ("params", .record(Record(r.params.map { ($0.0, $0.1.language) }))),
                ("metrics", .record(Record(r.metrics.map { ($0.0, .float($0.1)) }))),
                ("datasets", .list(r.datasets.map { .string($0) })),
                ("script", r.script.map { .string($0) } ?? .none),
                ("script_hash", r.scriptHash.map { .string($0) } ?? .none),
                ("mlsh_version", r.mlshVersion.map { .string($0) } ?? .none),
                ("retrain", attempt.map { t in .record(Record([
                    ("attempt", .int(t.id)), ("trigger", .string(t.trigger)), ("decision", .string(t.decision)),
                    ("since", t.since.map { .string(formatTime($0)) } ?? .none), ("until", t.until.map { .string(formatTime($0)) } ?? .none),
                    ("holdout", t.holdout.map { .int(Int64($0)) } ?? .none),
                ])) } ?? .none),
            ]))
        },
    ] }
}
