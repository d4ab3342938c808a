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

    /// Runs source text (`mlsh -e`); returns the exit code.
    public static func runCode(_ code: String, params: [String: Value] = [:]) -> Int32 {
        run(SourceFile(name: "<-e>", text: code), scriptPath: nil, params: params, quiet: false)
    }

    static func run(_ file: SourceFile, scriptPath: String?, params: [String: Value], quiet: Bool) -> Int32 {
        Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(params: params)
            if quiet { interp.display = { _ in } }
            do throws(MLShError) {
                try interp.run(file, scriptPath: scriptPath)
                return 0
            } catch {
                printError(error.render())
                return error.exitCode
            }
        }
    }
}
