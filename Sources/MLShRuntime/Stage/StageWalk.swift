import Foundation
import MLShCommon
import MLShLanguage
import MLShStore

/// `mlsh stages FILE`: each stage of a script with its status, `cached` or `stale` and
/// why — the `dvc status` of a script. The script is walked: its top-level
/// `let x = stage(...)` statements, the statements defining what they read, imports and
/// `use_store(...)` run; a cached stage gives its stored value, a stale one is not
/// computed (a stage reading its value is stale too, `upstream NAME changed`), and
/// nothing else runs. A script with a
/// stage anywhere else (in a block, a function, a `with`) is run whole instead, each stage
/// reporting its status before it is computed.
final class StageWalk: @unchecked Sendable {
    /// One stage's status.
    struct Row {
        var name: String
        var cached: Bool
        var why: [String]
        var bytes: Int?
        var seconds: Double?
    }
    /// Whether stages are computed (the script runs whole) or only reported.
    let evaluates: Bool
    private(set) var rows: [Row] = []

    init(evaluates: Bool) { self.evaluates = evaluates }

    func note(_ name: String, cached entry: StageEntry?, why: [String]) {
        rows.append(Row(name: name, cached: entry != nil, why: why, bytes: entry?.bytes, seconds: entry?.seconds))
    }

    /// A stage met while walking: its cached value, or a pending value when it is stale.
    func visit(_ name: String, _ key: StageKey, _ script: String?, _ session: StoreSession, _ interp: Interpreter) throws(MLShError) -> Value {
        guard session.exists else {
            note(name, cached: nil, why: ["never run"])
            return .object(PendingStageValue(stage: name))
        }
        let store = try session.store()
        if key.pendingUpstream.isEmpty, let (entry, value) = try StoreLibrary.cached(key, name, store, interp) {
            session.stageSources[(try? StageIdentity.of(value)) ?? ""] = name
            note(name, cached: entry, why: [])
            return value
        }
        note(name, cached: nil, why: StoreLibrary.reasons(key, script, store, interp))
        return .object(PendingStageValue(stage: name))
    }

    /// The report: a table of stage, status and why; or JSON.
    func report(json: Bool) -> String {
        if json {
            return JSONWriter.text(.array(rows.map { r in
                .object([("stage", .string(r.name)), ("status", .string(r.cached ? "cached" : "stale")),
                         ("why", .array(r.why.map(JSON.string))),
                         ("bytes", r.bytes.map { JSON(Int64($0)) } ?? .null),
                         ("seconds", r.seconds.map(JSON.number) ?? .null)])
            }), pretty: true)
        }
        if rows.isEmpty { return "no stages" }
        let lines = rows.map { r in
            (r.name, r.cached ? "cached" : "stale",
             r.cached ? "\(formatBytes(r.bytes ?? 0)), saves \(formatSeconds(r.seconds ?? 0))" : r.why.joined(separator: ", "))
        }
        let w0 = max(5, lines.map(\.0.count).max() ?? 0), w1 = 6
        func pad(_ s: String, _ w: Int) -> String { s.padding(toLength: max(w, s.count), withPad: " ", startingAt: 0) }
        return ([pad("stage", w0) + "  " + pad("status", w1) + "  why"] + lines.map { pad($0.0, w0) + "  " + pad($0.1, w1) + "  " + $0.2 })
            .map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "\n")
    }
}

extension Runtime {
    /// `mlsh stages FILE`: the status of each stage of a script (see `StageWalk`), as a
    /// table or JSON; the exit code is 1 when the script cannot be walked or run.
    public static func stageStatus(path: String, params: [String: Value], store: String?, json: Bool) -> (text: String, code: Int32) {
        guard let data = FileManager.default.contents(atPath: path) else { return ("error: cannot read '\(path)'", 1) }
        let file = SourceFile(name: path, bytes: Array(data))
        let (statements, errors) = parse(file)
        if let first = errors.first { return (first.render(), 1) }
        let walkable = statements.allSatisfy { s in
            if isStageStatement(s) { return !containsStage(stageArguments(s)) }
            return !containsStage([s])
        }
        let walk = StageWalk(evaluates: !walkable)
        var stages = StageOptions(quiet: true)
        stages.walk = walk
        let options = stages
        return Interpreter.onLargeStack {
            let interp = makeInterpreter(libraries: libraries(store: store, stages: options), params: params)
            interp.display = { _ in }
            interp.output = { _ in }
            do throws(MLShError) {
                if walkable {
                    try walkStatements(statements, interp, path)
                } else {
                    try interp.run(file, scriptPath: path)
                }
            } catch {
                return (walk.report(json: json) + "\n" + error.render(), 1)
            }
            return (walk.report(json: json), 0)
        }
    }

    /// Runs the stage statements and what they need, in order; a statement that fails on
    /// a stale stage's value binds its names to that pending value.
    static func walkStatements(_ statements: [Node], _ interp: Interpreter, _ path: String) throws(MLShError) {
        var needed = Set<String>(), keep = [Bool](repeating: false, count: statements.count)
        for i in statements.indices.reversed() {
            let s = statements[i]
            var take = isStageStatement(s)
            if case .importStmt = s.kind { take = true }
            // `use_store(...)` says where the stages are cached.
            if case .exprStmt(let e, _) = s.kind, case .call(let callee, _) = e.kind, case .name("use_store") = callee.kind { take = true }
            if !take, !defined(by: s).isDisjoint(with: needed) { take = true }
            if take {
                keep[i] = true
                needed.formUnion(namesRead(s))
            }
        }
        interp.begin(scriptPath: path)
        for (i, s) in statements.enumerated() where keep[i] {
            do throws(MLShError) { try interp.execute([s]) } catch {
                let pending = namesRead(s).compactMap { n -> String? in
                    if case .object(let p as PendingStageValue)? = interp.lookup(n) { return p.stage }
                    return nil
                }
                guard let upstream = pending.first else { throw error }
                for n in defined(by: s) { interp.define(n, .object(PendingStageValue(stage: upstream))) }
            }
        }
    }

    /// `let x = stage(...)` or a bare `stage(...)` at top level.
    static func isStageStatement(_ s: Node) -> Bool {
        switch s.kind {
        case .letBind(.name, let value), .exprStmt(let value, _): return isStageCall(value)
        default: return false
        }
    }

    static func isStageCall(_ n: Node) -> Bool {
        if case .call(let callee, _) = n.kind, case .name("stage") = callee.kind { return true }
        return false
    }

    /// The arguments of a stage statement's call.
    static func stageArguments(_ s: Node) -> [Node] {
        switch s.kind {
        case .letBind(_, let value), .exprStmt(let value, _):
            if case .call(_, let args) = value.kind { return args.map(\.value) }
        default: break
        }
        return []
    }

    static func containsStage(_ nodes: [Node]) -> Bool {
        nodes.contains { n in isStageCall(n) || containsStage(n.children) }
    }

    /// The names a statement binds at top level.
    static func defined(by s: Node) -> Set<String> {
        switch s.kind {
        case .letBind(let pattern, _): return Set(pattern.boundNames)
        case .assign(let name, _): return [name]
        default: return []
        }
    }

    /// Every name a statement mentions (a superset of what it reads).
    static func namesRead(_ s: Node) -> Set<String> {
        var out = Set<String>()
        func walk(_ n: Node) {
            if case .name(let name) = n.kind { out.insert(name) }
            n.children.forEach(walk)
        }
        walk(s)
        return out
    }
}
