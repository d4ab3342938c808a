import Foundation

/// One script's result, as `mlsh test` and `mlsh run --junit` report it.
public struct ScriptResult: Sendable {
    public var path: String
    public var seconds: Double
    public var exitCode: Int32
    /// What the script wrote to standard output.
    public var output: String
    /// The diagnostic (standard error) of a failed script; empty when it passed.
    public var diagnostic: String

    public init(path: String, seconds: Double, exitCode: Int32, output: String, diagnostic: String) {
        self.path = path; self.seconds = seconds; self.exitCode = exitCode
        self.output = output; self.diagnostic = diagnostic
    }

    public var passed: Bool { exitCode == 0 }

    /// The first non-blank line of the diagnostic (the error's kind and message).
    public var message: String {
        let first = diagnostic.split(separator: "\n").first { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        if let first { return String(first) }
        return "exited with status \(exitCode)"
    }

    /// `file:line:col` from the diagnostic's `--> ` line, if it has one.
    public var location: String? {
        for line in diagnostic.split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix("--> ") { return String(t.dropFirst(4)) }
        }
        return nil
    }

    /// The status line: `PASS path (0.12 s)`.
    public var summaryLine: String {
        "\(passed ? "PASS" : "FAIL") \(path) (\(String(format: "%.2f", seconds)) s)"
    }
}

extension Runtime {
    /// Writes a line to standard error.
    public static func printError(_ s: String) {
        FileHandle.standardError.write((s + "\n").data(using: .utf8) ?? Data())
    }
}
