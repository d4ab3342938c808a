/// A reduction by name, as the language spells it (`var`, `count_nan`, `n_unique`): the one
/// list the kernel's `.reduce` nodes, grouped aggregates and whole-column reductions share.
public enum ReductionKind: String, Sendable, CaseIterable {
    case sum, mean, std, variance = "var", min, max, count, countMissing = "count_nan", median, quantile, nUnique = "n_unique"
}

extension Reductions {
    /// One reduction of a whole column: an int for `count`, `count_nan` and `n_unique`,
    /// else a float. `q` is used by `quantile`.
    public static func apply(_ kind: ReductionKind, _ c: Column, q: Double = 0.5) throws(EngineError) -> Scalar {
        switch kind {
        case .count: return .int(Int64(count(c)))
        case .countMissing: return .int(Int64(countMissing(c)))
        case .nUnique: return .int(Int64(nUnique(c)))
        case .sum: return .float(try sum(c))
        case .mean: return .float(try mean(c))
        case .std: return .float(try std(c))
        case .variance: return .float(try variance(c))
        case .min: return .float(try min(c))
        case .max: return .float(try max(c))
        case .median: return .float(try median(c))
        case .quantile: return .float(try quantile(c, q))
        }
    }

    /// The reduction of `c` within each group of `g`: one value per group, in group order
    /// (int for `count`, `count_nan` and `n_unique`, else float; NaN for an empty group).
    public static func grouped(_ kind: ReductionKind, _ c: Column, by g: Grouping, q: Double = 0.5) throws(EngineError) -> Column {
        guard g.ids.count == c.count else {
            throw EngineError.lengthMismatch(column: "group ids", expected: c.count, actual: g.ids.count)
        }
        let n = g.count
        func gid(_ r: Int) -> Int { let k = Int(g.ids[r]); return k >= 0 && k < n ? k : -1 }
        switch kind {
        case .count, .countMissing:
            var out = [Int64](repeating: 0, count: n)
            for r in 0..<c.count {
                let k = gid(r)
                if k >= 0 && c.isMissing(r) == (kind == .countMissing) { out[k] += 1 }
            }
            return Column(ints: out)
        case .nUnique:
            let codes = dataKeyCodes(c)
            var seen = [Set<DataKeyCode>](repeating: [], count: n)
            for r in codes.indices where !codes[r].missing { let k = gid(r); if k >= 0 { seen[k].insert(codes[r]) } }
            return Column(ints: seen.map { Int64($0.count) })
        case .quantile, .median:
            guard q >= 0, q <= 1 else { throw EngineError.invalidArgument("quantile: q must be in 0...1, got \(dataFormatFloat(q))") }
            let v = try numeric(c, kind.rawValue)
            var buckets = [[Double]](repeating: [], count: n)
            for r in v.indices where !v[r].isNaN { let k = gid(r); if k >= 0 { buckets[k].append(v[r]) } }
            let qq = kind == .median ? 0.5 : q
            return Column(floats: buckets.map { dataQuantileSorted($0.sorted(), qq) })
        default:
            let v = try numeric(c, kind.rawValue)
            var sum = [Double](repeating: 0, count: n), cnt = [Int](repeating: 0, count: n)
            var lo = [Double](repeating: .nan, count: n), hi = [Double](repeating: .nan, count: n)
            for r in v.indices where !v[r].isNaN {
                let k = gid(r)
                guard k >= 0 else { continue }
                let x = v[r]
                sum[k] += x; cnt[k] += 1
                if !(x >= lo[k]) { lo[k] = x }
                if !(x <= hi[k]) { hi[k] = x }
            }
            switch kind {
            case .sum: return Column(floats: sum)
            case .mean: return Column(floats: (0..<n).map { cnt[$0] == 0 ? .nan : sum[$0] / Double(cnt[$0]) })
            case .min: return Column(floats: lo)
            case .max: return Column(floats: hi)
            default:  // std, variance: second pass around each group's mean
                var ss = [Double](repeating: 0, count: n)
                for r in v.indices where !v[r].isNaN {
                    let k = gid(r)
                    guard k >= 0 else { continue }
                    let d = v[r] - sum[k] / Double(cnt[k])
                    ss[k] += d * d
                }
                let variance = (0..<n).map { cnt[$0] < 2 ? Double.nan : ss[$0] / Double(cnt[$0] - 1) }
                return Column(floats: kind == .std ? variance.map { $0.squareRoot() } : variance)
            }
        }
    }
}
