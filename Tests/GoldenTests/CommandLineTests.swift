import Foundation
import Testing
import TestSupport

/// The `mlsh` executable: exit codes, -e, run with --param, --quiet, help and version.
@Suite struct CommandLineTests {
    func script(_ text: String) throws -> String {
        let dir = try temporaryFolder("cli")
        let path = dir + "/s.mls"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Tests that spawn the binary fail with the reason when it is missing or older than a
    /// source file, instead of testing stale code.
    @Test func aStaleBinaryIsNamed() throws {
        let dir = try temporaryFolder("stale")
        try FileManager.default.createDirectory(atPath: dir + "/src/Lib", withIntermediateDirectories: true)
        #expect(binaryProblem(dir + "/bin", sources: dir + "/src") == "there is no mlsh binary at \(dir)/bin: run swift build --build-tests")
        try "old".write(toFile: dir + "/src/Lib/a.swift", atomically: false, encoding: .utf8)
        try "binary".write(toFile: dir + "/bin", atomically: false, encoding: .utf8)
        #expect(binaryProblem(dir + "/bin", sources: dir + "/src") == nil)
        let later = timespec(tv_sec: time(nil) + 60, tv_nsec: 0)
        var times = [later, later]
        #expect(utimensat(AT_FDCWD, dir + "/src/Lib/a.swift", &times, 0) == 0)
        #expect(binaryProblem(dir + "/bin", sources: dir + "/src")
                == "\(dir)/bin is older than Lib/a.swift: run swift build --build-tests before swift test --skip-build")
        // A build after the change (its record newer) vouches for the binary.
        try "db".write(toFile: dir + "/debug.yaml", atomically: false, encoding: .utf8)
        let evenLater = [timespec(tv_sec: time(nil) + 120, tv_nsec: 0), timespec(tv_sec: time(nil) + 120, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, dir + "/debug.yaml", evenLater, 0) == 0)
        #expect(binaryProblem(dir + "/bin", sources: dir + "/src", buildRecord: dir + "/debug.yaml") == nil)
        #expect(mlshBinaryProblem == nil, "the suite runs the current binary")
    }

    @Test func evalPrintsValues() throws {
        let r = try runProgram(mlshBinary, ["-e", "let x = 41\nx + 1\n\"done\""])
        #expect(r.code == 0)
        #expect(r.out == "42\n\"done\"\n")
    }

    @Test func anUnknownMemorySettingIsNamedNotIgnored() throws {
        var env = ProcessInfo.processInfo.environment
        env["MLSH_MALLOC"] = "jemalloc"
        let r = try runProgram(mlshBinary, ["-e", "1 + 1"], environment: env)
        #expect(r.code == 0 && r.out == "2\n")
        #expect(r.err == "mlsh: ignoring MLSH_MALLOC=jemalloc: the one setting is MLSH_MALLOC=system (keep the allocator's defaults)\n")
        env["MLSH_MALLOC"] = "system"
        let quiet = try runProgram(mlshBinary, ["-e", "1 + 1"], environment: env)
        #expect(quiet.code == 0 && quiet.out == "2\n" && quiet.err.isEmpty)
    }

    @Test func runExitCodes() throws {
        let ok = try runProgram(mlshBinary, ["run", try script("print(1)")])
        #expect(ok.code == 0 && ok.out == "1\n")
        let failing = try runProgram(mlshBinary, ["run", try script("print(1)\nprint(nope)\nprint(3)")])
        #expect(failing.code == 1)
        #expect(failing.out == "1\n")
        #expect(failing.err.hasPrefix("name error: unknown name 'nope'"))
        #expect(failing.err.contains("s.mls:2:7"))
        let assertion = try runProgram(mlshBinary, ["run", try script("assert 1 > 2, \"no\"")])
        #expect(assertion.code == 1 && assertion.err.hasPrefix("assertion failed: no"))
        let missing = try runProgram(mlshBinary, ["run", "/nonexistent/x.mls"])
        #expect(missing.code == 1 && missing.err.contains("cannot read"))
    }

    @Test func usageErrorsExit2() throws {
        #expect(try runProgram(mlshBinary, ["--bogus"]).code == 2)
        #expect(try runProgram(mlshBinary, ["run"]).code == 2)
        #expect(try runProgram(mlshBinary, ["run", "x.mls", "--param", "novalue"]).code == 2)
        for bad in ["=", "=x"] {
            for command in ["run", "render"] {
                let r = try runProgram(mlshBinary, [command, "x.mls", "--param", bad])
                #expect(r.code == 2, "\(command) --param \(bad): \(r.err)")
                #expect(r.err.contains("--param takes NAME=VALUE, got '\(bad)'"))
            }
        }
    }

    @Test func paramsAndQuiet() throws {
        let path = try script("let a = param(\"alpha\", 0.1)\nlet n = param(\"name\", \"x\")\n[a, n, param(\"flag\", false)]\nprint(\"a={a}\")")
        let r = try runProgram(mlshBinary, ["run", path, "--param", "alpha=0.5", "--param", "name=ridge", "--param", "flag=true"])
        #expect(r.code == 0)
        #expect(r.out == "[0.5, \"ridge\", true]\na=0.5\n")
        let q = try runProgram(mlshBinary, ["run", path, "--quiet"])
        #expect(q.out == "a=0.1\n")
    }

    @Test func helpAndVersion() throws {
        let v = try runProgram(mlshBinary, ["--version"])
        #expect(v.code == 0 && v.out.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").count == 3)
        let h = try runProgram(mlshBinary, ["--help"])
        #expect(h.code == 0 && h.out.contains("run"))
        #expect(h.out.contains("--artifacts <PATH>"), "\(h.out)")
        let rh = try runProgram(mlshBinary, ["run", "--help"])
        #expect(rh.code == 0 && rh.out.contains("--param"))
    }

    @Test func evalRunsAPromptCommand() throws {
        let r = try runProgram(mlshBinary, ["-e", ":help trim"])
        #expect(r.code == 0, "\(r.err)")
        #expect(r.out.hasPrefix("trim(s)\n"), "\(r.out)")
        #expect(r.out.contains("derive(t, contract = trim($contract))"))
        let bad = try runProgram(mlshBinary, ["-e", ":hepl"])
        #expect(bad.code == 1 && bad.err.contains("unknown command :hepl (did you mean :help?)"), "\(bad.err)")
    }

    /// Unasked, a long table shows its first and last 5 rows; rows asked for are shown.
    @Test func rowsAskedForAreShown() throws {
        func shown(_ code: String) throws -> [Int] {
            let r = try runProgram(mlshBinary, ["-e", "let t = table({i: to_list(range(100, 140))})\n" + code])
            #expect(r.code == 0, "\(r.err)")
            return r.out.split(separator: "\n").compactMap { line in
                line.split(separator: " ").last.flatMap { Int($0) }.flatMap { (100..<140).contains($0) ? $0 : nil }
            }
        }
        #expect(try shown("t") == Array(100..<105) + Array(135..<140))
        #expect(try shown("head(t, 30)") == Array(100..<130))
        #expect(try shown("tail(t, 12)") == Array(128..<140))
        #expect(try shown("show(t, rows=30)") == Array(100..<115) + Array(125..<140))
        #expect(try shown("show(t, rows=40)") == Array(100..<140))
        let c = try runProgram(mlshBinary, ["-e", "show(column(to_list(range(100, 140))), rows=20)"])
        let values: [String] = (100..<110).map { String($0) } + ["…"] + (130..<140).map { String($0) }
        #expect(c.out.hasSuffix("[" + values.joined(separator: ", ") + "]\n"), "\(c.out)")
        #expect(try shown("head(t, 30) |> derive(j = $i)").count == 10)
        let bad = try runProgram(mlshBinary, ["-e", "show([1, 2], rows=3)"])
        #expect(bad.code == 1 && bad.err.contains("show: rows= applies to tables and columns, got list"), "\(bad.err)")
    }

    @Test func promptWithoutTerminalReadsPlainLines() throws {
        let r = try runProgram(mlshBinary, [], stdin: "let x = 1\nx + 1\nlet y = [1,\n2]\ny\nbad +\n1\nnope\n:vars\n")
        #expect(r.out == "2\n[1, 2]\nx: int = 1\ny: list = [1, 2]\n")
        #expect(r.err.contains("unknown name 'bad'"))
        #expect(r.err.contains("unknown name 'nope'"))
        #expect(r.code == 1)
    }

    @Test func inputEndingInsideAStatementIsAnError() throws {
        let r = try runProgram(mlshBinary, [], stdin: "print(1)\nlet x = [1,\n2")
        #expect(r.out == "1\n")
        #expect(r.err.hasPrefix("syntax error: '[' is never closed: expected ']' to close the list\n  --> <prompt>:1:9"), "\(r.err)")
        #expect(r.code == 1)
    }
}
