/// Seeded train/test splits and k-fold cross-validation folds.
extension Table {
    /// Splits rows at random into `fraction` (rounded) for the first table and the rest for
    /// the second, each in shuffled order. With `stratify`, each class of that column is
    /// split separately so both tables keep the class proportions.
    public func split(fraction: Double, seed: UInt64, stratify: String?) throws(EngineError) -> (Table, Table) {
        guard fraction > 0, fraction < 1 else {
            throw EngineError.invalidArgument("split: the fraction must be between 0 and 1, got \(dataFormatFloat(fraction))")
        }
        var rng = SeededRandom(seed: seed)
        var train: [Int] = [], test: [Int] = []
        for var g in try dataStrata(stratify) {
            rng.shuffle(&g)
            let k = Int((Double(g.count) * fraction).rounded())
            train.append(contentsOf: g[0..<k])
            test.append(contentsOf: g[k...])
        }
        if stratify != nil { rng.shuffle(&train); rng.shuffle(&test) }
        return (take(train), take(test))
    }

    /// `k` folds: fold i tests on the i-th part of the shuffled rows and trains on the rest
    /// (rows in their original order). With `stratify`, each class is dealt across the
    /// folds in turn, so every fold keeps the class proportions.
    public func kfold(k: Int, seed: UInt64, stratify: String?) throws(EngineError) -> [(train: Table, test: Table)] {
        guard k >= 2 else { throw EngineError.invalidArgument("kfold: k must be at least 2, got \(k)") }
        guard k <= rowCount else { throw EngineError.invalidArgument("kfold: k = \(k) is more than the \(rowCount) rows") }
        var rng = SeededRandom(seed: seed)
        var fold = [Int](repeating: 0, count: rowCount)
        if stratify == nil {
            var idx = Array(0..<rowCount)
            rng.shuffle(&idx)
            let ranges = dataChunkRanges(rowCount, parts: k)
            for (f, r) in ranges.enumerated() { for i in r { fold[idx[i]] = f } }
        } else {
            var next = 0
            for var g in try dataStrata(stratify) {
                rng.shuffle(&g)
                for r in g { fold[r] = next % k; next += 1 }
            }
        }
        return (0..<k).map { f in
            var tr: [Int] = [], te: [Int] = []
            for r in 0..<rowCount { if fold[r] == f { te.append(r) } else { tr.append(r) } }
            return (take(tr), take(te))
        }
    }

    /// Row indices per class of `name` (first-appearance order), or all rows as one group.
    func dataStrata(_ name: String?) throws(EngineError) -> [[Int]] {
        guard let name else { return [Array(0..<rowCount)] }
        let (g, _) = try grouping(by: [name])
        var groups = [[Int]](repeating: [], count: g.count)
        for (r, id) in g.ids.enumerated() { groups[Int(id)].append(r) }
        return groups
    }
}
