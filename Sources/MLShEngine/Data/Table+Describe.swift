extension Table {
    /// Summary statistics, one row per statistic (as pandas `describe`): a `stat` column
    /// (`stat_` if the table has a column `stat`),
    /// then one column per input column. Numeric (and bool) columns give float values for
    /// `count missing mean std min 25% 50% 75% max`; string columns give text values for
    /// `count missing unique top freq`. A table with both kinds has all twelve rows, with
    /// NA where a statistic does not apply; only one kind, only its rows.
    public func describe() -> Table {
        let numericStats = ["count", "missing", "mean", "std", "min", "25%", "50%", "75%", "max"]
        let textStats = ["count", "missing", "unique", "top", "freq"]
        let hasNum = columns.contains { $0.dtype != .string }
        let hasText = columns.contains { $0.dtype == .string }
        var stats: [String] = []
        if hasNum { stats = numericStats }
        if hasText { stats += hasNum ? ["unique", "top", "freq"] : textStats }
        var outNames = ["stat"], outCols = [Column(strings: stats)]
        let cols = columns
        let described = dataParallelChunks(count: cols.count, sequential: rowCount < 50_000) { i in dataDescribeColumn(cols[i], stats: stats) }
        outCols.append(contentsOf: described)
        outNames.append(contentsOf: names)
        while names.contains(outNames[0]) { outNames[0] += "_" }
        // Names are unique and lengths equal, so this cannot fail.
        return (try? Table(names: outNames, columns: outCols, label: label.map { "describe(\($0))" })) ?? self
    }

    /// One row per column: `name`, `dtype` and the number of `missing` values.
    public func schema() -> Table {
        let t = try? Table(names: ["name", "dtype", "missing"],
                           columns: [Column(strings: names), Column(strings: columns.map { $0.dtype.rawValue }),
                                     Column(ints: columns.map { Int64($0.missingCount) })],
                           label: label.map { "schema(\($0))" })
        return t ?? self  // cannot fail: fixed names, equal lengths
    }
}

/// One column of `describe`: the statistics in `stats` for column `c`.
func dataDescribeColumn(_ c: Column, stats: [String]) -> Column {
    var row: [String: Scalar] = [:]
    let count = Reductions.count(c), missing = c.missingCount
    if case .string(let codes, let dict) = c.storage {
        row["count"] = .string(String(count)); row["missing"] = .string(String(missing))
        let canon = dataCanonicalCodes(dict)
        var freq = [Int](repeating: 0, count: dict.count)
        var firstSeen = [Int](repeating: Int.max, count: dict.count)
        for (r, k) in codes.enumerated() where k >= 0 && Int(k) < dict.count {
            let c = canon[Int(k)]
            freq[c] += 1
            if firstSeen[c] == Int.max { firstSeen[c] = r }
        }
        var best = -1
        for k in freq.indices where freq[k] > 0 {
            if best < 0 || freq[k] > freq[best] || (freq[k] == freq[best] && firstSeen[k] < firstSeen[best]) { best = k }
        }
        row["unique"] = .string(String(freq.filter { $0 > 0 }.count))
        row["top"] = best >= 0 ? .string(dict[best]) : .missing
        row["freq"] = best >= 0 ? .string(String(freq[best])) : .missing
        return Column(strings: stats.map { if case .string(let s)? = row[$0] { return s } else { return nil } })
    }
    let v = (try? c.doubles()) ?? []
    let sorted = dataSortedNonNaN(v)
    let values: [String: Double] = [
        "count": Double(count), "missing": Double(missing),
        "mean": Reductions.mean(v), "std": Reductions.std(v),
        "min": sorted.first ?? .nan, "max": sorted.last ?? .nan,
        "25%": dataQuantileSorted(sorted, 0.25), "50%": dataQuantileSorted(sorted, 0.5),
        "75%": dataQuantileSorted(sorted, 0.75),
    ]
    return Column(floats: stats.map { values[$0] ?? .nan })
}
