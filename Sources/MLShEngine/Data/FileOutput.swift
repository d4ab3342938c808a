#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every file mlsh writes for a user (tables, plots, notebooks, reports, model files) goes
/// through here, so that writing never destroys what the path names:
/// - a regular file, or a path that does not exist yet, is written to a temporary file
///   beside the *resolved* target (symbolic links followed), synced, and renamed onto
///   it: a reader never sees half a file, the link stays a link, and an existing file
///   keeps its permissions;
/// - a file with other hard links is rewritten in place, so every name sees the new
///   content (renaming would leave the other names on the old file);
/// - a stream — `/dev/stdout`, `/dev/stderr`, `/dev/fd/N`, a FIFO, a character device
///   such as `/dev/null` — is written directly, never replaced;
/// - a directory, socket or block device is refused with an error.
public enum FileOutput {
    /// Writes `bytes` to `path` as described above.
    public static func write(_ bytes: [UInt8], to path: String) throws(EngineError) {
        try write(parts: [bytes], to: path)
    }

    /// Writes the concatenation of `parts` to `path` as described above (a large file
    /// made of pieces need not be joined in memory first).
    public static func write(parts bytes: [[UInt8]], to path: String) throws(EngineError) {
        guard !path.isEmpty else { throw EngineError.io(path: path, message: "empty file name") }
        if let fd = standardStream(path) {
            try writeAll(fd, bytes, path: path)
            return
        }
        var st = stat()
        if stat(path, &st) == 0 {
            switch st.st_mode & S_IFMT {
            case S_IFREG where st.st_nlink <= 1:
                break
            case S_IFREG, S_IFIFO, S_IFCHR:
                let fd = open(path, O_WRONLY | O_CLOEXEC | (st.st_mode & S_IFMT == S_IFREG ? O_TRUNC : 0))
                guard fd >= 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
                defer { close(fd) }
                try writeAll(fd, bytes, path: path)
                return
            case S_IFDIR:
                throw EngineError.io(path: path, message: "is a directory, not a file")
            default:
                throw EngineError.io(path: path, message: "is not a regular file (a socket or block device); refusing to replace it")
            }
        } else if errno != ENOENT {
            throw EngineError.io(path: path, message: dataErrnoText())
        }
        let target = try resolve(path)
        let existingMode: mode_t? = stat(target, &st) == 0 ? st.st_mode & 0o7777 : nil
        let (dir, file) = split(target)
        let temp = "\(dir).\(file).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // A new file gets the usual 0666 less the umask (open applies it).
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, existingMode == nil ? 0o666 : 0o600)
        guard fd >= 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
        var failure: String?
        do { try writeAll(fd, bytes, path: path) } catch { failure = error.message }
        if failure == nil, let existingMode, fchmod(fd, existingMode) != 0 { failure = dataErrnoText() }
        if failure == nil && fsync(fd) != 0 { failure = dataErrnoText() }
        if close(fd) != 0 && failure == nil { failure = dataErrnoText() }
        if failure == nil && rename(temp, target) != 0 { failure = dataErrnoText() }
        if let failure {
            unlink(temp)
            throw EngineError.io(path: path, message: failure)
        }
    }

    /// Whether `path` is written as a stream (standard output or error, an open
    /// descriptor, a FIFO or a character device) rather than replaced as a file.
    public static func isStream(_ path: String) -> Bool {
        if standardStream(path) != nil { return true }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        return st.st_mode & S_IFMT == S_IFIFO || st.st_mode & S_IFMT == S_IFCHR
    }

    /// Writes UTF-8 text to `path` (see `write(_:to:)`).
    public static func write(_ text: String, to path: String) throws(EngineError) {
        try write(Array(text.utf8), to: path)
    }

    /// The descriptor behind `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and
    /// `/proc/self/fd/N`, written to as the shell does (the open descriptor itself, so
    /// output redirected to a file is appended where the process is writing, not
    /// rewritten from its start).
    static func standardStream(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                if let n = Int32(path.dropFirst(prefix.count)), n >= 0, fcntl(n, F_GETFD) != -1 { return n }
            }
            return nil
        }
    }

    /// `path` with every symbolic link along its last component followed (a link to a
    /// link is followed to the end, a dangling link to the file it names).
    static func resolve(_ path: String) throws(EngineError) -> String {
        var current = path
        for _ in 0..<40 {
            var st = stat()
            guard lstat(current, &st) == 0, st.st_mode & S_IFMT == S_IFLNK else { return current }
            var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let n = readlink(current, &buf, buf.count - 1)
            guard n > 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
            let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            current = link.hasPrefix("/") ? link : split(current).dir + link
        }
        throw EngineError.io(path: path, message: "too many levels of symbolic links")
    }

    /// The folder part (ending in `/`, or empty) and the file name of a path.
    private static func split(_ path: String) -> (dir: String, file: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    private static func writeAll(_ fd: Int32, _ parts: [[UInt8]], path: String) throws(EngineError) {
        var failure: String?
        for bytes in parts where failure == nil {
            bytes.withUnsafeBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                var written = 0
                while written < buf.count {
                    let r = Glibc.write(fd, base + written, buf.count - written)
                    if r < 0 {
                        if errno == EINTR { continue }
                        failure = dataErrnoText()
                        return
                    }
                    written += r
                }
            }
        }
        if let failure { throw EngineError.io(path: path, message: failure) }
    }

}
