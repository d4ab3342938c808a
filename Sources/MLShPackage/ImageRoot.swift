import Foundation
import MLShStore

/// What a model's image holds, as two layers: the runtime (the mlsh binary, its shared
/// libraries, a user to run as) — the same for every model packaged with one binary, so
/// registries and hosts keep it once — and the model (a read-only store holding that
/// one version). Also what the image's config says: user, ports, environment, entry point.
struct ImageRoot {
    /// Where the image keeps things.
    static let binaryPath = "usr/local/bin/mlsh"
    static let storePath = "srv/mlsh/store"
    static let home = "home/mlsh"
    /// The user and group the server runs as (distroless's `nonroot`).
    static let uid = 65532
    static let port = 8080

    let runtime: [TarArchive.Entry]
    let model: [TarArchive.Entry]
    let version: ModelVersionRecord
    let executable: ExecutableFile
    /// The version of the mlsh the image runs.
    let mlshVersion: String

    /// The image's environment, `NAME=value`.
    static let environment = ["PATH=/usr/local/bin", "HOME=/\(home)", "PORT=\(port)", "MLSH_STORE=/\(storePath)"]

    /// The command the image runs: `mlsh serve` on the store, every address, `PORT`.
    var entrypoint: [String] {
        ["/" + Self.binaryPath, "serve", version.label, "--store", "/" + Self.storePath, "--host", "0.0.0.0"]
    }

    /// Reads the binary, its libraries and the store copy in `storeFolder`.
    init(executable: ExecutableFile, version: ModelVersionRecord, storeFolder: String, mlshVersion: String) throws(PackageError) {
        self.executable = executable
        self.mlshVersion = mlshVersion
        self.version = version
        var runtime: [TarArchive.Entry] = []
        var files: [(String, [UInt8], UInt32)] = [(Self.binaryPath, try Self.read(executable.path), 0o755)]
        for lib in executable.libraries {
            let bytes = try Self.read(lib.source)
            var st = stat()
            let executableBits = stat(lib.source, &st) == 0 && st.st_mode & 0o111 != 0
            files.append((String(lib.path.dropFirst()), bytes, executableBits ? 0o755 : 0o644))
        }
        let users = "root:x:0:0:root:/root:/sbin/nologin\nmlsh:x:\(Self.uid):\(Self.uid):mlsh:/\(Self.home):/sbin/nologin\n"
        let groups = "root:x:0:\nmlsh:x:\(Self.uid):\n"
        files.append(("etc/passwd", Array(users.utf8), 0o644))
        files.append(("etc/group", Array(groups.utf8), 0o644))
        runtime = Self.withFolders(files.map { TarArchive.Entry.file($0.0, $0.1, mode: $0.2) },
                                   extra: [.directory("tmp", mode: 0o1777), .directory(Self.home)])
        self.runtime = runtime

        // The store: read-only for everyone, the server's user included.
        var storeFiles: [TarArchive.Entry] = []
        let base = URL(fileURLWithPath: storeFolder)
        for name in ["store.sqlite", "artifacts/" + version.artifact] {
            storeFiles.append(.file(Self.storePath + "/" + name, try Self.read(base.appendingPathComponent(name).path), mode: 0o444))
        }
        model = Self.withFolders(storeFiles, readOnly: Self.storePath)
    }

    /// `entries` with every folder above them (mode 0755; 0555 within `readOnly`), and `extra`.
    static func withFolders(_ entries: [TarArchive.Entry], extra: [TarArchive.Entry] = [], readOnly: String? = nil) -> [TarArchive.Entry] {
        var folders = Set<String>()
        for e in entries + extra {
            var parts = e.path.split(separator: "/").dropLast()
            while !parts.isEmpty {
                folders.insert(parts.joined(separator: "/"))
                parts = parts.dropLast()
            }
        }
        let given = Set(extra.map(\.path))
        let made = folders.subtracting(given).sorted().map { f -> TarArchive.Entry in
            let sealed = readOnly.map { f == $0 || f.hasPrefix($0 + "/") } ?? false
            return .directory(f, mode: sealed ? 0o555 : 0o755)
        }
        return made + extra + entries
    }

    static func read(_ path: String) throws(PackageError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PackageError("cannot read \(path): \(String(cString: strerror(errno)))")
        }
        return [UInt8](data)
    }
}
