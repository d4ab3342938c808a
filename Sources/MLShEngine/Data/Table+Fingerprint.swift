extension Table {
    /// `"sha256:<hex>"` of the table's content: names, dtypes and values in row order.
    /// Canonical: the same names, types and values give the same hash however the table
    /// was built (string dictionaries and validity masks do not matter; every NaN and
    /// every missing value hash alike; -0.0 and 0.0 differ). The label is not included.
    ///
    /// Layout: SHA-256 over a header (`mlsh-table-v2`, column and row counts, each name and
    /// dtype) followed by one SHA-256 digest per column; columns are hashed in parallel.
    public func fingerprint() -> String {
        var h = SHA256()
        var head: [UInt8] = Array("mlsh-table-v2".utf8)
        dataAppendU64(&head, UInt64(names.count))
        dataAppendU64(&head, UInt64(rowCount))
        for (n, c) in zip(names, columns) {
            dataAppendText(&head, n)
            dataAppendText(&head, c.dtype.rawValue)
        }
        h.update(head)
        let cols = columns
        let digests = dataParallelChunks(count: cols.count, sequential: rowCount < 50_000) { dataColumnDigest(cols[$0]) }
        for d in digests { h.update(d) }
        return "sha256:" + h.hexDigest()
    }
}

func dataAppendU64(_ buf: inout [UInt8], _ x: UInt64) {
    for s in stride(from: 0, to: 64, by: 8) { buf.append(UInt8(truncatingIfNeeded: x >> UInt64(s))) }
}

func dataAppendText(_ buf: inout [UInt8], _ s: String) {
    dataAppendU64(&buf, UInt64(s.utf8.count))
    buf.append(contentsOf: s.utf8)
}

/// The SHA-256 of one column, in blocks of 32768 rows: a presence byte per row (0 missing,
/// 1 present), then the values as little-endian 64-bit words (missing as 0; floats by bit
/// pattern), bools as one byte, strings as length-prefixed UTF-8.
func dataColumnDigest(_ c: Column) -> [UInt8] {
    var h = SHA256()
    let n = c.count
    let block = 1 << 15
    var start = 0
    var bytes: [UInt8] = []
    var words: [UInt64] = []
    bytes.reserveCapacity(block)
    words.reserveCapacity(block)
    while start < n {
        let end = min(n, start + block)
        bytes.removeAll(keepingCapacity: true)
        words.removeAll(keepingCapacity: true)
        switch c.storage {
        case .float(let v):
            for i in start..<end {
                let d = v[i]
                bytes.append(d.isNaN ? 0 : 1)
                words.append(d.isNaN ? 0 : d.bitPattern.littleEndian)
            }
        case .int(let v, let m):
            for i in start..<end {
                let ok = m?[i] ?? true
                bytes.append(ok ? 1 : 0)
                words.append(ok ? UInt64(bitPattern: v[i]).littleEndian : 0)
            }
        case .bool(let v, let m):
            for i in start..<end { bytes.append((m?[i] ?? true) ? 1 : 0) }
            for i in start..<end { bytes.append((m?[i] ?? true) && v[i] ? 1 : 0) }
        case .string(let codes, let dict):
            for i in start..<end {
                let k = Int(codes[i])
                if k >= 0 && k < dict.count { bytes.append(1); dataAppendText(&bytes, dict[k]) } else { bytes.append(0) }
            }
        }
        h.update(bytes)
        if !words.isEmpty {
            words.withUnsafeBytes { raw in h.update(raw.bindMemory(to: UInt8.self)) }
        }
        start = end
    }
    return h.finalize()
}
