#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The values of one chunk of rows. Each parsed column has a malloc'd buffer of 64-bit
/// slots, one per row, holding Int64 bits (int), Double bits (float; NaN when missing),
/// 0/1 (bool) or a chunk-local dictionary code as Int64 bits (text; -1 when missing),
/// according to the column's kind in this chunk. A text column without a buffer was not
/// coded (it turned text after numbers or bools, or was skipped).
final class CSVChunk: @unchecked Sendable {
    var rows = 0
    /// Where parsing stopped: the chunk's end when its last row ended there.
    var endOffset = 0
    var kinds: [CSVKind] = []
    let ncols: Int
    /// The slot buffers, by column; owned by the chunk.
    let slots: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    /// Missing rows of int and bool columns (chunk-relative).
    var missing: [[Int]] = []
    /// The distinct spellings of each coded text column, by local code.
    var spellings: [[CSVSpan]] = []

    /// A chunk of `ncols` columns without buffers.
    init(ncols: Int) {
        self.ncols = ncols
        slots = .allocate(capacity: max(1, ncols))
        slots.initialize(repeating: nil, count: max(1, ncols))
    }

    /// Whether column `c` holds a code for every row.
    func coded(_ c: Int) -> Bool { kinds[c] == .text && slots[c] != nil }

    /// Frees column `c`'s buffer (each column is released by one thread at a time).
    func release(_ c: Int) {
        if let s = slots[c] { free(s) }
        slots[c] = nil
    }

    deinit {
        for c in 0..<ncols { release(c) }
        slots.deallocate()
    }
}

/// Counts bytes equal to `byte` in `[s, e)`, eight at a time (exact SWAR zero-byte test).
func csvCountByte(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ byte: UInt8) -> Int {
    var n = 0
    var i = s
    let raw = UnsafeRawPointer(p)
    let ones: UInt64 = 0x0101_0101_0101_0101
    while i + 8 <= e {
        let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ (ones &* UInt64(byte))
        let t = ((w & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | w
        n += (~t & 0x8080_8080_8080_8080).nonzeroBitCount
        i += 8
    }
    while i < e { if p[i] == byte { n += 1 }; i += 1 }
    return n
}

/// Allocates an uninitialised buffer of `n` slots with malloc (so it can grow with realloc).
func csvAllocSlots(_ n: Int) -> UnsafeMutablePointer<UInt64>? {
    malloc(max(1, n) &* 8)?.assumingMemoryBound(to: UInt64.self)
}

/// The row-parsing loop and column assembly of `CSVReader`.
extension CSVReader {
    /// Parses the rows in `range` (which starts at a row start). Columns with `text` set
    /// are read as text and coded; with `textOnly`, all other columns are skipped.
    /// `rowsHint` sizes the buffers, which grow when it is short.
    func parseChunk(_ range: Range<Int>, text: [Bool], textOnly: Bool, rowsHint: Int) throws(CSVFailure) -> CSVChunk {
        let ncols = names.count
        let end = range.upperBound
        var capacity = max(16, rowsHint)
        // The chunk owns the buffers from here on (freed if parsing throws).
        let chunk = CSVChunk(ncols: ncols)
        var kinds = [CSVKind](repeating: .none, count: ncols)
        for c in 0..<ncols {
            if text[c] {
                kinds[c] = .text
            } else if textOnly {
                kinds[c] = .text  // skipped: no buffer
                continue
            } else {
                switch declared[c] {
                case .float: kinds[c] = .float
                case .int: kinds[c] = .int
                case .bool: kinds[c] = .bool
                default: kinds[c] = .none
                }
            }
            guard let buf = csvAllocSlots(capacity) else {
                throw CSVFailure(offset: range.lowerBound, message: "out of memory")
            }
            chunk.slots[c] = buf
        }
        // Loop state lives in one local struct and raw buffers, never in variables captured
        // by closures (those would cost a dynamic exclusivity check per access).
        var st = CSVChunkState(ncols: ncols, kinds: kinds, slots: chunk.slots, declared: declared.map { $0 != nil })
        defer { st.release() }
        var interners = [CSVLocalInterner](repeating: CSVLocalInterner(), count: ncols)
        let fastNumbers = !naNumeric
        var i = range.lowerBound
        var reported = range.lowerBound
        while i < end {
            let b0 = p[i]
            if b0 == 10 || b0 == 13 { i += 1; continue }  // blank line
            let rowStart = i
            if st.row == capacity {
                let grown = capacity + capacity / 2 + 1024
                for c in 0..<ncols {
                    guard let s = chunk.slots[c] else { continue }
                    guard let g = realloc(s, grown &* 8) else {
                        throw CSVFailure(offset: i, message: "out of memory")
                    }
                    chunk.slots[c] = g.assumingMemoryBound(to: UInt64.self)
                }
                capacity = grown
            }
            var col = 0
            while true {
                if col >= ncols {
                    let found = (try? readRecord(rowStart).0.count) ?? (ncols + 1)
                    throw CSVFailure(offset: i, message: "expected \(ncols) fields as in the header, found \(found)")
                }
                var t: Int
                let k = st.kind[col]
                if k == .float, fastNumbers, let out = st.slot[col] {
                    var d = 0.0
                    let j = csvParsePlainDouble(p, i, end, sep, &d)
                    if j >= 0 {
                        out[st.row] = d.bitPattern
                        t = j
                        if t < end && p[t] == sep { col += 1; i = t + 1; continue }
                        i = lineEnd(t)
                        break
                    }
                }
                if k == .text {
                    let (span, tt) = try scanField(i)
                    t = tt
                    if let out = st.slot[col] { out[st.row] = code(span, &interners[col]) }
                } else if fastNumbers, k != .bool, p[i] != 34,
                          let (v, j) = csvParseNumber(p, i, end),
                          j == end || p[j] == sep || p[j] == 10 || p[j] == 13 {
                    if !st.store(col, v) { throw conflict(col, i, j) }
                    t = j
                } else {
                    let (span, tt) = try scanField(i)
                    t = tt
                    let s = span.start, e = span.start + Int(span.length)
                    let v: CSVValue
                    if span.quoted && declared[col] == nil {
                        v = .text
                    } else {
                        v = isNA(s, e) ? .missing : csvClassifyUnquoted(p, s, e)
                    }
                    if !st.store(col, v) { throw conflict(col, i, t) }
                    if case .text = v, let out = st.slot[col] { out[st.row] = code(span, &interners[col]) }
                }
                if t < end && p[t] == sep {
                    col += 1
                    i = t + 1
                    continue
                }
                i = lineEnd(t)
                break
            }
            if col + 1 != ncols {
                throw CSVFailure(offset: max(rowStart, i - 1 - (i >= 2 && p[i - 2] == 13 ? 1 : 0)),
                                 message: "expected \(ncols) fields as in the header, found \(col + 1)")
            }
            st.row += 1
            // Progress, on the first pass: the bytes parsed since the last report.
            if st.row & 0xFFFF == 0, !textOnly, let progress = options.progress {
                progress(i - reported)
                reported = i
            }
        }
        if !textOnly, let progress = options.progress { progress(Swift.max(0, end - reported)) }
        dropPages(range.lowerBound, i)
        chunk.rows = st.row
        chunk.endOffset = i
        chunk.kinds = (0..<ncols).map { st.kind[$0] }
        chunk.missing = st.missing
        chunk.spellings = interners.map(\.spellings)
        return chunk
    }

    /// The slot value of a text field: -1 for an unquoted missing-value marker, else the
    /// chunk-local code of its spelling.
    @inline(__always)
    func code(_ span: CSVSpan, _ interner: inout CSVLocalInterner) -> UInt64 {
        if !span.quoted && isNA(span.start, span.start + Int(span.length)) { return UInt64(bitPattern: -1) }
        return UInt64(interner.code(p, span))
    }

    func conflict(_ col: Int, _ s: Int, _ e: Int) -> CSVFailure {
        let type = declared[col]?.rawValue ?? "?"
        return CSVFailure(offset: s, message: "column '\(names[col])' is declared \(type) but has the value '\(snippet(s, e))'")
    }

    /// Builds column `c` of the table from the chunks, as `kind`, releasing the chunks'
    /// buffers of that column as it goes. A text column must be coded in every chunk
    /// where it has values.
    func assemble(_ c: Int, kind: CSVKind, _ chunks: [CSVChunk]) throws(CSVFailure) -> Column {
        let total = chunks.reduce(0) { $0 + $1.rows }
        switch kind {
        case .float, .none:
            let out = [Double](unsafeUninitializedCapacity: total) { buf, count in
                guard let dst = buf.baseAddress else { count = 0; return }
                var base = 0
                for ch in chunks {
                    let n = ch.rows
                    if let src = ch.slots[c], ch.kinds[c] == .float {
                        UnsafeMutableRawPointer(dst + base).copyMemory(from: src, byteCount: n * 8)
                    } else if let src = ch.slots[c], ch.kinds[c] == .int {
                        for r in 0..<n { buf[base + r] = Double(Int64(bitPattern: src[r])) }
                        for r in ch.missing[c] { buf[base + r] = .nan }
                    } else {
                        for r in 0..<n { buf[base + r] = .nan }
                    }
                    ch.release(c)
                    base += n
                }
                count = total
            }
            return Column(floats: out)
        case .int:
            var valid: [Bool]? = nil
            let out = [Int64](unsafeUninitializedCapacity: total) { buf, count in
                guard let dst = buf.baseAddress else { count = 0; return }
                var base = 0
                for ch in chunks {
                    let n = ch.rows
                    if let src = ch.slots[c], ch.kinds[c] == .int {
                        UnsafeMutableRawPointer(dst + base).copyMemory(from: src, byteCount: n * 8)
                    } else {
                        for r in 0..<n { buf[base + r] = 0 }
                    }
                    if !ch.missing[c].isEmpty || ch.kinds[c] == .none {
                        if valid == nil { valid = [Bool](repeating: true, count: total) }
                        if ch.kinds[c] == .none { for r in 0..<n { valid?[base + r] = false } }
                        for r in ch.missing[c] { buf[base + r] = 0; valid?[base + r] = false }
                    }
                    ch.release(c)
                    base += n
                }
                count = total
            }
            return Column(ints: out, validity: valid)
        case .bool:
            var out = [Bool](repeating: false, count: total)
            var valid: [Bool]? = nil
            var base = 0
            for ch in chunks {
                let n = ch.rows
                if let src = ch.slots[c], ch.kinds[c] == .bool { for r in 0..<n { out[base + r] = src[r] != 0 } }
                if !ch.missing[c].isEmpty || ch.kinds[c] == .none {
                    if valid == nil { valid = [Bool](repeating: true, count: total) }
                    if ch.kinds[c] == .none { for r in 0..<n { valid?[base + r] = false } }
                    for r in ch.missing[c] { valid?[base + r] = false }
                }
                ch.release(c)
                base += n
            }
            return Column(bools: out, validity: valid)
        case .text:
            // One dictionary in order of first occurrence; each chunk's codes map to it.
            var byText: [String: Int32] = [:]
            var dictionary: [String] = []
            var remaps: [[Int32]] = []
            remaps.reserveCapacity(chunks.count)
            for ch in chunks {
                var remap: [Int32] = []
                if ch.coded(c) {
                    remap.reserveCapacity(ch.spellings[c].count)
                    for span in ch.spellings[c] {
                        guard let text = fieldText(span) else {
                            throw CSVFailure(offset: span.start, message: "not UTF-8 text in column '\(names[c])'")
                        }
                        if let g = byText[text] { remap.append(g); continue }
                        let g = Int32(dictionary.count)
                        byText[text] = g
                        dictionary.append(text)
                        remap.append(g)
                    }
                }
                remaps.append(remap)
            }
            let codes = [Int32](unsafeUninitializedCapacity: total) { buf, count in
                var base = 0
                for (k, ch) in chunks.enumerated() {
                    let n = ch.rows
                    if let src = ch.slots[c], ch.kinds[c] == .text {
                        remaps[k].withUnsafeBufferPointer { rm in
                            for r in 0..<n {
                                let local = Int(Int64(bitPattern: src[r]))
                                buf[base + r] = local >= 0 && local < rm.count ? rm[local] : -1
                            }
                        }
                    } else {
                        for r in 0..<n { buf[base + r] = -1 }  // no values in this chunk
                    }
                    ch.release(c)
                    base += n
                }
                count = total
            }
            return Column(.string(codes: codes, dictionary: dictionary))
        }
    }
}

/// Codes the text fields of one column within one chunk: an open-addressing table keyed by
/// a field's raw bytes and quotedness; codes number the distinct spellings in order of
/// first occurrence (decoding and deduplicating by text happens once per spelling, when
/// the chunks are assembled).
struct CSVLocalInterner {
    private var table: [Int32] = []
    private var hashes: [UInt64] = []
    private(set) var spellings: [CSVSpan] = []

    @inline(__always) private static func hash(_ p: UnsafePointer<UInt8>, _ s: CSVSpan) -> UInt64 {
        var h: UInt64 = s.quoted ? 0x9E37_79B9_7F4A_7C15 : 0xCBF2_9CE4_8422_2325
        for k in s.start..<(s.start + Int(s.length)) { h = (h ^ UInt64(p[k])) &* 0x100_0000_01B3 }
        return h ^ (h >> 29)
    }

    /// Whether spans `a` and `b` have the same bytes and quotedness (short ones compared inline).
    @inline(__always) private static func same(_ p: UnsafePointer<UInt8>, _ a: CSVSpan, _ b: CSVSpan) -> Bool {
        guard a.length == b.length && a.quoted == b.quoted else { return false }
        let n = Int(a.length)
        if n > 16 { return memcmp(p + a.start, p + b.start, n) == 0 }
        for k in 0..<n where p[a.start + k] != p[b.start + k] { return false }
        return true
    }

    /// The code of the spelling of `s`, new codes numbered from 0.
    @inline(__always)
    mutating func code(_ p: UnsafePointer<UInt8>, _ s: CSVSpan) -> Int32 {
        if table.isEmpty { table = [Int32](repeating: -1, count: 64) }
        let h = Self.hash(p, s)
        let mask = table.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = table[i]
            if e < 0 { break }
            if hashes[Int(e)] == h && Self.same(p, spellings[Int(e)], s) { return e }
            i = (i + 1) & mask
        }
        let e = Int32(spellings.count)
        spellings.append(s)
        hashes.append(h)
        table[i] = e
        if spellings.count * 2 > table.count { grow() }
        return e
    }

    private mutating func grow() {
        table = [Int32](repeating: -1, count: table.count * 2)
        let mask = table.count - 1
        for (e, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while table[i] >= 0 { i = (i + 1) & mask }
            table[i] = Int32(e)
        }
    }
}

/// The mutable state of one chunk's parse: the row, each column's kind and slot buffer
/// (raw, so the hot loop does no array or exclusivity checks), and missing rows.
struct CSVChunkState {
    var row = 0
    let kind: UnsafeMutablePointer<CSVKind>
    /// The chunk's buffers (`CSVChunk.slots`), by column.
    let slot: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    let declared: UnsafeMutablePointer<Bool>
    var missing: [[Int]]
    let nanBits = Double.nan.bitPattern

    init(ncols: Int, kinds: [CSVKind], slots: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>, declared: [Bool]) {
        kind = .allocate(capacity: max(1, ncols))
        slot = slots
        self.declared = .allocate(capacity: max(1, ncols))
        for c in 0..<ncols { kind[c] = kinds[c]; self.declared[c] = declared[c] }
        missing = [[Int]](repeating: [], count: ncols)
    }

    func release() { kind.deallocate(); declared.deallocate() }

    /// The column turns text after values of another kind: its buffer is dropped (a
    /// second pass codes it).
    @inline(__always)
    mutating func dropToText(_ col: Int) {
        kind[col] = .text
        if let s = slot[col] { free(s) }
        slot[col] = nil
        missing[col] = []
    }

    /// Stores value `v` of column `col` at the current row; false when it conflicts with
    /// the column's declared type. A column that turns text with only missing values
    /// before keeps its buffer, now holding codes (-1 for those rows); the caller codes
    /// the current field.
    @inline(__always)
    mutating func store(_ col: Int, _ v: CSVValue) -> Bool {
        guard let out = slot[col] else { return true }
        switch kind[col] {
        case .float:
            switch v {
            case .float(let d): out[row] = d.bitPattern
            case .int(let n): out[row] = Double(n).bitPattern
            case .missing: out[row] = nanBits
            case .bool, .text:
                if declared[col] { return false }
                dropToText(col)
            }
        case .int:
            switch v {
            case .int(let n): out[row] = UInt64(bitPattern: n)
            case .missing: out[row] = 0; missing[col].append(row)
            case .float(let d):
                if declared[col] { return false }
                kind[col] = .float
                for r in 0..<row { out[r] = Double(Int64(bitPattern: out[r])).bitPattern }
                for r in missing[col] { out[r] = nanBits }
                missing[col] = []
                out[row] = d.bitPattern
            case .bool, .text:
                if declared[col] { return false }
                dropToText(col)
            }
        case .bool:
            switch v {
            case .bool(let b): out[row] = b ? 1 : 0
            case .missing: out[row] = 0; missing[col].append(row)
            default:
                if declared[col] { return false }
                dropToText(col)
            }
        case .none:
            switch v {
            case .missing: out[row] = nanBits; missing[col].append(row)
            case .int(let n): kind[col] = .int; out[row] = UInt64(bitPattern: n)
            case .float(let d): kind[col] = .float; out[row] = d.bitPattern; missing[col] = []
            case .bool(let b): kind[col] = .bool; out[row] = b ? 1 : 0
            case .text:
                kind[col] = .text
                for r in 0..<row { out[r] = UInt64(bitPattern: -1) }
                missing[col] = []
            }
        case .text:
            break
        }
        return true
    }
}
