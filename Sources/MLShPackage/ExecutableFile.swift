import Foundation
import MLShCommon

/// The program an image runs: an ELF executable of the image's architecture and the
/// shared libraries it loads (as `ldd` names them, the dynamic loader among them).
struct ExecutableFile {
    /// The executable's path (symbolic links followed).
    let path: String
    /// The OCI architecture it was built for (`amd64`, `arm64`).
    let architecture: String
    /// Each library's path where the loader looks for it (kept in the image) and the
    /// file holding its content (links followed), sorted by path.
    let libraries: [(path: String, source: String)]

    /// Whether the Swift runtime is linked in (`--static-swift-stdlib`): no libswiftCore.so
    /// among the libraries.
    var staticSwiftRuntime: Bool { !libraries.contains { $0.path.hasSuffix("/libswiftCore.so") } }

    /// ELF machine numbers (`e_machine`) and the OCI names of the architectures images are made for.
    static let architectures: [UInt16: String] = [62: "amd64", 183: "arm64"]

    /// The OCI architecture of this machine.
    static var hostArchitecture: String? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return ["x86_64": "amd64", "aarch64": "arm64"][machine]
    }

    /// Reads `path`'s ELF header and asks `ldd` for its libraries.
    init(_ given: String) throws(PackageError) {
        let resolved = URL(fileURLWithPath: given).resolvingSymlinksInPath().path
        var st = stat()
        guard stat(resolved, &st) == 0 else { throw PackageError("cannot read the mlsh binary \(given): \(String(cString: strerror(errno)))") }
        guard st.st_mode & S_IFMT == S_IFREG else { throw PackageError("the mlsh binary \(given) is not a regular file") }
        guard let handle = FileHandle(forReadingAtPath: resolved) else { throw PackageError("cannot read the mlsh binary \(given)") }
        let head = [UInt8](handle.readData(ofLength: 64))
        try? handle.close()
        guard head.count >= 20, head[0..<4] == [0x7f, 0x45, 0x4c, 0x46] else {
            throw PackageError("\(given) is not an ELF executable; an image needs a Linux mlsh binary")
        }
        guard head[4] == 2, head[5] == 1 else {
            throw PackageError("\(given) is not a 64-bit little-endian ELF executable")
        }
        let machine = UInt16(head[18]) | UInt16(head[19]) << 8
        guard let arch = Self.architectures[machine] else {
            throw PackageError("\(given) is an ELF executable for machine \(machine), which mlsh package cannot make images for (amd64, arm64)")
        }
        guard let host = Self.hostArchitecture, host == arch else {
            throw PackageError("\(given) is built for \(arch), this machine is \(Self.hostArchitecture ?? "another architecture"): package it on a machine of its architecture, where ldd can find its libraries")
        }
        path = resolved
        architecture = arch
        libraries = try Self.sharedLibraries(resolved, given: given)
    }

    /// The version the binary reports (`mlsh --version`): refuses a program that is not mlsh.
    func mlshVersion() throws(PackageError) -> String {
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(path, ["--version"], environment: ["PATH": "/usr/bin:/bin", "SWIFT_BACKTRACE": "enable=no"], timeout: 30)
        } catch { throw PackageError("cannot run \(path) --version: \(error)") }
        let version = outcome.out.trimmingCharacters(in: .whitespacesAndNewlines)
        guard outcome.code == 0, !version.isEmpty, version.count <= 40, !version.contains(where: \.isWhitespace) else {
            throw PackageError("\(path) does not answer --version as mlsh does; --mlsh names an mlsh binary")
        }
        return version
    }

    /// The libraries `ldd` lists for `path`: `name => /path (addr)` lines and the loader's
    /// `/path (addr)` line; the kernel's vDSO has no file and is skipped.
    static func sharedLibraries(_ path: String, given: String) throws(PackageError) -> [(path: String, source: String)] {
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run("/usr/bin/ldd", [path], environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C"], timeout: 60)
        } catch { throw PackageError("cannot run ldd on \(given): \(error)") }
        let text = outcome.out + outcome.err
        if text.contains("not a dynamic executable") || text.contains("statically linked") { return [] }
        guard outcome.code == 0 else { throw PackageError("ldd \(given) failed: \(text.trimmingCharacters(in: .whitespacesAndNewlines))") }
        var found: [String: String] = [:]
        for line in outcome.out.split(separator: "\n") {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if let arrow = words.firstIndex(of: "=>") {
                guard arrow + 1 < words.count else { continue }
                let target = words[arrow + 1]
                if target == "not" {
                    throw PackageError("\(given) needs \(words[0]), which this machine does not have (ldd: not found)")
                }
                if target.hasPrefix("/") { found[target] = target }
            } else if let first = words.first, first.hasPrefix("/") {
                found[first] = first
            }
        }
        return found.keys.sorted().map { ($0, URL(fileURLWithPath: $0).resolvingSymlinksInPath().path) }
    }
}

/// Why an image could not be made; its message is shown as `package error: ...`.
public struct PackageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in a sentence.
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
