import MLShCommon
import MLShEngine

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
