import Foundation
import MLShCommon
import MLShRuntime

/// `mlsh test`'s runner: every `.mls` script as one test case, each in its own `mlsh run`
/// process with a fresh temporary store, a few at a time, each result printed in the
/// scripts' order as soon as every earlier one has finished.
public enum ScriptSuite {
    /// A named script or folder that does not exist.
    public struct MissingPath: Error {
        /// The path as given.
        public let path: String
        /// The message shown to users.
        public var message: String { "no such file or folder '\(path)'" }
    }

    /// Runs `files` in child processes, `jobs` at a time, each stopped after `timeout`
    /// seconds; prints each result and returns them in the files' order.
    public static func run(_ files: [String], jobs: Int, timeout: Double?) -> [ScriptResult] {
        let binary = selfPath()
        let board = Board(count: files.count)
        let workers = min(jobs, files.count)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = board.next() {
                board.finish(i, runScript(files[i], binary: binary, timeout: timeout))
            }
        }
        return board.all()
    }

    /// The scripts named: files as given, folders searched recursively (hidden folders
    /// skipped); sorted, each once.
    public static func collect(_ paths: [String]) throws(MissingPath) -> [String] {
        var found = Set<String>()
        let fm = FileManager.default
        for path in paths {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else {
                throw MissingPath(path: path)
            }
            if !isDir.boolValue { found.insert(path); continue }
            guard let walker = fm.enumerator(atPath: path) else { continue }
            while let rel = walker.nextObject() as? String {
                if rel.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                guard rel.hasSuffix(".mls") else { continue }
                let full = path.hasSuffix("/") ? path + rel : path + "/" + rel
                var sub: ObjCBool = false
                if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue { found.insert(full) }
            }
        }
        return found.sorted()
    }

    /// This program's own executable, to run each script in a child `mlsh run`.
    static func selfPath() -> String {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return Bundle.main.executablePath ?? CommandLine.arguments[0]
    }

    /// Runs one script in a child process with its own temporary store (its `MLSH_STORE`);
    /// captures its output.
    static func runScript(_ path: String, binary: String, timeout: Double?) -> ScriptResult {
        let start = Date()
        func failure(_ message: String) -> ScriptResult {
            ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: 1, output: "",
                         diagnostic: "error: \(message)")
        }
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-test-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        } catch {
            return failure(ChildProcess.Failure.folder(error.localizedDescription).description)
        }
        defer { try? FileManager.default.removeItem(at: tmp) }
        var env = ProcessInfo.processInfo.environment
        env["MLSH_STORE"] = tmp.appendingPathComponent("store").path
        // A folder's store has no artifacts folder of its own to be given.
        env["MLSH_ARTIFACTS"] = nil
        if env["SWIFT_BACKTRACE"] == nil { env["SWIFT_BACKTRACE"] = "enable=no" }
        let r: ChildProcess.Outcome
        do {
            r = try ChildProcess.run(binary, ["run", path], environment: env, timeout: timeout)
        } catch {
            return failure(error.description)
        }
        var err = r.err
        if r.timedOut {
            err = "timeout: the script ran longer than \(timeout ?? 0) s and was stopped\n" + err
        } else if r.signal != 0 {
            err = "crash: the script's process was killed by signal \(r.signal)\n" + err
        }
        if r.code != 0 && err.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            err = "error: the script exited with status \(r.code)"
        }
        return ScriptResult(path: path, seconds: Date().timeIntervalSince(start), exitCode: r.code,
                            output: r.out, diagnostic: r.code == 0 ? "" : err)
    }
}

/// Hands out script indexes to the workers and prints results in the scripts' order
/// as soon as every earlier one has finished.
final class Board: @unchecked Sendable {
    private let lock = NSLock()
    private var nextIndex = 0
    private var nextToPrint = 0
    private var results: [ScriptResult?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func next() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard nextIndex < results.count else { return nil }
        nextIndex += 1
        return nextIndex - 1
    }

    func finish(_ i: Int, _ result: ScriptResult) {
        lock.lock(); defer { lock.unlock() }
        results[i] = result
        while nextToPrint < results.count, let r = results[nextToPrint] {
            Self.report(r)
            nextToPrint += 1
        }
    }

    func all() -> [ScriptResult] {
        lock.lock(); defer { lock.unlock() }
        return results.compactMap { $0 }
    }

    /// One line per script; a failure adds its output (the last lines) and its diagnostic.
    static func report(_ r: ScriptResult) {
        var text = r.summaryLine + "\n"
        if !r.passed {
            var lines = r.output.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            if lines.count > 20 {
                text += "  ... (\(lines.count - 20) lines of output above)\n"
                lines = Array(lines.suffix(20))
            }
            for line in lines { text += "  | \(line)\n" }
            for line in r.diagnostic.split(separator: "\n", omittingEmptySubsequences: false).dropLast(r.diagnostic.hasSuffix("\n") ? 1 : 0) {
                text += "  \(line)\n"
            }
        }
        FileHandle.standardOutput.write(Data(text.utf8))
    }
}
