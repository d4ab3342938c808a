import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import MLShNotebook
import MLShRuntime
import TestSupport

/// `mlsh test` and `mlsh run --junit`: result lines, exit codes, the JUnit report.
@Suite struct TestCommandTests {
    /// A fresh folder holding the given scripts.
    func folder(_ scripts: [String: String]) throws -> String {
        let dir = URL(fileURLWithPath: try temporaryFolder("testcmd"))
        for (name, text) in scripts {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir.path
    }

    /// The JUnit file parsed back: the suite's attributes and each test case's.
    func parse(_ path: String) throws -> (suite: [String: String], cases: [[String: String]]) {
        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: path), options: [])
        let suite = try #require(try doc.nodes(forXPath: "//testsuite").first as? XMLElement)
        var suiteAttrs: [String: String] = [:]
        for a in suite.attributes ?? [] { suiteAttrs[a.name ?? ""] = a.stringValue }
        var cases: [[String: String]] = []
        for node in try doc.nodes(forXPath: "//testcase") {
            guard let el = node as? XMLElement else { continue }
            var attrs: [String: String] = [:]
            for a in el.attributes ?? [] { attrs[a.name ?? ""] = a.stringValue }
            if let failure = el.elements(forName: "failure").first {
                attrs["failure.message"] = failure.attribute(forName: "message")?.stringValue
                attrs["failure.text"] = failure.stringValue
            }
            cases.append(attrs)
        }
        return (suiteAttrs, cases)
    }

    @Test func passAndFail() throws {
        let dir = try folder([
            "a_pass.mls": "let x = 1 + 1\nassert x == 2, \"math\"\nprint(\"hidden\")\n",
            "sub/b_fail.mls": "print(\"before\")\nlet r2 = 0.1\nassert r2 > 0.4, \"model too weak: r2={r2} <&>\"\n",
            "notes.txt": "not a script",
        ])
        let report = dir + "/report.xml"
        let r = try runProgram(mlshBinary, ["test", dir, "--junit", report])
        #expect(r.code == 1)
        let lines = r.out.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("PASS \(dir)/a_pass.mls (") == true)
        #expect(lines.first?.hasSuffix(" s)") == true)
        #expect(lines.contains { $0.hasPrefix("FAIL \(dir)/sub/b_fail.mls (") })
        #expect(r.out.contains("assertion failed: model too weak: r2=0.1 <&>"))
        #expect(r.out.contains("b_fail.mls:3:"))
        #expect(r.out.contains("| before"))       // a failure's output is shown
        #expect(!r.out.contains("hidden"))        // a pass's output is not
        #expect(lines.last == "1 passed, 1 failed")

        let (suite, cases) = try parse(report)
        #expect(suite["tests"] == "2" && suite["failures"] == "1")
        #expect(suite["time"].flatMap(Double.init) != nil)
        #expect(cases.count == 2)
        let pass = try #require(cases.first { $0["name"] == "a_pass" })
        #expect(pass["failure.message"] == nil)
        let fail = try #require(cases.first { $0["name"] == "b_fail" })
        #expect(fail["classname"]?.hasSuffix(".sub") == true)
        #expect(fail["failure.message"] == "assertion failed: model too weak: r2=0.1 <&>")
        #expect(fail["failure.text"]?.contains("b_fail.mls:3:") == true)
    }

    @Test func allPassExitsZero() throws {
        let dir = try folder(["one.mls": "1 + 1\n", "two.mls": "let [a, b] = [1, 2]\nassert a < b\n"])
        let r = try runProgram(mlshBinary, ["test", dir + "/two.mls", dir])
        #expect(r.code == 0)
        #expect(r.out.split(separator: "\n").count == 3)
        #expect(r.out.hasSuffix("2 passed, 0 failed\n"))
    }

    @Test func eachScriptGetsAFreshStore() throws {
        let script = "let exp = experiment(\"e\")\nwith run(exp, a=1) { log(m=1.0) }\nassert len(runs(exp)) == 1\n"
        let dir = try folder(["s1.mls": script, "s2.mls": script, "s3.mls": script])
        let r = try runProgram(mlshBinary, ["test", dir])
        #expect(r.code == 0, "\(r.out)\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/.mlsh"))
    }

    @Test func timeoutStopsAScript() throws {
        let dir = try folder(["loop.mls": "let n = 0\nwhile true { n = n + 1 }\n"])
        let r = try runProgram(mlshBinary, ["test", dir, "--timeout", "0.5"])
        #expect(r.code == 1)
        #expect(r.out.contains("timeout: the script ran longer than 0.5 s"))
    }

    @Test func usageErrors() throws {
        #expect(try runProgram(mlshBinary, ["test"]).code == 2)
        #expect(try runProgram(mlshBinary, ["test", "/nonexistent/folder"]).code == 2)
    }

    @Test func runWritesJUnit() throws {
        let dir = try folder(["ok.mls": "print(1)\n", "bad.mls": "print(1)\nprint(nope)\n"])
        let okReport = dir + "/ok.xml"
        let ok = try runProgram(mlshBinary, ["run", dir + "/ok.mls", "--junit", okReport])
        #expect(ok.code == 0 && ok.out == "1\n")
        let (okSuite, okCases) = try parse(okReport)
        #expect(okSuite["tests"] == "1" && okSuite["failures"] == "0" && okCases.first?["name"] == "ok")

        let badReport = dir + "/bad.xml"
        let bad = try runProgram(mlshBinary, ["run", dir + "/bad.mls", "--junit", badReport])
        #expect(bad.code == 1 && bad.err.hasPrefix("name error: unknown name 'nope'"))
        let (suite, cases) = try parse(badReport)
        #expect(suite["failures"] == "1")
        #expect(cases.first?["failure.message"]?.hasPrefix("name error: unknown name 'nope'") == true)
        #expect(cases.first?["failure.text"]?.contains("bad.mls:2:7") == true)
    }
}

/// The JUnit writer on its own: escaping and names.
@Suite struct JUnitTests {
    @Test func escapesMarkupAndControlCharacters() {
        #expect(JUnit.escape("a<b & \"c\" 'd'>") == "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;")
        #expect(JUnit.escape("x\u{1}y\n") == "x\u{FFFD}y&#10;")
    }

    @Test func namesFromPaths() {
        #expect(JUnit.names(for: "tutorials/01-first-steps.mls") == ("01-first-steps", "tutorials"))
        #expect(JUnit.names(for: "./a/b/c.mls") == ("c", "a.b"))
        #expect(JUnit.names(for: "top.mls") == ("top", "mlsh"))
    }

    @Test func documentParsesBack() throws {
        let results = [
            ScriptResult(path: "t/ok.mls", seconds: 0.5, exitCode: 0, output: "1\n", diagnostic: ""),
            ScriptResult(path: "t/bad.mls", seconds: 0.25, exitCode: 1, output: "\u{7}bell",
                         diagnostic: "error: x < y\n  --> t/bad.mls:2:3\n"),
        ]
        let doc = try XMLDocument(xmlString: JUnit.document(suite: "s", results: results), options: [])
        let failure = try #require(try doc.nodes(forXPath: "//failure").first as? XMLElement)
        #expect(failure.attribute(forName: "message")?.stringValue == "error: x < y")
        #expect(failure.stringValue?.contains("t/bad.mls:2:3") == true)
        #expect(try doc.nodes(forXPath: "//testcase").count == 2)
    }
}
