import Foundation
import MLShCommon
import MLShRuntime

/// Runs a program to completion and returns its exit code, stdout and stderr
/// (`ChildProcess.run`, failing first when it would run a stale `mlsh`).
public func runProgram(_ path: String, _ args: [String], stdin: String? = nil,
                       environment: [String: String]? = nil) throws -> (code: Int32, out: String, err: String) {
    try checkBinary([path] + args + (environment.map { Array($0.values) } ?? []))
    var env = environment ?? ProcessInfo.processInfo.environment
    if environment == nil { env["SWIFT_BACKTRACE"] = env["SWIFT_BACKTRACE"] ?? "enable=no" }
    let r = try ChildProcess.run(path, args, stdin: stdin ?? "", environment: env)
    return (r.code, r.out, r.err)
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
    return try ChildProcess.spawn(path, args, environment: environment, stderr: stderr ?? "/dev/null")
}

/// Waits for a child; its wait status.
public func waitStatus(_ pid: pid_t) -> Int32 { ChildProcess.wait(pid).status }

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it).
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            bind(fd, p, len) == 0 ? getsockname(fd, p, &len) : -1
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
