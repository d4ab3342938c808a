import MLShCommon

/// Row and column selection verbs. Each returns a new table; unchanged columns share storage.
extension Table {
    /// A table with the same label and the given columns (names are known to be valid).
    func dataRebuilt(names: [String], columns: [Column]) -> Table {
        // Names and lengths were checked by the caller, so this cannot fail; if it ever
        // did, the unchanged table is returned rather than stopping the program.
        (try? Table(names: names, columns: columns, label: label)) ?? self
    }

    /// The rows at `indices` (each in `0..<rowCount`; others give missing values).
    public func take(_ indices: [Int]) -> Table {
        let cols = columns
        let taken = dataParallelChunks(count: cols.count, sequential: indices.count < 100_000) { cols[$0].taking(indices) }
        return dataRebuilt(names: names, columns: taken)
    }

    /// The first `n` rows (all when `n` ≥ rowCount; none when `n` ≤ 0).
    public func head(_ n: Int) -> Table {
        let k = max(0, min(n, rowCount))
        if k == rowCount { return self }
        return dataRebuilt(names: names, columns: columns.map { $0.slice(0..<k) })
    }

    /// The last `n` rows.
    public func tail(_ n: Int) -> Table {
        let k = max(0, min(n, rowCount))
        if k == rowCount { return self }
        return dataRebuilt(names: names, columns: columns.map { $0.slice((rowCount - k)..<rowCount) })
    }

    /// The rows where `mask` is true (`mask.count` must equal `rowCount`; extra rows are dropped).
    public func rows(where mask: [Bool]) -> Table {
        let n = min(mask.count, rowCount)
        guard n == rowCount else { return take((0..<n).filter { mask[$0] }) }
        let pieces = DataMaskPieces(mask, rows: n)
        return dataRebuilt(names: names, columns: columns.map { $0.compacted(mask, pieces) })
    }

    /// The rows where the bool column `mask` is true (missing counts as false, as in SQL).
    public func rows(where mask: Column) throws(EngineError) -> Table {
        guard case .bool(let v, let valid) = mask.storage else {
            throw EngineError.typeMismatch("a filter condition must give bool values, got \(mask.dtype.rawValue)")
        }
        guard v.count == rowCount else {
            throw EngineError.lengthMismatch(column: "filter condition", expected: rowCount, actual: v.count)
        }
        guard let valid else { return rows(where: v) }
        return rows(where: v.indices.map { v[$0] && valid[$0] })
    }

    /// A random sample without replacement of `n` rows or `fraction` of the rows (exactly
    /// one of the two), in random order; the same seed gives the same sample.
    public func sample(n: Int?, fraction: Double?, seed: UInt64) throws(EngineError) -> Table {
        let k: Int
        switch (n, fraction) {
        case (let n?, nil):
            guard n >= 0 else { throw EngineError.invalidArgument("sample: n must be ≥ 0, got \(n)") }
            guard n <= rowCount else {
                throw EngineError.invalidArgument("sample: n = \(n) is more than the \(rowCount) rows")
            }
            k = n
        case (nil, let f?):
            guard f >= 0, f <= 1 else { throw EngineError.invalidArgument("sample: frac must be in 0...1, got \(dataFormatFloat(f))") }
            k = Int((Double(rowCount) * f).rounded())
        default:
            throw EngineError.invalidArgument("sample: give either n or frac")
        }
        var rng = SeededRandom(seed: seed)
        var idx = Array(0..<rowCount)
        for i in 0..<k {
            let j = i + rng.nextInt(below: rowCount - i)
            idx.swapAt(i, j)
        }
        return take(Array(idx[0..<k]))
    }

    /// The named columns, in the order given.
    public func select(_ names: [String]) throws(EngineError) -> Table {
        var cols: [Column] = []
        var seen = Set<String>()
        for n in names {
            guard seen.insert(n).inserted else { throw EngineError.duplicateColumn(n) }
            cols.append(try column(n))
        }
        return dataRebuilt(names: names, columns: cols)
    }

    /// All columns but the named ones.
    public func drop(_ names: [String]) throws(EngineError) -> Table {
        for n in names { _ = try column(n) }
        let gone = Set(names)
        var keepN: [String] = [], keepC: [Column] = []
        for (n, c) in zip(self.names, columns) where !gone.contains(n) { keepN.append(n); keepC.append(c) }
        return dataRebuilt(names: keepN, columns: keepC)
    }

    /// Columns renamed by `(old, new)` pairs; the result must not repeat a name.
    public func renamed(_ map: [(String, String)]) throws(EngineError) -> Table {
        var newNames = names
        for (old, new) in map {
            guard let i = index(of: old) else {
                throw EngineError.unknownColumn(old, table: label, suggestion: closestName(to: old, in: names))
            }
            newNames[i] = new
        }
        return try Table(names: newNames, columns: columns, label: label)
    }

    /// The table with column `name` replaced (same position) or appended.
    public func setting(_ name: String, _ column: Column) throws(EngineError) -> Table {
        if !columns.isEmpty && column.count != rowCount {
            throw EngineError.lengthMismatch(column: name, expected: rowCount, actual: column.count)
        }
        var n = names, c = columns
        if let i = index(of: name) { c[i] = column } else { n.append(name); c.append(column) }
        return try Table(names: n, columns: c, label: label)
    }
}
