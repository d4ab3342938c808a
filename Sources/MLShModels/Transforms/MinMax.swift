import MLShCommon
import MLShEngine

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
