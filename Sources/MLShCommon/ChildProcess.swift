import Foundation

/// Programs run as child processes (`mlsh test`'s scripts, a server's retraining
/// attempts, the tests' `mlsh`), each
/// started as from a shell: no signal blocked, every signal at its default action.
///
/// Spawns with `posix_spawn` and waits with `waitpid`, output going through files:
/// Foundation's `Process` was seen never to report the exit of a program (tmux) that
/// leaves a daemon behind.
public enum ChildProcess {
    /// How a program run to completion ended, and what it wrote.
    public struct Outcome: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        public var code: Int32
        /// The signal that ended it, or 0 when it exited.
        public var signal: Int32
        /// Whether it was killed for running longer than its timeout.
        public var timedOut: Bool
        /// What it wrote to standard output.
        public var out: String
        /// What it wrote to standard error.
        public var err: String
    }

    /// Why a program could not be run.
    public enum Failure: Error, CustomStringConvertible {
        /// No temporary folder for its output could be made.
        case folder(String)
        /// `posix_spawn` failed with this error number.
        case start(path: String, code: Int32)

        /// The message shown to users.
        public var description: String {
            switch self {
            case .folder(let reason): "cannot make a temporary folder: \(reason)"
            case .start(let path, let code): "cannot start '\(path)' (error \(code))"
            }
        }
    }

    /// Runs `path` with `args` to completion, with `stdin` as its input (none when nil),
    /// killing it (SIGKILL) once it has run `timeout` seconds.
    public static func run(_ path: String, _ args: [String], stdin: String? = nil, environment: [String: String],
                           timeout: Double? = nil) throws(Failure) -> Outcome {
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-run-\(UUID().uuidString)")
        do {
            try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        } catch {
            throw .folder(error.localizedDescription)
        }
        defer { try? FileManager.default.removeItem(at: tmp) }
        let outPath = tmp.appendingPathComponent("out").path
        let errPath = tmp.appendingPathComponent("err").path
        var inPath = "/dev/null"
        if let stdin {
            inPath = tmp.appendingPathComponent("in").path
            guard FileManager.default.createFile(atPath: inPath, contents: Data(stdin.utf8)) else {
                throw .folder("cannot write \(inPath)")
            }
        }
        let pid = try spawn(path, args, environment: environment, stdin: inPath, stdout: outPath, stderr: errPath)
        let (status, timedOut) = wait(pid, timeout: timeout)
        let signal = status & 0x7f
        return Outcome(code: signal == 0 ? (status >> 8) & 0xff : 128 + signal, signal: signal, timedOut: timedOut,
                       out: String(decoding: FileManager.default.contents(atPath: outPath) ?? Data(), as: UTF8.self),
                       err: String(decoding: FileManager.default.contents(atPath: errPath) ?? Data(), as: UTF8.self))
    }

    /// Starts `path` with `args` in the background, its standard streams opened on the
    /// files named (created or truncated for output); returns its pid for `wait`.
    public static func spawn(_ path: String, _ args: [String], environment: [String: String],
                             stdin: String = "/dev/null", stdout: String = "/dev/null",
                             stderr: String = "/dev/null") throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of the parent's: a server's listening socket stays the server's.
        if let closeFrom = ChildProcess.addCloseFrom { _ = closeFrom(&actions, 3) }
        // A thread's signal mask is inherited, and the threads of a test runner or of
        // Dispatch's pool block most signals: the child starts with none blocked.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + args).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw .start(path: path, code: rc) }
        return pid
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+; not in Swift's view of
    /// the headers, which lack `_GNU_SOURCE`), looked up once.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Waits for a child started by `spawn`: its wait status, and whether it was killed
    /// (SIGKILL) for running longer than `timeout` seconds.
    public static func wait(_ pid: pid_t, timeout: Double? = nil) -> (status: Int32, timedOut: Bool) {
        var status: Int32 = 0
        guard let timeout else {
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            return (status, false)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r == -1 && errno != EINTR) { return (status, false) }
            if Date() >= deadline {
                kill(pid, SIGKILL)
                while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
                return (status, true)
            }
            usleep(10_000)
        }
    }
}
