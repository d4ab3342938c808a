#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The values of one chunk of rows. Each non-text column has a buffer of 64-bit slots,
/// one per row, holding Int64 bits (int), Double bits (float; NaN when missing) or 0/1
/// (bool), according to the column's kind in this chunk.
final class CSVChunk: @unchecked Sendable {
    var rows: Int
    /// Where parsing stopped: the chunk's end when its last row ended there.
    var endOffset = 0
    var kinds: [CSVKind]
    let slots: [UnsafeMutablePointer<UInt64>?]
    /// Missing rows of int and bool columns (chunk-relative).
    var missing: [[Int]]
    /// Text spans of the columns that collect them.
    var spans: [[CSVSpan]]

    init(rows: Int, kinds: [CSVKind], slots: [UnsafeMutablePointer<UInt64>?], missing: [[Int]], spans: [[CSVSpan]]) {
        self.rows = rows; self.kinds = kinds; self.slots = slots; self.missing = missing; self.spans = spans
    }

    deinit { for s in slots { s?.deallocate() } }
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

/// The row-parsing loop and column assembly of `CSVReader`.
extension CSVReader {
    /// Parses the rows in `range` (which starts at a row start). Columns with `collect`
    /// set record text spans; with `onlySpans`, all other columns are skipped.
    func parseChunk(_ range: Range<Int>, collect: [Bool], onlySpans: Bool) throws(CSVFailure) -> CSVChunk {
        let ncols = names.count
        let end = range.upperBound
        // Every row but the last ends in \n, \r or \r\n, so this bounds the row count.
        let capacity = csvCountByte(p, range.lowerBound, end, 10) + csvCountByte(p, range.lowerBound, end, 13) + 1
        var kinds = [CSVKind](repeating: .none, count: ncols)
        var slots = [UnsafeMutablePointer<UInt64>?](repeating: nil, count: ncols)
        for c in 0..<ncols {
            if collect[c] { kinds[c] = .text; continue }
            if onlySpans { kinds[c] = .text; continue }  // skipped
            switch declared[c] {
            case .float: kinds[c] = .float
            case .int: kinds[c] = .int
            case .bool: kinds[c] = .bool
            default: kinds[c] = .none
            }
            slots[c] = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        }
        // The chunk owns the buffers from here on (freed if parsing throws).
        let chunk = CSVChunk(rows: 0, kinds: [], slots: slots, missing: [], spans: [])
        // Loop state lives in one local struct and raw buffers, never in variables captured
        // by closures (those would cost a dynamic exclusivity check per access).
        var st = CSVChunkState(ncols: ncols, kinds: kinds, slots: slots, declared: declared.map { $0 != nil })
        defer { st.release() }
        var spans = [[CSVSpan]](repeating: [], count: ncols)
        let fastNumbers = !naNumeric
        var i = range.lowerBound
        var reported = range.lowerBound
        while i < end {
            let b0 = p[i]
            if b0 == 10 || b0 == 13 { i += 1; continue }  // blank line
            let rowStart = i
            guard st.row < capacity else {
                // Unreachable by the bound above; refuse rather than write out of bounds.
                throw CSVFailure(offset: i, message: "internal error: more rows than line breaks")
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
                    if collect[col] { spans[col].append(span) }
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
            if st.row & 0xFFFF == 0, !onlySpans, let progress = options.progress {
                progress(i - reported)
                reported = i
            }
        }
        if !onlySpans, let progress = options.progress { progress(Swift.max(0, end - reported)) }
        chunk.rows = st.row
        chunk.endOffset = i
        chunk.kinds = (0..<ncols).map { st.kind[$0] }
        chunk.missing = st.missing
        chunk.spans = spans
        return chunk
    }

    func conflict(_ col: Int, _ s: Int, _ e: Int) -> CSVFailure {
        let type = declared[col]?.rawValue ?? "?"
        return CSVFailure(offset: s, message: "column '\(names[col])' is declared \(type) but has the value '\(snippet(s, e))'")
    }

    /// Builds column `c` of the table from the chunks, as `kind`.
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
                    base += n
                }
                count = total
            }
            return Column(floats: out)
        case .int:
            var valid: [Bool]? = nil
            let out = [Int64](unsafeUninitializedCapacity: total) { buf, count in
                var base = 0
                for ch in chunks {
                    let n = ch.rows
                    if let src = ch.slots[c], ch.kinds[c] == .int {
                        for r in 0..<n { buf[base + r] = Int64(bitPattern: src[r]) }
                    } else {
                        for r in 0..<n { buf[base + r] = 0 }
                    }
                    if !ch.missing[c].isEmpty || ch.kinds[c] == .none {
                        if valid == nil { valid = [Bool](repeating: true, count: total) }
                        if ch.kinds[c] == .none { for r in 0..<n { valid?[base + r] = false } }
                        for r in ch.missing[c] { buf[base + r] = 0; valid?[base + r] = false }
                    }
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
                base += n
            }
            return Column(bools: out, validity: valid)
        case .text:
            var interner = CSVInterner(p: p)
            var codes = [Int32]()
            codes.reserveCapacity(total)
            for ch in chunks {
                for span in ch.spans[c] {
                    let s = span.start, e = span.start + Int(span.length)
                    if !span.quoted && isNA(s, e) { codes.append(-1); continue }
                    if let code = interner.lookup(span) { codes.append(code); continue }
                    guard let text = fieldText(span) else {
                        throw CSVFailure(offset: s, message: "not UTF-8 text in column '\(names[c])'")
                    }
                    codes.append(interner.insert(span, text))
                }
            }
            return Column(.string(codes: codes, dictionary: interner.dictionary))
        }
    }
}

/// Maps field bytes to dictionary codes without building a String for values seen before:
/// an open-addressing table keyed by the raw bytes (and quotedness) of first occurrences;
/// new raw spellings are decoded once and deduplicated by their text.
struct CSVInterner {
    let p: UnsafePointer<UInt8>
    private var slots = [Int32](repeating: -1, count: 1024)
    private var spans: [CSVSpan] = []
    private var spanCodes: [Int32] = []
    private var hashes: [UInt64] = []
    private var byText: [String: Int32] = [:]
    private(set) var dictionary: [String] = []

    init(p: UnsafePointer<UInt8>) { self.p = p }

    @inline(__always) private func hash(_ s: CSVSpan) -> UInt64 {
        var h: UInt64 = s.quoted ? 0x9E37_79B9_7F4A_7C15 : 0xCBF2_9CE4_8422_2325
        for k in s.start..<(s.start + Int(s.length)) { h = (h ^ UInt64(p[k])) &* 0x100_0000_01B3 }
        return h ^ (h >> 29)
    }

    @inline(__always) private func same(_ a: CSVSpan, _ b: CSVSpan) -> Bool {
        a.length == b.length && a.quoted == b.quoted && memcmp(p + a.start, p + b.start, Int(a.length)) == 0
    }

    /// The code of a span whose bytes were seen before.
    mutating func lookup(_ s: CSVSpan) -> Int32? {
        let h = hash(s)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = slots[i]
            if e < 0 { return nil }
            if hashes[Int(e)] == h && same(spans[Int(e)], s) { return spanCodes[Int(e)] }
            i = (i + 1) & mask
        }
    }

    /// Records a new spelling with its decoded text; returns its code.
    mutating func insert(_ s: CSVSpan, _ text: String) -> Int32 {
        let code: Int32
        if let c = byText[text] { code = c } else {
            code = Int32(dictionary.count)
            byText[text] = code
            dictionary.append(text)
        }
        if (spans.count + 1) * 2 > slots.count { grow() }
        let h = hash(s)
        place(Int32(spans.count), h)
        spans.append(s)
        spanCodes.append(code)
        hashes.append(h)
        return code
    }

    private mutating func place(_ e: Int32, _ h: UInt64) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = e
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for (e, h) in hashes.enumerated() { place(Int32(e), h) }
    }
}

/// The mutable state of one chunk's parse: the row, each column's kind and slot buffer
/// (raw, so the hot loop does no array or exclusivity checks), and missing rows.
struct CSVChunkState {
    var row = 0
    let kind: UnsafeMutablePointer<CSVKind>
    let slot: UnsafeMutablePointer<UnsafeMutablePointer<UInt64>?>
    let declared: UnsafeMutablePointer<Bool>
    var missing: [[Int]]
    let nanBits = Double.nan.bitPattern

    init(ncols: Int, kinds: [CSVKind], slots: [UnsafeMutablePointer<UInt64>?], declared: [Bool]) {
        kind = .allocate(capacity: max(1, ncols))
        slot = .allocate(capacity: max(1, ncols))
        self.declared = .allocate(capacity: max(1, ncols))
        for c in 0..<ncols { kind[c] = kinds[c]; slot[c] = slots[c]; self.declared[c] = declared[c] }
        missing = [[Int]](repeating: [], count: ncols)
    }

    func release() { kind.deallocate(); slot.deallocate(); declared.deallocate() }

    /// Stores value `v` of column `col` at the current row; false when it conflicts with
    /// the column's declared type.
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
                kind[col] = .text
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
                kind[col] = .text
            }
        case .bool:
            switch v {
            case .bool(let b): out[row] = b ? 1 : 0
            case .missing: out[row] = 0; missing[col].append(row)
            default:
                if declared[col] { return false }
                kind[col] = .text
            }
        case .none:
            switch v {
            case .missing: out[row] = nanBits; missing[col].append(row)
            case .int(let n): kind[col] = .int; out[row] = UInt64(bitPattern: n)
            case .float(let d): kind[col] = .float; out[row] = d.bitPattern; missing[col] = []
            case .bool(let b): kind[col] = .bool; out[row] = b ? 1 : 0
            case .text: kind[col] = .text
            }
        case .text:
            break
        }
        return true
    }
}
