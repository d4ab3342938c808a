import ArgumentParser
import Foundation
import MLShLanguage
import MLShRuntime
import MLShStore

/// The store commands (`runs`, `models`, `datasets`, `lineage`, `gc`): read the `.mlsh/` store
/// named by `--store`, else `MLSH_STORE`, else the nearest `.mlsh/` upward, and print
/// what `StoreListing` makes of it. Reads never create a store; errors print
/// `store error: ...` and exit 1.
/// `--store DIR` and `--artifacts PATH`, shared by every command that reads or writes the
/// store.
struct StoreOption: ParsableArguments {
    @Option(name: .customLong("store"),
            help: "The store: a folder, or a postgres://user:pass@host/db URL (default: MLSH_STORE, else the nearest .mlsh/ upward).")
    var path: String?

    /// Read from the command line by `StoreCLI.exportArtifacts()` (see `storeArgument()`).
    @Option(name: .customLong("artifacts"),
            help: ArgumentHelp("A shared folder where a PostgreSQL store writes its artifacts (models, snapshots, stage values) instead of its database; recorded in the database the first time, so later runs find it, overridden for this run when given again (default: MLSH_ARTIFACTS, else the recorded one).",
                               valueName: "PATH"))
    var artifacts: String?
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
    static func storeArgument() -> String? { argument("--store") }

    /// The value of the last `NAME VALUE` (or `NAME=VALUE`) on the command line, before `--`.
    static func argument(_ name: String) -> String? {
        let args = Array(CommandLine.arguments.dropFirst())
        var found: String?
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { break }
            if a == name, i + 1 < args.count {
                found = args[i + 1]
                i += 2
                continue
            }
            if a.hasPrefix(name + "=") { found = String(a.dropFirst(name.count + 1)) }
            i += 1
        }
        return found
    }

    /// `--artifacts PATH` becomes `MLSH_ARTIFACTS` for this process, where every store it
    /// opens and every process it starts (sweep workers, retraining attempts) looks for it,
    /// as they look for `MLSH_STORE`. `mlsh store copy` gives it to the new store only.
    static func exportArtifacts() {
        guard let path = argument("--artifacts"), !path.isEmpty else { return }
        setenv("MLSH_ARTIFACTS", path, 1)
    }

    /// The listings of the store for `--store`.
    static func listing(_ option: String?) -> StoreListing { StoreListing(folder: folder(option)) }

    /// The store, or nil when there is none yet (reads must not create one).
    static func existing(_ option: String?) throws(StoreError) -> Store? { try listing(option).existing() }

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
            print(try StoreCLI.listing(store).runs(experiment: experiment, sort: sort, lower: lower, json: json) { sort in
                FileHandle.standardError.write(Data("mlsh runs: the name '\(sort)' does not say whether lower is better; sorting highest first (--lower true sorts lowest first)\n".utf8))
            })
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
        try StoreCLI.guarded { print(try StoreCLI.listing(store).models(json: json)) }
    }
}

struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List the stored data versions: name, version, rows, columns, fingerprint, bytes, created, run.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded { print(try StoreCLI.listing(store).datasets(json: json)) }
    }
}

struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "List the alerts servers fired and resolved: model, alert, status, value, at; or write the alerts as Prometheus rules.")

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @Option(help: ArgumentHelp("Write the store's alerts as Prometheus alerting rules over the servers' /metrics to FILE.", valueName: "FILE"))
    var prometheus: String?

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded {
            if let prometheus {
                try Runtime.writeAtomically(try StoreCLI.listing(store).prometheusRules(), to: prometheus)
            } else {
                print(try StoreCLI.listing(store).alerts(json: json))
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
        try StoreCLI.guarded { print(try StoreCLI.listing(store).lineage(version, json: json)) }
    }
}

struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Remove artifacts that no run, model version, data version or stage cache references (a dry run unless --yes).")

    @Flag(help: "Delete them (without it, only list what would be removed).")
    var yes = false

    @Option(name: .customLong("min-age"), help: "Keep artifacts touched in the last SECONDS (default 900), as another process may be recording them.")
    var minAge: Double = 900

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded { print(try StoreCLI.listing(store).garbage(delete: yes, minAge: minAge)) }
    }
}

/// `mlsh retrain NAME --script F [--when ALERT] [--every D] [--gate G] [--canary C]
/// [--after N] [--promote ALIAS] [--now]`: the retraining policy of a served model, or an
/// attempt now; `--attempt ID` runs an attempt a server recorded (servers start it so).
struct RetrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrain",
        abstract: "Retrain a model now, or store when servers retrain it (an alert firing, a schedule): script, gate, canary, promotion.")

    @ArgumentParser.Argument(help: "The registered model's name.")
    var model: String

    @Option(help: ArgumentHelp("The training script: it log_models the challenger (param(\"since\"), param(\"until\") bound the labeled requests).", valueName: "FILE"))
    var script: String?

    @Option(help: ArgumentHelp("Retrain when this alert of the model fires (on a server).", valueName: "ALERT"))
    var when: String?

    @Option(help: ArgumentHelp("Retrain on this schedule (on a server), e.g. 24h.", valueName: "DURATION"))
    var every: String?

    @Option(help: ArgumentHelp("What the challenger must pass, over its figures and champion.FIGURE (default: rmse <= champion.rmse, or accuracy >= champion.accuracy).", valueName: "EXPR"))
    var gate: String?

    @Option(help: ArgumentHelp("The challenger's share of traffic before promotion; 0 promotes at the gate.", valueName: "SHARE"))
    var canary: Double = 0

    @Option(help: ArgumentHelp("Labeled answers of the challenger the canary waits for.", valueName: "N"))
    var after: Int = 500

    @Option(help: ArgumentHelp("The alias a winning challenger takes.", valueName: "ALIAS"))
    var promote = "production"

    @Flag(help: "Run an attempt now (also with --when or --every, after storing them).")
    var now = false

    @Option(help: .hidden)
    var attempt: Int64?

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if attempt == nil && script == nil { throw ValidationError("name the training script with --script FILE") }
    }

    func run() throws {
        let folder = StoreCLI.folder(storeOption.path)
        if let attempt { throw ExitCode(RetrainCommandLine.attempt(attempt, folder: folder)) }
        try StoreCLI.guarded {
            do {
                print(try RetrainCommandLine.retrain(model: model, script: script ?? "", when: when, every: every, gate: gate,
                                                     canary: canary, after: after, promote: promote, now: now, folder: folder))
            } catch let e as MLShError {
                // As the prompt says it: its kind, and a gate's error with the caret under it.
                FileHandle.standardError.write(Data((e.render() + "\n").utf8))
                throw ExitCode(1)
            }
        }
    }
}

struct RetrainsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retrains",
        abstract: "List the retraining attempts: id, model, trigger, run, champion, challenger, figures, decision, started, ended.")

    @ArgumentParser.Argument(help: "Only this model's attempts.")
    var model: String?

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        try StoreCLI.guarded { print(try StoreCLI.listing(store).retrains(model: model, json: json)) }
    }
}

/// `mlsh export NAME@VERSION -o FILE`: a registered model version as an ONNX file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write a registered model version as an ONNX file (see docs/export.md).")

    @ArgumentParser.Argument(help: ArgumentHelp("The model version, e.g. diabetes@3 or diabetes@production.", valueName: "NAME@VERSION"))
    var version: String

    @Option(name: [.customShort("o"), .customLong("output")], help: ArgumentHelp("The ONNX file to write.", valueName: "file"))
    var output: String

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try StoreCLI.guarded {
            guard let store = try StoreCLI.existing(storeOption.path) else {
                StoreCLI.fail(kind: "export error", "there is no store at \(StoreCLI.folder(storeOption.path)): register a model first")
            }
            do throws(MLShError) { try ModelExport.onnx(version, from: store, to: output) } catch { StoreCLI.fail(kind: "export error", error.message) }
            FileHandle.standardError.write(Data("wrote \(version) to \(output)\n".utf8))
        }
    }
}

/// `mlsh store copy FROM TO`: a whole store into a new one, between folders and
/// PostgreSQL databases (a project's folder to its team's database).
struct StoreGroupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Work on whole stores.", subcommands: [StoreCopyCommand.self])
}

/// `mlsh store copy FROM TO`.
struct StoreCopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy a whole store (a folder or a postgres:// URL) into a new, empty one; checked by row counts and blob hashes.")

    @ArgumentParser.Argument(help: "The store to copy: a folder, or a postgres://user:pass@host/db URL.")
    var from: String

    @ArgumentParser.Argument(help: "The new store: a folder that does not exist yet, or an empty PostgreSQL database.")
    var to: String

    @Option(help: ArgumentHelp("The new PostgreSQL store's artifacts folder (its blobs are written there, not in its database); the store copied finds its own as it records it.", valueName: "PATH"))
    var artifacts: String?

    func run() throws {
        try StoreCLI.guarded {
            guard Store.exists(at: from) else { StoreCLI.fail("there is no store at \(Store.shown(from))") }
            if !PostgresURL.isURL(to), FileManager.default.fileExists(atPath: to) {
                StoreCLI.fail("\(to) already exists; a store is copied into a new folder")
            }
            // The root command also declares --artifacts and may take the value.
            let targetArtifacts = artifacts ?? StoreCLI.argument("--artifacts")
            if targetArtifacts != nil, !PostgresURL.isURL(to) {
                StoreCLI.fail("--artifacts names a PostgreSQL store's shared folder; the new store \(to) is a folder, whose artifacts are its own")
            }
            let source = try Store(folder: from, readOnly: !Store.isWritable(from))
            let report: StoreCopyReport
            do { report = try source.copyAll(to: try Store(folder: to, artifacts: targetArtifacts)) } catch {
                // A new folder that did not become a whole copy goes.
                if !PostgresURL.isURL(to) { try? FileManager.default.removeItem(atPath: to) }
                throw error
            }
            let rows = report.tables.map(\.rows).reduce(0, +)
            print("copied \(Store.shown(from)) to \(Store.shown(to)): \(rows) rows in \(report.tables.filter { $0.rows > 0 }.count) tables, "
                  + "\(report.blobs) blobs (\(report.bytes) bytes); row counts and blob hashes checked")
        }
    }
}
