import MLShCommon
import MLShEngine

/// Centres and scales numeric columns (population std like `StandardScaler`; zero variance → scale 1).
public struct StandardizeSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public init(columns: [String]? = nil) { self.columns = columns }
}

extension StandardizeSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "standardize", summary: "Centres and scales numeric columns (population std; a constant column keeps scale 1).",
        example: "standardize($x0, $x1)", fitted: FittedStandardize.self, defaults: StandardizeSpec(), settings: [])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var means: [Double] = [], scales: [Double] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name)
            let (m, s) = meanStd(v)
            means.append(m); scales.append(s > 0 && s.isFinite ? s : 1)
        }
        return .standardize(columns: columns, mean: means, scale: scales)
    }
}

extension TransformSpec {
    /// A `standardize()` transform of these settings.
    public static func standardize(_ spec: StandardizeSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What standardize learned: per column, the mean subtracted and the scale divided by.
public struct FittedStandardize: FittedStep {
    public var columns: [String], mean: [Double], scale: [Double]
    static let codingKey = "standardize"
    enum CodingKeys: String, StepKeys { case columns, mean, scale; static let caseName = "Standardize" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        try shiftAndScale(frame, columns, mean, scale)
    }
    func validate() throws(ModelError) { try validateShiftAndScale(columns, mean, scale) }
}

extension FittedTransform {
    /// What `standardize()` learns.
    public static func standardize(columns: [String], mean: [Double], scale: [Double]) -> FittedTransform {
        FittedTransform(FittedStandardize(columns: columns, mean: mean, scale: scale))
    }
}

/// `(x - shift) / scale` on each column of `columns`, as floats.
func shiftAndScale(_ frame: Frame, _ columns: [String], _ shift: [Double], _ scale: [Double]) throws(ModelError) -> Frame {
    var f = frame
    for (j, c) in columns.enumerated() {
        let i = try f.requiredIndex(c)
        let m = shift[j], inv = 1 / scale[j]
        f.columns[i] = Column(floats: f.columns[i].modelDoubles.map { ($0 - m) * inv })
    }
    return f
}

/// One shift and one finite, non-zero scale per column.
func validateShiftAndScale(_ columns: [String], _ shift: [Double], _ scale: [Double]) throws(ModelError) {
    let bad = FittedState.inconsistent
    guard shift.count == columns.count, scale.count == columns.count else {
        throw bad("\(columns.count) transform columns with \(shift.count) parameters")
    }
    for x in scale where x == 0 || !x.isFinite { throw bad("a zero or non-finite scale") }
}

/// Scales numeric columns to [0, 1] (a constant column maps to 0).
public struct MinMaxSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public init(columns: [String]? = nil) { self.columns = columns }
}

extension MinMaxSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "minmax", summary: "Scales numeric columns to [0, 1].", example: "minmax()",
        fitted: FittedMinMax.self, defaults: MinMaxSpec(), settings: [])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var mins: [Double] = [], scales: [Double] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name).filter { !$0.isNaN }
            let lo = v.min() ?? 0, hi = v.max() ?? 0
            mins.append(lo); scales.append(hi > lo ? hi - lo : 1)
        }
        return .minmax(columns: columns, min: mins, scale: scales)
    }
}

extension TransformSpec {
    /// A `minmax()` transform of these settings.
    public static func minmax(_ spec: MinMaxSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What minmax learned: per column, the minimum subtracted and the range divided by.
public struct FittedMinMax: FittedStep {
    public var columns: [String], min: [Double], scale: [Double]
    static let codingKey = "minmax"
    enum CodingKeys: String, StepKeys { case columns, min, scale; static let caseName = "Minmax" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        try shiftAndScale(frame, columns, min, scale)
    }
    func validate() throws(ModelError) { try validateShiftAndScale(columns, min, scale) }
}

extension FittedTransform {
    /// What `minmax()` learns.
    public static func minmax(columns: [String], min: [Double], scale: [Double]) -> FittedTransform {
        FittedTransform(FittedMinMax(columns: columns, min: min, scale: scale))
    }
}

/// Fills missing values: `mean`, `median`, `most_frequent` or `constant` (`value`, default 0 / "missing").
public struct ImputeSpec: Codable, Sendable, Equatable {
    public var strategy: String, value: SettingValue, columns: [String]?
    public init(strategy: String = "mean", value: SettingValue = .none, columns: [String]? = nil) {
        self.strategy = strategy; self.value = value; self.columns = columns
    }
}

extension ImputeSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "impute", summary: "Fills missing values: \"mean\", \"median\", \"most_frequent\" or \"constant\" (value=).",
        example: #"impute("median")"#, positional: "strategy",
        fitted: FittedImpute.self, defaults: ImputeSpec(),
        settings: [.choice("strategy", \.strategy, ["mean", "median", "most_frequent", "constant"],
                           help: "what fills a missing value: the column's mean, median, most frequent value, or value="),
                   .scalar("value", \.value, help: "the fill of strategy=\"constant\" (none: 0, or \"missing\" in string columns)")])

    /// For "most_frequent" and "constant": the columns with a missing value or not bool; else numeric columns.
    func defaultColumns(_ frame: Frame) -> [String] {
        guard strategy == "most_frequent" || strategy == "constant" else { return frame.numericNames }
        return zip(frame.names, frame.columns).filter { $0.1.modelMissingCount > 0 || $0.1.dtype != .bool }.map(\.0)
    }

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var numbers: [Double] = [], labels: [String] = []
        for c in columns {
            guard let i = frame.index(c) else { throw .missingColumn(c, suggestion: nil) }
            let col = frame.columns[i]
            if col.dtype == .string {
                let l = col.modelLabels.compactMap { $0 }
                switch strategy {
                case "constant":
                    if case .string(let f) = value { labels.append(f) } else { labels.append("missing") }
                case "most_frequent": labels.append(mostFrequent(l) ?? "missing")
                default: throw .invalid("impute(strategy=\"\(strategy)\") needs numeric columns; column \(c) is string (use \"most_frequent\" or \"constant\")")
                }
                numbers.append(0)
            } else {
                let v = col.modelDoubles.filter { !$0.isNaN }
                var f: Double
                switch strategy {
                case "mean": f = v.isEmpty ? 0 : v.reduce(0, +) / Double(v.count)
                case "median": f = median(v)
                case "most_frequent":
                    var counts: [Double: Int] = [:]
                    for x in v { counts[x, default: 0] += 1 }
                    f = counts.max { a, b in a.value < b.value || (a.value == b.value && a.key > b.key) }?.key ?? 0
                default: f = value.asDouble ?? 0
                }
                if f.isNaN { f = 0 }
                numbers.append(f); labels.append("")
            }
        }
        return .impute(columns: columns, numbers: numbers, labels: labels)
    }
}

extension TransformSpec {
    /// A `impute()` transform of these settings.
    public static func impute(_ spec: ImputeSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What impute learned: per column, the number filled into numeric columns, the label into string columns.
public struct FittedImpute: FittedStep {
    public var columns: [String], numbers: [Double], labels: [String]
    static let codingKey = "impute"
    enum CodingKeys: String, StepKeys { case columns, numbers, labels; static let caseName = "Impute" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        for (j, c) in columns.enumerated() {
            let i = try f.requiredIndex(c)
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
        return f
    }
    func validate() throws(ModelError) {
        guard numbers.count == columns.count, labels.count == columns.count else { throw FittedState.inconsistent("impute parameters") }
    }
}

extension FittedTransform {
    /// What `impute()` learns.
    public static func impute(columns: [String], numbers: [Double], labels: [String]) -> FittedTransform {
        FittedTransform(FittedImpute(columns: columns, numbers: numbers, labels: labels))
    }
}

/// One 0/1 column `<col>_<value>` per category (sorted); a missing value → all zeros, and so
/// is a category unseen in training with `unknown` "ignore" (the default, as scikit-learn's
/// `handle_unknown`), while "error" refuses it.
public struct OneHotSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public var unknown: String
    public init(columns: [String]? = nil, unknown: String = "ignore") { self.columns = columns; self.unknown = unknown }

    enum CodingKeys: String, CodingKey { case columns, unknown }

    /// Pipelines saved before `unknown` existed read as "ignore" (what they did).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(columns: try c.decodeIfPresent([String].self, forKey: .columns),
                  unknown: try c.decodeIfPresent(String.self, forKey: .unknown) ?? "ignore")
    }

    /// The default is left out, so such pipelines encode as they did before `unknown` existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(columns, forKey: .columns)
        if unknown != "ignore" { try c.encode(unknown, forKey: .unknown) }
    }
}

extension OneHotSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "onehot", summary: "One 0/1 column per category of string columns; a category unseen in training is all zeros, or refused with unknown=\"error\".",
        example: "onehot($species, unknown=\"error\")",
        fitted: FittedOneHot.self, defaults: OneHotSpec(),
        settings: [.choice("unknown", \.unknown, ["ignore", "error"], shownAtDefault: false,
                           help: "a category unseen in training: all zeros (\"ignore\") or an error")])

    /// String columns.
    func defaultColumns(_ frame: Frame) -> [String] {
        zip(frame.names, frame.columns).filter { $0.1.dtype == .string }.map(\.0)
    }

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var cats: [[String]] = []
        for c in columns {
            guard let i = frame.index(c) else { throw .missingColumn(c, suggestion: nil) }
            cats.append(sortedLabels(frame.columns[i]))
        }
        return .onehot(columns: columns, categories: cats, refuseUnknown: unknown == "error" ? true : nil)
    }
}

extension TransformSpec {
    /// A `onehot()` transform of these settings.
    public static func onehot(_ spec: OneHotSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What onehot learned: per column, its categories. `refuseUnknown` (onehot(unknown="error"))
/// refuses a category not seen in training; nil (the default, and files written before it
/// existed) encodes it as all zeros.
public struct FittedOneHot: FittedStep {
    public var columns: [String], categories: [[String]], refuseUnknown: Bool?
    static let codingKey = "onehot"
    enum CodingKeys: String, StepKeys { case columns, categories, refuseUnknown; static let caseName = "Onehot" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        for (j, c) in columns.enumerated() {
            let i = try f.requiredIndex(c)
            let labels = f.columns[i].modelLabels
            var lookup: [String: Int] = [:]
            for (k, v) in categories[j].enumerated() { lookup[v] = k }
            var outs = [[Double]](repeating: [Double](repeating: 0, count: f.rowCount), count: categories[j].count)
            for (r, l) in labels.enumerated() {
                guard let l else { continue }
                if let k = lookup[l] { outs[k][r] = 1 } else if refuseUnknown == true {
                    throw .unknownCategory(column: c, value: l, row: r, known: categories[j])
                }
            }
            f.names.replaceSubrange(i...i, with: categories[j].map { "\(c)_\($0)" })
            f.columns.replaceSubrange(i...i, with: outs.map { Column(floats: $0) })
        }
        return f
    }
    func validate() throws(ModelError) {
        guard categories.count == columns.count else { throw FittedState.inconsistent("onehot categories") }
    }
}

extension FittedTransform {
    /// What `onehot()` learns.
    public static func onehot(columns: [String], categories: [[String]], refuseUnknown: Bool?) -> FittedTransform {
        FittedTransform(FittedOneHot(columns: columns, categories: categories, refuseUnknown: refuseUnknown))
    }
}

/// Replaces numeric columns by their quantile bin index `0..<bins` (like `KBinsDiscretizer(encode="ordinal")`).
public struct BinSpec: Codable, Sendable, Equatable {
    public var bins: Int, columns: [String]?
    public init(bins: Int = 10, columns: [String]? = nil) { self.bins = bins; self.columns = columns }
}

extension BinSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "bin", summary: "Quantile bins of numeric columns.", example: "bin($age, bins=10)",
        fitted: FittedBin.self, defaults: BinSpec(),
        settings: [.int("bins", \.bins, min: 2, help: "the number of quantile bins")])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var edges: [[Double]] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name).filter { !$0.isNaN }.sorted()
            var e: [Double] = []
            if !v.isEmpty {
                for b in 1..<bins {
                    let q = quantileSorted(v, Double(b) / Double(bins))
                    if e.last.map({ q > $0 }) ?? true, q > v[0] { e.append(q) }
                }
            }
            edges.append(e)
        }
        return .bin(columns: columns, edges: edges)
    }
}

extension TransformSpec {
    /// A `bin()` transform of these settings.
    public static func bin(_ spec: BinSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What bin learned: per column, the interior quantile edges (`bins - 1` at most).
public struct FittedBin: FittedStep {
    public var columns: [String], edges: [[Double]]
    static let codingKey = "bin"
    enum CodingKeys: String, StepKeys { case columns, edges; static let caseName = "Bin" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        for (j, c) in columns.enumerated() {
            let i = try f.requiredIndex(c)
            let e = edges[j]
            f.columns[i] = Column(floats: f.columns[i].modelDoubles.map { x in
                x.isNaN ? .nan : Double(upperBound(e, x))
            })
        }
        return f
    }
    func validate() throws(ModelError) {
        guard edges.count == columns.count else { throw FittedState.inconsistent("bin edges") }
    }
}

extension FittedTransform {
    /// What `bin()` learns.
    public static func bin(columns: [String], edges: [[Double]]) -> FittedTransform {
        FittedTransform(FittedBin(columns: columns, edges: edges))
    }
}

/// Adds products of numeric columns up to `degree` (`a*b`, `a^2`), in `PolynomialFeatures` order.
public struct PolySpec: Codable, Sendable, Equatable {
    public var degree: Int, columns: [String]?
    public init(degree: Int = 2, columns: [String]? = nil) { self.degree = degree; self.columns = columns }
}

extension PolySpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "poly", summary: "Squares and pairwise products of numeric columns.", example: "poly(degree=2)", positional: "degree",
        fitted: FittedPoly.self, defaults: PolySpec(),
        settings: [.int("degree", \.degree, min: 1, help: "the highest degree of the products")])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        for c in columns { _ = try frame.numbers(c, for: Self.descriptor.name) }
        var terms: [[Int]] = []
        if degree >= 2 {
            var current: [[Int]] = (0..<columns.count).map { [$0] }
            for _ in 2...degree {
                var next: [[Int]] = []
                for t in current {
                    guard let last = t.last else { continue }
                    for j in last..<columns.count { next.append(t + [j]) }
                }
                terms += next
                current = next
                if terms.count > 100_000 {
                    throw .invalid("poly(degree=\(degree)) on \(columns.count) columns would add more than 100,000 columns; name fewer columns or lower the degree")
                }
            }
        }
        return .poly(columns: columns, terms: terms)
    }
}

extension TransformSpec {
    /// A `poly()` transform of these settings.
    public static func poly(_ spec: PolySpec) -> TransformSpec { TransformSpec(spec) }
}

/// What poly learned: each term is a list of column indices into `columns` multiplied together.
public struct FittedPoly: FittedStep {
    public var columns: [String], terms: [[Int]]
    static let codingKey = "poly"
    enum CodingKeys: String, StepKeys { case columns, terms; static let caseName = "Poly" }

    var inputColumns: [String] { columns }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        var values: [[Double]] = []
        for c in columns { values.append(f.columns[try f.requiredIndex(c)].modelDoubles) }
        for t in terms {
            var out = [Double](repeating: 1, count: f.rowCount)
            for k in t { for r in 0..<f.rowCount { out[r] *= values[k][r] } }
            f.names.append(termName(t.map { columns[$0] }))
            f.columns.append(Column(floats: out))
        }
        return f
    }
    func validate() throws(ModelError) {
        for term in terms { for j in term where j < 0 || j >= columns.count { throw FittedState.inconsistent("poly term index \(j)") } }
    }
}

extension FittedTransform {
    /// What `poly()` learns.
    public static func poly(columns: [String], terms: [[Int]]) -> FittedTransform {
        FittedTransform(FittedPoly(columns: columns, terms: terms))
    }
}

/// Keeps the `k` numeric columns with the highest F statistic against the target
/// (`SelectKBest(f_regression)` / `f_classif`).
public struct SelectFeaturesSpec: Codable, Sendable, Equatable {
    public var k: Int, columns: [String]?
    public init(k: Int = 10, columns: [String]? = nil) { self.k = k; self.columns = columns }
}

extension SelectFeaturesSpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "select_features", codingKey: "selectFeatures",
        summary: "Keeps the k features with the best F-statistic against the target.",
        example: "select_features(k=5)", positional: "k",
        fitted: FittedSelect.self, defaults: SelectFeaturesSpec(),
        settings: [.int("k", \.k, min: 1, help: "the number of columns kept")])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        var scores: [(String, Double)] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name)
            scores.append((c, fScore(v, target)))
        }
        let order = scores.enumerated().sorted { a, b in
            let x = a.element.1.isNaN ? -Double.infinity : a.element.1
            let y = b.element.1.isNaN ? -Double.infinity : b.element.1
            return x > y || (x == y && a.offset < b.offset)
        }
        let drop = order.dropFirst(k).map(\.element.0)
        return .select(drop: drop)
    }
}

extension TransformSpec {
    /// A `select_features()` transform of these settings.
    public static func selectFeatures(_ spec: SelectFeaturesSpec) -> TransformSpec { TransformSpec(spec) }
}

/// What select_features learned: the columns it drops.
public struct FittedSelect: FittedStep {
    public var drop: [String]
    static let codingKey = "select"
    enum CodingKeys: String, StepKeys { case drop; static let caseName = "Select" }

    var inputColumns: [String] { drop }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var f = frame
        let d = Set(drop)
        let keep = f.names.indices.filter { !d.contains(f.names[$0]) }
        f.names = keep.map { f.names[$0] }
        f.columns = keep.map { f.columns[$0] }
        return f
    }
    func validate() throws(ModelError) {}
}

extension FittedTransform {
    /// What `select_features()` learns.
    public static func select(drop: [String]) -> FittedTransform { FittedTransform(FittedSelect(drop: drop)) }
}

/// Columns computed by column expressions, `features(bmi2 = $bmi ^ 2, ratio = $a / $b)`: in
/// order, each adds a column (or replaces the one of its name, as `derive` does); the others
/// pass through. Reductions inside (`$x - mean($x)`) are computed on the training rows when
/// fitted and kept as constants. The expressions are data (engine IR), never code.
public struct FeaturesSpec: Codable, Sendable, Equatable {
    public var names: [String], exprs: [KExpr]
    public init(names: [String], exprs: [KExpr]) { self.names = names; self.exprs = exprs }

    /// The columns the expressions read that they do not compute themselves, in first-use order.
    public var reads: [String] {
        var out: [String] = [], made: Set<String> = []
        for (name, e) in zip(names, exprs) {
            for c in e.referencedColumns where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.insert(name)
        }
        return out
    }
}

extension TransformSpec {
    /// A `features(...)` step of these expressions.
    public static func features(_ spec: FeaturesSpec) -> TransformSpec { TransformSpec(features: spec) }
}

/// What features learned: column expressions computed in order, reductions already replaced
/// by their training values.
public struct FittedFeatures: FittedStep {
    public var names: [String], exprs: [KExpr]
    static let codingKey = "features"
    enum CodingKeys: String, StepKeys { case names, exprs; static let caseName = "Features" }

    var inputColumns: [String] {
        var out: [String] = []
        for e in exprs { for c in e.referencedColumns where !out.contains(c) { out.append(c) } }
        return out
    }
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var table = try frame.table()
        for (j, (name, e)) in zip(names, exprs).enumerated() {
            let column = try engineCall { () throws(EngineError) -> Column in
                if let programs, j < programs.count { return try programs[j].run(on: table) }
                return try KernelProgram.compile(e, for: table).run(on: table)
            }
            table = try engineCall { () throws(EngineError) -> Table in try table.setting(name, column) }
        }
        return Frame(names: table.names, columns: table.columns, rowCount: frame.rowCount)
    }
    func validate() throws(ModelError) {
        guard names.count == exprs.count, !names.isEmpty, !names.contains(""),
              !exprs.contains(where: \.containsReduction) else { throw FittedState.inconsistent("feature expressions") }
    }
}

extension FittedTransform {
    /// What `features()` learns.
    public static func features(names: [String], exprs: [KExpr]) -> FittedTransform {
        FittedTransform(FittedFeatures(names: names, exprs: exprs))
    }
}

/// Any transform's parameters: one transform's spec (an `ImputeSpec`, ...), made by a call
/// (`TransformSpec.make`) or by the factory beside each spec (`.impute(ImputeSpec())`), or the
/// expressions of a `features` step.
public struct TransformSpec: Codable, Sendable, Equatable, CustomStringConvertible, CaseCoded {
    /// The spec of a registered transform; nil for `features`.
    let parameters: (any Transform)?
    /// The expressions of a `features` step; nil for the others.
    let featuresSpec: FeaturesSpec?

    /// Every transform but `features` (which the runtime builds from expressions), in `:help` order.
    public static let transforms: [TransformDescriptor] = [
        StandardizeSpec.descriptor, MinMaxSpec.descriptor, ImputeSpec.descriptor, OneHotSpec.descriptor,
        BinSpec.descriptor, PolySpec.descriptor, SelectFeaturesSpec.descriptor,
    ]

    /// The spec if it is an `S` (`step.spec(as: ImputeSpec.self)`), nil otherwise.
    public func spec<S>(as type: S.Type) -> S? { parameters.map { $0 as? S } ?? featuresSpec as? S }

    /// The transform of spec `parameters`.
    init(_ parameters: any Transform) { self.parameters = parameters; featuresSpec = nil }
    /// The `features` step of `spec`.
    init(features spec: FeaturesSpec) { parameters = nil; featuresSpec = spec }

    /// Two transforms are equal when their specs are of one type and equal.
    public static func == (a: TransformSpec, b: TransformSpec) -> Bool {
        if let p = a.parameters, let q = b.parameters { return p.isEqual(to: q) }
        return a.parameters == nil && b.parameters == nil && a.featuresSpec == b.featuresSpec
    }

    /// The coding keys of every transform and `features`.
    static let caseKeys = Set(transforms.map(\.codingKey) + ["features"])

    /// Reads the form model files store, `{"<codingKey>": {"_0": <spec>}}` (see `CaseCoded`).
    public init(from decoder: any Decoder) throws {
        self = try TransformSpec.decodeCase(from: decoder) { key, payload, at in
            if key == "features" { return TransformSpec(features: try payload.decode(FeaturesSpec.self, forKey: at)) }
            return try TransformSpec.transforms.first { $0.codingKey == key }.map { TransformSpec(try payload.decode($0.specType, forKey: at)) }
        }
    }

    /// Writes `{"<codingKey>": {"_0": <spec>}}`.
    public func encode(to encoder: any Encoder) throws {
        if let p = parameters {
            try TransformSpec.encodeCase(type(of: p).descriptor.codingKey, p, to: encoder)
        } else {
            try TransformSpec.encodeCase("features", featuresSpec, to: encoder)
        }
    }

    /// The transform with `name` taken out of the columns it names (unchanged when it
    /// names none: it then applies to every fitting feature).
    func excluding(_ name: String) -> TransformSpec {
        guard let p = parameters, let cols = p.columns, cols.contains(name) else { return self }
        return type(of: p).descriptor.rebuild(p, cols.filter { $0 != name }) ?? self
    }

    /// Every transform name, as called in mlsh.
    public static let kinds = transforms.map(\.name)

    /// The transform called `name`, if there is one (`features` has none).
    public static func descriptor(named name: String) -> TransformDescriptor? {
        transforms.first { $0.name == name }
    }

    /// Builds a transform from a call's name, settings and named columns (nil: the default columns).
    public static func make(kind: String, settings: [String: SettingValue], columns: [String]? = nil) throws(ModelError) -> TransformSpec {
        guard let d = descriptor(named: kind) else {
            throw .unknownKind(kind, accepted: kinds, suggestion: closestName(to: kind, in: kinds))
        }
        return try d.make(settings, columns: columns)
    }

    /// The transform's name as called in mlsh.
    public var kind: String { parameters.map { type(of: $0).descriptor.name } ?? "features" }

    /// The named columns, or nil for the default set.
    public var columns: [String]? { parameters?.columns }

    /// Every setting with its value, leaving out those whose descriptor hides them at their default.
    public var settings: [(String, SettingValue)] {
        guard let p = parameters else { return [] }
        let d = type(of: p).descriptor
        return zip(d.settings, d.values(p)).filter { $0.shownAtDefault || $1 != $0.defaultValue }.map { ($0.key, $1) }
    }

    /// Checks the settings as a call would; `fit` does this first.
    func validate() throws(ModelError) {
        guard let p = parameters else { return }
        let d = type(of: p).descriptor
        try checkValues(d.values(p), kind: d.name, rows: d.settings)
    }

    /// The call as written in mlsh, e.g. `impute(strategy="median")` or `standardize($a, $b)`.
    public var description: String {
        if let f = featuresSpec {
            return "features(" + zip(f.names, f.exprs).map { "\($0) = \($1)" }.joined(separator: ", ") + ")"
        }
        var parts = (columns ?? []).map { "$" + $0 }
        parts += settings.map { "\($0.0)=\($0.1)" }
        return kind + "(" + parts.joined(separator: ", ") + ")"
    }

    /// This transform with some settings replaced (used by `tune`).
    public func with(_ changes: [String: SettingValue]) throws(ModelError) -> TransformSpec {
        if featuresSpec != nil {
            guard let name = changes.keys.sorted().first else { return self }
            throw .unknownSetting(kind: kind, name: name, accepted: [], suggestion: nil)
        }
        var d = Dictionary(settings, uniquingKeysWith: { a, _ in a })
        for (k, v) in changes { d[k] = v }
        return try TransformSpec.make(kind: kind, settings: d, columns: columns)
    }
}

/// Transforms followed by at most one model: what `>>` builds and `fit` accepts.
public struct PipelineSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    public var steps: [TransformSpec]
    public var model: ModelSpec?

    public init(steps: [TransformSpec] = [], model: ModelSpec? = nil) { self.steps = steps; self.model = model }
    /// A pipeline of one model.
    public init(_ model: ModelSpec) { self.steps = []; self.model = model }
    /// A pipeline of one transform.
    public init(_ step: TransformSpec) { self.steps = [step]; self.model = nil }

    /// `a >> b`: the steps of `a` then those of `b`; only the last part may hold a model.
    public static func compose(_ a: PipelineSpec, _ b: PipelineSpec) throws(ModelError) -> PipelineSpec {
        guard a.model == nil else { throw .modelNotLast }
        return PipelineSpec(steps: a.steps + b.steps, model: b.model)
    }

    /// The raw columns the pipeline's `features` steps read (not computed by an earlier one).
    var featureReads: [String] {
        var out: [String] = [], made: Set<String> = []
        for f in steps.compactMap(\.featuresSpec) {
            for c in f.reads where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.formUnion(f.names)
        }
        return out
    }

    /// The columns the pipeline's `features` steps compute.
    var featureNames: Set<String> {
        var out: Set<String> = []
        for f in steps.compactMap(\.featuresSpec) { out.formUnion(f.names) }
        return out
    }

    /// Steps joined with `>>`.
    public var description: String {
        var parts = steps.map(\.description)
        if let model { parts.append(model.description) }
        return parts.isEmpty ? "pipeline()" : parts.joined(separator: " >> ")
    }
}
