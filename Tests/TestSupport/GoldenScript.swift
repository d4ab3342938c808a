import Foundation
import MLShLanguage
import MLShRuntime

/// A golden script: an `.mls` file whose `# expect: TEXT` comments list its whole
/// output in order, and whose optional `# error: TEXT` comment names the first line of
/// the diagnostic it must stop with, on the line the comment stands on.
public struct GoldenScript: Sendable, CustomStringConvertible {
    /// The script's path.
    public let path: String
    public var description: String { (path as NSString).lastPathComponent }

    /// Every `.mls` file below a folder, sorted, but those in `fixtures/` folders (the
    /// scripts golden scripts run, such as a retraining script).
    public static func all(in folder: String) -> [GoldenScript] {
        let fm = FileManager.default
        guard let e = fm.enumerator(atPath: folder) else { return [] }
        return e.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".mls") && !$0.split(separator: "/").contains("fixtures") }.sorted()
            .map { GoldenScript(path: folder + "/" + $0) }
    }

    /// What the script expects: output lines, and the error (line number, first line).
    public func expectations() throws -> (output: [String], error: (line: Int, text: String)?) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var out: [String] = []
        var err: (Int, String)?
        for (i, line) in text.components(separatedBy: "\n").enumerated() {
            if let r = line.range(of: "# expect: ") { out.append(String(line[r.upperBound...])) }
            else if line.hasSuffix("# expect:") { out.append("") }
            if let r = line.range(of: "# error: ") { err = (i + 1, String(line[r.upperBound...])) }
        }
        return (out, err)
    }

    /// Runs the script in a fresh session (from `makeInterpreter`); returns its output lines
    /// and its error. `rewrite` changes its text first (its path stays the script's).
    public func run(params: [String: Value] = [:], rewrite: (@Sendable (String) -> String)? = nil,
                    makeInterpreter: @escaping @Sendable ([String: Value]) -> Interpreter = { Runtime.makeInterpreter(params: $0) })
        -> (output: [String], error: ScriptFailure?) {
        let box = OutputBox()
        let path = self.path
        let err: ScriptFailure? = Interpreter.onLargeStack {
            let interp = makeInterpreter(params)
            interp.output = { box.lines.append(contentsOf: $0.components(separatedBy: "\n")) }
            guard let data = FileManager.default.contents(atPath: path) else {
                return ScriptFailure(MLShError(.error, "cannot read \(path)"))
            }
            let bytes = rewrite.map { Array($0(String(decoding: data, as: UTF8.self)).utf8) } ?? Array(data)
            do throws(MLShError) {
                try interp.run(SourceFile(name: path, bytes: bytes), scriptPath: path)
                return nil
            } catch { return ScriptFailure(error) }
        }
        return (box.lines, err)
    }
}

/// A script's error, rendered on the thread that raised it.
public struct ScriptFailure: Sendable {
    /// The whole diagnostic as printed.
    public let rendered: String
    /// Its first line (`error: ...`).
    public var firstLine: String { rendered.components(separatedBy: "\n")[0] }
    /// The 1-based line it points at, when it has a position.
    public let line: Int?

    init(_ e: MLShError) {
        rendered = e.render()
        line = e.span.map { $0.file.location(of: $0.start).line }
    }
}

final class OutputBox: @unchecked Sendable { var lines: [String] = [] }
