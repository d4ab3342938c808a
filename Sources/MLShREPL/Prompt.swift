import CLibEdit
import Foundation
import MLShCommon
import MLShLanguage
import MLShRuntime

/// The `mlsh>` prompt: libedit line editing, history in `~/.mlsh_history`, Tab
/// completion, `...>` continuation when the parser says the input ended early, prompt
/// commands, and Ctrl-C that interrupts an evaluation without losing the session.
/// With stdin not a terminal it reads plain lines and prints no prompts.
public final class Prompt: @unchecked Sendable {
    var interpreter: Interpreter
    let interactive: Bool
    var failed = false
    /// The store folder (`--store`); nil for `MLSH_STORE`, else the nearest `.mlsh/`.
    let store: String?

    init(interactive: Bool, store: String?) {
        self.interpreter = Runtime.makeInterpreter(store: store)
        self.interactive = interactive
        self.store = store
        interpreter.allowRebinding = true
    }

    /// Runs the prompt until end of input; returns the exit code.
    public static func start(store: String? = nil) -> Int32 {
        let interactive = isatty(0) == 1 && isatty(1) == 1
        catchInterrupts()
        return Interpreter.onLargeStack {
            let p = Prompt(interactive: interactive, store: store)
            return p.loop()
        }
    }

    /// Runs one prompt command (`mlsh -e ':help trim'`); returns the exit code.
    public static func runCommand(_ text: String, store: String? = nil) -> Int32 {
        Interpreter.onLargeStack {
            let p = Prompt(interactive: false, store: store)
            _ = p.command(text.trimmingCharacters(in: .whitespacesAndNewlines))
            return p.failed ? 1 : 0
        }
    }

    /// Ctrl-C requests that the running evaluation stop (the session stays).
    static func catchInterrupts() {
        signal(SIGINT) { _ in Interrupt.request() }
    }

    var historyPath: String {
        (ProcessInfo.processInfo.environment["HOME"] ?? NSTemporaryDirectory()) + "/.mlsh_history"
    }

    func loop() -> Int32 {
        if interactive {
            setUpLineEditing()
            print("mlsh \(Runtime.version) — :help for help, :quit or Ctrl-D to leave")
        }
        var pending = ""
        while true {
            guard let line = readLine(continuation: !pending.isEmpty) else {
                if Interrupt.pending { Interrupt.clear(); pending = ""; print(""); continue }
                break
            }
            if pending.isEmpty {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix(":") {
                    if interactive { addHistory(line) }
                    if !command(trimmed) { break }
                    continue
                }
                if trimmed.isEmpty { continue }
            }
            pending += (pending.isEmpty ? "" : "\n") + line
            let file = SourceFile(name: "<prompt>", text: pending)
            let (stmts, errors) = parse(file)
            if let e = errors.first, e.incomplete { continue }
            if interactive { addHistory(pending) }
            pending = ""
            if let e = errors.first { report(e); continue }
            Interrupt.clear()
            // libedit swaps signal handlers while it reads a line; take Ctrl-C back
            // for the evaluation.
            Prompt.catchInterrupts()
            do throws(MLShError) { try interpreter.execute(stmts) } catch { report(error) }
            Interrupt.clear()
        }
        // Input ended inside a statement: say so rather than drop it.
        if !pending.isEmpty, let e = parse(SourceFile(name: "<prompt>", text: pending)).1.first { report(e) }
        if interactive { print("") }
        return failed && !interactive ? 1 : 0
    }

    func report(_ e: MLShError) {
        failed = true
        Runtime.printError(e.render())
    }

    /// The prompt's commands (`:help` also answers to `:h`, `:quit` to `:q` and `:exit`).
    static let commands = [":help", ":vars", ":time", ":load", ":reset", ":quit"]

    /// Handles a `:command`; false means quit.
    func command(_ text: String) -> Bool {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        let arg = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
        switch parts[0] {
        case ":quit", ":q", ":exit": return false
        case ":help", ":h": print(Help.text(arg, interpreter: interpreter))
        case ":vars":
            let vars = interpreter.variables
            if vars.isEmpty { print("no names defined yet") }
            for (n, v) in vars { print("\(n): \(v.typeName) = \(v.inline().prefix(70))") }
        case ":reset":
            interpreter = Runtime.makeInterpreter(store: store)
            interpreter.allowRebinding = true
            print("session reset")
        case ":load":
            guard !arg.isEmpty else { report(MLShError(.usage, ":load FILE")); break }
            guard let data = FileManager.default.contents(atPath: arg) else {
                report(MLShError(.error, "cannot read '\(arg)'")); break
            }
            do throws(MLShError) { try interpreter.run(SourceFile(name: arg, bytes: Array(data)), scriptPath: arg) }
            catch { report(error) }
        case ":time":
            guard !arg.isEmpty else { report(MLShError(.usage, ":time EXPR")); break }
            let t0 = DispatchTime.now().uptimeNanoseconds
            do throws(MLShError) { try interpreter.run(SourceFile(name: "<prompt>", text: arg)) } catch { report(error) }
            let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
            print(String(format: "time: %.3f ms", ms))
        default:
            var m = "unknown command \(parts[0])"
            if let s = closestName(to: parts[0], in: Prompt.commands, keepingALetter: true) { m += " (did you mean \(s)?)" }
            report(MLShError(.usage, m + "; :help lists the commands"))
        }
        return true
    }

    // MARK: line input

    func readLine(continuation: Bool) -> String? {
        guard interactive else { return Swift.readLine(strippingNewline: true) }
        guard let raw = readline(continuation ? "...> " : "mlsh> ") else { return nil }
        defer { free(raw) }
        return String(cString: raw)
    }

    func addHistory(_ line: String) {
        add_history(line)
        _ = write_history(historyPath)
    }

    func setUpLineEditing() {
        mlsh_set_readline_name("mlsh")
        _ = read_history(historyPath)
        stifle_history(2000)
        Prompt.completer = Completer(interpreter: interpreter)
        Prompt.owner = self
        mlsh_set_word_break(" \t\n\"'`@><=;|&{}()[],+-*/%^!")
        mlsh_set_completion(Prompt.completeCallback)
    }

    nonisolated(unsafe) static var completer: Completer?
    nonisolated(unsafe) static weak var owner: Prompt?

    static let completeCallback: @convention(c) (UnsafePointer<CChar>?, Int32, Int32) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, _ in
        mlsh_set_attempted_completion_over(1)
        guard let text, let owner = Prompt.owner else { return nil }
        let word = String(cString: text)
        let lineBytes = mlsh_line_buffer().map { String(cString: $0) } ?? ""
        let prefix = String(lineBytes.utf8.prefix(Int(start))) ?? ""
        let completer = Completer(interpreter: owner.interpreter)
        let matches = completer.complete(word: word, linePrefix: prefix)
        guard !matches.isEmpty else { return nil }
        // readline's contract: [common prefix, match1, match2, ..., NULL], all malloc'ed.
        var common = matches[0]
        for m in matches.dropFirst() { while !m.hasPrefix(common) { common.removeLast() } }
        let all = [common] + (matches.count > 1 ? matches : [])
        let array = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: all.count + 1)
        for (i, s) in all.enumerated() { array[i] = strdup(s) }
        array[all.count] = nil
        // No space after a name inside a string (it would become part of it).
        if matches.count == 1, !(matches[0].hasSuffix("/")) {
            mlsh_set_completion_append(matches[0].hasSuffix("(") || completer.insideString(prefix) ? 0 : 32)
        }
        return array
    }
}
