extension Table {
    /// `"sha256:<hex>"` of the table's content: names, dtypes and values in row order.
    /// Canonical: the same names, types and values give the same hash however the table
    /// was built (string dictionaries and validity masks do not matter; every NaN and
    /// every missing value hash alike; -0.0 and 0.0 differ). The label is not included.
    public func fingerprint() -> String {
        var h = SHA256()
        var buf: [UInt8] = []
        buf.reserveCapacity(1 << 16)
        func flush() {
            if buf.count >= 1 << 16 - 64 { h.update(buf); buf.removeAll(keepingCapacity: true) }
        }
        func u64(_ x: UInt64) { for s in stride(from: 0, to: 64, by: 8) { buf.append(UInt8(truncatingIfNeeded: x >> UInt64(s))) } }
        func text(_ s: String) {
            let b = Array(s.utf8)
            u64(UInt64(b.count))
            if b.count > 4096 { h.update(buf); buf.removeAll(keepingCapacity: true); h.update(b) } else { buf.append(contentsOf: b) }
        }
        buf.append(contentsOf: Array("mlsh-table-v1".utf8))
        u64(UInt64(names.count)); u64(UInt64(rowCount))
        for (n, c) in zip(names, columns) { text(n); text(c.dtype.rawValue) }
        for c in columns {
            switch c.storage {
            case .float(let v):
                for d in v {
                    if d.isNaN { buf.append(0) } else { buf.append(1); u64(d.bitPattern) }
                    flush()
                }
            case .int(let v, let m):
                for i in v.indices {
                    if let m, !m[i] { buf.append(0) } else { buf.append(1); u64(UInt64(bitPattern: v[i])) }
                    flush()
                }
            case .bool(let v, let m):
                for i in v.indices {
                    if let m, !m[i] { buf.append(0) } else { buf.append(v[i] ? 2 : 1) }
                    flush()
                }
            case .string(let codes, let dict):
                for k in codes {
                    if k < 0 || Int(k) >= dict.count { buf.append(0) } else { buf.append(1); text(dict[Int(k)]) }
                    flush()
                }
            }
        }
        h.update(buf)
        return "sha256:" + h.hexDigest()
    }
}
