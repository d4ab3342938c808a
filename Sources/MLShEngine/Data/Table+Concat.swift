extension Table {
    /// The rows of `tables` one after another. Every table must have the same column names
    /// (in any order; the first table's order is kept); int and float columns combine into
    /// float, string dictionaries are merged, other mixed types are a `typeMismatch`.
    public static func concat(_ tables: [Table]) throws(EngineError) -> Table {
        guard let first = tables.first else { throw EngineError.invalidArgument("concat: no tables") }
        if tables.count == 1 { return first }
        let names = first.names
        let nameSet = Set(names)
        var cols: [Column] = []
        for (k, t) in tables.enumerated() where Set(t.names) != nameSet || t.names.count != names.count {
            let missing = names.filter { t.index(of: $0) == nil }
            let extra = t.names.filter { !nameSet.contains($0) }
            var parts: [String] = []
            if !missing.isEmpty { parts.append("lacks " + missing.map { "'\($0)'" }.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("has extra " + extra.map { "'\($0)'" }.joined(separator: ", ")) }
            throw EngineError.invalidArgument("concat: table \(k + 1) \(parts.joined(separator: " and ")) (every table needs the same columns)")
        }
        for n in names {
            var parts: [Column] = []
            for t in tables {
                guard let i = t.index(of: n) else { continue }
                parts.append(t.columns[i])
            }
            cols.append(try dataConcatColumns(parts, name: n))
        }
        return try Table(names: names, columns: cols, label: first.label)
    }
}

/// The values of `parts` one after another, promoting int + float to float.
func dataConcatColumns(_ parts: [Column], name: String) throws(EngineError) -> Column {
    let types = Set(parts.map(\.dtype))
    if types.count > 1 {
        guard types.isSubset(of: [.int, .float]) else {
            let list = parts.map(\.dtype.rawValue)
            throw EngineError.typeMismatch("concat: column '\(name)' has types \(list.joined(separator: ", ")) in the tables; they cannot be combined")
        }
        var out: [Double] = []
        for p in parts { out.append(contentsOf: try p.doubles()) }
        return Column(floats: out)
    }
    switch parts.first?.dtype ?? .float {
    case .float:
        var out: [Double] = []
        for p in parts { if case .float(let v) = p.storage { out.append(contentsOf: v) } }
        return Column(floats: out)
    case .int:
        var out: [Int64] = [], valid: [Bool] = [], anyMissing = false
        for p in parts {
            if case .int(let v, let m) = p.storage {
                out.append(contentsOf: v)
                if let m { valid.append(contentsOf: m); anyMissing = anyMissing || m.contains(false) } else { valid.append(contentsOf: repeatElement(true, count: v.count)) }
            }
        }
        return Column(ints: out, validity: anyMissing ? valid : nil)
    case .bool:
        var out: [Bool] = [], valid: [Bool] = [], anyMissing = false
        for p in parts {
            if case .bool(let v, let m) = p.storage {
                out.append(contentsOf: v)
                if let m { valid.append(contentsOf: m); anyMissing = anyMissing || m.contains(false) } else { valid.append(contentsOf: repeatElement(true, count: v.count)) }
            }
        }
        return Column(bools: out, validity: anyMissing ? valid : nil)
    case .string:
        var dict: [String] = [], index: [String: Int32] = [:], codes: [Int32] = []
        for p in parts {
            guard case .string(let c, let d) = p.storage else { continue }
            let map: [Int32] = d.map { s in
                if let k = index[s] { return k }
                let k = Int32(dict.count); index[s] = k; dict.append(s); return k
            }
            codes.append(contentsOf: c.map { $0 >= 0 && Int($0) < map.count ? map[Int($0)] : -1 })
        }
        return Column(.string(codes: codes, dictionary: dict))
    }
}
