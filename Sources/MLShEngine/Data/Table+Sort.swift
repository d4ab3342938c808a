/// Sorting: a stable LSD radix sort of row indices on order-preserving 64-bit keys.
extension Table {
    /// The rows ordered by `keys` (first key most significant). Stable; missing values
    /// (and NaN) go last whatever the direction; strings compare by value.
    public func sorted(by keys: [(name: String, descending: Bool)]) throws(EngineError) -> Table {
        var cols: [(Column, Bool)] = []
        for k in keys { cols.append((try column(k.name), k.descending)) }
        return take(dataSortPermutation(cols, rowCount: rowCount))
    }
}

/// The stable order of rows `0..<rowCount` under the given key columns.
func dataSortPermutation(_ keys: [(Column, Bool)], rowCount n: Int) -> [Int] {
    var perm = Array(0..<n)
    guard n > 1 else { return perm }
    var scratchK = [UInt64](repeating: 0, count: n)
    var scratchP = [Int](repeating: 0, count: n)
    for (col, descending) in keys.reversed() {
        let (rowKeys, missing) = dataSortKeys(col, descending: descending)
        var k = perm.map { rowKeys[$0] }
        dataRadixSort(&k, &perm, &scratchK, &scratchP)
        if let missing {
            // Stable partition: present rows first, then missing ones.
            var present: [Int] = [], absent: [Int] = []
            present.reserveCapacity(n)
            for r in perm { if missing[r] { absent.append(r) } else { present.append(r) } }
            if !absent.isEmpty { perm = present + absent }
        }
    }
    return perm
}

/// Order-preserving unsigned keys for each row, and which rows are missing (nil: none).
func dataSortKeys(_ c: Column, descending: Bool) -> ([UInt64], [Bool]?) {
    var keys: [UInt64]
    var missing: [Bool]? = nil
    switch c.storage {
    case .float(let v):
        keys = v.map { d in
            let x = d == 0 ? 0.0 : d
            let b = x.bitPattern
            return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
        }
        if v.contains(where: { $0.isNaN }) { missing = v.map { $0.isNaN } }
    case .int(let v, let m):
        keys = v.map { UInt64(bitPattern: $0) ^ (1 << 63) }
        if let m, m.contains(false) { missing = m.map { !$0 } }
    case .bool(let v, let m):
        keys = v.map { $0 ? 1 : 0 }
        if let m, m.contains(false) { missing = m.map { !$0 } }
    case .string(let codes, let dict):
        let order = dict.indices.sorted { dict[$0] < dict[$1] }
        var rank = [UInt64](repeating: 0, count: dict.count)
        var r: UInt64 = 0
        for (k, i) in order.enumerated() {
            if k > 0 && dict[order[k - 1]] != dict[i] { r += 1 }
            rank[i] = r
        }
        keys = codes.map { $0 >= 0 && Int($0) < rank.count ? rank[Int($0)] : 0 }
        if codes.contains(where: { $0 < 0 || Int($0) >= rank.count }) { missing = codes.map { $0 < 0 || Int($0) >= rank.count } }
    }
    if descending { for i in keys.indices { keys[i] = ~keys[i] } }
    // Missing rows share one key so that they keep their order (they are moved last after).
    if let missing { for i in keys.indices where missing[i] { keys[i] = 0 } }
    return (keys, missing)
}

/// Stable LSD radix sort of `keys` (8-bit digits, constant digits skipped), permuting
/// `payload` alongside.
func dataRadixSort(_ keys: inout [UInt64], _ payload: inout [Int], _ tmpK: inout [UInt64], _ tmpP: inout [Int]) {
    let n = keys.count
    var counts = [Int](repeating: 0, count: 256 * 8)
    keys.withUnsafeBufferPointer { k in
        counts.withUnsafeMutableBufferPointer { c in
            for x in k {
                for d in 0..<8 { c[d * 256 + Int((x >> UInt64(d * 8)) & 0xFF)] += 1 }
            }
        }
    }
    for d in 0..<8 {
        let base = d * 256
        if counts[base..<(base + 256)].contains(n) { continue }  // every key has this digit
        var offsets = [Int](repeating: 0, count: 256)
        var total = 0
        for b in 0..<256 { offsets[b] = total; total += counts[base + b] }
        let shift = UInt64(d * 8)
        keys.withUnsafeBufferPointer { k in
            payload.withUnsafeBufferPointer { p in
                tmpK.withUnsafeMutableBufferPointer { tk in
                    tmpP.withUnsafeMutableBufferPointer { tp in
                        for i in 0..<n {
                            let x = k[i]
                            let b = Int((x >> shift) & 0xFF)
                            let o = offsets[b]
                            tk[o] = x
                            tp[o] = p[i]
                            offsets[b] = o + 1
                        }
                    }
                }
            }
        }
        swap(&keys, &tmpK)
        swap(&payload, &tmpP)
    }
}
