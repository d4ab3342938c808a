import MLShLanguage
import MLShModels
import MLShStore

extension ParamValue {
    /// The parameter as a language value.
    var language: Value {
        switch self {
        case .int(let i): .int(i)
        case .float(let d): .float(d)
        case .bool(let b): .bool(b)
        case .string(let s): .string(s)
        }
    }
    /// A language value as a parameter (other values by their inline text).
    init(_ v: Value) {
        switch v {
        case .int(let i): self = .int(i)
        case .float(let d): self = .float(d)
        case .bool(let b): self = .bool(b)
        case .string(let s): self = .string(s)
        default: self = .string(v.inline())
        }
    }
}

/// An experiment: a named group of runs.
final class ExperimentValue: DomainObject {
    let name: String
    let id: Int64
    init(name: String, id: Int64) { self.name = name; self.id = id }

    var typeName: String { "experiment" }
    func render() -> String { "experiment \(name) (id \(id))" }
    var summary: String { "<experiment \(name)>" }
    var memberNames: [String] { ["name", "id"] }
    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "name": .string(self.name)
        case "id": .int(id)
        default: nil
        }
    }
    func isEqual(to other: any DomainObject) -> Bool { (other as? ExperimentValue)?.id == id }
}

/// A run: made by `run(exp, **params)`, recorded when entered with `with` (inside another
/// run, as its child), finished (or failed with the error, or killed by Ctrl-C) when left.
/// Members read the store.
final class RunValue: ContextObject, @unchecked Sendable {
    let session: StoreSession
    let experiment: Int64
    let params: [(String, ParamValue)]
    private(set) var id: Int64?

    init(session: StoreSession, experiment: Int64, params: [(String, ParamValue)]) {
        self.session = session; self.experiment = experiment; self.params = params
    }
    init(session: StoreSession, id: Int64, experiment: Int64) {
        self.session = session; self.id = id; self.experiment = experiment; self.params = []
    }

    func enter() throws(MLShError) {
        guard id == nil else { throw MLShError(.store, "run \(id ?? 0) was already entered; make a new one with run(exp)") }
        let store = try session.store()
        let (script, hash) = session.scriptIdentity()
        let exp = experiment, params = params, parent = session.active.last?.id
        let id = try storing { () throws(StoreError) in
            try store.startRun(experiment: exp, name: nil, params: params, parent: parent, script: script, scriptHash: hash,
                               mlshVersion: Runtime.version)
        }
        self.id = id
        session.active.append(self)
        session.opened(store, run: id)
    }

    func exit(error: MLShError?) throws(MLShError) {
        session.active.removeAll { $0 === self }
        guard let id else { return }
        session.closed(run: id)
        try session.flush()
        let store = try session.store()
        try storing { () throws(StoreError) in
            if let error, error.kind == .interrupted {
                try store.killRun(id, reason: "killed by SIGINT (Ctrl-C)")
            } else {
                try store.endRun(id, error: error.map { "\($0.kind): \($0.message)" })
            }
        }
    }

    /// The run as stored now.
    func record() throws(MLShError) -> RunRecord {
        guard let id else { throw MLShError(.store, "this run has not started: enter it with 'with run(exp) { ... }'") }
        try session.flush()
        let store = try session.store()
        return try storing { () throws(StoreError) in try store.run(id) }
    }

    var typeName: String { "run" }
    func render() -> String {
        guard let r = try? record() else { return "run (not started)" }
        var s = "run \(r.id) of \(r.experiment): \(r.status)"
        if let e = r.error { s += " (\(e))" }
        return s
    }
    var summary: String { id.map { "<run \($0)>" } ?? "<run>" }
    var memberNames: [String] {
        ["id", "name", "status", "error", "params", "metrics", "tags", "artifacts", "parent_run", "model", "started", "ended"]
    }
    func member(_ name: String) throws(MLShError) -> Value? {
        if name == "id" { return id.map { .int($0) } ?? Value.none }
        guard memberNames.contains(name) else { return nil }
        let r = try record()
        switch name {
        case "name": return .string(r.name ?? "run \(r.id)")
        case "status": return .string(r.status)
        case "error": return r.error.map { .string($0) } ?? Value.none
        case "tags": return .record(Record(r.tags.map { ($0.0, .string($0.1)) }))
        case "parent_run": return r.parent.map { .int($0) } ?? Value.none
        case "artifacts":
            let store = try session.store()
            return .list(try storing { () throws(StoreError) in try store.artifacts(run: r.id) }.map { .string($0.name) })
        case "params": return .record(Record(r.params.map { ($0.0, $0.1.language) }))
        case "metrics": return .record(Record(r.metrics.map { ($0.0, .float($0.1)) }))
        case "started": return .string(formatTime(r.started))
        case "ended": return r.ended.map { .string(formatTime($0)) } ?? Value.none
        case "model":
            let store = try session.store()
            let m = try storing { () throws(StoreError) -> FittedModel? in
                guard let h = try store.runArtifact(run: r.id, name: "model") else { return nil }
                return try store.model(h)
            }
            return m.map { .object(ModelValue($0)) } ?? Value.none
        default: return nil
        }
    }
    func isEqual(to other: any DomainObject) -> Bool {
        guard let o = other as? RunValue else { return false }
        return o === self || (id != nil && o.id == id)
    }
}

/// A registered model version: `name@N`; `.model` loads the fitted model.
final class ModelVersionValue: DomainObject {
    let session: StoreSession
    let version: ModelVersionRecord
    /// The reference it was looked up by (`diabetes@production`), when it was.
    let asked: String?
    init(session: StoreSession, _ version: ModelVersionRecord, asked: String? = nil) {
        self.session = session; self.version = version; self.asked = asked
    }

    var typeName: String { "model version" }
    func render() -> String {
        version.label + (version.aliases.isEmpty ? "" : " (" + version.aliases.joined(separator: ", ") + ")")
    }
    var summary: String { "<model version \(version.label)>" }
    var memberNames: [String] { ["name", "version", "aliases", "run", "artifact", "model"] }
    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "name": return .string(version.name)
        case "version": return .int(version.version)
        case "aliases": return .list(version.aliases.map { .string($0) })
        case "run": return version.run.map { .int($0) } ?? Value.none
        case "artifact": return .string("sha256:" + version.artifact)
        case "model":
            let store = try session.store(), hash = version.artifact
            return .object(ModelValue(try storing { () throws(StoreError) in try store.model(hash) }))
        default: return nil
        }
    }
    func isEqual(to other: any DomainObject) -> Bool { (other as? ModelVersionValue)?.version == version }
}
