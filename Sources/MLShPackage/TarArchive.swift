/// A tar archive (POSIX ustar, with a pax extended header for a path too long for
/// ustar), built in memory from entries given in any order: they are written sorted by
/// path, with fixed owners and times, so the same entries always give the same bytes.
struct TarArchive {
    /// One member: a folder or a regular file, its path relative to the archive's root
    /// (no leading `/`).
    struct Entry {
        var path: String
        var mode: UInt32
        var uid = 0
        var gid = 0
        /// nil: a folder.
        var contents: [UInt8]?

        static func directory(_ path: String, mode: UInt32 = 0o755, uid: Int = 0, gid: Int = 0) -> Entry {
            Entry(path: path, mode: mode, uid: uid, gid: gid, contents: nil)
        }

        static func file(_ path: String, _ contents: [UInt8], mode: UInt32 = 0o644) -> Entry {
            Entry(path: path, mode: mode, contents: contents)
        }
    }

    /// The archive's bytes: `entries` sorted by path, every time 0 (1970-01-01), then the
    /// two zero blocks that end a tar file. Paths must be unique.
    static func bytes(_ entries: [Entry], mtime: Int = 0) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(entries.reduce(1024) { $0 + 1024 + ($1.contents?.count ?? 0) })
        for e in entries.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            let isDir = e.contents == nil
            let path = isDir && !e.path.hasSuffix("/") ? e.path + "/" : e.path
            let size = e.contents?.count ?? 0
            var name = path, prefix = ""
            if let (p, n) = split(path) { prefix = p; name = n } else {
                // No ustar form: a pax header carries the path; the ustar name is cut.
                let record = paxRecord("path", path)
                out += header(name: "PaxHeaders/" + String(decoding: path.utf8.suffix(80), as: UTF8.self).replacingOccurrences(of: "/", with: "_"),
                              prefix: "", mode: 0o644, uid: 0, gid: 0, size: record.count, mtime: mtime, type: UInt8(ascii: "x"))
                append(record, to: &out)
                name = String(decoding: path.utf8.suffix(99), as: UTF8.self)
            }
            out += header(name: name, prefix: prefix, mode: e.mode, uid: e.uid, gid: e.gid, size: size, mtime: mtime,
                          type: isDir ? UInt8(ascii: "5") : UInt8(ascii: "0"))
            if let c = e.contents { append(c, to: &out) }
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
    }

    /// `bytes` then zeros up to the next 512-byte block.
    private static func append(_ bytes: [UInt8], to out: inout [UInt8]) {
        out += bytes
        let pad = (512 - bytes.count % 512) % 512
        if pad > 0 { out += [UInt8](repeating: 0, count: pad) }
    }

    /// The ustar (prefix, name) of a path: the name alone when it fits in 100 bytes, else
    /// split at a `/` into at most 155 + 100 bytes; nil when no split fits.
    static func split(_ path: String) -> (String, String)? {
        let bytes = Array(path.utf8)
        if bytes.count <= 100 { return ("", path) }
        for i in bytes.indices.reversed() where bytes[i] == UInt8(ascii: "/") {
            let prefix = bytes[..<i], name = bytes[(i + 1)...]
            if prefix.count <= 155 && name.count <= 100 && !name.isEmpty {
                return (String(decoding: prefix, as: UTF8.self), String(decoding: name, as: UTF8.self))
            }
        }
        return nil
    }

    /// A pax record, `"<length> key=value\n"`, whose length counts itself.
    static func paxRecord(_ key: String, _ value: String) -> [UInt8] {
        let body = " \(key)=\(value)\n"
        var n = body.utf8.count
        while String(n).count + body.utf8.count != n { n = String(n).count + body.utf8.count }
        return Array((String(n) + body).utf8)
    }

    /// One 512-byte ustar header.
    private static func header(name: String, prefix: String, mode: UInt32, uid: Int, gid: Int, size: Int, mtime: Int,
                               type: UInt8) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, at offset: Int, width: Int) {
            for (i, b) in s.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int, at offset: Int, width: Int) {
            put(String(repeating: "0", count: max(0, width - 1 - String(v, radix: 8).count)) + String(v, radix: 8), at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(Int(mode), at: 100, width: 8)
        octal(uid, at: 108, width: 8)
        octal(gid, at: 116, width: 8)
        octal(size, at: 124, width: 12)
        octal(mtime, at: 136, width: 12)
        h[156] = type
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put(prefix, at: 345, width: 155)
        // The checksum is taken with its own field as spaces.
        for i in 148..<156 { h[i] = UInt8(ascii: " ") }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(sum, at: 148, width: 7)
        h[154] = 0
        h[155] = UInt8(ascii: " ")
        return h
    }
}
