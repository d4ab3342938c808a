import MLShCommon
import MLShEngine

/// What a transform learned in `fit`: data only, replayed on new tables by `apply`. Each kind
/// (`FittedStandardize`, ...) sits beside its transform with its factory (`.standardize(...)`);
/// the transforms' descriptors name the kinds.
public struct FittedTransform: Codable, Sendable, Equatable, CaseCoded {
    /// What was learned.
    let step: any FittedStep

    /// The step if it is an `S` (`fitted.step(as: FittedFeatures.self)`), nil otherwise.
    public func step<S>(as type: S.Type) -> S? { step as? S }

    /// The fitted transform of `step`.
    init(_ step: any FittedStep) { self.step = step }

    /// Two fitted transforms are equal when their steps are of one kind and equal.
    public static func == (a: FittedTransform, b: FittedTransform) -> Bool { a.step.isEqual(to: b.step) }

    /// Every kind of fitted step: the transforms' and `features`.
    static var kinds: [any FittedStep.Type] { TransformSpec.transforms.map(\.fittedType) + [FittedFeatures.self] }

    /// The coding keys of every kind.
    static let caseKeys = Set(kinds.map { $0.codingKey })

    /// Reads `{"<codingKey>": {<fields>}}`, the form Swift's synthesized coding of the former
    /// enum (one case with labelled values per kind) wrote and model files store.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CaseKey<FittedTransform>.self)
        guard container.allKeys.count == 1, let key = container.allKeys.first,
              let kind = FittedTransform.kinds.first(where: { $0.codingKey == key.stringValue }) else {
            throw DecodingError.typeMismatch(FittedTransform.self, DecodingError.Context(
                codingPath: container.codingPath, debugDescription: "Invalid number of keys found, expected one."))
        }
        step = try container.decode(kind, forKey: key)
    }

    /// Writes `{"<codingKey>": {<fields>}}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CaseKey<FittedTransform>.self)
        let value: any Encodable = step
        try container.encode(value, forKey: CaseKey(known: type(of: step).codingKey))
    }

    /// The columns the transform reads.
    var inputColumns: [String] { step.inputColumns }

    /// Replays the transform on a frame; a `features` step runs `programs` when given (its
    /// expressions compiled in advance), else compiles them.
    func apply(_ frame: Frame, programs: [KernelProgram]? = nil) throws(ModelError) -> Frame {
        try step.apply(frame, programs: programs)
    }
}

/// One kind of fitted transform (what a `FittedTransform` holds): the columns it reads, how
/// it is replayed, and the checks a state read from a file must pass.
protocol FittedStep: Codable, Equatable, Sendable {
    /// The key model files store it under (`standardize`, `select`).
    static var codingKey: String { get }
    /// The columns it reads.
    var inputColumns: [String] { get }
    /// Replays it on a frame (`programs`: a `features` step's expressions compiled in advance).
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame
    /// Throws `FittedState.inconsistent` when its parts do not fit together.
    func validate() throws(ModelError)
}

/// A fitted step's field keys, printed as the synthesized coding's key type of the enum case
/// it was (`StandardizeCodingKeys`), so decoding errors read as they did.
protocol StepKeys: CodingKey {
    /// The case's name, capitalised (`Standardize`).
    static var caseName: String { get }
}

extension StepKeys {
    var description: String { "\(Self.caseName)CodingKeys(stringValue: \"\(stringValue)\", intValue: nil)" }
    var debugDescription: String { description }
}

extension Frame {
    /// The float and int columns' names: the columns most transforms default to.
    var numericNames: [String] { zip(names, columns).filter { $0.1.dtype == .float || $0.1.dtype == .int }.map(\.0) }

    /// The index of column `c`, or the missing-column error.
    func requiredIndex(_ c: String) throws(ModelError) -> Int {
        guard let i = index(c) else { throw .missingColumn(c, suggestion: closestName(to: c, in: names)) }
        return i
    }
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
        return parameters?.defaultColumns(frame) ?? frame.numericNames
    }

    /// Learns the transform's state from the training frame.
    func fitTransform(_ frame: Frame, target: TargetValues) throws(ModelError) -> FittedTransform {
        if let p = parameters { return try p.fit(frame, columns: try resolveColumns(frame), target: target) }
        guard let s = featuresSpec else { throw .invalid("\(kind)() has nothing to fit") }
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
