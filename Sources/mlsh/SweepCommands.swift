import ArgumentParser
import Foundation
import MLShLanguage
import MLShRuntime
import MLShStore

/// `mlsh sweep FILE --grid k=v1,v2 ... [--trials N] [--space k=low..high[:log]] [--param k=v]
/// [--experiment NAME] [--workers N] [--retries N] [--grace D]`: a script run once per point.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Run a script once per point of a grid (or N random draws from a space) as trials that workers claim from the store.")

    @ArgumentParser.Argument(help: "The script: it reads each trial's values with param(NAME, default).")
    var file: String

    @Option(help: ArgumentHelp("A grid dimension, NAME=V1,V2,... (repeatable; every combination is a trial).", valueName: "NAME=VALUES"))
    var grid: [String] = []

    @Option(help: ArgumentHelp("A dimension to draw from: NAME=LOW..HIGH, NAME=LOW..HIGH:log, or NAME=V1,V2,... (repeatable; needs --trials).", valueName: "NAME=RANGE"))
    var space: [String] = []

    @Option(help: ArgumentHelp("How many random draws from --space (or from the --grid's points).", valueName: "N"))
    var trials: Int?

    @Option(help: ArgumentHelp("The seed of the random draws.", valueName: "N"))
    var seed: UInt64 = 0

    @Option(name: .customLong("param"), help: ArgumentHelp("A value every trial gets, NAME=VALUE (repeatable).", valueName: "NAME=VALUE"))
    var params: [String] = []

    @Option(help: ArgumentHelp("The experiment of the trials' runs (default: the script's name without .mls).", valueName: "NAME"))
    var experiment: String?

    @Option(help: ArgumentHelp("Local worker processes to run the trials with; 0 only queues them for `mlsh worker`.", valueName: "N"))
    var workers = 1

    @Option(help: ArgumentHelp("Times a trial whose worker stopped is queued again before it fails.", valueName: "N"))
    var retries = 2

    @Option(help: ArgumentHelp("A worker silent this long is taken for stopped (its trial is queued again).", valueName: "DURATION"))
    var grace = "30s"

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        try RunCommand.checkParams(params)
        if workers < 0 { throw ValidationError("--workers must be 0 or more") }
    }

    func run() throws {
        let folder = StoreCLI.folder(storeOption.path)
        let fixed = params.compactMap { p -> (String, ParamValue)? in
            guard let eq = p.firstIndex(of: "=") else { return nil }
            return (String(p[..<eq]), SweepSpace.value(String(p[p.index(after: eq)...])))
        }
        throw ExitCode(StoreCLI.code { () throws(MLShError) in
            let space = try SweepCommandLine.space(grid: grid, space: space, trials: trials, seed: seed)
            return try SweepCommandLine.sweep(script: file, space: space, fixed: fixed, experiment: experiment, retries: retries,
                                              workers: workers, grace: try SweepCommandLine.duration(grace, "--grace"), folder: folder)
        })
    }
}

/// `mlsh worker [--sweep ID] [--max-trials N] [--idle-exit D] [--grace D]`: claims trials
/// from the store and runs them, on any machine that shares it.
struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim queued sweep trials from the store and run them, one at a time, until stopped.")

    @Option(help: ArgumentHelp("Only this sweep's trials; the worker exits when the sweep has none left.", valueName: "ID"))
    var sweep: Int64?

    @Option(name: .customLong("max-trials"), help: ArgumentHelp("Exit after running this many trials.", valueName: "N"))
    var maxTrials: Int?

    @Option(name: .customLong("idle-exit"), help: ArgumentHelp("Exit after this long with nothing to claim, e.g. 60s.", valueName: "DURATION"))
    var idleExit: String?

    @Option(help: ArgumentHelp("A worker silent this long is taken for stopped (its trial is queued again).", valueName: "DURATION"))
    var grace = "30s"

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let folder = StoreCLI.folder(storeOption.path)
        throw ExitCode(StoreCLI.code { () throws(MLShError) in
            try SweepCommandLine.worker(folder: folder, sweep: sweep, maxTrials: maxTrials,
                                        idleExit: try idleExit.map { t throws(MLShError) in try SweepCommandLine.duration(t, "--idle-exit") },
                                        grace: try SweepCommandLine.duration(grace, "--grace"))
        })
    }
}

/// `mlsh sweeps [ID]`: the sweeps in the store, or one sweep's trials.
struct SweepsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweeps",
        abstract: "List the sweeps (trials queued, running, finished, failed), or one sweep's trials with their runs' metrics.")

    @ArgumentParser.Argument(help: "A sweep's id.")
    var id: Int64?

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        throw ExitCode(StoreCLI.code { () throws(MLShError) in try SweepCommandLine.sweeps(id, folder: StoreCLI.folder(storeOption.path)) })
    }
}

extension StoreCLI {
    /// The exit code a command body returns; its error printed as `KIND: message`, exit 1.
    static func code(_ body: () throws(MLShError) -> Int32) -> Int32 {
        do throws(MLShError) { return try body() } catch { fail(kind: error.kind.description, error.message) }
    }
}
