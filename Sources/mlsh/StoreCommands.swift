import ArgumentParser
import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShRuntime
import MLShStore

/// The store commands (`runs`, `models`, `lineage`, `gc`): read the `.mlsh/` store
/// named by `--store`, else `MLSH_STORE`, else the nearest `.mlsh/` upward. Reads never
/// create a store; errors print `store error: ...` and exit 1.
/// `--store DIR`, shared by every command that reads or writes the store.
struct StoreOption: ParsableArguments {
    @Option(name: .customLong("store"),
            help: "The store folder (default: MLSH_STORE, else the nearest .mlsh/ upward).")
    var path: String?
}

enum StoreCLI {
    /// The store folder for `--store` (else the usual lookup).
    static func folder(_ option: String?) -> String {
        if let option, !option.isEmpty { return option }
        if let given = storeArgument(), !given.isEmpty { return given }
        return Store.locate()
    }

    /// `--store DIR` (or `--store=DIR`) from the command line: the root command also
    /// declares `--store`, and swift-argument-parser gives it the value even when it
    /// follows the subcommand, leaving the subcommand's own option nil.
    static func storeArgument() -> String? {
        let args = Array(CommandLine.arguments.dropFirst())
        var found: String?
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { break }
            if a == "--store", i + 1 < args.count {
                found = args[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix("--store=") { found = String(a.dropFirst("--store=".count)) }
            i += 1
        }
        return found
    }

    /// The store, or nil when there is none yet (reads must not create one).
    static func existing(_ option: String?) throws(StoreError) -> Store? {
        let f = folder(option)
        guard FileManager.default.fileExists(atPath: f + "/store.sqlite") else { return nil }
        return try Store(folder: f)
    }

    /// Runs a command body, reporting store and language errors with exit 1.
    static func guarded(_ body: () throws -> Void) throws {
        do { try body() } catch let e as StoreError {
            fail(e.message)
        } catch let e as MLShError {
            fail(e.message)
        }
    }

    static func fail(kind: String = "store error", _ message: String) -> Never {
        FileHandle.standardError.write(Data((kind + ": " + message + "\n").utf8))
        exit(1)
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

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List the runs of an experiment (of every experiment when none is named).")

    @ArgumentParser.Argument(help: "The experiment's name.")
    var experiment: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: "Best runs first by this metric: lowest first for errors and losses (rmse, cv_rmse, val_loss, ...), highest for scores (r2, auc, ...), as best_run decides; runs without it last.")
    var sort: String?

    @Option(help: "With --sort: true sorts lowest first, false highest first (default: from the metric's name).")
    var lower: Bool?

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded {
            let s = try StoreCLI.existing(store)
            var records: [RunRecord] = []
            if let experiment {
                guard let s else { throw StoreError("no experiment named '\(experiment)': there is no store at \(StoreCLI.folder(store)) yet") }
                let id = try s.existingExperiment(experiment)
                records = try s.runRecords(experiment: id)
            } else if let s {
                records = try s.runRecords(experiment: nil)
            }
            if let sort {
                let lower = self.lower ?? Metrics.lowerIsBetter(sort) ?? {
                    FileHandle.standardError.write(Data("mlsh runs: the name '\(sort)' does not say whether lower is better; sorting highest first (--lower true sorts lowest first)\n".utf8))
                    return false
                }()
                // Stable: runs with equal values (or without the metric) keep their order.
                let keyed = records.map { r in (r, r.metrics.first { $0.0 == sort }?.1 ?? .nan) }
                records = keyed.enumerated().sorted { x, y in
                    let (a, b) = (x.element.1, y.element.1)
                    if a.isNaN != b.isNaN { return b.isNaN }
                    if a != b && !a.isNaN { return lower ? a < b : a > b }
                    return x.offset < y.offset
                }.map(\.element.0)
            }
            if json {
                print(StoreCLI.json(.array(records.map(StoreCLI.runJSON))))
            } else {
                print(StoreCLI.render(try StoreTables.runs(records, experimentColumn: experiment == nil)))
            }
        }
    }
}

struct ModelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "models", abstract: "List the registered model versions: name, version, aliases, run, created.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded {
            let versions = try StoreCLI.existing(store)?.versions() ?? []
            if json {
                print(StoreCLI.json(.array(versions.map { v in
                    .object([("name", .string(v.name)), ("version", JSON(v.version)), ("aliases", .array(v.aliases.map(JSON.string))),
                             ("run", v.run.map { JSON($0) } ?? .null), ("created", .string(StoreTables.time(v.created))),
                             ("artifact", .string("sha256:" + v.artifact))])
                })))
            } else {
                print(StoreCLI.render(try StoreTables.models(versions)))
            }
        }
    }
}

struct LineageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage",
        abstract: "Where a model version came from: run, params, metrics, datasets, script, script_hash, mlsh_version.")

    @ArgumentParser.Argument(help: "The version: NAME@N, NAME@ALIAS or NAME@latest.")
    var version: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded {
            guard let s = try StoreCLI.existing(store) else {
                throw StoreError("unknown model version '\(version)': there is no store at \(StoreCLI.folder(store)) yet")
            }
            let v = try s.resolve(version)
            let r = try v.run.map { id throws(StoreError) in try s.run(id) }
            if json {
                let full = r.map(StoreCLI.runJSON)
                print(StoreCLI.json(.object([
                    ("model", .string(v.label)), ("run", v.run.map { JSON($0) } ?? .null),
                    ("params", full?["params"] ?? .object([])), ("metrics", full?["metrics"] ?? .object([])),
                    ("datasets", .array((r?.datasets ?? []).map(JSON.string))),
                    ("script", StoreCLI.optional(r?.script)), ("script_hash", StoreCLI.optional(r?.scriptHash)),
                    ("mlsh_version", StoreCLI.optional(r?.mlshVersion)),
                ])))
                return
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
            print(lines.joined(separator: "\n"))
        }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove artifacts that no run and no model version references (a dry run unless --yes).")

    @Flag(help: "Delete them (without it, only list what would be removed).")
    var yes = false

    @Option(name: .customLong("min-age"), help: "Keep artifacts touched in the last SECONDS (default 900), as another process may be recording them.")
    var minAge: Double = 900

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded {
            guard let s = try StoreCLI.existing(store) else {
                print("no store at \(StoreCLI.folder(store)); nothing to remove")
                return
            }
            let garbage = try s.collectGarbage(delete: yes, minAge: max(0, minAge))
            let total = garbage.reduce(0) { $0 + $1.bytes }
            for g in garbage { print("\(g.hash)  \(g.bytes) bytes") }
            let n = garbage.count, what = "\(n) unreferenced artifact\(n == 1 ? "" : "s"), \(total) bytes"
            print(yes ? "removed \(what)" : (n == 0 ? "nothing to remove" : "would remove \(what) (run with --yes to delete)"))
        }
    }
}
