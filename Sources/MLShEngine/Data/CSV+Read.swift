#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import MLShCommon

/// The inferred kind of a column so far (within one chunk).
enum CSVKind: UInt8 { case none, int, float, bool, text }

/// Where a text field's bytes are: `[start, start+length)`, quoted or not; start -1 = no field.
struct CSVSpan {
    var start: Int
    var length: Int32
    var quoted: Bool
}

/// The bytes `CSVReader.prescan` searches at a time (fits in a core's L2 cache).
let csvScanBlock = 1 << 16

/// Parses one CSV buffer into a table (see `CSV` for the rules).
struct CSVReader {
    let p: UnsafePointer<UInt8>
    let count: Int
    let sep: UInt8
    let options: CSVOptions
    var names: [String] = []
    var declared: [DType?] = []
    var naMarkers: [[UInt8]]
    var naFirstBytes = [Bool](repeating: false, count: 256)
    var naHasEmpty = false
    /// Whether some marker looks like a number (then markers are checked before numbers).
    var naNumeric = false
    /// Whether a large body may be parsed in chunks on several threads.
    var allowSplit = true
    /// Whether the buffer is a read-only file mapping whose pages each chunk drops once
    /// parsed (`dropPages`), so the file does not stay in the process's memory.
    var dropParsedPages = false

    init(p: UnsafePointer<UInt8>, count: Int, sep: UInt8, options: CSVOptions) {
        self.p = p; self.count = count; self.sep = sep; self.options = options
        naMarkers = options.na.map { Array($0.utf8) }
        for m in naMarkers {
            if let f = m.first { naFirstBytes[Int(f)] = true } else { naHasEmpty = true }
            m.withUnsafeBufferPointer { b in
                if let base = b.baseAddress, case .text = csvClassifyUnquoted(base, 0, b.count) {} else if !m.isEmpty {
                    naNumeric = true
                }
            }
        }
    }

    mutating func run() throws(CSVFailure) -> Table {
        var pos = 0
        if count >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF { pos = 3 }
        if count >= 2 && ((p[0] == 0xFF && p[1] == 0xFE) || (p[0] == 0xFE && p[1] == 0xFF)) {
            throw CSVFailure(offset: 0, message: "UTF-16 text is not supported; save the file as UTF-8")
        }
        let bounds = allowSplit ? segmentBounds() : [0, count]
        let quotes = try prescan(bounds)
        pos = skipBlankLines(pos)
        if pos >= count { throw CSVFailure(offset: 0, message: "empty file: expected a header row") }
        let (header, bodyStart) = try readRecord(pos)
        try readHeader(header)
        let ncols = names.count
        var chunks = splitBody(bodyStart, bounds, quotes)
        let rowBytes = typicalRowBytes(bodyStart)
        let text1 = declared.map { $0 == .string }
        let reader = self
        let results1 = dataParallelChunks(count: chunks.count) { k in
            Result { () throws(CSVFailure) -> CSVChunk in
                try reader.parseChunk(chunks[k], text: text1, textOnly: false, rowsHint: chunks[k].count / rowBytes)
            }
        }
        var parsed: [CSVChunk] = []
        var aligned = true
        for (k, r) in results1.enumerated() {
            switch r {
            case .success(let c):
                parsed.append(c)
                // A chunk whose last row ran past its end was cut inside a quoted field.
                if k + 1 < chunks.count && c.endOffset != chunks[k].upperBound { aligned = false }
            case .failure(let f):
                if aligned { throw f }
            }
            if !aligned { break }
        }
        if !aligned {
            chunks = [bodyStart..<count]
            parsed = [try parseChunk(chunks[0], text: text1, textOnly: false, rowsHint: (count - bodyStart) / rowBytes)]
        }
        // Resolve each column's type across chunks.
        var finalKinds: [CSVKind] = []
        for c in 0..<ncols {
            var k = CSVKind.none
            var sawBool = false, sawNum = false, sawText = false
            for ch in parsed {
                switch ch.kinds[c] {
                case .none: break
                case .int: sawNum = true; if k == .none { k = .int }
                case .float: sawNum = true; k = .float
                case .bool: sawBool = true
                case .text: sawText = true
                }
            }
            if declared[c] == .string || sawText || (sawBool && sawNum) {
                finalKinds.append(.text)
            } else if sawBool {
                finalKinds.append(.bool)
            } else {
                finalKinds.append(k == .none ? .float : k)
            }
        }
        // A second pass codes the text columns in the chunks where they were not coded.
        let recode: [[Bool]] = parsed.map { ch in
            (0..<ncols).map { c in finalKinds[c] == .text && ch.kinds[c] != .none && !ch.coded(c) }
        }
        let again = (0..<parsed.count).filter { recode[$0].contains(true) }
        if !again.isEmpty {
            let results2 = dataParallelChunks(count: again.count) { a in
                Result { () throws(CSVFailure) -> CSVChunk in
                    let k = again[a]
                    return try reader.parseChunk(chunks[k], text: recode[k], textOnly: true, rowsHint: parsed[k].rows)
                }
            }
            for (a, r) in results2.enumerated() {
                switch r {
                case .success(let c):
                    let ch = parsed[again[a]]
                    for col in 0..<ncols where recode[again[a]][col] {
                        ch.release(col)
                        ch.slots[col] = c.slots[col]
                        c.slots[col] = nil
                        ch.kinds[col] = .text
                        ch.spellings[col] = c.spellings[col]
                    }
                case .failure(let f): throw f
                }
            }
        }
        var columns: [Column] = []
        columns.reserveCapacity(ncols)
        // Columns are assembled in parallel, each releasing its chunk buffers as it goes.
        let kindsDone = finalKinds, chunksDone = parsed
        parsed = []
        let assembled = dataParallelChunks(count: ncols, sequential: count < 1 << 20) { c in
            Result { () throws(CSVFailure) -> Column in try reader.assemble(c, kind: kindsDone[c], chunksDone) }
        }
        for r in assembled {
            switch r {
            case .success(let col): columns.append(col)
            case .failure(let f): throw f
            }
        }
        do {
            return try Table(names: names, columns: columns)
        } catch {
            throw CSVFailure(offset: 0, message: error.message)
        }
    }

    func skipBlankLines(_ start: Int) -> Int {
        var i = start
        while i < count && (p[i] == 10 || p[i] == 13) { i += 1 }
        return i
    }

    /// The nominal chunk boundaries over the whole buffer, `[0, ..., count]`: one chunk
    /// under 1 MiB or on one core, else about 8 MiB each and at least four per worker, so
    /// the workers stay busy to the end.
    func segmentBounds() -> [Int] {
        guard count > 1 << 20, dataWorkerCount > 1 else { return [0, count] }
        let parts = min(4096, max(count / (8 << 20), min(4 * dataWorkerCount, count / (256 << 10))))
        return (0...parts).map { count / parts * $0 + min($0, count % parts) }
    }

    /// Checks the segments `[bounds[k], bounds[k+1])` in parallel for a NUL byte (the
    /// first one fails) and returns the number of quote characters in each. Each block of
    /// `csvScanBlock` bytes is searched for both while it is in cache.
    func prescan(_ bounds: [Int]) throws(CSVFailure) -> [Int] {
        let base = p
        let found = dataParallelChunks(count: bounds.count - 1) { k -> (nul: Int, quotes: Int) in
            var quotes = 0
            var s = bounds[k]
            let e = bounds[k + 1]
            while s < e {
                let n = min(csvScanBlock, e - s)
                if let z = memchr(base + s, 0, n) { return (UnsafeRawPointer(z) - UnsafeRawPointer(base), quotes) }
                if memchr(base + s, 34, n) != nil { quotes += csvCountByte(base, s, s + n, 34) }
                s += n
            }
            return (-1, quotes)
        }
        if let z = found.first(where: { $0.nul >= 0 }) {
            throw CSVFailure(offset: z.nul, message: "not a text file (NUL byte)")
        }
        return found.map(\.quotes)
    }

    /// Drops the whole pages inside `[s, e)` of a mapped file from the process's memory
    /// (later reads fault them back in from the file).
    func dropPages(_ s: Int, _ e: Int) {
        guard dropParsedPages else { return }
        dataDropMappedPages(UnsafeRawPointer(p), s, e)
    }

    /// The average bytes per row in the first 64 KiB of the body (at least 1), to size
    /// chunk buffers.
    func typicalRowBytes(_ start: Int) -> Int {
        let n = min(count - start, 1 << 16)
        guard n > 0 else { return 1 }
        let breaks = max(csvCountByte(p, start, start + n, 10), csvCountByte(p, start, start + n, 13))
        return max(1, n / max(1, breaks))
    }

    /// Splits the body into chunks at line starts near the segment bounds. Without quote
    /// characters every line break ends a row; with quotes, a cut goes after a line break
    /// preceded by an even number of quotes since the body's start (outside any quoted
    /// field in a well-formed file; `quotes` counts them per segment). `run` checks that
    /// each chunk's last row really ended at the cut and otherwise parses the body as one
    /// chunk, so a misleading cut costs time, never correctness.
    func splitBody(_ start: Int, _ bounds: [Int], _ quotes: [Int]) -> [Range<Int>] {
        guard bounds.count > 2 else { return [start..<count] }
        let hasQuotes = quotes.contains { $0 > 0 }
        let headerQuotes = hasQuotes ? csvCountByte(p, 0, start, 34) : 0
        var before = 0  // quotes in [0, bounds[k])
        var out: [Range<Int>] = []
        var s = start
        for k in 1..<(bounds.count - 1) {
            before += quotes[k - 1]
            let m = bounds[k]
            guard m > s else { continue }
            var cut = -1
            if !hasQuotes {
                if let nl = memchr(p + m, 10, count - m) { cut = UnsafeRawPointer(nl) - UnsafeRawPointer(p) + 1 }
            } else {
                var odd = (before - headerQuotes) & 1 == 1
                var j = m
                while j < count {
                    let b = p[j]
                    if b == 34 { odd.toggle() } else if b == 10 && !odd { cut = j + 1; break }
                    j += 1
                }
            }
            guard cut > s, cut < count else { break }
            out.append(s..<cut)
            s = cut
        }
        out.append(s..<count)
        return out
    }

    mutating func readHeader(_ header: [CSVSpan]) throws(CSVFailure) {
        var seen: [String: Int] = [:]
        for (k, f) in header.enumerated() {
            guard var name = fieldText(f) else {
                throw CSVFailure(offset: f.start, message: "not UTF-8 text")
            }
            if name.isEmpty { name = "unnamed_\(k)" }
            if seen[name] != nil {
                throw CSVFailure(offset: f.start - (f.quoted ? 1 : 0), message: "duplicate column name '\(name)'")
            }
            seen[name] = k
            names.append(name)
        }
        for key in options.types.keys.sorted() where seen[key] == nil {
            var f = CSVFailure(offset: 0, message: "")
            let hint = closestName(to: key, in: names).map { " (did you mean '\($0)'?)" } ?? ""
            f.engine = EngineError.invalidArgument("types: the file has no column '\(key)'\(hint)")
            throw f
        }
        declared = names.map { options.types[$0] }
    }

    /// The text of a field (quotes removed, doubled quotes undone), or nil when not UTF-8.
    func fieldText(_ f: CSVSpan) -> String? {
        let buf = UnsafeBufferPointer(start: p + f.start, count: Int(f.length))
        if f.quoted && buf.contains(34) {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(buf.count)
            var k = 0
            while k < buf.count {
                bytes.append(buf[k])
                k += buf[k] == 34 ? 2 : 1
            }
            return String(validating: bytes, as: UTF8.self)
        }
        return String(validating: buf, as: UTF8.self)
    }

    /// Whether unquoted bytes `[s, e)` (spaces around ignored) are a missing-value marker.
    @inline(__always)
    func isNA(_ s: Int, _ e: Int) -> Bool {
        var a = s, b = e
        while a < b && p[a] == 32 { a += 1 }
        while b > a && p[b - 1] == 32 { b -= 1 }
        if a == b { return naHasEmpty }
        guard naFirstBytes[Int(p[a])] else { return false }
        let n = b - a
        for m in naMarkers where m.count == n {
            var same = true
            for k in 0..<n where m[k] != p[a + k] { same = false; break }
            if same { return true }
        }
        return false
    }

    /// Reads one record starting at `start`: its field spans and the index after its line end.
    func readRecord(_ start: Int) throws(CSVFailure) -> ([CSVSpan], Int) {
        var fields: [CSVSpan] = []
        var i = start
        while true {
            let (span, t) = try scanField(i)
            fields.append(span)
            if t < count && p[t] == sep { i = t + 1; continue }
            return (fields, lineEnd(t))
        }
    }

    /// The index after the line break at `t` (or `t` at the end of the buffer).
    @inline(__always)
    func lineEnd(_ t: Int) -> Int {
        var i = t
        if i < count && p[i] == 13 { i += 1 }
        if i < count && p[i] == 10 { i += 1 }
        return i
    }

    /// Scans the field at `i`: its span and the index of its terminator (separator, line
    /// break or end of buffer).
    @inline(__always)
    func scanField(_ i: Int) throws(CSVFailure) -> (CSVSpan, Int) {
        if i < count && p[i] == 34 {
            var j = i + 1
            while true {
                guard j < count, let q = memchr(p + j, 34, count - j) else {
                    throw CSVFailure(offset: i, message: "unterminated quoted field (the quote opens here)")
                }
                let qi = UnsafeRawPointer(q) - UnsafeRawPointer(p)
                if qi + 1 < count && p[qi + 1] == 34 { j = qi + 2; continue }
                let t = qi + 1
                if t < count && p[t] != sep && p[t] != 10 && p[t] != 13 {
                    throw CSVFailure(offset: t, message: "expected a separator or line end after the closing quote")
                }
                return (CSVSpan(start: i + 1, length: Int32(clamping: qi - i - 1), quoted: true), t)
            }
        }
        var j = i
        while j < count {
            let b = p[j]
            if b == sep || b == 10 || b == 13 { break }
            j += 1
        }
        return (CSVSpan(start: i, length: Int32(clamping: j - i), quoted: false), j)
    }

    /// The text of bytes `[s, e)` for messages (at most 40 characters).
    func snippet(_ s: Int, _ e: Int) -> String {
        let text = String(decoding: UnsafeBufferPointer(start: p + s, count: max(0, e - s)), as: UTF8.self)
        return text.count > 40 ? String(text.prefix(40)) + "…" : text
    }
}
