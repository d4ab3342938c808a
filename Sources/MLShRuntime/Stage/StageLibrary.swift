import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShStore

/// How stages behave in a session.
public struct StageOptions: @unchecked Sendable {
    /// Evaluate every stage and refresh the cache (`mlsh run --no-cache`).
    public var noCache: Bool
    /// Say nothing on stderr about stages (`--quiet`).
    public var quiet: Bool
    /// Set by `mlsh stages`: where stages report their status.
    var walk: StageWalk?
    public init(noCache: Bool = false, quiet: Bool = false) { self.noCache = noCache; self.quiet = quiet }
}

/// What a stage read while it ran, checked before its cached value is reused: a param
/// (`value` the identity of what `param` returned, `fallback` that of its default), a file
/// `load` read (`name` its absolute path, `value` its SHA-256), or the latest version of a
/// dataset (`value` the version number).
struct StageRead: Equatable, Sendable {
    var kind: String
    var name: String
    var value: String
    var shown: String
    var fallback: String = ""

    var json: JSON {
        .object([("kind", .string(kind)), ("name", .string(name)), ("value", .string(value)), ("shown", .string(shown)),
                 ("fallback", .string(fallback))])
    }

    init(kind: String, name: String, value: String, shown: String, fallback: String = "") {
        self.kind = kind; self.name = name; self.value = value; self.shown = shown; self.fallback = fallback
    }

    init?(_ json: JSON) {
        guard case .string(let k)? = json["kind"], case .string(let n)? = json["name"], case .string(let v)? = json["value"],
              case .string(let s)? = json["shown"] else { return nil }
        var f = ""
        if case .string(let x)? = json["fallback"] { f = x }
        self.init(kind: k, name: n, value: v, shown: s, fallback: f)
    }

    /// Why this read no longer holds (`param alpha changed`), nil while it does.
    func change(_ interp: Interpreter, _ store: Store) -> String? {
        switch kind {
        case "param":
            let now = interp.params[name].map { (try? StageIdentity.of($0)) ?? "" } ?? fallback
            return now == value ? nil : "param \(name) changed"
        case "file":
            guard let hash = try? store.fileHash(path: name) else { return "input \(shown) is missing" }
            return hash == value ? nil : "input \(shown) changed"
        case "dataset":
            guard let latest = try? store.snapshot(name) else { return "dataset \(name) is missing" }
            return String(latest.version) == value ? nil : "dataset \(shown) has a new version (@\(latest.version))"
        default:
            return "unknown dependency \(kind)"
        }
    }
}

/// One name a stage's function reads from outside: its identity and how reasons name it
/// when it changes (`upstream clean`, `input data/raw.csv`, `input raw`).
struct StageInput {
    var name: String
    var identity: String
    var noun: String
}

/// The parts of a stage's cache key.
struct StageKey {
    var name: String
    var code: String
    var inputs: [StageInput]
    /// Stale stages whose values this one reads (only under `mlsh stages`).
    var pendingUpstream: [String] = []

    var key: String {
        var text = "mlsh-stage-1\n\(name)\n\(Runtime.version)\n\(code)\n"
        for i in inputs { text += "\(i.name)=\(i.identity)\n" }
        return StageIdentity.digest(text)
    }

    var json: JSON {
        .object([("code", .string(code)), ("mlsh", .string(Runtime.version)),
                 ("inputs", .array(inputs.map { .object([("name", .string($0.name)), ("identity", .string($0.identity)), ("noun", .string($0.noun))]) }))])
    }
}

extension StoreLibrary {
    static func stageBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("stage", ["name", "f"], category: "pipelines",
                summary: "Evaluates f() once and caches its value in the store, keyed by f's code, what it reads (tables, models, params, files) and the mlsh version; a later run with the same key returns the cached value.",
                example: #"let clean = stage("clean", fn() => raw |> filter($age >= 0))"#) { a, interp throws(MLShError) in
            let name = try a.string("name")
            try storing { () throws(StoreError) in try StoreName.validate(name, "stage") }
            let fv = try a.value("f")
            guard case .function(let f) = fv, !f.isBuiltin else {
                throw MLShError.type("stage \(name): 'f' must be a function written in mls, like fn() => ..., got \(fv.typeName)")
            }
            if let p = f.requiredParameters.first {
                throw MLShError.type("stage \(name): its function takes no arguments (it is called as f()), but needs '\(p)'")
            }
            return try runStage(name, f, session, interp)
        },
    ] }

    /// `param`: a stage being evaluated depends on the value it returns.
    static func recordingParam(_ original: Builtin, _ session: StoreSession) -> Builtin {
        original.wrapped { a, interp, next throws(MLShError) in
            let v = try next.run(a, interp)
            if !session.stageReads.isEmpty, let name = try? a.string("name") {
                let identity = (try? StageIdentity.of(v)) ?? v.inline()
                let fallback = (try? StageIdentity.of(a["default"] ?? .none)) ?? ""
                session.noteStageRead(StageRead(kind: "param", name: name, value: identity, shown: name, fallback: fallback))
            }
            return v
        }
    }

    /// The script a stage belongs to (its absolute path), nil at the prompt.
    static func stageScript(_ interp: Interpreter) -> String? {
        interp.scriptPath.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
    }

    /// The key of stage `name` with function `f`, from the code and what `f` reads now.
    static func stageKey(_ name: String, _ f: Function, _ session: StoreSession) throws(MLShError) -> StageKey {
        var key = StageKey(name: name, code: StageIdentity.digest(f.normalizedSource ?? ""), inputs: [])
        for (n, v) in f.capturedValues {
            do {
                let identity = try StageIdentity.of(v)
                if identity.hasPrefix("builtin:") { continue }
                key.inputs.append(StageInput(name: n, identity: identity, noun: noun(n, v, identity, session)))
            } catch let p as StageIdentity.Pending {
                if !key.pendingUpstream.contains(p.stage) { key.pendingUpstream.append(p.stage) }
            } catch let u as StageIdentity.Unkeyable {
                throw MLShError.type("stage \(name): it reads '\(n)', a \(u.typeName), which cannot be part of a cache key; give the stage the values it needs instead")
            } catch let e as MLShError {
                throw MLShError(e.kind, "stage \(name): reading '\(n)': \(e.message)")
            } catch {
                throw MLShError(.store, "stage \(name): reading '\(n)': \(error)")
            }
        }
        return key
    }

    /// How a reason names a changed input.
    static func noun(_ name: String, _ v: Value, _ identity: String, _ session: StoreSession) -> String {
        if case .object(let t as TableValue) = v {
            switch t.origin {
            case .file(let shown, _)?: return "input \(shown)"
            case .snapshot(let label)?: return "dataset \(label)"
            case .stage(let s)?: return "upstream \(s)"
            case nil: break
            }
        }
        if let s = session.stageSources[identity] { return "upstream \(s)" }
        return "input \(name)"
    }

    /// Evaluates or reuses a stage (under `mlsh stages`, reports it, evaluating it only
    /// when the script cannot be walked without).
    static func runStage(_ name: String, _ f: Function, _ session: StoreSession, _ interp: Interpreter) throws(MLShError) -> Value {
        let key = try stageKey(name, f, session)
        let script = stageScript(interp)
        if let walk = session.stageWalk, !walk.evaluates {
            return try walk.visit(name, key, script, session, interp)
        }
        let store = try session.store()
        let hit = session.stageOptions.noCache ? nil : try cached(key, name, store, interp)
        if let walk = session.stageWalk {
            walk.note(name, cached: hit?.0, why: hit == nil ? reasons(key, script, store, interp) : [])
        }
        if let (entry, value) = hit {
            session.stageSources[(try? StageIdentity.of(value)) ?? ""] = name
            for read in reads(entry) ?? [] { session.noteStageRead(read) }
            try recordCachedInputs(f, entry, session)
            say(session, "stage \(name): cached (\(formatBytes(entry.bytes)), saved \(formatSeconds(entry.seconds)))")
            try logCached(true, session)
            return value
        }
        let why = session.stageOptions.noCache ? "--no-cache" : reasons(key, script, store, interp).joined(separator: ", ")
        session.stageReads.append([])
        let start = DispatchTime.now().uptimeNanoseconds
        let value: Value
        do throws(MLShError) { value = try interp.call(.function(f), []) } catch {
            session.stageReads.removeLast()
            throw error
        }
        let reads = session.stageReads.removeLast()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let stored = try StageCodec.encode(value, stage: name, store: store)
        let valueText = JSONWriter.text(stored.json)
        let entry = StageEntry(name: name, script: script, key: key.key, inputs: JSONWriter.text(key.json),
                               reads: JSONWriter.text(.array(reads.map(\.json))), value: valueText,
                               bytes: stored.bytes + valueText.utf8.count, seconds: seconds, created: Date().timeIntervalSince1970)
        _ = try storing { () throws(StoreError) in try store.saveStage(entry, blobs: stored.blobs) }
        session.stageSources[(try? StageIdentity.of(value)) ?? ""] = name
        say(session, "stage \(name): ran in \(formatSeconds(seconds)) (\(why)), stored \(formatBytes(entry.bytes))")
        try logCached(false, session)
        return value
    }

    /// The cached value under this key whose reads still hold, if any; one that cannot be
    /// read back is skipped with a warning.
    static func cached(_ key: StageKey, _ name: String, _ store: Store, _ interp: Interpreter) throws(MLShError) -> (StageEntry, Value)? {
        let entries = try storing { () throws(StoreError) in try store.stageEntries(key: key.key) }
        for entry in entries where readsHold(entry, store, interp) {
            // A damaged cache entry (a blob changed on disk) is computed again, with a warning.
            do throws(MLShError) {
                let json: JSON
                do { json = try JSONParser.parse(entry.value) } catch {
                    throw MLShError(.store, "its cached value is not valid JSON (\(error.message))")
                }
                return (entry, try StageCodec.decode(json, stage: name, store: store))
            } catch {
                FileHandle.standardError.write(Data("stage \(name): the cached value cannot be read (\(error.message)); computing it again\n".utf8))
            }
        }
        return nil
    }

    static func reads(_ entry: StageEntry) -> [StageRead]? {
        guard case .array(let items)? = try? JSONParser.parse(entry.reads) else { return nil }
        let reads = items.compactMap(StageRead.init)
        return reads.count == items.count ? reads : nil
    }

    static func readsHold(_ entry: StageEntry, _ store: Store, _ interp: Interpreter) -> Bool {
        guard let reads = reads(entry) else { return false }
        return reads.allSatisfy { $0.change(interp, store) == nil }
    }

    /// Why a stage is stale: what differs from its latest cached value (`code changed`,
    /// `param alpha changed`, `input data/raw.csv changed`, `upstream clean changed`).
    static func reasons(_ key: StageKey, _ script: String?, _ store: Store, _ interp: Interpreter) -> [String] {
        guard let previous = try? store.latestStage(name: key.name, script: script) else { return ["never run"] }
        var out: [String] = []
        for upstream in key.pendingUpstream { out.append("upstream \(upstream) changed") }
        let before = try? JSONParser.parse(previous.inputs)
        if case .string(let code)? = before?["code"], code != key.code { out.append("code changed") }
        if case .string(let v)? = before?["mlsh"], v != Runtime.version { out.append("mlsh version changed (was \(v))") }
        var earlier: [String: String] = [:]
        if case .array(let items)? = before?["inputs"] {
            for item in items {
                if case .string(let n)? = item["name"], case .string(let i)? = item["identity"] { earlier[n] = i }
            }
        }
        for input in key.inputs where earlier[input.name] != input.identity {
            let reason = earlier[input.name] == nil ? "\(input.noun) added" : "\(input.noun) changed"
            if !out.contains(reason) { out.append(reason) }
        }
        for read in reads(previous) ?? [] {
            if let change = read.change(interp, store), !out.contains(change) { out.append(change) }
        }
        return out.isEmpty ? ["not cached"] : out
    }

    /// Inside a run, a stage served from the cache still records what it used: the tables
    /// it reads, the files it loaded and the data versions it read.
    static func recordCachedInputs(_ f: Function, _ entry: StageEntry, _ session: StoreSession) throws(MLShError) {
        guard let run = session.active.last?.id else { return }
        for (_, v) in f.capturedValues {
            if case .object(let t as TableValue) = v { try recordTable(t, run: run, session) }
        }
        let store = try session.store()
        for read in reads(entry) ?? [] {
            switch read.kind {
            case "file":
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: "sha256:" + read.value, kind: "file", source: read.shown)
                }
            case "dataset":
                let record = try storing { () throws(StoreError) in try store.snapshot(read.shown + "@" + read.value) }
                try storing { () throws(StoreError) in
                    try store.recordDataset(run: run, fingerprint: record.fingerprint, kind: "snapshot", source: record.label)
                }
            default: break
            }
        }
    }

    /// Inside a run: `stage_cached` is true while every stage entered in it came from the cache.
    static func logCached(_ cached: Bool, _ session: StoreSession) throws(MLShError) {
        guard let run = session.active.last?.id else { return }
        let all = (session.stagesCached[run] ?? true) && cached
        session.stagesCached[run] = all
        let store = try session.store()
        try storing { () throws(StoreError) in try store.replaceParam(run: run, name: "stage_cached", value: .bool(all)) }
    }

    static func say(_ session: StoreSession, _ text: String) {
        guard !session.stageOptions.quiet else { return }
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// `3.2 MB`, `812 kB`, `96 B`.
func formatBytes(_ n: Int) -> String {
    let d = Double(n)
    if d >= 1e9 { return String(format: "%.1f GB", d / 1e9) }
    if d >= 1e6 { return String(format: "%.1f MB", d / 1e6) }
    if d >= 1e3 { return String(format: "%.0f kB", d / 1e3) }
    return "\(n) B"
}

/// `4.1 s`, `12 ms`.
func formatSeconds(_ s: Double) -> String {
    s >= 1 ? String(format: "%.1f s", s) : String(format: "%.0f ms", s * 1000)
}
