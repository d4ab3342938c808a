import ArgumentParser
import Foundation
import MLShLanguage
import MLShNotebook
import MLShREPL
import MLShRuntime

/// `mlsh`: the prompt, `-e CODE`, and the subcommands.
struct MLSh: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mlsh",
        abstract: "A shell for the whole machine-learning lifecycle.",
        version: Runtime.version,
        subcommands: [RunCommand.self, TestCommand.self, RenderCommand.self, RunsCommand.self, ModelsCommand.self,
                      DatasetsCommand.self, LineageCommand.self, StagesCommand.self, AlertsCommand.self, RetrainCommand.self, RetrainsCommand.self, GCCommand.self, ServeCommand.self, ExportCommand.self, PackageCommand.self, StatusCommand.self, UICommand.self,
                      SweepCommand.self, WorkerCommand.self, SweepsCommand.self, StoreGroupCommand.self])

    @Option(name: .customShort("e"), help: ArgumentHelp("Evaluate CODE (or run a :command such as ':help trim'), print its values, and exit.", valueName: "code"))
    var code: String?

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func run() throws {
        Runtime.configureProcess()   // the commands that run scripts; not `serve`
        if let code {
            let command = code.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix(":")
            throw ExitCode(command ? Prompt.runCommand(code, store: store) : ScriptRunner.runCode(code, store: store))
        }
        throw ExitCode(Prompt.start(store: store))
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a .mls script; exit 1 on an error or a failed assert.")

    @ArgumentParser.Argument(help: "The script to run.")
    var file: String

    @Option(name: .customLong("param"), help: "A value for param(NAME, default) in the script, as NAME=VALUE (repeatable).")
    var params: [String] = []

    @Flag(help: "Do not display the values of top-level expressions, nor say on stderr which stages were cached.")
    var quiet = false

    @Flag(name: .customLong("no-cache"), help: "Evaluate every stage(name, f) and refresh its cached value.")
    var noCache = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    @Option(name: .customLong("junit"), help: ArgumentHelp("Also write the result as a JUnit XML report to FILE.", valueName: "FILE"))
    var junit: String?

    func validate() throws { try Self.checkParams(params) }

    /// `--param` arguments must read NAME=VALUE.
    static func checkParams(_ params: [String]) throws {
        for p in params {
            guard let eq = p.firstIndex(of: "="), eq != p.startIndex else {
                throw ValidationError("--param takes NAME=VALUE, got '\(p)'")
            }
        }
    }

    /// The `--param` values by name, each parsed as a number, bool or string.
    static func values(_ params: [String]) -> [String: Value] {
        var values: [String: Value] = [:]
        for p in params {
            guard let eq = p.firstIndex(of: "=") else { continue }
            values[String(p[..<eq])] = Runtime.parseParam(String(p[p.index(after: eq)...]))
        }
        return values
    }

    func run() throws {
        Runtime.configureProcess()   // the commands that run scripts; not `serve`
        let store = self.store ?? StoreCLI.storeArgument()
        let values = Self.values(params)
        guard let junit else { throw ExitCode(ScriptRunner.runFile(file, params: values, quiet: quiet, store: store, noCache: noCache)) }
        let result = ScriptRunner.runFileReporting(file, params: values, quiet: quiet, store: store, noCache: noCache)
        do {
            try JUnit.write(junit, suite: "mlsh run", results: [result])
        } catch {
            Runtime.printError("error: the JUnit report: \(error.message)")
            throw ExitCode(1)
        }
        throw ExitCode(result.exitCode)
    }
}

struct StagesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stages",
        abstract: "List the stages of a script with their status: cached, or stale and why (code, input, param or upstream changed).")

    @ArgumentParser.Argument(help: "The script.")
    var file: String

    @Option(name: .customLong("param"), help: "A value for param(NAME, default), as `mlsh run` would get it (repeatable).")
    var params: [String] = []

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    @OptionGroup var storeOption: StoreOption
    var store: String? { storeOption.path }

    func validate() throws { try RunCommand.checkParams(params) }

    func run() throws {
        Runtime.configureProcess()
        let (text, code) = Runtime.stageStatus(path: file, params: RunCommand.values(params),
                                               store: store ?? StoreCLI.storeArgument(), json: json)
        if code == 0 { print(text) } else { Runtime.printError(text) }
        throw ExitCode(code)
    }
}

/// Parses the command line; usage errors exit 2, as LANGUAGE.md §10 says.
do {
    StoreCLI.exportArtifacts()
    var command = try MLSh.parseAsRoot()
    try command.run()
} catch let code as ExitCode {
    exit(code.rawValue)
} catch {
    let code = MLSh.exitCode(for: error)
    if code == .success {
        print(MLSh.fullMessage(for: error))
        exit(0)
    }
    FileHandle.standardError.write((MLSh.fullMessage(for: error) + "\n").data(using: .utf8) ?? Data())
    exit(code == .validationFailure ? 2 : code.rawValue)
}
