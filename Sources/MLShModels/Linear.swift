import CLapack
import MLShEngine

/// Ordinary least squares (`linear()`), like scikit-learn's `LinearRegression`.
public struct LinearSpec: Codable, Sendable, Equatable {
    public init() {}
}

extension LinearSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "linear", tasks: [.regression], summary: "Ordinary least squares.", example: "linear()",
        state: LinearState.self, defaults: LinearSpec(),
        settings: [])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .linear(fitLeastSquares(x, y.values, alpha: 0)))
    }
}

extension ModelSpec {
    /// A `linear()` model of these settings.
    public static func linear(_ spec: LinearSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Ridge regression minimising ‖y − Xw‖² + alpha‖w‖², intercept unpenalised.
public struct RidgeSpec: Codable, Sendable, Equatable {
    public var alpha: Double
    public init(alpha: Double = 1) { self.alpha = alpha }
}

extension RidgeSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "ridge", tasks: [.regression],
        summary: "Least squares with an L2 penalty alpha·‖w‖² (scikit-learn's Ridge).", example: "ridge(alpha=1.0)",
        state: LinearState.self, defaults: RidgeSpec(),
        settings: [.number("alpha", \.alpha, min: 0, help: "the weight of the L2 penalty (0 is ordinary least squares)")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .linear(fitLeastSquares(x, y.values, alpha: alpha)))
    }
}

extension ModelSpec {
    /// A `ridge()` model of these settings.
    public static func ridge(_ spec: RidgeSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Lasso minimising ‖y − Xw‖²/(2n) + alpha‖w‖₁ by coordinate descent (scikit-learn's stopping rule).
public struct LassoSpec: Codable, Sendable, Equatable {
    public var alpha: Double, maxIter: Int, tol: Double
    public init(alpha: Double = 1, maxIter: Int = 1000, tol: Double = 1e-4) {
        self.alpha = alpha; self.maxIter = maxIter; self.tol = tol
    }
}

extension LassoSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "lasso", tasks: [.regression],
        summary: "Least squares with an L1 penalty (scikit-learn's Lasso objective).", example: "lasso(alpha=0.1)",
        state: LinearState.self, defaults: LassoSpec(),
        settings: [.number("alpha", \.alpha, min: 0, help: "the weight of the L1 penalty"),
                   .int("max_iter", \.maxIter, min: 1, help: "the most coordinate-descent sweeps"),
                   .positive("tol", \.tol, help: "the duality gap to stop at, relative to ‖y‖²")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .linear(fitLasso(x, y.values, spec: self)))
    }
}

extension ModelSpec {
    /// A `lasso()` model of these settings.
    public static func lasso(_ spec: LassoSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Coefficients of a linear model: `outputs` rows of `p` weights and one intercept per output.
public struct LinearState: Codable, Sendable, Equatable {
    public var coef: [Double]
    public var intercept: [Double]
    public var outputs: Int

    /// Scores `X w + b`, n × outputs.
    func decision(_ x: Dense) -> Dense {
        var out = Dense(rows: x.rows, cols: outputs)
        let p = x.cols
        guard x.rows > 0 else { return out }
        if p > 0 {
            x.data.withUnsafeBufferPointer { xp in
                coef.withUnsafeBufferPointer { cp in
                    out.data.withUnsafeMutableBufferPointer { op in
                        gemm(xp.baseAddress!, false, cp.baseAddress!, true, op.baseAddress!,
                             m: x.rows, n: outputs, k: p, lda: p, ldb: p, ldc: outputs)
                    }
                }
            }
        }
        for i in 0..<x.rows { for k in 0..<outputs { out.data[i * outputs + k] += intercept[k] } }
        return out
    }
}

/// XcᵀXc (upper triangle, row-major p × p) and Xcᵀyc for the column-centred X and y, in
/// cache-sized row blocks on every core, without materialising Xc. Block partials are added
/// in block order, so the result does not depend on the thread count.
func centeredGram(_ x: Dense, _ y: [Double], means: [Double], ymean: Double) -> (gram: [Double], rhs: [Double]) {
    let n = x.rows, p = x.cols
    let width = p * p + p
    let block = max(2048, (n + 63) / 64)
    let nblocks = (n + block - 1) / block
    let xdata = x.data
    let partials = filledArray(count: nblocks * width, zero: 0.0) { out in
        let parts = chunks(nblocks, n >= 20_000 ? workerCount : 1)
        parallelFor(parts.count) { part in
            var buf = [Double](repeating: 0, count: block * p)
            var yb = [Double](repeating: 0, count: block)
            xdata.withUnsafeBufferPointer { xp in
                buf.withUnsafeMutableBufferPointer { bp in
                    yb.withUnsafeMutableBufferPointer { ybp in
                        for blk in parts[part] {
                            let r0 = blk * block, m = min(n, r0 + block) - r0
                            for i in 0..<m {
                                let src = (r0 + i) * p, dst = i * p
                                for j in 0..<p { bp[dst + j] = xp[src + j] - means[j] }
                                ybp[i] = y[r0 + i] - ymean
                            }
                            let g = out.value + blk * width
                            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, blasint(p), blasint(m), 1, bp.baseAddress!,
                                        blasint(p), 0, g, blasint(p))
                            cblas_dgemv(CblasRowMajor, CblasTrans, blasint(m), blasint(p), 1, bp.baseAddress!, blasint(p),
                                        ybp.baseAddress!, 1, 0, g + p * p, 1)
                        }
                    }
                }
            }
        }
    }
    var gram = [Double](repeating: 0, count: p * p), rhs = [Double](repeating: 0, count: p)
    for blk in 0..<nblocks {
        let b = blk * width
        for k in 0..<(p * p) { gram[k] += partials[b + k] }
        for k in 0..<p { rhs[k] += partials[b + p * p + k] }
    }
    return (gram, rhs)
}

/// Centres X's columns in a copy; returns the copy and the means.
func centered(_ x: Dense) -> (Dense, [Double]) {
    let means = x.columnMeans()
    var c = x
    let p = x.cols
    c.data.withUnsafeMutableBufferPointer { d in
        for i in 0..<x.rows { let b = i * p; for j in 0..<p { d[b + j] -= means[j] } }
    }
    return (c, means)
}

/// Least squares / ridge: solves (XcᵀXc + alpha I) w = Xcᵀ yc by Cholesky, falling back to
/// the SVD solver `dgelsd` when the system is singular; the intercept is unpenalised.
func fitLeastSquares(_ x: Dense, _ y: [Double], alpha: Double) -> LinearState {
    let n = x.rows, p = x.cols
    let ymean = y.reduce(0, +) / Double(max(n, 1))
    guard p > 0 else { return LinearState(coef: [], intercept: [ymean], outputs: 1) }
    let means = x.columnMeans()
    var (gram, rhs) = centeredGram(x, y, means: means, ymean: ymean)
    var maxDiag = 0.0
    for j in 0..<p { gram[j * p + j] += alpha; maxDiag = max(maxDiag, gram[j * p + j]) }
    var a = gram, b = rhs
    var info = LAPACKE_dposv(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "U")), Int32(p), 1, &a, Int32(p), &b, 1)
    // Reject an ill-conditioned Cholesky: a tiny pivot relative to the largest diagonal.
    if info == 0 {
        var minPivot = Double.infinity
        for j in 0..<p { minPivot = min(minPivot, abs(a[j * p + j])) }
        if minPivot * minPivot < maxDiag * 1e-12 { info = 1 }
    }
    var w: [Double]
    if info == 0 {
        w = b
    } else {
        // Augment Xc with sqrt(alpha) I for ridge, then solve by SVD (minimum-norm for rank deficiency).
        let (xc, _) = centered(x)
        let yc = y.map { $0 - ymean }
        let extra = alpha > 0 ? p : 0
        let rows = n + extra
        var am = [Double](repeating: 0, count: rows * p)
        for i in 0..<(n * p) { am[i] = xc.data[i] }
        if extra > 0 { let s = alpha.squareRoot(); for j in 0..<p { am[(n + j) * p + j] = s } }
        var bm = [Double](repeating: 0, count: max(rows, p))
        for i in 0..<n { bm[i] = yc[i] }
        var sv = [Double](repeating: 0, count: p)
        var rank: Int32 = 0
        let r = LAPACKE_dgelsd(LAPACK_ROW_MAJOR, Int32(rows), Int32(p), 1, &am, Int32(p), &bm, 1,
                               &sv, -1, &rank)
        w = r == 0 ? Array(bm[0..<p]) : [Double](repeating: 0, count: p)
    }
    var b0 = ymean
    for j in 0..<p { b0 -= w[j] * means[j] }
    return LinearState(coef: w, intercept: [b0], outputs: 1)
}

/// Lasso by cyclic coordinate descent on the Gram matrix, stopping on scikit-learn's
/// duality-gap rule (`tol` scaled by ‖y‖²).
func fitLasso(_ x: Dense, _ y: [Double], spec: LassoSpec) -> LinearState {
    let n = x.rows, p = x.cols
    let ymean = y.reduce(0, +) / Double(max(n, 1))
    guard p > 0 else { return LinearState(coef: [], intercept: [ymean], outputs: 1) }
    let means = x.columnMeans()
    var (h, q) = centeredGram(x, y, means: means, ymean: ymean)
    for i in 0..<p { for j in 0..<i { h[i * p + j] = h[j * p + i] } }
    var yNorm2 = 0.0
    for v in y { yNorm2 += (v - ymean) * (v - ymean) }
    let alpha = spec.alpha * Double(n)
    let tol = spec.tol * yNorm2
    var w = [Double](repeating: 0, count: p)
    var hw = [Double](repeating: 0, count: p)
    for _ in 0..<spec.maxIter {
        var wMax = 0.0, dwMax = 0.0
        for j in 0..<p {
            let hjj = h[j * p + j]
            guard hjj > 0 else { continue }
            let old = w[j]
            let rho = q[j] - hw[j] + hjj * old
            let nw = rho > alpha ? (rho - alpha) / hjj : (rho < -alpha ? (rho + alpha) / hjj : 0)
            if nw != old {
                let d = nw - old
                for k in 0..<p { hw[k] += d * h[k * p + j] }
                w[j] = nw
            }
            dwMax = max(dwMax, abs(nw - old)); wMax = max(wMax, abs(nw))
        }
        if wMax == 0 || dwMax / wMax < spec.tol {
            // Duality gap, as in scikit-learn's enet_coordinate_descent_gram.
            var qw = 0.0, whw = 0.0, l1 = 0.0, dual = 0.0
            for j in 0..<p { qw += q[j] * w[j]; whw += w[j] * hw[j]; l1 += abs(w[j]); dual = max(dual, abs(q[j] - hw[j])) }
            let r2 = yNorm2 + whw - 2 * qw
            var gap: Double, const: Double
            if dual > alpha { const = alpha / dual; gap = 0.5 * (r2 + r2 * const * const) } else { const = 1; gap = r2 }
            gap += alpha * l1 - const * (yNorm2 - qw)
            if gap < tol { break }
        }
    }
    var b0 = ymean
    for j in 0..<p { b0 -= w[j] * means[j] }
    return LinearState(coef: w, intercept: [b0], outputs: 1)
}

extension LinearState: LearnedParameters {
    static let codingKey = "linear"

    func estimate(_ x: Dense, model: FittedState) -> Dense {
        model.task == .classification ? logisticProba(self, x, classes: model.classes.count) : decision(x)
    }

    var scoringCost: Int { coef.count }

    func validate(in model: FittedState) throws(ModelError) {
        let k = model.classes.count
        let outs = model.task == .classification ? (k == 2 ? 1 : k) : 1
        guard outputs == outs, coef.count == outs * model.inputs.count, intercept.count == outs else {
            throw FittedState.inconsistent("linear coefficient shapes")
        }
    }
}

extension EstimatorState {
    /// The parameters linear, ridge, lasso and logistic learn.
    public static func linear(_ state: LinearState) -> EstimatorState { EstimatorState(state) }
}
