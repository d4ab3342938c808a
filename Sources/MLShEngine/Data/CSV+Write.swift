#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension CSV {
    /// Writes `t` to `path` through `FileOutput`: atomically onto the resolved target, or
    /// straight into a stream such as `/dev/stdout`.
    public static func write(_ t: Table, to path: String, separator: UInt8 = 44) throws(EngineError) {
        try FileOutput.write(encode(t, separator: separator), to: path)
    }

    /// The CSV text of `t`: a header row, then one line per row ending in `\n`. Floats are
    /// written shortest (integral ones as `3.0`), missing values as empty fields, and
    /// strings quoted when they would otherwise read back as something else.
    public static func encode(_ t: Table, separator: UInt8 = 44) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(t.rowCount * max(1, t.columns.count) * 8 + 64)
        for (k, name) in t.names.enumerated() {
            if k > 0 { out.append(separator) }
            csvAppendText(&out, name, separator: separator, header: true)
        }
        out.append(10)
        // Pre-render dictionary entries once per string column.
        let rendered: [[[UInt8]]?] = t.columns.map { c in
            if case .string(_, let d) = c.storage {
                return d.map { s in var b: [UInt8] = []; csvAppendText(&b, s, separator: separator, header: false); return b }
            }
            return nil
        }
        // Rows are encoded in blocks, in parallel, then joined in order.
        let blocks = dataChunkRanges(t.rowCount, parts: max(1, t.rowCount / 8192))
        let encoded = dataParallelChunks(count: dataWorkerCount) { w in
            var parts: [[UInt8]] = []
            var k = w
            while k < blocks.count {
                parts.append(csvEncodeRows(t, blocks[k], rendered, separator: separator))
                k += dataWorkerCount
            }
            return parts
        }
        for k in blocks.indices {
            let w = k % dataWorkerCount, j = k / dataWorkerCount
            if w < encoded.count, j < encoded[w].count { out.append(contentsOf: encoded[w][j]) }
        }
        return out
    }
}

/// The CSV lines of rows `range` of `t`.
func csvEncodeRows(_ t: Table, _ range: Range<Int>, _ rendered: [[[UInt8]]?], separator: UInt8) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(range.count * max(1, t.columns.count) * 12)
    for r in range {
        for (k, c) in t.columns.enumerated() {
            if k > 0 { out.append(separator) }
            switch c.storage {
            case .float(let v):
                let d = v[r]
                if !d.isNaN { out.append(contentsOf: dataFormatFloat(d).utf8) }
            case .int(let v, let m):
                if m?[r] ?? true { out.append(contentsOf: String(v[r]).utf8) }
            case .bool(let v, let m):
                if m?[r] ?? true { out.append(contentsOf: (v[r] ? "true" : "false").utf8) }
            case .string(let codes, _):
                let code = Int(codes[r])
                if code >= 0, let strs = rendered[k], code < strs.count { out.append(contentsOf: strs[code]) }
            }
        }
        out.append(10)
    }
    return out
}

/// Appends `s` as a CSV field, quoted when it contains a separator, quote or line
/// break, has spaces at either end, is empty, or would read back as a number, bool or
/// missing marker (for a header, only the first three reasons apply).
func csvAppendText(_ out: inout [UInt8], _ s: String, separator: UInt8, header: Bool) {
    let bytes = Array(s.utf8)
    var quote = bytes.contains { $0 == separator || $0 == 34 || $0 == 10 || $0 == 13 }
    if !quote && !header {
        if bytes.isEmpty || bytes.first == 32 || bytes.last == 32 || bytes.first == 9 || bytes.last == 9 {
            quote = true
        } else if ["NA", "NaN", "nan", "null", "NULL"].contains(s) {
            quote = true
        } else {
            quote = bytes.withUnsafeBufferPointer { b -> Bool in
                guard let base = b.baseAddress else { return true }
                if case .text = csvClassifyUnquoted(base, 0, b.count) { return false }
                return true
            }
        }
    }
    if header && bytes.isEmpty { quote = true }
    if !quote { out.append(contentsOf: bytes); return }
    out.append(34)
    for b in bytes {
        out.append(b)
        if b == 34 { out.append(34) }
    }
    out.append(34)
}
