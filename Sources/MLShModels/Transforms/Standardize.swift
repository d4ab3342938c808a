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
