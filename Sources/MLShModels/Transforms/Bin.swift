import MLShCommon
import MLShEngine

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
