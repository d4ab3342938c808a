import Foundation
import MLShCommon
import MLShLanguage
import MLShRuntime

/// Writes JUnit XML reports (the format CI servers read: Jenkins, GitLab, GitHub actions).
public enum JUnit {
    /// Escapes text for XML content and attribute values; drops characters XML 1.0 cannot hold.
    public static func escape(_ s: String) -> String { escapeXML(s, [.xml10, .whitespaceReferences]) }

    /// The test case name and class name for a script path: `tutorials/01-x.mls` →
    /// name `01-x`, classname `tutorials` (dots for folders; `mlsh` at top level).
    public static func names(for path: String) -> (name: String, classname: String) {
        var p = path
        while p.hasPrefix("./") { p.removeFirst(2) }
        let url = URL(fileURLWithPath: p)
        let name = url.deletingPathExtension().lastPathComponent
        let folder = (p as NSString).deletingLastPathComponent
        let parts = folder.split(separator: "/").filter { $0 != "." && !$0.isEmpty }
        return (name, parts.isEmpty ? "mlsh" : parts.joined(separator: "."))
    }

    /// The XML document for one test suite.
    public static func document(suite: String, results: [ScriptResult]) -> String {
        let failures = results.filter { !$0.passed }.count
        let total = results.reduce(0) { $0 + $1.seconds }
        func t(_ s: Double) -> String { String(format: "%.3f", s) }
        var x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        x += "<testsuites tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(t(total))\">\n"
        x += "  <testsuite name=\"\(escape(suite))\" tests=\"\(results.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" time=\"\(t(total))\">\n"
        for r in results {
            let (name, classname) = names(for: r.path)
            x += "    <testcase name=\"\(escape(name))\" classname=\"\(escape(classname))\" file=\"\(escape(r.path))\" time=\"\(t(r.seconds))\""
            if r.passed {
                x += "/>\n"
                continue
            }
            x += ">\n"
            var text = r.diagnostic
            if let loc = r.location, !text.contains(loc) { text = loc + "\n" + text }
            if r.location == nil { text = r.path + "\n" + text }
            x += "      <failure message=\"\(escape(r.message))\" type=\"\(escape(kind(of: r.message)))\">\(escapeText(text))</failure>\n"
            if !r.output.isEmpty { x += "      <system-out>\(escapeText(r.output))</system-out>\n" }
            x += "    </testcase>\n"
        }
        x += "  </testsuite>\n</testsuites>\n"
        return x
    }

    /// Writes the report through `Runtime.writeAtomically` (onto the resolved target, or
    /// into a stream).
    public static func write(_ path: String, suite: String, results: [ScriptResult]) throws(MLShError) {
        try Runtime.writeAtomically(document(suite: suite, results: results), to: path)
    }

    /// Element text: like `escape` but keeps newlines and tabs readable.
    static func escapeText(_ s: String) -> String { escapeXML(s, [.xml10, .carriageReturnReference]) }

    /// The error kind before the first `:` (`assertion failed`, `name error`), else `error`.
    static func kind(of message: String) -> String {
        if let colon = message.firstIndex(of: ":") { return String(message[..<colon]) }
        return "error"
    }
}
