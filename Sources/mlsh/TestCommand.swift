import ArgumentParser
import Foundation
import MLShCommon
import MLShNotebook
import MLShREPL
import MLShRuntime

/// `mlsh test PATH...`: runs every `.mls` script as one test case (`ScriptSuite`), then
/// writes the JUnit report.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run every .mls script under PATH as a test case; exit 1 if any fails.",
        discussion: """
            Each script runs in a fresh session (its own process, with a fresh temporary store), \
            its output captured and shown only when it fails. A script passes when it runs to the \
            end: an error, a failed assert or a failed expect fails it.
            """)

    @ArgumentParser.Argument(help: ArgumentHelp("Scripts or folders (searched recursively for *.mls).", valueName: "PATH"))
    var paths: [String]

    @Option(name: .customLong("junit"), help: ArgumentHelp("Also write a JUnit XML report to FILE.", valueName: "FILE"))
    var junit: String?

    @Option(name: .customLong("jobs"), help: ArgumentHelp("How many scripts run at once; the default is the cores this process may use.", valueName: "N"))
    var jobs: Int = Processors.usable

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Fail (and stop) a script that runs longer than SECONDS.", valueName: "SECONDS"))
    var timeout: Double?

    func validate() throws {
        if paths.isEmpty { throw ValidationError("mlsh test needs at least one script or folder") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if let timeout, !(timeout > 0) { throw ValidationError("--timeout must be a positive number of seconds") }
    }

    func run() throws {
        let files: [String]
        do {
            files = try ScriptSuite.collect(paths)
        } catch {
            Runtime.printError("error: \(error.message)")
            throw ExitCode(2)
        }
        if files.isEmpty {
            Runtime.printError("error: no .mls scripts under \(paths.joined(separator: " "))")
            throw ExitCode(1)
        }
        let results = ScriptSuite.run(files, jobs: jobs, timeout: timeout)
        let failed = results.filter { !$0.passed }.count
        FileHandle.standardOutput.write(Data("\(results.count - failed) passed, \(failed) failed\n".utf8))
        if let junit {
            do {
                try JUnit.write(junit, suite: "mlsh test", results: results)
            } catch {
                Runtime.printError("error: the JUnit report: \(error.message)")
                throw ExitCode(1)
            }
        }
        throw ExitCode(failed > 0 ? 1 : 0)
    }
}
