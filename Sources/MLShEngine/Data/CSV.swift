#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How `CSV.read` splits and types a file.
public struct CSVOptions: Sendable {
    /// The field separator byte; `nil` sniffs it from the file name (`.tsv` → tab, else `,`).
    public var separator: UInt8?
    /// Declared column types, by name; other columns are inferred.
    public var types: [String: DType]
    /// Unquoted field texts that mean "missing".
    public var na: [String]
    /// Called from the parsing threads with the number of body bytes parsed since its
    /// last call (every 65,536 rows of a chunk and at each chunk's end): the calls add up
    /// to the body's size. For a progress bar; it must be thread-safe and quick.
    public var progress: (@Sendable (Int) -> Void)?

    /// Options with the given separator, declared types and missing-value markers.
    public init(separator: UInt8? = nil, types: [String: DType] = [:],
                na: [String] = ["", "NA", "NaN", "nan", "null", "NULL"]) {
        self.separator = separator; self.types = types; self.na = na
    }
}

/// Reading and writing comma- (or tab-) separated files.
///
/// Reading rules: the first row names the columns; a column is `int` when every value
/// is an integer, `float` when every value is a number (also `inf`), `bool` when every
/// value is `true`/`false` (any case), else `string`; a column with no values at all is
/// `float`. Unquoted fields equal to an `na` marker are missing. A quoted field is
/// always text (so `"1"` makes a string column, and `""` is the empty string, not
/// missing) — this is what makes `write` followed by `read` give back the same table.
/// Blank lines are skipped; a UTF-8 byte-order mark and CRLF line ends are accepted.
public enum CSV {
    /// Reads the file at `path` (mapped into memory, not copied).
    public static func read(path: String, options: CSVOptions = .init()) throws(EngineError) -> Table {
        var opts = options
        if opts.separator == nil { opts.separator = path.lowercased().hasSuffix(".tsv") ? 9 : 44 }
        var t = try dataWithFileBytes(path) { (buf, mapped) throws(EngineError) -> Table in
            try parse(buf, name: path, options: opts, mapped: mapped)
        }
        t.label = dataBaseName(path)
        return t
    }

    /// Parses CSV bytes; `name` is used in error messages (as the path).
    public static func read(data: [UInt8], name: String, options: CSVOptions = .init()) throws(EngineError) -> Table {
        try data.withUnsafeBufferPointer { (buf) throws(EngineError) -> Table in
            try parse(buf, name: name, options: options)
        }
    }

    /// Parses `buf`; `mapped` says it is a read-only file mapping, whose parsed pages may
    /// be dropped from memory (they read back from the file when touched again).
    static func parse(_ buf: UnsafeBufferPointer<UInt8>, name: String, options: CSVOptions, allowSplit: Bool = true,
                      mapped: Bool = false) throws(EngineError) -> Table {
        let sep = options.separator ?? (name.lowercased().hasSuffix(".tsv") ? 9 : 44)
        if sep == 34 || sep == 10 || sep == 13 {
            throw EngineError.invalidArgument("the separator cannot be a quote or a line break")
        }
        let result: Result<Table, CSVFailure>
        if let base = buf.baseAddress, buf.count > 0 {
            var parser = CSVReader(p: base, count: buf.count, sep: sep, options: options)
            parser.allowSplit = allowSplit
            parser.dropParsedPages = mapped
            do throws(CSVFailure) { result = .success(try parser.run()) } catch { result = .failure(error) }
        } else {
            result = .failure(CSVFailure(offset: 0, message: "empty file: expected a header row"))
        }
        switch result {
        case .success(var t):
            t.label = dataBaseName(name)
            return t
        case .failure(let f):
            if let e = f.engine { throw e }
            let (line, col) = csvLocate(buf, f.offset)
            throw EngineError.malformedFile(path: name, line: line, column: col, message: f.message)
        }
    }
}

/// Calls `body` with the bytes of the file at `path`: mapped read-only when possible, else read.
func dataWithFileBytes<R>(_ path: String, _ body: (UnsafeBufferPointer<UInt8>) throws(EngineError) -> R) throws(EngineError) -> R {
    try dataWithFileBytes(path) { (buf, _) throws(EngineError) -> R in try body(buf) }
}

/// Calls `body` with the bytes of the file at `path` and whether they are a read-only
/// private mapping of it (else a copy read into memory).
func dataWithFileBytes<R>(_ path: String, _ body: (UnsafeBufferPointer<UInt8>, Bool) throws(EngineError) -> R) throws(EngineError) -> R {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
    var st = stat()
    if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0 {
        let size = Int(st.st_size)
        // Pages are faulted in by the parsing threads, in parallel (no MAP_POPULATE).
        let flags = MAP_PRIVATE
        if let m = mmap(nil, size, PROT_READ, flags, fd, 0), m != MAP_FAILED {
            close(fd)
            defer { munmap(m, size) }
            let p = m.assumingMemoryBound(to: UInt8.self)
            return try body(UnsafeBufferPointer(start: p, count: size), true)
        }
    }
    close(fd)
    let bytes = try dataReadFile(path)
    return try bytes.withUnsafeBufferPointer { (buf) throws(EngineError) -> R in try body(buf, false) }
}

/// Drops the whole pages inside `[s, e)` of a read-only file mapping at `base` from the
/// process's memory: they stay in the page cache, and a later read faults them back in.
func dataDropMappedPages(_ base: UnsafeRawPointer, _ s: Int, _ e: Int) {
    let page = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))
    let origin = Int(bitPattern: base)
    let a = (origin + s + page - 1) / page * page, b = (origin + e) / page * page
    guard b > a, let start = UnsafeMutableRawPointer(bitPattern: a) else { return }
    _ = madvise(start, b - a, Int32(MADV_DONTNEED))
}

/// A parse failure at a byte offset (turned into line and column by `csvLocate`).
struct CSVFailure: Error {
    var offset: Int
    var message: String
    /// An error that is not about a position in the file (such as an unknown declared column).
    var engine: EngineError? = nil
}

/// The 1-based line and column (in characters, not counting a byte-order mark) of `offset`.
func csvLocate(_ buf: UnsafeBufferPointer<UInt8>, _ offset: Int) -> (Int, Int) {
    let off = min(max(0, offset), buf.count)
    var line = 1
    var lineStart = 0
    for i in 0..<off where buf[i] == 10 { line += 1; lineStart = i + 1 }
    var col = 1
    var i = lineStart
    if line == 1 && buf.count >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF { i = min(3, off) }
    while i < off {
        if buf[i] & 0xC0 != 0x80 { col += 1 }
        i += 1
    }
    return (line, col)
}

/// The file name without directories and extension (`data/iris.csv` → `iris`).
func dataBaseName(_ path: String) -> String {
    let file = path.split(separator: "/").last.map(String.init) ?? path
    if let dot = file.lastIndex(of: "."), dot != file.startIndex { return String(file[..<dot]) }
    return file
}

/// The contents of a file, or an `io` error.
func dataReadFile(_ path: String) throws(EngineError) -> [UInt8] {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw EngineError.io(path: path, message: dataErrnoText()) }
    if (st.st_mode & S_IFMT) == S_IFDIR { throw EngineError.io(path: path, message: "is a directory") }
    let size = max(Int(st.st_size), 0)
    var total = 0
    var failure: Int32 = 0
    // Read straight into uninitialised storage (no zero-filling of a large buffer).
    var out = [UInt8](unsafeUninitializedCapacity: size + 1) { buf, count in
        guard let base = buf.baseAddress else { count = 0; return }
        while total < size + 1 {
            let r = dataSysRead(fd, base + total, size + 1 - total)
            if r < 0 { if errno == EINTR { continue }; failure = errno; break }
            if r == 0 { break }
            total += r
        }
        count = total
    }
    if failure != 0 { throw EngineError.io(path: path, message: String(cString: strerror(failure))) }
    if total <= size { return out }
    // The file grew while reading: read the rest in blocks.
    while true {
        if total == out.count { out.append(contentsOf: repeatElement(0, count: max(out.count, 1 << 16))) }
        let r = out.withUnsafeMutableBufferPointer { buf -> Int in
            guard let base = buf.baseAddress else { return 0 }
            return dataSysRead(fd, base + total, buf.count - total)
        }
        if r < 0 {
            if errno == EINTR { continue }
            failure = errno
            break
        }
        if r == 0 { break }
        total += r
    }
    if failure != 0 { throw EngineError.io(path: path, message: String(cString: strerror(failure))) }
    out.removeSubrange(total...)
    return out
}

@inline(__always) private func dataSysRead(_ fd: Int32, _ p: UnsafeMutablePointer<UInt8>, _ n: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.read(fd, p, n)
    #elseif canImport(Musl)
    return Musl.read(fd, p, n)
    #else
    return Darwin.read(fd, p, n)
    #endif
}

/// The text of the current `errno`.
func dataErrnoText() -> String { String(cString: strerror(errno)) }
