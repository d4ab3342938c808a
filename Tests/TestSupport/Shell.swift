import Foundation

/// Runs a program to completion and returns its exit code, stdout and stderr.
///
/// Spawns with `posix_spawn` and waits with `waitpid`, its output going through temp
/// files: Foundation's `Process` was seen never to report the exit of a program
/// (tmux) that leaves a daemon behind.
public func runProgram(_ path: String, _ args: [String], stdin: String? = nil,
                       environment: [String: String]? = nil) throws -> (code: Int32, out: String, err: String) {
    try checkBinary([path] + args + (environment.map { Array($0.values) } ?? []))
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

/// Why the `mlsh` binary would test stale code — missing, or older than a file under
/// `Sources/` — or nil when it is current.
public let mlshBinaryProblem: String? = binaryProblem(mlshBinary, sources: repositoryRoot + "/Sources",
                                                     buildRecord: repositoryRoot + "/.build/debug.yaml")

/// Why `binary` would run stale code: missing, or older than a `.swift` file under
/// `sources`, unless a build ran after that file changed (`buildRecord`: SwiftPM writes
/// its build manifest `debug.yaml` on every build, not on `swift test --skip-build`; a
/// build that finds a touched file's content unchanged does not relink the binary); nil
/// when it is current.
public func binaryProblem(_ binary: String, sources: String, buildRecord: String? = nil) -> String? {
    var st = stat()
    guard stat(binary, &st) == 0 else { return "there is no mlsh binary at \(binary): run swift build --build-tests" }
    var built = st.st_mtim
    if let buildRecord, stat(buildRecord, &st) == 0, (st.st_mtim.tv_sec, st.st_mtim.tv_nsec) > (built.tv_sec, built.tv_nsec) {
        built = st.st_mtim
    }
    let files = FileManager.default.enumerator(atPath: sources)
    while let f = files?.nextObject() as? String {
        guard f.hasSuffix(".swift"), stat(sources + "/" + f, &st) == 0 else { continue }
        if (st.st_mtim.tv_sec, st.st_mtim.tv_nsec) > (built.tv_sec, built.tv_nsec) {
            return "\(binary) is older than \(f): run swift build --build-tests before swift test --skip-build"
        }
    }
    return nil
}

/// A test that runs the `mlsh` binary on stale code fails with the reason instead.
public struct StaleBinary: Error, CustomStringConvertible {
    public let description: String
}

/// Throws `StaleBinary` when any of `words` (a program, its arguments, its environment)
/// names the `mlsh` binary and that binary is not current.
func checkBinary(_ words: [String]) throws {
    guard let problem = mlshBinaryProblem, words.contains(where: { $0.contains(mlshBinary) }) else { return }
    throw StaleBinary(description: problem)
}

/// Starts a program in the background (output discarded; standard error to the file
/// `stderr` when given); returns its pid.
public func spawnProgram(_ path: String, _ args: [String], environment: [String: String], stderr: String? = nil) throws -> pid_t {
    try checkBinary([path] + args + Array(environment.values))
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
