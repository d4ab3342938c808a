import MLShCommon
import MLShEngine

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
