/// Grouping rows by key columns: `grouping(by:)` and `distinct`.
extension Table {
    /// Assigns each row a group by the values of `names` (groups numbered in order of first
    /// appearance; a missing value is a key value of its own). `keys` has one row per group.
    public func grouping(by names: [String]) throws(EngineError) -> (Grouping, keys: Table) {
        guard !names.isEmpty else { throw EngineError.invalidArgument("group: name at least one key column") }
        var cols: [Column] = []
        for n in names { cols.append(try column(n)) }
        let (ids, count, firsts) = dataGroupIDs(cols.map { dataKeys($0) }, rowCount: rowCount)
        return (Grouping(ids: ids, count: count), try select(names).take(firsts))
    }

    /// The first row of each distinct combination of `names` (all columns when empty), in order.
    public func distinct(_ names: [String]) throws(EngineError) -> Table {
        let keyNames = names.isEmpty ? self.names : names
        var cols: [Column] = []
        for n in keyNames { cols.append(try column(n)) }
        if rowCount == 0 { return self }
        let (_, _, firsts) = dataGroupIDs(cols.map { dataKeys($0) }, rowCount: rowCount)
        return take(firsts)
    }
}

/// A key value: equal values have equal keys (strings by value, -0.0 as 0.0, NaN missing).
struct DataKeyCode: Hashable {
    var missing: Bool
    var bits: UInt64
}

/// The key of each row of `c`.
func dataKeyCodes(_ c: Column) -> [DataKeyCode] {
    switch c.storage {
    case .float(let v):
        return v.map { $0.isNaN ? DataKeyCode(missing: true, bits: 0) : DataKeyCode(missing: false, bits: ($0 == 0 ? 0.0 : $0).bitPattern) }
    case .int(let v, let m):
        return v.indices.map { i in
            (m?[i] ?? true) ? DataKeyCode(missing: false, bits: UInt64(bitPattern: v[i])) : DataKeyCode(missing: true, bits: 0)
        }
    case .bool(let v, let m):
        return v.indices.map { i in
            (m?[i] ?? true) ? DataKeyCode(missing: false, bits: v[i] ? 1 : 0) : DataKeyCode(missing: true, bits: 0)
        }
    case .string(let codes, let dict):
        let canon = dataCanonicalCodes(dict)
        return codes.map { k in
            k >= 0 && Int(k) < canon.count ? DataKeyCode(missing: false, bits: UInt64(canon[Int(k)])) : DataKeyCode(missing: true, bits: 0)
        }
    }
}

/// For each dictionary entry, the index of its first equal entry.
func dataCanonicalCodes(_ dict: [String]) -> [Int] {
    var first: [String: Int] = [:]
    var out: [Int] = []
    out.reserveCapacity(dict.count)
    for (i, s) in dict.enumerated() {
        if let f = first[s] { out.append(f) } else { first[s] = i; out.append(i) }
    }
    return out
}
