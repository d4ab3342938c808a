import Foundation
import MLShLanguage
import MLShRuntime

/// Runs scripts and one-liners in batch: errors go to stderr as diagnostics, the exit
/// code says how it went (0 ok, 1 script error or failed assert). `store` is the store
/// folder (`--store`; nil for `MLSH_STORE`, else the nearest `.mlsh/`).
public enum ScriptRunner {
    /// Runs a script file; returns the exit code.
    public static func runFile(_ path: String, params: [String: Value], quiet: Bool, store: String? = nil,
                               noCache: Bool = false) -> Int32 {
        guard let data = FileManager.default.contents(atPath: path) else {
            Runtime.printError("error: cannot read '\(path)'")
            return 1
        }
        return runReporting(SourceFile(name: path, bytes: Array(data)), scriptPath: path, params: params, quiet: quiet,
                            store: store, noCache: noCache).code
    }

    /// Runs a script file as `runFile` does (diagnostics still go to stderr) and also
    /// returns its result for a report: exit code, time, and the diagnostic text.
    public static func runFileReporting(_ path: String, params: [String: Value], quiet: Bool,
                                        store: String? = nil, noCache: Bool = false) -> ScriptResult {
        let start = Date()
        guard let data = FileManager.default.contents(atPath: path) else {
            let message = "error: cannot read '\(path)'"
            Runtime.printError(message)
            return ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: 1,
                                output: "", diagnostic: message)
        }
        let file = SourceFile(name: path, bytes: Array(data))
        let (code, diagnostic) = runReporting(file, scriptPath: path, params: params, quiet: quiet, store: store, noCache: noCache)
        return ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: code,
                            output: "", diagnostic: diagnostic)
    }

    /// Runs source text (`mlsh -e`); returns the exit code.
    public static func runCode(_ code: String, params: [String: Value] = [:], store: String? = nil) -> Int32 {
        run(SourceFile(name: "<-e>", text: code), scriptPath: nil, params: params, quiet: false, store: store)
    }

    static func run(_ file: SourceFile, scriptPath: String?, params: [String: Value], quiet: Bool, store: String?) -> Int32 {
        runReporting(file, scriptPath: scriptPath, params: params, quiet: quiet, store: store).code
    }

    /// Runs on a large stack; prints a failure's diagnostic and returns it with the exit code.
    /// `quiet` also silences what stages say on stderr; `noCache` evaluates every stage.
    static func runReporting(_ file: SourceFile, scriptPath: String?, params: [String: Value],
                             quiet: Bool, store: String?, noCache: Bool = false) -> (code: Int32, diagnostic: String) {
        Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(params: params, store: store, stages: StageOptions(noCache: noCache, quiet: quiet))
            if quiet { interp.display = { _ in } }
            do throws(MLShError) {
                try interp.run(file, scriptPath: scriptPath)
                return (0, "")
            } catch {
                let text = error.render()
                Runtime.printError(text)
                return (error.exitCode, text)
            }
        }
    }
}
