import MLShCommon
import MLShEngine

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
