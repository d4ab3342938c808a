import Foundation
import MLShCommon
import MLShEngine
import MLShModels
import MLShServe
import MLShStore

/// What the store commands print (`mlsh runs`, `models`, `lineage`, `gc`): the store in
/// one folder as tables, text or JSON. Reading never creates a store.
public struct StoreListing {
    /// The store folder.
    public let folder: String

    /// A listing of the store in `folder`.
    public init(folder: String) { self.folder = folder }

    /// The store, or nil when there is none yet (reads must not create one).
    public func existing() throws(StoreError) -> Store? {
        guard Store.exists(at: folder) else { return nil }
        return try Store(folder: folder, artifacts: Store.artifactsSetting())
    }

    /// The runs of `experiment` (of every experiment when nil, with an `experiment` column
    /// first), best first by the metric `sort` when given: lowest first when `lower`, else
    /// as the metric's name says (`unknownDirection` is told when it does not: then highest
    /// first). Runs with equal values, or without the metric, keep their order, those
    /// without it last.
    public func runs(experiment: String?, sort: String?, lower: Bool?, json: Bool,
                     unknownDirection: (String) -> Void) throws -> String {
        let s = try existing()
        var records: [RunRecord] = []
        if let experiment {
            guard let s else { throw StoreError("no experiment named '\(experiment)': there is no store at \(folder) yet") }
            let id = try s.existingExperiment(experiment)
            records = try s.runRecords(experiment: id)
        } else if let s {
            records = try s.runRecords(experiment: nil)
        }
        if let sort {
            let lower = lower ?? Metrics.lowerIsBetter(sort) ?? {
                unknownDirection(sort)
                return false
            }()
            let keyed = records.map { r in (r, r.metrics.first { $0.0 == sort }?.1 ?? .nan) }
            records = keyed.enumerated().sorted { x, y in
                let (a, b) = (x.element.1, y.element.1)
                if a.isNaN != b.isNaN { return b.isNaN }
                if a != b && !a.isNaN { return lower ? a < b : a > b }
                return x.offset < y.offset
            }.map(\.element.0)
        }
        if json { return Self.json(.array(records.map(Self.runJSON))) }
        return Self.render(try StoreTables.runs(records, experimentColumn: experiment == nil))
    }

    /// The registered model versions: name, version, aliases, run, created (and the
    /// artifact, in JSON).
    public func models(json: Bool) throws -> String {
        let versions = try existing()?.versions() ?? []
        guard json else { return Self.render(try StoreTables.models(versions)) }
        return Self.json(.array(versions.map { v in
            .object([("name", .string(v.name)), ("version", JSON(v.version)), ("aliases", .array(v.aliases.map(JSON.string))),
                     ("run", v.run.map { JSON($0) } ?? .null), ("created", .string(StoreTables.time(v.created))),
                     ("artifact", .string("sha256:" + v.artifact))])
        }))
    }

    /// The stored data versions: name, version, rows, columns, fingerprint, bytes,
    /// created and the run that made each.
    public func datasets(json: Bool) throws -> String {
        let versions = try existing()?.snapshots() ?? []
        guard json else { return Self.render(try StoreTables.datasets(versions)) }
        return Self.json(.array(versions.map { v in
            .object([("name", .string(v.name)), ("version", JSON(v.version)), ("rows", JSON(Int64(v.rows))),
                     ("columns", JSON(Int64(v.columns))), ("fingerprint", .string(v.fingerprint)), ("bytes", JSON(Int64(v.bytes))),
                     ("created", .string(StoreTables.time(v.created))), ("run", v.run.map { JSON($0) } ?? .null),
                     ("blob", .string("sha256:" + v.blob))])
        }))
    }

    /// The alert transitions servers recorded: model, alert, status, value, at.
    public func alerts(json: Bool) throws -> String {
        let events = try existing()?.alertEvents() ?? []
        guard json else { return Self.render(try StoreTables.alerts(events)) }
        return Self.json(.array(events.map { e in
            .object([("model", .string(e.model)), ("alert", .string(e.name)), ("status", .string(e.status)),
                     ("value", e.value.map(JSON.number) ?? .null), ("at", .string(StoreTables.time(e.at))),
                     ("deployment", e.deployment.map { JSON($0) } ?? .null)])
        }))
    }

    /// The retraining attempts: id, model, trigger, run, versions, figures, decision, times.
    public func retrains(model: String? = nil, json: Bool) throws -> String {
        let records = try existing()?.retrains(model: model) ?? []
        guard json else { return Self.render(try StoreTables.retrains(records)) }
        return Self.json(.array(records.map { r in
            func figures(_ t: String?) -> JSON { t.flatMap { try? JSONParser.parse($0) } ?? .null }
            func int(_ v: Int64?) -> JSON { v.map { JSON($0) } ?? .null }
            return .object([("id", JSON(r.id)), ("model", .string(r.model)), ("trigger", .string(r.trigger)), ("run", int(r.run)),
                            ("champion", int(r.champion)), ("challenger", int(r.challenger)), ("holdout", int(r.holdout.map(Int64.init))),
                            ("challenger_figures", figures(r.challengerFigures)), ("champion_figures", figures(r.championFigures)),
                            ("canary_figures", figures(r.canaryFigures)), ("decision", .string(r.decision)),
                            ("error", Self.optional(r.error)), ("started", .string(StoreTables.time(r.started))),
                            ("ended", Self.optional(r.ended.map(StoreTables.time)))])
        }))
    }

    /// The store's alerts as Prometheus alerting rules (YAML) over the servers' `/metrics`.
    public func prometheusRules() throws -> String {
        PrometheusRules.yaml(try existing()?.alertRules() ?? [])
    }

    /// Where a model version (`NAME@N`, `NAME@ALIAS`, `NAME@latest`) came from: run,
    /// params, metrics, datasets, script, script_hash, mlsh_version.
    public func lineage(_ version: String, json: Bool) throws -> String {
        guard let s = try existing() else {
            throw StoreError("unknown model version '\(version)': there is no store at \(folder) yet")
        }
        let v = try s.resolve(version)
        let r = try v.run.map { id throws(StoreError) in try s.run(id) }
        let attempt = try v.run.flatMap { id throws(StoreError) in try s.retrain(run: id) }
        let window = attempt.map { t in
            "attempt \(t.id) (\(t.trigger), \(t.decision)): labeled requests " + (t.since.map { "from \(formatTime($0)) " } ?? "")
                + (t.until.map { "until \(formatTime($0))" } ?? "") + (t.holdout.map { ", \($0) held out" } ?? "")
        }
        if json {
            let full = r.map(Self.runJSON)
            return Self.json(.object([
                ("model", .string(v.label)), ("run", v.run.map { JSON($0) } ?? .null),
                ("params", full?["params"] ?? .object([])), ("metrics", full?["metrics"] ?? .object([])),
                ("datasets", .array((r?.datasets ?? []).map(JSON.string))),
                ("script", Self.optional(r?.script)), ("script_hash", Self.optional(r?.scriptHash)),
                ("mlsh_version", Self.optional(r?.mlshVersion)), ("retrain", Self.optional(window)),
            ]))
        }
        let params = r?.params.map { "\($0.0)=\($0.1.text)" }.joined(separator: ", ") ?? ""
        let metrics = r?.metrics.map { "\($0.0)=\($0.1.isNaN ? "NA" : String($0.1))" }.joined(separator: ", ") ?? ""
        var lines = [v.label + (v.aliases.isEmpty ? "" : " (" + v.aliases.joined(separator: ", ") + ")")]
        lines.append("run: " + (v.run.map(String.init) ?? "none"))
        lines.append("params: " + params)
        lines.append("metrics: " + metrics)
        lines.append("datasets: " + (r?.datasets.joined(separator: ", ") ?? ""))
        lines.append("script: " + (r?.script ?? "none"))
        lines.append("script_hash: " + (r?.scriptHash ?? "none"))
        lines.append("mlsh_version: " + (r?.mlshVersion ?? "none"))
        if let window { lines.append("retrain: " + window) }
        return lines.joined(separator: "\n")
    }

    /// The artifacts no run and no model version references, untouched for `minAge`
    /// seconds, one line each and a total; removed when `delete`.
    public func garbage(delete: Bool, minAge: Double) throws -> String {
        guard let s = try existing() else { return "no store at \(folder); nothing to remove" }
        let garbage = try s.collectGarbage(delete: delete, minAge: max(0, minAge))
        let total = garbage.reduce(0) { $0 + $1.bytes }
        var lines = garbage.map { "\($0.hash)  \($0.bytes) bytes" }
        let n = garbage.count, what = "\(n) unreferenced artifact\(n == 1 ? "" : "s"), \(total) bytes"
        lines.append(delete ? "removed \(what)" : (n == 0 ? "nothing to remove" : "would remove \(what) (run with --yes to delete)"))
        return lines.joined(separator: "\n")
    }

    /// A table as text, every row and column shown.
    static func render(_ t: Table) -> String {
        TableFormatter(maxRows: max(10, t.rowCount), maxColumns: max(12, t.columns.count), maxCellWidth: 40)
            .render(t, name: t.label)
    }

    /// JSON text, pretty, keys in Foundation's `sortedKeys` order (`fold2` before `fold10`).
    static func json(_ value: JSON) -> String {
        JSONWriter.text(value.sortingKeys { $0.compare($1, options: [.numeric, .caseInsensitive, .forcedOrdering]) == .orderedAscending },
                        pretty: true)
    }

    /// An object of name-value pairs; a name given twice keeps its last value.
    static func object<V>(_ pairs: [(String, V)], _ value: (V) -> JSON) -> JSON {
        .object(Dictionary(pairs.map { ($0.0, value($0.1)) }, uniquingKeysWith: { _, b in b }).map { ($0.key, $0.value) })
    }

    static func paramJSON(_ v: ParamValue) -> JSON {
        switch v {
        case .int(let i): JSON(i)
        case .float(let d): .number(d)
        case .bool(let b): .bool(b)
        case .string(let s): .string(s)
        }
    }

    static func optional(_ v: String?) -> JSON { v.map(JSON.string) ?? .null }

    static func runJSON(_ r: RunRecord) -> JSON {
        .object([
            ("experiment", .string(r.experiment)),
            ("run_id", JSON(r.id)),
            ("status", .string(r.status)),
            ("error", optional(r.error)),
            ("started", .string(StoreTables.time(r.started))),
            ("ended", optional(r.ended.map(StoreTables.time))),
            ("duration", r.ended.map { .number($0 - r.started) } ?? .null),
            ("params", object(r.params, paramJSON)),
            ("metrics", object(r.metrics, JSON.number)),
            ("tags", object(r.tags, JSON.string)),
            ("parent_run", r.parent.map { JSON($0) } ?? .null),
        ])
    }
}
