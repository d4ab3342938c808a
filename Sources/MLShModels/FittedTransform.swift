import MLShCommon
import MLShEngine

/// What a transform learned in `fit`: data only, replayed on new tables by `apply`.
public enum FittedTransform: Codable, Sendable, Equatable {
    case standardize(columns: [String], mean: [Double], scale: [Double])
    case minmax(columns: [String], min: [Double], scale: [Double])
    /// Per column: the number filled into numeric columns, the label into string columns.
    case impute(columns: [String], numbers: [Double], labels: [String])
    /// `refuseUnknown` (onehot(unknown="error")) refuses a category not seen in training; nil
    /// (the default, and files written before it existed) encodes it as all zeros.
    case onehot(columns: [String], categories: [[String]], refuseUnknown: Bool?)
    /// Per column: the interior quantile edges (`bins - 1` at most).
    case bin(columns: [String], edges: [[Double]])
    /// Each term is a list of column indices into `columns` multiplied together.
    case poly(columns: [String], terms: [[Int]])
    case select(drop: [String])
    /// Column expressions computed in order, reductions already replaced by their training values.
    case features(names: [String], exprs: [KExpr])
}

/// The target as transforms see it (select_features scores against it).
enum TargetValues {
    case none
    case numbers([Double])
    case classes([Int32], count: Int)
}

extension TransformSpec {
    /// The columns this transform applies to in `frame`.
    func resolveColumns(_ frame: Frame) throws(ModelError) -> [String] {
        if let named = columns {
            for c in named where frame.index(c) == nil {
                throw .invalid("\(kind)() names column \(c), which is not among the features"
                               + (closestName(to: c, in: frame.names).map { " (did you mean \($0)?)" } ?? ""))
            }
            return named
        }
        switch self {
        case .onehot: return zip(frame.names, frame.columns).filter { $0.1.dtype == .string }.map(\.0)
        case .impute(let s) where s.strategy == "most_frequent" || s.strategy == "constant":
            return zip(frame.names, frame.columns).filter { $0.1.modelMissingCount > 0 || $0.1.dtype != .bool }.map(\.0)
        default:
            return zip(frame.names, frame.columns).filter { $0.1.dtype == .float || $0.1.dtype == .int }.map(\.0)
        }
    }

    /// Learns the transform's state from the training frame.
    func fitTransform(_ frame: Frame, target: TargetValues) throws(ModelError) -> FittedTransform {
        if let p = parameters { return try p.fit(frame, columns: try resolveColumns(frame), target: target) }
        guard case .features(let s) = self else { throw .invalid("\(kind)() has nothing to fit") }
        var table = try frame.table()
        var exprs: [KExpr] = []
        for (name, e) in zip(s.names, s.exprs) {
            let fitted = try frozen(e, on: table)
            let column = try engineCall { () throws(EngineError) -> Column in
                try KernelProgram.compile(fitted, for: table).run(on: table)
            }
            table = try engineCall { () throws(EngineError) -> Table in try table.setting(name, column) }
            exprs.append(fitted)
        }
        return .features(names: s.names, exprs: exprs)
    }
}

extension FittedTransform {
    /// The columns the transform reads.
    var inputColumns: [String] {
        switch self {
        case .standardize(let c, _, _), .minmax(let c, _, _), .impute(let c, _, _), .onehot(let c, _, _),
             .bin(let c, _), .poly(let c, _): return c
        case .select(let d): return d
        case .features(_, let exprs):
            var out: [String] = []
            for e in exprs { for c in e.referencedColumns where !out.contains(c) { out.append(c) } }
            return out
        }
    }

    /// Replays the transform on a frame; a `features` step runs `programs` when given (its
    /// expressions compiled in advance), else compiles them.
    func apply(_ frame: Frame, programs: [KernelProgram]? = nil) throws(ModelError) -> Frame {
        var f = frame
        func col(_ c: String) throws(ModelError) -> Int {
            guard let i = f.index(c) else { throw .missingColumn(c, suggestion: closestName(to: c, in: f.names)) }
            return i
        }
        switch self {
        case .standardize(let cols, let mean, let scale), .minmax(let cols, let mean, let scale):
            for (j, c) in cols.enumerated() {
                let i = try col(c)
                let m = mean[j], inv = 1 / scale[j]
                f.columns[i] = Column(floats: f.columns[i].modelDoubles.map { ($0 - m) * inv })
            }
        case .impute(let cols, let numbers, let labels):
            for (j, c) in cols.enumerated() {
                let i = try col(c)
                let column = f.columns[i]
                if column.dtype == .string {
                    f.columns[i] = Column(strings: column.modelLabels.map { $0 ?? labels[j] })
                } else if column.modelMissingCount > 0 {
                    let fill = numbers[j]
                    switch column.storage {
                    case .int(let v, let m):
                        if fill == fill.rounded(), let m {
                            f.columns[i] = Column(ints: v.indices.map { m[$0] ? v[$0] : Int64(fill) })
                        } else {
                            f.columns[i] = Column(floats: column.modelDoubles.map { $0.isNaN ? fill : $0 })
                        }
                    default: f.columns[i] = Column(floats: column.modelDoubles.map { $0.isNaN ? fill : $0 })
                    }
                }
            }
        case .onehot(let cols, let cats, let refuseUnknown):
            for (j, c) in cols.enumerated() {
                let i = try col(c)
                let labels = f.columns[i].modelLabels
                var lookup: [String: Int] = [:]
                for (k, v) in cats[j].enumerated() { lookup[v] = k }
                var outs = [[Double]](repeating: [Double](repeating: 0, count: f.rowCount), count: cats[j].count)
                for (r, l) in labels.enumerated() {
                    guard let l else { continue }
                    if let k = lookup[l] { outs[k][r] = 1 } else if refuseUnknown == true {
                        throw .unknownCategory(column: c, value: l, row: r, known: cats[j])
                    }
                }
                f.names.replaceSubrange(i...i, with: cats[j].map { "\(c)_\($0)" })
                f.columns.replaceSubrange(i...i, with: outs.map { Column(floats: $0) })
            }
        case .bin(let cols, let edges):
            for (j, c) in cols.enumerated() {
                let i = try col(c)
                let e = edges[j]
                f.columns[i] = Column(floats: f.columns[i].modelDoubles.map { x in
                    x.isNaN ? .nan : Double(upperBound(e, x))
                })
            }
        case .poly(let cols, let terms):
            var values: [[Double]] = []
            for c in cols { values.append(f.columns[try col(c)].modelDoubles) }
            for t in terms {
                var out = [Double](repeating: 1, count: f.rowCount)
                for k in t { for r in 0..<f.rowCount { out[r] *= values[k][r] } }
                f.names.append(termName(t.map { cols[$0] }))
                f.columns.append(Column(floats: out))
            }
        case .select(let drop):
            let d = Set(drop)
            let keep = f.names.indices.filter { !d.contains(f.names[$0]) }
            f.names = keep.map { f.names[$0] }
            f.columns = keep.map { f.columns[$0] }
        case .features(let names, let exprs):
            var table = try f.table()
            for (j, (name, e)) in zip(names, exprs).enumerated() {
                let column = try engineCall { () throws(EngineError) -> Column in
                    if let programs, j < programs.count { return try programs[j].run(on: table) }
                    return try KernelProgram.compile(e, for: table).run(on: table)
                }
                table = try engineCall { () throws(EngineError) -> Table in try table.setting(name, column) }
            }
            f = Frame(names: table.names, columns: table.columns, rowCount: f.rowCount)
        }
        return f
    }
}

/// `e` with each reduction replaced by its value on `table` (a constant from then on).
func frozen(_ e: KExpr, on table: Table) throws(ModelError) -> KExpr {
    switch e {
    case .reduce:
        let c = try engineCall { () throws(EngineError) -> Column in try KernelAggregate.aggregate(e, on: table, groups: nil) }
        switch c.value(at: 0) {
        case .float(let v): return .float(v)
        case .int(let v): return .int(v)
        case .bool(let v): return .bool(v)
        case .string(let v): return .string(v)
        case .missing: return .float(.nan)
        }
    case .call(let name, let args):
        var out: [KExpr] = []
        for a in args { out.append(try frozen(a, on: table)) }
        return .call(name, out)
    default:
        return e
    }
}

/// `a*b`, `a^2`, `a^2*b`.
func termName(_ parts: [String]) -> String {
    var out: [String] = []
    var i = 0
    while i < parts.count {
        var j = i
        while j < parts.count && parts[j] == parts[i] { j += 1 }
        out.append(j - i == 1 ? parts[i] : "\(parts[i])^\(j - i)")
        i = j
    }
    return out.joined(separator: "*")
}

/// The number of edges strictly below `x` (the bin index).
func upperBound(_ e: [Double], _ x: Double) -> Int {
    var lo = 0, hi = e.count
    while lo < hi { let mid = (lo + hi) / 2; if e[mid] <= x { lo = mid + 1 } else { hi = mid } }
    return lo
}

/// Mean and population standard deviation, ignoring NaN.
func meanStd(_ v: [Double]) -> (Double, Double) {
    var n = 0.0, s = 0.0
    for x in v where !x.isNaN { n += 1; s += x }
    guard n > 0 else { return (0, 0) }
    let m = s / n
    var ss = 0.0
    for x in v where !x.isNaN { ss += (x - m) * (x - m) }
    return (m, (ss / n).squareRoot())
}

func median(_ v: [Double]) -> Double {
    let s = v.sorted()
    return s.isEmpty ? 0 : quantileSorted(s, 0.5)
}

/// Linear-interpolated quantile of sorted values (numpy's default).
func quantileSorted(_ s: [Double], _ q: Double) -> Double {
    guard !s.isEmpty else { return 0 }
    let pos = q * Double(s.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(lo + 1, s.count - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}

func mostFrequent(_ v: [String]) -> String? {
    var counts: [String: Int] = [:]
    for x in v { counts[x, default: 0] += 1 }
    return counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }?.key
}

/// Distinct labels of a column, sorted (numerically for number columns).
func sortedLabels(_ c: Column) -> [String] {
    switch c.storage {
    case .float, .int:
        let v = Set(c.modelDoubles.filter { !$0.isNaN }).sorted()
        return v.map(formatLabel)
    case .bool(let v, let m):
        var seen = Set<Bool>()
        for i in v.indices where m.map({ $0[i] }) ?? true { seen.insert(v[i]) }
        return [false, true].filter { seen.contains($0) }.map { $0 ? "true" : "false" }
    case .string:
        return Set(c.modelLabels.compactMap { $0 }).sorted()
    }
}

/// The F statistic of one feature against the target (f_regression / f_classif).
func fScore(_ x: [Double], _ target: TargetValues) -> Double {
    switch target {
    case .none: return .nan
    case .numbers(let y):
        let n = Double(x.count)
        guard n > 2 else { return .nan }
        let (mx, _) = meanStd(x), (my, _) = meanStd(y)
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for i in 0..<x.count {
            let a = x[i] - mx, b = y[i] - my
            sxy += a * b; sxx += a * a; syy += b * b
        }
        guard sxx > 0, syy > 0 else { return .nan }
        let r = sxy / (sxx * syy).squareRoot()
        return r * r / max(1 - r * r, 1e-300) * (n - 2)
    case .classes(let ids, let k):
        var sum = [Double](repeating: 0, count: k), cnt = [Double](repeating: 0, count: k)
        var total = 0.0
        for i in 0..<x.count { let c = Int(ids[i]); sum[c] += x[i]; cnt[c] += 1; total += x[i] }
        let n = Double(x.count), grand = total / n
        var ssb = 0.0, ssw = 0.0
        for c in 0..<k where cnt[c] > 0 { let m = sum[c] / cnt[c]; ssb += cnt[c] * (m - grand) * (m - grand) }
        for i in 0..<x.count { let m = sum[Int(ids[i])] / cnt[Int(ids[i])]; ssw += (x[i] - m) * (x[i] - m) }
        let groups = Double(cnt.filter { $0 > 0 }.count)
        guard groups > 1, n > groups else { return .nan }
        return (ssb / (groups - 1)) / (ssw / (n - groups))
    }
}
