import Foundation

/// Runs a program to completion and returns its exit code, stdout and stderr.
///
/// Spawns with `posix_spawn` and waits with `waitpid`, its output going through temp
/// files: Foundation's `Process` was seen never to report the exit of a program
/// (tmux) that leaves a daemon behind.
public func runProgram(_ path: String, _ args: [String], stdin: String? = nil,
                       environment: [String: String]? = nil) throws -> (code: Int32, out: String, err: String) {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: tmp) }
    let inPath = tmp.appendingPathComponent("in").path
    let outPath = tmp.appendingPathComponent("out").path
    let errPath = tmp.appendingPathComponent("err").path
    FileManager.default.createFile(atPath: inPath, contents: Data((stdin ?? "").utf8))

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, inPath, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)

    var env = environment ?? ProcessInfo.processInfo.environment
    if environment == nil { env["SWIFT_BACKTRACE"] = env["SWIFT_BACKTRACE"] ?? "enable=no" }
    let argv = ([path] + args).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard rc == 0 else { throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: path]) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    let exited = (status & 0x7f) == 0
    let code = exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return (code, out, err)
}

/// The repository's root folder (found from this file's path).
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The debug `mlsh` binary that `swift build --build-tests` produced.
public var mlshBinary: String { repositoryRoot + "/.build/debug/mlsh" }

/// Starts a program in the background (output discarded; standard error to the file
/// `stderr` when given); returns its pid.
public func spawnProgram(_ path: String, _ args: [String], environment: [String: String], stderr: String? = nil) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, stderr ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // The child starts with no signal blocked and every signal at its default action, as
    // from a shell (the test runner's threads block most signals, and a mask is inherited).
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
    guard posix_spawn(&pid, path, &actions, &attributes, argv, envp) == 0 else {
        throw CocoaError(.executableLoad, userInfo: [NSFilePathErrorKey: path])
    }
    return pid
}

/// Waits for a child; its wait status.
public func waitStatus(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return status
}
