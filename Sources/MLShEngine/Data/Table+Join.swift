import MLShCommon

/// Which rows `joined` keeps.
public enum JoinKind: String, Sendable, CaseIterable {
    /// Only rows with a match on both sides.
    case inner
    /// Every left row; right columns missing where there is no match.
    case left
    /// Every row of both sides: the left join, then the right rows no left row matched
    /// (their keys from the right, left columns missing).
    case outer
    /// The left rows with at least one match, once each; left columns only.
    case semi
    /// The left rows without a match (a missing key never matches); left columns only.
    case anti
}

extension Table {
    /// Joins rows of `other` whose `on` columns equal this table's. Rows come in this
    /// table's order, each followed by its matches in `other`'s order (a left row with n
    /// matches gives n rows: many-to-many joins multiply); missing keys never match. Key
    /// columns appear once (from this table; an outer join's right-only rows take the
    /// right's keys, int and float keys giving a float column); other columns of `other`
    /// whose names are taken get `suffix` (`_right`, then `_right2`, ... if that is taken too).
    public func joined(_ other: Table, on: [String], how: JoinKind, suffix: String = "_right") throws(EngineError) -> Table {
        guard !suffix.isEmpty else { throw EngineError.invalidArgument("join: suffix must not be empty") }
        guard !on.isEmpty else { throw EngineError.invalidArgument("join: name at least one key column in on=") }
        // Each key column over both tables' rows (left then right), so codes compare across them.
        var combined: [DataKeys] = []
        for name in on {
            let a = try column(name)
            guard let bi = other.index(of: name) else {
                throw EngineError.unknownColumn(name, table: other.label, suggestion: closestName(to: name, in: other.names))
            }
            combined.append(try dataJoinKeys(a, other.columns[bi], name: name, leftLabel: label, rightLabel: other.label))
        }
        let nL = rowCount, nR = other.rowCount
        let (ids, groups, _) = dataGroupIDs(combined, rowCount: nL + nR)
        // Rows with a missing key value match nothing.
        var anyMissing: [Bool]?
        for key in combined {
            guard let m = key.missing else { continue }
            if anyMissing == nil { anyMissing = m } else { for r in m.indices where m[r] { anyMissing?[r] = true } }
        }
        let unmatched = anyMissing ?? []
        func missingKey(_ r: Int) -> Bool { !unmatched.isEmpty && unmatched[r] }
        // Right rows per group, in order (linked through `nextRow`).
        var head = [Int](repeating: -1, count: groups), tail = [Int](repeating: -1, count: groups)
        var nextRow = [Int](repeating: -1, count: nR)
        for r in 0..<nR where !missingKey(nL + r) {
            let g = Int(ids[nL + r])
            if tail[g] < 0 { head[g] = r } else { nextRow[tail[g]] = r }
            tail[g] = r
        }
        // Semi and anti keep left rows by whether they have a match.
        if how == .semi || how == .anti {
            let keep = (0..<nL).filter { r in (!missingKey(r) && head[Int(ids[r])] >= 0) == (how == .semi) }
            return try Table(names: names, columns: columns.map { $0.taking(keep) }, label: label)
        }
        // The rows each left row gives (its matches, or one unmatched row unless inner),
        // counted then written in parallel chunks of left rows, each at its offset.
        let keep = how != .inner
        func firstMatch(_ r: Int) -> Int { missingKey(r) ? -1 : head[Int(ids[r])] }
        let chunks = dataChunkRanges(nL, parts: nL >= 1 << 16 ? dataWorkerCount : 1)
        let counts = dataParallelChunks(count: chunks.count) { c -> (rows: Int, oneEach: Bool) in
            var rows = 0, oneEach = true
            for r in chunks[c] {
                var m = firstMatch(r)
                if m < 0 { if keep { rows += 1 } else { oneEach = false }; continue }
                if nextRow[m] >= 0 { oneEach = false }
                while m >= 0 { rows += 1; m = nextRow[m] }
            }
            return (rows, oneEach)
        }
        // Whether every left row gave exactly one row, in order: the left columns are then kept as they are.
        let oneEach = counts.allSatisfy(\.oneEach)
        var offsets = [0]
        for c in counts { offsets.append(offsets[offsets.count - 1] + c.rows) }
        let total = offsets[offsets.count - 1]
        var li = [Int](repeating: -1, count: oneEach ? 0 : total), ri = [Int](repeating: -1, count: total)
        li.withUnsafeMutableBufferPointer { lp in
            ri.withUnsafeMutableBufferPointer { rp in
                let out = DataUncheckedBox((lp, rp))
                _ = dataParallelChunks(count: chunks.count) { c in
                    let (lp, rp) = out.value
                    var k = offsets[c]
                    for r in chunks[c] {
                        var m = firstMatch(r)
                        if m < 0 {
                            if keep { if !oneEach { lp[k] = r }; k += 1 }
                            continue
                        }
                        while m >= 0 {
                            if !oneEach { lp[k] = r }
                            rp[k] = m
                            k += 1
                            m = nextRow[m]
                        }
                    }
                    return 0
                }
            }
        }
        var matched = [Bool](repeating: false, count: how == .outer ? nR : 0)
        if how == .outer { for m in ri where m >= 0 { matched[m] = true } }
        // An outer join's right rows no left row matched, in the right's order.
        let rightOnly = how == .outer ? (0..<nR).filter { !matched[$0] } : []
        var names = self.names
        var cols: [Column] = []
        for (n, c) in zip(self.names, columns) {
            guard !rightOnly.isEmpty else { cols.append(oneEach ? c : c.taking(li)); continue }
            let tail: Column
            if let k = on.firstIndex(of: n), let bi = other.index(of: on[k]) {
                tail = other.columns[bi].taking(rightOnly)
            } else {
                tail = c.taking([Int](repeating: -1, count: rightOnly.count))
            }
            cols.append(try dataConcatColumns([oneEach ? c : c.taking(li), tail], name: n))
        }
        let keySet = Set(on)
        for (n, c) in zip(other.names, other.columns) where !keySet.contains(n) {
            var name = n
            if names.contains(name) {
                name = n + suffix
                var k = 2
                while names.contains(name) || other.names.contains(name) { name = "\(n)\(suffix)\(k)"; k += 1 }
            }
            names.append(name)
            cols.append(c.taking(rightOnly.isEmpty ? ri : ri + rightOnly))
        }
        return try Table(names: names, columns: cols, label: label)
    }
}

/// Codes of a join key column over the left rows then the right rows.
func dataJoinKeys(_ a: Column, _ b: Column, name: String, leftLabel: String?, rightLabel: String?) throws(EngineError) -> DataKeys {
    func numeric(_ t: DType) -> Bool { t == .int || t == .float }
    guard a.dtype == b.dtype || (numeric(a.dtype) && numeric(b.dtype)) else {
        throw EngineError.typeMismatch("join: key column '\(name)' is \(a.dtype.rawValue) in \(leftLabel ?? "the left table") but \(b.dtype.rawValue) in \(rightLabel ?? "the right table")")
    }
    return dataKeys(try dataConcatColumns([a, b], name: name))
}
