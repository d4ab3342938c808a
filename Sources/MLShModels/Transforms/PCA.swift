import CLapack
import MLShCommon
import MLShEngine

/// Replaces numeric columns by their first `k` principal components (`PCA`): the columns
/// centred, projected on the eigenvectors of their covariance with the largest eigenvalues.
/// Signs as scikit-learn's: each component's largest loading (by magnitude) is positive.
public struct PCASpec: Codable, Sendable, Equatable {
    public var k: Int?, columns: [String]?
    public init(k: Int? = nil, columns: [String]? = nil) { self.k = k; self.columns = columns }
}

extension PCASpec: Transform {
    static let descriptor = TransformDescriptor(
        name: "pca", summary: "Replaces numeric columns by their first k principal components pc1, pc2, ….",
        example: "pca(k=2)", positional: "k", fitted: FittedPCA.self, defaults: PCASpec(),
        settings: [.optionalInt("k", \.k, min: 1, help: "the number of components kept (none: as many as columns)")])

    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform {
        let d = columns.count, n = frame.rowCount
        guard d > 0 else { throw .invalid("pca() has no numeric columns to project") }
        let keep = k ?? min(n, d)
        guard keep <= min(n, d) else {
            throw .invalid("pca(k=\(keep)) needs at least \(keep) columns and rows; it has \(d) columns and \(n) rows")
        }
        guard n >= 2 else { throw .invalid("pca() needs at least 2 rows, got \(n)") }
        var x: [[Double]] = []
        for c in columns {
            let v = try frame.numbers(c, for: Self.descriptor.name)
            guard v.allSatisfy(\.isFinite) else {
                throw .invalid("pca() needs finite values; column \(c) has missing or infinite ones (impute() before it)")
            }
            x.append(v)
        }
        let mean = x.map { v in v.reduce(0, +) / Double(n) }
        let cov = covariance(x, mean, rows: n)
        // Eigenvalues ascending; eigenvector j is column j of the row-major matrix.
        var a = cov, w = [Double](repeating: 0, count: d)
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(d), &a, Int32(d), &w)
        guard info == 0 else { throw .invalid("pca(): the eigendecomposition of the covariance did not converge (LAPACK dsyevd \(info))") }
        var components: [[Double]] = [], variance: [Double] = []
        for j in stride(from: d - 1, to: d - 1 - keep, by: -1) {
            var v = (0..<d).map { a[$0 * d + j] }
            var big = 0
            for i in 1..<d where abs(v[i]) > abs(v[big]) { big = i }
            if v[big] < 0 { v = v.map { -$0 } }
            components.append(v)
            variance.append(max(0, w[j]))
        }
        return FittedTransform(FittedPCA(columns: columns, mean: mean, components: components, variance: variance))
    }

    /// The covariance matrix of the columns (denominator n − 1), row-major: the centred rows
    /// in blocks, each added by BLAS `dsyrk` into the upper triangle, then mirrored.
    private func covariance(_ x: [[Double]], _ mean: [Double], rows n: Int) -> [Double] {
        let d = x.count, block = 4096
        var c = [Double](repeating: 0, count: d * d)
        var buf = [Double](repeating: 0, count: block * d)
        var r0 = 0
        while r0 < n {
            let m = min(block, n - r0)
            for i in 0..<m { for j in 0..<d { buf[i * d + j] = x[j][r0 + i] - mean[j] } }
            buf.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { cp in
                    guard let bb = b.baseAddress, let cb = cp.baseAddress else { return }
                    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(d), blasint(m), 1, bb, blasint(d), 1, cb, blasint(d))
                }
            }
            r0 += m
        }
        let scale = 1 / Double(n - 1)
        for i in 0..<d {
            for j in i..<d {
                c[i * d + j] *= scale
                c[j * d + i] = c[i * d + j]
            }
        }
        return c
    }
}

extension TransformSpec {
    /// A `pca()` transform of these settings.
    public static func pca(_ spec: PCASpec) -> TransformSpec { TransformSpec(spec) }
}

/// What pca learned: the columns' means, the components (one loading per column each, in
/// order of the variance they explain) and that variance.
public struct FittedPCA: FittedStep {
    public var columns: [String], mean: [Double], components: [[Double]], variance: [Double]
    static let codingKey = "pca"
    enum CodingKeys: String, StepKeys { case columns, mean, components, variance; static let caseName = "PCA" }

    /// The output columns: pc1, pc2, ….
    var outputNames: [String] { components.indices.map { "pc\($0 + 1)" } }

    var inputColumns: [String] { columns }

    /// Drops the input columns and appends pc1…pck: Σᵢ (xᵢ − meanᵢ) · loadingᵢ, in column order.
    func apply(_ frame: Frame, programs: [KernelProgram]?) throws(ModelError) -> Frame {
        var x: [[Double]] = []
        for c in columns { x.append(frame.columns[try frame.requiredIndex(c)].modelDoubles) }
        let inputs = Set(columns)
        let keep = frame.names.indices.filter { !inputs.contains(frame.names[$0]) }
        let names = outputNames
        if let clash = keep.first(where: { names.contains(frame.names[$0]) }) {
            throw .invalid("pca() names its components \(names.first ?? "pc1")…; the column \(frame.names[clash]) is already there (rename it)")
        }
        let n = frame.rowCount
        var f = frame
        f.names = keep.map { frame.names[$0] } + names
        f.columns = keep.map { frame.columns[$0] } + components.map { loading in
            var out = [Double](repeating: 0, count: n)
            for (i, w) in loading.enumerated() {
                let m = mean[i]
                x[i].withUnsafeBufferPointer { col in for r in 0..<n { out[r] += (col[r] - m) * w } }
            }
            return Column(floats: out)
        }
        return f
    }

    func validate() throws(ModelError) {
        let bad = FittedState.inconsistent
        guard mean.count == columns.count, variance.count == components.count else {
            throw bad("pca: \(columns.count) columns, \(mean.count) means, \(components.count) components, \(variance.count) variances")
        }
        for c in components where c.count != columns.count { throw bad("pca: a component of \(c.count) loadings for \(columns.count) columns") }
        for v in mean + variance + components.flatMap({ $0 }) where !v.isFinite { throw bad("pca: a non-finite parameter") }
    }
}
