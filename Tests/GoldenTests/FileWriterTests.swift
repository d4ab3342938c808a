import Foundation
import Testing
import TestSupport

/// Every writer of the `mlsh` executable — `save` of a table and a plot, `render -o` as
/// HTML and Markdown, `--junit` of `run` and `test` — writes through a symbolic link
/// onto its target, into a FIFO and into `/dev/stdout`, and replaces none of them.
@Suite struct FileWriterTests {
    /// The writers: each takes the path to write and returns the shell words that write
    /// it, and what the written text starts with.
    static let writers: [(name: String, command: @Sendable (String) -> String, starts: String)] = [
        ("save csv", { "\"$MLSH\" -e 'save(dataset(\"iris\") |> head(2), \"\($0)\")'" }, "sepal_length,sepal_width"),
        ("save svg", { "\"$MLSH\" -e 'save(scatter(dataset(\"iris\"), $sepal_length, $petal_length), \"\($0)\")'" }, "<?xml"),
        ("render html", { "\"$MLSH\" render \"$DIR/nb.mls\" -o \"\($0)\"" }, "<!DOCTYPE html>"),
        ("render md", { "\"$MLSH\" render \"$DIR/nb.mls\" --format md -o \"\($0)\"" }, "```mls\n1 + 1"),
        ("run --junit", { "\"$MLSH\" run \"$DIR/nb.mls\" --junit \"\($0)\" >/dev/null" }, "<?xml"),
        ("test --junit", { "\"$MLSH\" test \"$DIR/nb.mls\" --junit \"\($0)\" >/dev/null" }, "<?xml"),
    ]

    /// A sandbox folder with a one-cell notebook; returns its path.
    func sandbox() throws -> String {
        let dir = try temporaryFolder("writers")
        try "# %%\n1 + 1\n".write(toFile: dir + "/nb.mls", atomically: true, encoding: .utf8)
        return dir
    }

    func sh(_ script: String, _ dir: String) throws -> (code: Int32, out: String, err: String) {
        var env = ProcessInfo.processInfo.environment
        env["MLSH"] = mlshBinary
        env["DIR"] = dir
        env["MLSH_STORE"] = dir + "/store"
        env["SWIFT_BACKTRACE"] = "enable=no"
        return try runProgram("/bin/sh", ["-c", "cd \"$DIR\" || exit 9\n" + script], environment: env)
    }

    func type(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    func extensionFor(_ name: String) -> String {
        name.contains("svg") ? "svg" : name.contains("html") ? "html" : name.contains("md") ? "md" : name.contains("junit") ? "xml" : "csv"
    }

    @Test(arguments: writers.indices) func throughALink(_ k: Int) throws {
        let w = Self.writers[k], dir = try sandbox(), ext = extensionFor(w.name)
        try "old".write(toFile: "\(dir)/real.\(ext)", atomically: true, encoding: .utf8)
        #expect(symlink("real.\(ext)", "\(dir)/link.\(ext)") == 0)
        let r = try sh(w.command("link.\(ext)"), dir)
        #expect(r.code == 0, "\(w.name): \(r.err)")
        #expect(type("\(dir)/link.\(ext)") == S_IFLNK, "\(w.name) kept the link")
        let text = (try? String(contentsOfFile: "\(dir)/real.\(ext)", encoding: .utf8)) ?? ""
        #expect(text.hasPrefix(w.starts), "\(w.name) wrote the link's target: \(text.prefix(80))")
    }

    @Test(arguments: writers.indices) func intoAFIFO(_ k: Int) throws {
        let w = Self.writers[k], dir = try sandbox(), ext = extensionFor(w.name)
        #expect(mkfifo("\(dir)/pipe.\(ext)", 0o600) == 0)
        let r = try sh("timeout 60 cat pipe.\(ext) > got & " + w.command("pipe.\(ext)") + "; code=$?; wait; exit $code", dir)
        #expect(r.code == 0, "\(w.name): \(r.err)")
        #expect(type("\(dir)/pipe.\(ext)") == S_IFIFO, "\(w.name) kept the FIFO")
        let text = (try? String(contentsOfFile: "\(dir)/got", encoding: .utf8)) ?? ""
        #expect(text.hasPrefix(w.starts), "\(w.name) wrote into the FIFO: \(text.prefix(80))")
    }

    @Test(arguments: writers.indices) func intoStandardOutput(_ k: Int) throws {
        let w = Self.writers[k], dir = try sandbox()
        let command = w.command("/dev/stdout").replacingOccurrences(of: " >/dev/null", with: "")
        let r = try sh(command, dir)
        #expect(r.code == 0, "\(w.name): \(r.err)")
        #expect(r.out.contains(w.starts), "\(w.name) wrote to standard output: \(r.out.prefix(80))")
        #expect(type("/dev/stdout") == S_IFLNK, "\(w.name) kept /dev/stdout a link")
    }

    @Test func renderToADashWritesStandardOutput() throws {
        let dir = try sandbox()
        let r = try sh("\"$MLSH\" render nb.mls -o -", dir)
        #expect(r.code == 0 && r.out.hasPrefix("<!DOCTYPE html>") && r.err.isEmpty, "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/-"))
    }

    @Test func aDirectoryIsRefusedWithItsName() throws {
        let dir = try sandbox()
        let r = try sh("\"$MLSH\" -e 'save(dataset(\"iris\"), \"\(dir)\")'", dir)
        #expect(r.code == 1)
        #expect(r.err.contains("\(dir): is a directory, not a file"), "\(r.err)")
    }

    @Test func datasetsAreInTheBinaryAndWorkFromAnyFolder() throws {
        let dir = try sandbox()
        // Copied by the shell: a copy made here could still be open in a child another
        // test forks, and its exec would fail (ETXTBSY).
        let r = try sh("cp \"$MLSH\" ./mlsh && ./mlsh -e 'shape(dataset(\"iris\"))' && ./mlsh -e 'shape(dataset(\"digits\"))'", dir)
        #expect(r.code == 0 && r.out == "[150, 5]\n[1797, 65]\n", "\(r.code) \(r.out) \(r.err)")
    }
}
