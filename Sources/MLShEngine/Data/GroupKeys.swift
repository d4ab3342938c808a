/// Group ids for rows under key columns, as `group`, `distinct` and `join` use them.
///
/// Each key column becomes 64-bit codes (`DataKeys`): equal values have equal codes. Codes
/// are dense — below a known cardinality — for dictionary strings, bools and ints of a
/// narrow range; rows under such keys find their group by indexing an array. Other keys
/// (floats, ints spread wide) go through an open-addressing hash table. Either way the rows
/// are split into chunks numbered in parallel, each chunk's groups in its own order of first
/// appearance, then merged chunk by chunk, so group numbers follow first appearance over
/// the whole table whatever the number of threads.

/// One key column's codes: equal keys have equal codes (strings by value, -0.0 as 0.0);
/// a missing value (NaN, masked, missing string) is a key of its own, equal to no value.
struct DataKeys {
    /// The code of each row (0 where missing).
    var bits: [UInt64]
    /// Which rows are missing; nil when none is.
    var missing: [Bool]?
    /// When set, every present code is below it.
    var cardinality: Int?

    var count: Int { bits.count }
}

/// The widest dense key space (codes times the groups before it) numbered through an array.
private let dataDenseLimit = 1 << 22
/// Rows below which grouping runs on one thread.
private let dataParallelGroupRows = 1 << 16

/// The key codes of `c`.
func dataKeys(_ c: Column) -> DataKeys {
    switch c.storage {
    case .float(let v):
        var missing: [Bool]?
        let bits = [UInt64](unsafeUninitializedCapacity: v.count) { out, n in
            for i in v.indices {
                let x = v[i]
                if x.isNaN {
                    if missing == nil { missing = [Bool](repeating: false, count: v.count) }
                    missing?[i] = true
                    out[i] = 0
                } else {
                    out[i] = (x == 0 ? 0.0 : x).bitPattern
                }
            }
            n = v.count
        }
        return DataKeys(bits: bits, missing: missing)
    case .int(let v, let m):
        var lo = Int64.max, hi = Int64.min
        for i in v.indices where m?[i] ?? true { lo = Swift.min(lo, v[i]); hi = Swift.max(hi, v[i]) }
        let missing = m.map { mask in mask.map { !$0 } }
        let (range, overflow) = hi.subtractingReportingOverflow(lo)
        if lo <= hi, !overflow, range < Int64(Swift.min(dataDenseLimit, Swift.max(4 * v.count, 1 << 16))) {
            let base = lo
            let bits = [UInt64](unsafeUninitializedCapacity: v.count) { out, n in
                for i in v.indices { out[i] = m?[i] ?? true ? UInt64(v[i] &- base) : 0 }
                n = v.count
            }
            return DataKeys(bits: bits, missing: missing, cardinality: Int(range) + 1)
        }
        let bits = [UInt64](unsafeUninitializedCapacity: v.count) { out, n in
            for i in v.indices { out[i] = m?[i] ?? true ? UInt64(bitPattern: v[i]) : 0 }
            n = v.count
        }
        return DataKeys(bits: bits, missing: missing)
    case .bool(let v, let m):
        let bits = v.indices.map { i in m?[i] ?? true ? (v[i] ? UInt64(1) : 0) : 0 }
        return DataKeys(bits: bits, missing: m.map { mask in mask.map { !$0 } }, cardinality: 2)
    case .string(let codes, let dict):
        return dataStringKeys(codes, dense: (dataCanonicalCodes(dict), dict.count))
    }
}

/// Codes of a dictionary column whose entry `k` has code `dense.map[k]` (below `dense.count`).
func dataStringKeys(_ codes: [Int32], dense: (map: [Int], count: Int)) -> DataKeys {
    var missing: [Bool]?
    let map = dense.map
    let bits = [UInt64](unsafeUninitializedCapacity: codes.count) { out, n in
        for i in codes.indices {
            let k = Int(codes[i])
            if k >= 0 && k < map.count { out[i] = UInt64(map[k]) } else {
                if missing == nil { missing = [Bool](repeating: false, count: codes.count) }
                missing?[i] = true
                out[i] = 0
            }
        }
        n = codes.count
    }
    return DataKeys(bits: bits, missing: missing, cardinality: dense.count)
}

/// Group ids of rows under several key columns (first-appearance order), the number of
/// groups, and the first row of each group.
func dataGroupIDs(_ keys: [DataKeys], rowCount n: Int) -> ([Int32], Int, [Int]) {
    guard n > 0 else { return ([], 0, []) }
    var ids = [Int32](repeating: 0, count: n)
    var count = 1
    var firsts = [0]
    for key in keys {
        (ids, count, firsts) = dataRefine(ids, groups: count, by: key, rowCount: n)
    }
    return (ids, count, firsts)
}

/// Splits groups `prev` (numbered `0..<groups`) by one more key column.
private func dataRefine(_ prev: [Int32], groups: Int, by key: DataKeys, rowCount n: Int) -> ([Int32], Int, [Int]) {
    let width = key.cardinality.map { $0 + 1 }   // the last code is missing's
    // An array per chunk when the key space is small beside the rows (filling it costs a pass).
    let dense = width.map { w in groups <= Swift.min(dataDenseLimit, Swift.max(4 * n, 1 << 16)) / w } ?? false
    // Hashed keys with about as many groups as rows are numbered in one pass: chunks would
    // each build a table as large, and merging them would insert every group again.
    let distinct = dense || n < dataParallelGroupRows ? 0 : dataDistinctShare(prev, key, rowCount: n)
    let expected = Int(distinct * Double(n))
    let parts = n >= dataParallelGroupRows && distinct < 0.75 ? dataWorkerCount : 1
    let ranges = dataChunkRanges(n, parts: parts)
    let space = dense ? groups * (width ?? 1) : 0
    var locals: [DataLocalGroups] = []
    var ids = [Int32](unsafeUninitializedCapacity: n) { out, filled in
        let box = DataUncheckedBox(out)
        let none: [Bool] = []
        locals = prev.withUnsafeBufferPointer { p in
            key.bits.withUnsafeBufferPointer { b in
            (key.missing ?? none).withUnsafeBufferPointer { mb in
                let inputs = DataUncheckedBox((p, b, key.missing == nil ? nil : mb))
                return dataParallelChunks(count: ranges.count) { c in
                    let (p, b, m) = inputs.value
                    if dense {
                        return dataDenseChunk(p, b, m, width: width ?? 1, space: space, ranges[c], into: box.value)
                    }
                    return dataHashedChunk(p, b, m, ranges[c], expected: expected, into: box.value)
                }
            }
            }
        }
        filled = n
    }
    // One chunk: its numbers are the table's.
    if locals.count == 1, let only = locals.first { return (ids, only.firsts.count, only.firsts) }
    // Merge: each chunk's groups in order, numbered on first sight over the whole table.
    var firsts: [Int] = []
    var remaps: [[Int32]] = []
    if dense {
        var global = [Int32](repeating: -1, count: space)
        for l in locals {
            remaps.append(l.codes.indices.map { g in
                let code = Int(l.codes[g])
                if global[code] < 0 { global[code] = Int32(firsts.count); firsts.append(l.firsts[g]) }
                return global[code]
            })
        }
    } else {
        let table = DataKeyTable(capacity: locals.first?.codes.count ?? 16)
        for l in locals {
            remaps.append(l.codes.indices.map { g in
                let (id, new) = table.findOrInsert(l.codes[g], l.prevs[g], next: Int32(firsts.count))
                if new { firsts.append(l.firsts[g]) }
                return id
            })
        }
    }
    // Chunk 0's numbers are already the global ones (its groups were numbered first, in order).
    if ranges.count > 1 {
        ids.withUnsafeMutableBufferPointer { out in
            let box = DataUncheckedBox(out)
            _ = dataParallelChunks(count: ranges.count - 1) { k in
                let map = remaps[k + 1], o = box.value
                for r in ranges[k + 1] { o[r] = map[Int(o[r])] }
                return 0
            }
        }
    }
    return (ids, firsts.count, firsts)
}

/// The share of distinct keys among 65,536 rows spread over the table (1: every one
/// differs): near 1, the keys make about as many groups as rows.
private func dataDistinctShare(_ prev: [Int32], _ key: DataKeys, rowCount n: Int) -> Double {
    let sample = Swift.min(n, 1 << 16)
    guard sample > 0 else { return 0 }
    let table = DataKeyTable(capacity: sample)
    var distinct: Int32 = 0
    for k in 0..<sample {
        let r = k * (n / sample)
        let isMissing = key.missing?[r] ?? false
        let tag = UInt32(bitPattern: prev[r]) | (isMissing ? 1 << 31 : 0)
        if table.findOrInsert(isMissing ? 0 : key.bits[r], tag, next: distinct).new { distinct += 1 }
    }
    return Double(distinct) / Double(sample)
}

/// One chunk's groups in its order of first appearance: the key code (and, hashed, the
/// previous group) and first row of each.
struct DataLocalGroups {
    var codes: [UInt64] = []
    var prevs: [UInt32] = []
    var firsts: [Int] = []
}

/// Numbers a chunk's rows by dense code `prev * width + code` (missing: `width - 1`).
private func dataDenseChunk(_ prev: UnsafeBufferPointer<Int32>, _ bits: UnsafeBufferPointer<UInt64>, _ missing: UnsafeBufferPointer<Bool>?,
                            width: Int, space: Int, _ rows: Range<Int>, into out: UnsafeMutableBufferPointer<Int32>) -> DataLocalGroups {
    var local = DataLocalGroups()
    var map = [Int32](repeating: -1, count: space)
    map.withUnsafeMutableBufferPointer { mp in
        let miss = UInt64(width - 1), w = UInt64(width)
        for r in rows {
            let c = missing?[r] ?? false ? miss : bits[r]
            let code = Int(UInt64(prev[r]) &* w &+ c)
            var g = mp[code]
            if g < 0 {
                g = Int32(local.codes.count)
                mp[code] = g
                local.codes.append(UInt64(code))
                local.firsts.append(r)
            }
            out[r] = g
        }
    }
    return local
}

/// Numbers a chunk's rows by (code, previous group) through a hash table.
private func dataHashedChunk(_ prev: UnsafeBufferPointer<Int32>, _ bits: UnsafeBufferPointer<UInt64>, _ missing: UnsafeBufferPointer<Bool>?,
                             _ rows: Range<Int>, expected: Int, into out: UnsafeMutableBufferPointer<Int32>) -> DataLocalGroups {
    var local = DataLocalGroups()
    let table = DataKeyTable(capacity: Swift.min(rows.count, Swift.max(expected, 1 << 10)))
    for r in rows {
        let isMissing = missing?[r] ?? false
        // A missing value is told apart by the previous group's top bit (ids are below 2³¹).
        let p = UInt32(bitPattern: prev[r]) | (isMissing ? 1 << 31 : 0)
        let c = isMissing ? 0 : bits[r]
        let (g, new) = table.findOrInsert(c, p, next: Int32(local.codes.count))
        if new { local.codes.append(c); local.prevs.append(p); local.firsts.append(r) }
        out[r] = g
    }
    return local
}

/// An open-addressing hash table from (64-bit code, 32-bit tag) to a group number, with
/// linear probing; it doubles at half full. An entry's code, tag and number share one
/// 16-byte slot, so a probe costs one cache line.
final class DataKeyTable {
    struct Slot {
        var code: UInt64
        var tag: UInt32
        var value: Int32   // -1: empty
    }
    private var slots: UnsafeMutablePointer<Slot>
    private var mask: Int
    private var filled = 0

    init(capacity: Int) {
        var size = 16
        while size < 2 * capacity { size <<= 1 }
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(code: 0, tag: 0, value: -1), count: size)
    }

    deinit { slots.deallocate() }

    @inline(__always) static func hash(_ a: UInt64, _ b: UInt32) -> Int {
        var x = a ^ (UInt64(b) &* 0x9E37_79B9_7F4A_7C15)
        x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
        x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: x ^ (x >> 31))
    }

    /// The number stored for (a, b), or `next` stored now (`new` true).
    @inline(__always) func findOrInsert(_ a: UInt64, _ b: UInt32, next: Int32) -> (Int32, new: Bool) {
        var i = DataKeyTable.hash(a, b) & mask
        while true {
            let s = slots[i]
            if s.value < 0 { break }
            if s.code == a && s.tag == b { return (s.value, false) }
            i = (i + 1) & mask
        }
        slots[i] = Slot(code: a, tag: b, value: next)
        filled += 1
        if 2 * filled > mask + 1 { grow() }
        return (next, true)
    }

    private func grow() {
        let old = slots, oldSize = mask + 1
        let size = 2 * oldSize
        mask = size - 1
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(code: 0, tag: 0, value: -1), count: size)
        for j in 0..<oldSize where old[j].value >= 0 {
            var i = DataKeyTable.hash(old[j].code, old[j].tag) & mask
            while slots[i].value >= 0 { i = (i + 1) & mask }
            slots[i] = old[j]
        }
        old.deallocate()
    }
}
