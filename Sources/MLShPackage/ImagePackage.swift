import Foundation
import MLShCommon
import MLShEngine
import MLShStore

/// `mlsh package`: a registered model version as a container image that serves it —
/// written as an OCI image layout or a `docker load` archive in one tar file, or as a
/// Dockerfile and its build context — without a container engine.
public enum ImagePackage {
    /// What was made, for the command's report.
    public struct Report: Sendable {
        /// The version packaged, `name@N`.
        public var model: String
        /// `repository:tag`.
        public var name: String
        /// The manifest's digest (nil for a Dockerfile).
        public var digest: String?
        /// The bytes written.
        public var bytes: Int
        /// Whether the binary carries the Swift runtime (`--static-swift-stdlib`).
        public var staticSwiftRuntime: Bool
        /// The shared libraries the image carries (the dynamic loader among them).
        public var libraries: Int

        /// One line for the command's output.
        public var summary: String {
            let size = String(format: "%.1f MB", Double(bytes) / 1_000_000)
            let runtime = staticSwiftRuntime ? "static Swift runtime" : "dynamic Swift runtime"
            return "\(model) as \(name): \(size), \(runtime), \(libraries) shared libraries" + (digest.map { ", \($0)" } ?? "")
        }
    }

    /// The formats `--format` takes.
    public static let formats = ImageArchive.Format.allCases.map(\.rawValue)

    /// Writes the image of `reference` (`name@N`, `name@alias`) in `store` to `output`
    /// (atomically onto the resolved target), in `format` (`oci`, `docker`), named `tag`
    /// (`repository:tag` or a tag; default `name:N`), running `binary` (default: this
    /// process's executable).
    public static func image(_ reference: String, from store: Store, to output: String, format: String = "oci",
                             tag: String? = nil, binary: String? = nil, mlshVersion: String) throws(PackageError) -> Report {
        guard let format = ImageArchive.Format(rawValue: format) else {
            throw PackageError("unknown image format '\(format)'; use oci or docker")
        }
        try checkOutput(output)
        return try withRoot(reference, store: store, tag: tag, binary: binary, mlshVersion: mlshVersion) {
            root, repository, tagName throws(PackageError) in
            let archive = try ImageArchive(root, format: format, repository: repository, tag: tagName)
            do throws(EngineError) { try FileOutput.write(parts: archive.parts, to: output) } catch {
                throw PackageError("cannot write \(error.message)")
            }
            return Report(model: root.version.label, name: repository + ":" + tagName, digest: archive.manifestDigest,
                          bytes: archive.parts.reduce(0) { $0 + $1.count }, staticSwiftRuntime: root.executable.staticSwiftRuntime,
                          libraries: root.executable.libraries.count)
        }
    }

    /// Writes `folder/Dockerfile` and its build context (`runtime/` and `model/`, the
    /// image's two layers as files) so that `docker build folder` makes the image
    /// `image(...)` writes. `folder` must not exist or be empty.
    public static func dockerfile(_ reference: String, from store: Store, to folder: String, tag: String? = nil,
                                  binary: String? = nil, mlshVersion: String) throws(PackageError) -> Report {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
            guard isDir.boolValue else { throw PackageError("\(folder) exists and is not a folder") }
            guard (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true else {
                throw PackageError("\(folder) is not empty; the Dockerfile and its context go into a new or empty folder")
            }
        }
        return try withRoot(reference, store: store, tag: tag, binary: binary, mlshVersion: mlshVersion) {
            root, repository, tagName throws(PackageError) in
            let config = ImageArchive.config(root, diffIDs: [], created: ImageArchive.iso8601(root.version.created))
            var bytes = 0
            for (layer, entries) in [("runtime", root.runtime), ("model", root.model)] {
                bytes += try write(entries, under: folder + "/" + layer)
            }
            let text = Dockerfile.text(config, name: repository + ":" + tagName)
            bytes += text.utf8.count
            do throws(EngineError) { try FileOutput.write(text, to: folder + "/Dockerfile") } catch { throw PackageError("cannot write \(error.message)") }
            return Report(model: root.version.label, name: repository + ":" + tagName, digest: nil, bytes: bytes,
                          staticSwiftRuntime: root.executable.staticSwiftRuntime, libraries: root.executable.libraries.count)
        }
    }

    /// Checks the version and the image's name, copies the version into a store of its own
    /// in a temporary folder, reads the binary and its libraries, and hands the image's
    /// contents and name (repository, tag) to `body`. `mlshVersion` is this mlsh's; another
    /// binary is asked for its own (`--version`).
    static func withRoot(_ reference: String, store: Store, tag: String?, binary: String?, mlshVersion: String,
                         _ body: (ImageRoot, String, String) throws(PackageError) -> Report) throws(PackageError) -> Report {
        let resolved: ModelVersionRecord
        do { resolved = try store.resolve(reference) } catch { throw PackageError(error.message) }
        let (repository, tagName) = try name(tag, resolved)
        let executable = try ExecutableFile(binary ?? "/proc/self/exe")
        let version = binary == nil ? mlshVersion : try executable.mlshVersion()
        let temp = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-package-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: temp) }
        let record: ModelVersionRecord
        do { record = try store.copyVersion(resolved.label, into: temp + "/store") } catch { throw PackageError(error.message) }
        return try body(try ImageRoot(executable: executable, version: record, storeFolder: temp + "/store", mlshVersion: version),
                        repository, tagName)
    }

    /// Refuses an output that cannot hold an image (a folder, a socket) before the work
    /// of making it; `FileOutput` writes the rest as it writes every file.
    static func checkOutput(_ output: String) throws(PackageError) {
        guard !output.isEmpty else { throw PackageError("name the image file with -o FILE") }
        var st = stat()
        if stat(output, &st) == 0 {
            if st.st_mode & S_IFMT == S_IFDIR { throw PackageError("\(output) is a folder; -o names the image's tar file") }
            if st.st_mode & S_IFMT == S_IFSOCK || st.st_mode & S_IFMT == S_IFBLK {
                throw PackageError("\(output) is not a regular file (a socket or block device); refusing to replace it")
            }
        }
        let parent = URL(fileURLWithPath: output).deletingLastPathComponent().path
        if !FileOutput.isStream(output), access(parent, W_OK) != 0 {
            throw PackageError("cannot write \(output): \(String(cString: strerror(errno)))")
        }
    }

    /// The image's repository and tag: `given` (`repository:tag`, or a tag for the model's
    /// name), else the model's name and version number. A repository is lowercase letters,
    /// digits and `._-/` (Docker's rule); a tag up to 128 of letters, digits and `._-`.
    static func name(_ given: String?, _ v: ModelVersionRecord) throws(PackageError) -> (String, String) {
        let cleaned = String(v.name.lowercased().map { isLowerAlnum($0) || "._-".contains($0) ? $0 : "-" })
        var repository = String(cleaned.drop(while: { !isLowerAlnum($0) }).reversed().drop(while: { !isLowerAlnum($0) }).reversed())
        if repository.isEmpty { repository = "mlsh-model" }
        var tag = String(v.version)
        if let given {
            // The last `:` after the last `/` separates the tag (a registry's port may hold one).
            if let colon = given.lastIndex(of: ":"), given.lastIndex(of: "/").map({ $0 < colon }) ?? true {
                repository = String(given[..<colon]); tag = String(given[given.index(after: colon)...])
            } else if given.contains("/") {
                repository = given
            } else {
                tag = given
            }
        }
        let components = repository.split(separator: "/", omittingEmptySubsequences: false)
        let repoOK = components.enumerated().allSatisfy { i, part in
            // The first component may be a registry with a port (`localhost:5000`).
            let allowed = i == 0 && components.count > 1 ? "._-:" : "._-"
            return part.first.map(isLowerAlnum) == true && part.last.map(isLowerAlnum) == true
                && part.allSatisfy { isLowerAlnum($0) || allowed.contains($0) }
        }
        guard repoOK else {
            throw PackageError("'\(repository)' is not an image repository name: lowercase letters and digits, '.', '_' or '-' between them, '/' between parts")
        }
        let tagOK = !tag.isEmpty && tag.count <= 128 && tag.first.map { $0 != "." && $0 != "-" } == true
            && tag.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        guard tagOK else { throw PackageError("'\(tag)' is not an image tag: up to 128 letters, digits, '.', '_' and '-', not starting with '.' or '-'") }
        return (repository, tag)
    }

    static func isLowerAlnum(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }

    /// Writes `entries` as files and folders under `base`, with their modes (the folders'
    /// last, deepest first, so a read-only folder is filled before it is sealed); the
    /// bytes written.
    static func write(_ entries: [TarArchive.Entry], under base: String) throws(PackageError) -> Int {
        var bytes = 0
        let sorted = entries.sorted(by: { $0.path < $1.path })
        for e in sorted {
            let path = base + "/" + e.path
            if let contents = e.contents {
                do throws(EngineError) { try FileOutput.write(contents, to: path) } catch { throw PackageError("cannot write \(error.message)") }
                bytes += contents.count
            } else {
                do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
                    throw PackageError("cannot make the folder \(path): \(error.localizedDescription)")
                }
                continue
            }
            try setMode(path, e.mode)
        }
        for e in sorted.reversed() where e.contents == nil { try setMode(base + "/" + e.path, e.mode) }
        return bytes
    }

    private static func setMode(_ path: String, _ mode: UInt32) throws(PackageError) {
        guard chmod(path, mode_t(mode)) == 0 else { throw PackageError("cannot set the mode of \(path): \(String(cString: strerror(errno)))") }
    }
}
