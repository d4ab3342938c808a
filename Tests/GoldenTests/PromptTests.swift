import Foundation
import Testing
import TestSupport

/// Drives the real prompt in a tmux terminal: typing, Tab, Up, Ctrl-C, Ctrl-D, reading
/// the screen as a person would see it.
@Suite(.serialized) struct PromptTests {
    final class Session {
        let name = "mlsh-test-\(UUID().uuidString.prefix(8))"
        let home: String
        let tmux: String

        init() throws {
            tmux = ["/usr/bin/tmux", "/bin/tmux"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/tmux"
            home = FileManager.default.temporaryDirectory.appendingPathComponent(name).path
            try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: home + "/data", withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: home + "/data/houses.csv", contents: Data("a\n".utf8))
            let cmd = "cd \(home) && HOME=\(home) TERM=xterm \(mlshBinary)"
            // A private tmux server per session; started through sh with its output sent
            // to /dev/null, as the server keeps the descriptors it was started with.
            let start = "\(tmux) -L \(name) new-session -d -s \(name) -x 120 -y 120 '\(cmd)' </dev/null >/dev/null 2>&1"
            let r = try runProgram("/bin/sh", ["-c", start])
            #expect(r.code == 0, "tmux did not start")
            try waitFor("mlsh>")
        }

        func keys(_ k: String...) throws { _ = try runProgram(tmux, ["-L", name, "send-keys", "-t", name] + k) }
        /// Presses Enter and waits for the next prompt, so typing never races the output.
        func enter() throws {
            // (capture-pane trims the space after a bare prompt)
            let before = try screen().components(separatedBy: "mlsh>").count
            try keys("Enter")
            try waitFor("mlsh>", count: before)
        }
        func type(_ text: String) throws { _ = try runProgram(tmux, ["-L", name, "send-keys", "-t", name, "-l", text]) }

        func screen() throws -> String { try runProgram(tmux, ["-L", name, "capture-pane", "-p", "-t", name]).out }

        /// Waits until the screen contains `text` (up to 10 s).
        func waitFor(_ text: String, count: Int = 1) throws {
            for _ in 0..<200 {
                let s = try screen()
                if s.components(separatedBy: text).count - 1 >= count { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            Issue.record("screen never showed \(text):\n\(try screen())")
        }

        var alive: Bool { (try? runProgram(tmux, ["-L", name, "has-session", "-t", name]).code) == 0 }

        func close() { _ = try? runProgram(tmux, ["-L", name, "kill-server"]) }
    }

    @Test func typeEvaluateCompleteRecallInterruptQuit() throws {
        let s = try Session()
        defer { s.close() }
        // Evaluate and see the value.
        try s.type("let answer = 41 + 1"); try s.enter()
        try s.type("answer * 2"); try s.enter()
        try s.waitFor("84")
        // Continuation prompt for an unfinished line.
        try s.type("let xs = [1,"); try s.keys("Enter")
        try s.waitFor("...>")
        try s.type("2]"); try s.enter()
        try s.type("len(xs)"); try s.enter()
        try s.waitFor("2\n")
        // Tab completes a name in scope and a builtin.
        try s.type("answ"); try s.keys("Tab")
        try s.waitFor("mlsh> answer")
        try s.type(" + 1"); try s.enter()
        try s.waitFor("43")
        try s.type("prin"); try s.keys("Tab")
        try s.waitFor("mlsh> print")
        try s.keys("C-u")
        // Tab completes a record field after '.', and a path inside a string.
        try s.type("let rec = {alpha: 1, beta: 2}"); try s.enter()
        try s.type("rec.al"); try s.keys("Tab")
        try s.waitFor("mlsh> rec.alpha")
        try s.enter()
        try s.type("load(\"data/hou"); try s.keys("Tab")
        try s.waitFor("load(\"data/houses.csv")
        try s.keys("C-u")
        // Tab completes the $columns of tables in scope.
        try s.type("let iris = dataset(\"iris\")"); try s.enter()
        try s.type("iris |> filter($pet"); try s.keys("Tab")
        try s.waitFor("filter($petal_")
        try s.keys("C-u")
        try s.type("rec.alpha"); try s.enter()
        // Up recalls the previous entry.
        try s.keys("Up")
        try s.waitFor("mlsh> rec.alpha")
        try s.keys("C-u")
        // An error leaves the session as it was.
        try s.type("answer + nope"); try s.enter()
        try s.waitFor("unknown name 'nope'")
        try s.type("answer"); try s.enter()
        try s.waitFor("42")
        // Ctrl-C interrupts a long evaluation and returns to the prompt.
        try s.type("while true { 1 }"); try s.keys("Enter")
        Thread.sleep(forTimeInterval: 0.5)
        try s.keys("C-c")
        try s.waitFor("interrupted")
        try s.type("answer + 100"); try s.enter()
        try s.waitFor("142")
        // Ctrl-R searches the history backwards.
        try s.keys("C-r"); try s.type("len")
        try s.waitFor("bck:len")
        try s.enter()
        try s.waitFor("mlsh> len(xs)", count: 2)
        // :help names a builtin's signature and example.
        try s.type(":help range"); try s.keys("Enter")
        try s.waitFor("range(start, stop=none, step=1)")
        // Tab completes a :command, and a bundled dataset's name inside dataset("…
        // (with no space after it inside the string).
        try s.type(":he"); try s.keys("Tab")
        try s.type(" trim"); try s.keys("Enter")
        try s.waitFor("trim(s)")
        try s.type("let w = dataset(\"wi"); try s.keys("Tab")
        try s.waitFor("dataset(\"wine")
        try s.type("\")"); try s.enter()
        try s.type("len(w) + 1000"); try s.enter()
        try s.waitFor("1178")
        // Ctrl-D leaves; the history file was written.
        try s.keys("C-d")
        for _ in 0..<100 where s.alive { Thread.sleep(forTimeInterval: 0.05) }
        #expect(!s.alive)
        let history = try String(contentsOfFile: s.home + "/.mlsh_history", encoding: .utf8)
        // libedit's history format escapes spaces as \\040.
        #expect(history.replacingOccurrences(of: "\\040", with: " ").contains("answer * 2"))
    }

    /// Ctrl-C in a run ends it `killed` (and the session goes on); `:help` shows the
    /// artifact builtins with their examples.
    @Test func ctrlCInARunMarksItKilled() throws {
        let s = try Session()
        defer { s.close() }
        try s.type("use_store(\"\(s.home)/store\")"); try s.enter()
        try s.type("with run(experiment(\"p\")) { log(loss=1); while true { 1 } }"); try s.keys("Enter")
        Thread.sleep(forTimeInterval: 0.5)
        try s.keys("C-c")
        try s.waitFor("interrupted")
        try s.type("runs(\"p\").status[0] + \" / \" + runs(\"p\").error[0]"); try s.enter()
        try s.waitFor("killed / killed by SIGINT (Ctrl-C)")
        try s.type(":help log_artifact"); try s.keys("Enter")
        try s.waitFor("example: log_artifact(")
        try s.type(":help artifact"); try s.keys("Enter")
        try s.waitFor("example: artifact(best_run(exp")
    }
}
