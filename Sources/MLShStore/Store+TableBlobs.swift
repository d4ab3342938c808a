import Foundation
import MLShEngine
#if canImport(Glibc)
import Glibc
#endif

extension Store {
    /// Stores a table as a snapshot file `<hash>` in the store's files folder (or as `blobs`
    /// rows of a PostgreSQL store without one), `hash` the hex of the
    /// file's checksum: streamed to a temporary file beside it, synced, renamed into place.
    /// An existing file of that hash is reused (and touched, so `gc` keeps it), never
    /// rewritten. Returns the hash and the file's size.
    public func putTable(_ t: Table) throws(StoreError) -> (hash: String, bytes: Int) {
        let prepared = try TableFile.prepare(t)
        let hash = SHA256.hexString(prepared.checksum)
        guard let dir = filesFolder else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(prepared.size)
            try prepared.write { (part) throws(StoreError) in bytes += part }
            try putBlob(bytes, hash: hash)
            return (hash, prepared.size)
        }
        let final = dir + "/" + hash
        if utimes(final, nil) == 0 { return (hash, prepared.size) }
        if errno != ENOENT, FileManager.default.fileExists(atPath: final) { return (hash, prepared.size) }
        let temp = "\(dir)/.\(hash).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        func failed(_ why: String) -> StoreError {
            StoreError(Store.folderProblem(dir) ?? "cannot write table snapshot \(hash) in \(dir): \(why)")
        }
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failed(String(cString: strerror(errno))) }
        var failure: StoreError?
        do {
            try prepared.write { (bytes) throws(StoreError) in
                guard let base = bytes.baseAddress else { return }
                var done = 0
                while done < bytes.count {
                    let r = Glibc.write(fd, base + done, bytes.count - done)
                    if r < 0 && errno == EINTR { continue }
                    guard r > 0 else { throw failed(String(cString: strerror(errno))) }
                    done += r
                }
            }
        } catch { failure = error }
        if failure == nil && fsync(fd) != 0 { failure = failed(String(cString: strerror(errno))) }
        if close(fd) != 0 && failure == nil { failure = failed(String(cString: strerror(errno))) }
        if failure == nil && rename(temp, final) != 0 { failure = failed(String(cString: strerror(errno))) }
        if let failure {
            unlink(temp)
            throw failure
        }
        return (hash, prepared.size)
    }

    /// The table stored as snapshot `hash`, verified against the checksum it ends with and
    /// against its name; `label` names it in messages.
    public func table(_ hash: String, label: String?) throws(StoreError) -> Table {
        guard hash.count == 64, hash.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw StoreError("'\(hash)' is not a snapshot hash")
        }
        guard let dir = filesFolder else { return try databaseTable(hash, label: label) }
        let path = dir + "/" + hash
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // A PostgreSQL store reads the blobs stored before it had an artifacts folder.
            if errno == ENOENT, postgres != nil { return try databaseTable(hash, label: label) }
            if errno == ENOENT { throw StoreError("snapshot \(hash) is missing from \(dir)") }
            throw StoreError("cannot open snapshot \(hash): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw StoreError("snapshot \(hash) in \(dir) is not a regular file")
        }
        return try decodedTable(TableFileDescriptor(fd: fd, size: Int(st.st_size)), hash: hash, label: label)
    }

    /// The table stored as snapshot `hash` in the database's `blobs`.
    private func databaseTable(_ hash: String, label: String?) throws(StoreError) -> Table {
        guard let bytes = try blob(hash) else { throw missing("snapshot", hash) }
        return try decodedTable(TableFileBytes(bytes), hash: hash, label: label)
    }

    /// The table in snapshot file `source`, stored as `hash`, checked against its checksum
    /// and its name. A file that fails its checks is set aside (`setAside`), so storing the
    /// table again writes it afresh.
    func decodedTable(_ source: some TableFileSource, hash: String, label: String?) throws(StoreError) -> Table {
        let decoded: TableFile.Decoded
        do { decoded = try TableFile.read(source) } catch {
            throw StoreError(error.message + setAside(hash))
        }
        guard SHA256.hexString(decoded.checksum) == hash else {
            throw StoreError("snapshot \(hash) is corrupted: its checksum no longer matches its name" + setAside(hash))
        }
        var table = decoded.table
        table.label = label
        return table
    }
}
