import Foundation
import MLShLanguage
import MLShRuntime

/// Runs scripts and one-liners in batch: errors go to stderr as diagnostics, the exit
/// code says how it went (0 ok, 1 script error or failed assert).
public enum ScriptRunner {
    /// Writes a line to standard error.
    public static func printError(_ s: String) {
        FileHandle.standardError.write((s + "\n").data(using: .utf8) ?? Data())
    }

    /// Runs a script file; returns the exit code.
    public static func runFile(_ path: String, params: [String: Value], quiet: Bool) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            printError("error: cannot read '\(path)'")
            return 1
        }
        return run(SourceFile(name: path, bytes: Array(data)), scriptPath: path, params: params, quiet: quiet)
    }

    /// Runs a script file as `runFile` does (diagnostics still go to stderr) and also
    /// returns its result for a report: exit code, time, and the diagnostic text.
    public static func runFileReporting(_ path: String, params: [String: Value], quiet: Bool) -> ScriptResult {
        let start = Date()
        guard let data = FileManager.default.contents(atPath: path) else {
            let message = "error: cannot read '\(path)'"
            printError(message)
            return ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: 1,
                                output: "", diagnostic: message)
        }
        let file = SourceFile(name: path, bytes: Array(data))
        let (code, diagnostic) = runReporting(file, scriptPath: path, params: params, quiet: quiet)
        return ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: code,
                            output: "", diagnostic: diagnostic)
    }

    /// Runs source text (`mlsh -e`); returns the exit code.
    public static func runCode(_ code: String, params: [String: Value] = [:]) -> Int32 {
        run(SourceFile(name: "<-e>", text: code), scriptPath: nil, params: params, quiet: false)
    }

    static func run(_ file: SourceFile, scriptPath: String?, params: [String: Value], quiet: Bool) -> Int32 {
        runReporting(file, scriptPath: scriptPath, params: params, quiet: quiet).code
    }

    /// Runs on a large stack; prints a failure's diagnostic and returns it with the exit code.
    static func runReporting(_ file: SourceFile, scriptPath: String?, params: [String: Value],
                             quiet: Bool) -> (code: Int32, diagnostic: String) {
        Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(params: params)
            if quiet { interp.display = { _ in } }
            do throws(MLShError) {
                try interp.run(file, scriptPath: scriptPath)
                return (0, "")
            } catch {
                let text = error.render()
                printError(text)
                return (error.exitCode, text)
            }
        }
    }
}
