import MLShEngine

/// A category of a categorical feature: a text value, or a number (bools are 0 and 1).
enum CategoryKey: Hashable, Sendable {
    case number(Double)
    case text(String)
}

/// One reference feature, prepared for scoring: its finite values sorted, its category
/// counts when it has few distinct values, and the statistics each method needs.
struct FeatureProfile: Sendable {
    let name: String
    let dtype: DType
    /// Finite values, ascending (numeric and bool features; empty for text).
    let sorted: [Double]
    /// Count per category: text features always, numeric ones with at most 20 distinct values
    /// (Evidently bins numeric features by value up to 20 distinct values, in 30 bins above).
    let counts: [CategoryKey: Double]?
    /// Values present (missing and infinite ones dropped).
    let count: Int
    /// Text, bool, or numbers with at most 5 distinct reference values (Evidently's rule).
    let categorical: Bool
    /// Population standard deviation (numeric features).
    let std: Double
    /// The distinct inner decile edges of the reference, for PSI on numeric features.
    let deciles: [Double]

    init(name: String, column: Column) {
        self.name = name
        dtype = column.dtype
        if case .string(let codes, let dictionary) = column.storage {
            let c = Self.textCounts(codes, dictionary)
            sorted = []; counts = c; count = Int(c.values.reduce(0, +)); categorical = true; std = .nan; deciles = []
            return
        }
        let values = Self.finiteSorted(column)
        sorted = values; count = values.count
        var runs: [CategoryKey: Double] = [:]
        var i = 0
        while i < values.count && runs.count <= 20 {
            var j = i
            while j < values.count && values[j] == values[i] { j += 1 }
            runs[.number(values[i])] = Double(j - i)
            i = j
        }
        counts = runs.count <= 20 ? runs : nil
        categorical = dtype == .bool || runs.count <= 5
        if values.isEmpty {
            std = .nan; deciles = []
        } else {
            var sum = 0.0
            for v in values { sum += v }
            let mean = sum / Double(values.count)
            var squares = 0.0
            for v in values { squares += (v - mean) * (v - mean) }
            std = (squares / Double(values.count)).squareRoot()
            var edges: [Double] = []
            for k in 1...9 {
                let e = DriftMath.quantile(values, Double(k) / 10)
                if edges.last != e { edges.append(e) }
            }
            deciles = edges
        }
    }

    /// The method a request resolves to for this feature (see `DriftReference.score`).
    func method(for requested: DriftMethod?) -> DriftMethod {
        let small = count <= 1000
        let fallback: DriftMethod = categorical ? (small ? .chisquare : .jensenshannon) : (small ? .ks : .wasserstein)
        guard let requested else { return fallback }
        switch requested {
        case .ks, .wasserstein: return dtype == .string ? fallback : requested
        case .chisquare: return categorical ? requested : fallback
        case .jensenshannon, .psi: return requested
        }
    }

    /// Scores a current column of a compatible type (text against text, numbers against numbers).
    func score(_ column: Column, method requested: DriftMethod?) -> DriftScore {
        let method = method(for: requested)
        let value: Double
        switch method {
        case .ks, .wasserstein:
            let current = Self.finiteSorted(column)
            if sorted.isEmpty || current.isEmpty { value = .nan }
            else if method == .ks { value = DriftMath.ksPValue(sorted, current) }
            else { value = DriftMath.wasserstein(sorted, current) / max(std, 0.001) }
        case .chisquare:
            let (ref, cur) = aligned(column)
            let refTotal = ref.reduce(0, +), curTotal = cur.reduce(0, +)
            if refTotal == 0 || curTotal == 0 { value = .nan } else {
                let scale = curTotal / refTotal
                value = DriftMath.chiSquarePValue(observed: cur, expected: ref.map { $0 * scale })
            }
        case .jensenshannon:
            let (ref, cur) = counts != nil ? aligned(column) : binnedEqualWidth(column)
            value = ref.reduce(0, +) == 0 || cur.reduce(0, +) == 0 ? .nan : DriftMath.jensenShannon(ref, cur)
        case .psi:
            let (ref, cur) = categorical ? aligned(column) : binnedDeciles(column)
            let refTotal = ref.reduce(0, +), curTotal = cur.reduce(0, +)
            value = refTotal == 0 || curTotal == 0 ? .nan
                : DriftMath.psi(ref.map { $0 / refTotal }, cur.map { $0 / curTotal })
        }
        return DriftScore(feature: name, method: method, score: value)
    }

    /// Reference and current counts over the union of their categories.
    func aligned(_ column: Column) -> (reference: [Double], current: [Double]) {
        let current: [CategoryKey: Double]
        if case .string(let codes, let dictionary) = column.storage {
            current = Self.textCounts(codes, dictionary)
        } else {
            var c: [CategoryKey: Double] = [:]
            for v in Self.finiteSorted(column) { c[.number(v), default: 0] += 1 }
            current = c
        }
        let reference = counts ?? [:]
        var keys = Array(reference.keys)
        for k in current.keys where reference[k] == nil { keys.append(k) }
        return (keys.map { reference[$0] ?? 0 }, keys.map { current[$0] ?? 0 })
    }

    /// Counts in 30 equal-width bins over the range of both samples (numpy.histogram_bin_edges).
    func binnedEqualWidth(_ column: Column) -> (reference: [Double], current: [Double]) {
        let current = Self.finiteSorted(column)
        guard let r0 = sorted.first, let r1 = sorted.last, let c0 = current.first, let c1 = current.last else {
            return ([], [])
        }
        let edges = DriftMath.equalWidthEdges(lo: min(r0, c0), hi: max(r1, c1), bins: 30)
        return (DriftMath.histogram(sorted, edges: edges), DriftMath.histogram(current, edges: edges))
    }

    /// Counts in the reference's decile bins: (−∞, e₁], (e₁, e₂], …, (e_k, ∞).
    func binnedDeciles(_ column: Column) -> (reference: [Double], current: [Double]) {
        let current = Self.finiteSorted(column)
        func bins(_ values: [Double]) -> [Double] {
            var out: [Double] = [], below = 0
            for e in deciles {
                let upTo = DriftMath.upperBound(values, e)
                out.append(Double(upTo - below)); below = upTo
            }
            out.append(Double(values.count - below))
            return out
        }
        return (bins(sorted), bins(current))
    }

    /// The finite values of a numeric or bool column, ascending (bools as 0 and 1).
    static func finiteSorted(_ column: Column) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(column.count)
        switch column.storage {
        case .float(let v):
            for x in v where x.isFinite { out.append(x) }
        case .int(let v, let valid):
            if let valid { for i in v.indices where valid[i] { out.append(Double(v[i])) } }
            else { for x in v { out.append(Double(x)) } }
        case .bool(let v, let valid):
            for i in v.indices where valid?[i] ?? true { out.append(v[i] ? 1 : 0) }
        case .string:
            return []
        }
        return radixSorted(out)
    }

    /// Count per text value; missing codes are skipped.
    static func textCounts(_ codes: [Int32], _ dictionary: [String]) -> [CategoryKey: Double] {
        var perCode = [Int](repeating: 0, count: dictionary.count)
        for c in codes where c >= 0 && Int(c) < dictionary.count { perCode[Int(c)] += 1 }
        var out: [CategoryKey: Double] = [:]
        for (i, n) in perCode.enumerated() where n > 0 { out[.text(dictionary[i]), default: 0] += Double(n) }
        return out
    }

    /// Finite doubles in ascending order by an LSD radix sort on their bit patterns
    /// (six passes of 11 bits, every histogram counted in one read): O(n), several times
    /// faster than a comparison sort at 1M values.
    static func radixSorted(_ values: [Double]) -> [Double] {
        let n = values.count
        if n < 4096 { return values.sorted() }
        let bits = 11, buckets = 1 << bits, passes = 6
        // Flip so unsigned order is numeric order: negatives invert all bits, positives the sign bit.
        var keys = values.map { v -> UInt64 in
            let b = (v == 0 ? 0.0 : v).bitPattern
            return b & (1 << 63) != 0 ? ~b : b | (1 << 63)
        }
        var counts = [Int](repeating: 0, count: buckets * passes)
        keys.withUnsafeBufferPointer { src in
            counts.withUnsafeMutableBufferPointer { c in
                for k in src {
                    for p in 0..<passes { c[p * buckets + Int((k >> UInt64(p * bits)) & UInt64(buckets - 1))] += 1 }
                }
            }
        }
        var scratch = [UInt64](repeating: 0, count: n)
        for p in 0..<passes {
            let base = p * buckets, shift = UInt64(p * bits)
            if counts[base + Int((keys[0] >> shift) & UInt64(buckets - 1))] == n { continue }
            var total = 0
            for i in base..<(base + buckets) { let c = counts[i]; counts[i] = total; total += c }
            keys.withUnsafeBufferPointer { src in
                scratch.withUnsafeMutableBufferPointer { dst in
                    counts.withUnsafeMutableBufferPointer { c in
                        for k in src {
                            let d = base + Int((k >> shift) & UInt64(buckets - 1))
                            dst[c[d]] = k; c[d] += 1
                        }
                    }
                }
            }
            swap(&keys, &scratch)
        }
        return keys.map { k in Double(bitPattern: k & (1 << 63) != 0 ? k & ~(1 << 63) : ~k) }
    }
}
