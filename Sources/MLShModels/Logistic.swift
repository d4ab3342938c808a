import CLapack
import Foundation
import MLShEngine

/// Logistic regression, scikit-learn's `LogisticRegression(C=1/l2)` (multinomial for more than two classes).
public struct LogisticSpec: Codable, Sendable, Equatable {
    public var l2: Double, maxIter: Int
    public init(l2: Double = 1, maxIter: Int = 100) { self.l2 = l2; self.maxIter = maxIter }
}

extension LogisticSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "logistic", tasks: [.classification],
        summary: "Logistic regression, l2 = 1/C (multinomial for more than two classes).", example: "logistic(l2=1.0)",
        state: LinearState.self, defaults: LogisticSpec(),
        settings: [.positive("l2", \.l2, help: "the weight of the L2 penalty (1/C in scikit-learn)"),
                   .int("max_iter", \.maxIter, min: 1, help: "the most L-BFGS iterations")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .linear(fitLogistic(x, y.classIds, classes: y.classes.count, spec: self)))
    }
}

extension ModelSpec {
    /// A `logistic()` model of these settings.
    public static func logistic(_ spec: LogisticSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Logistic regression as scikit-learn defines it: minimise 0.5‖W‖² + C·Σ logloss with
/// C = 1/l2, intercept unpenalised; binomial for two classes, multinomial softmax above.
/// Optimised by our own L-BFGS on the objective divided by C·n.
func fitLogistic(_ x: Dense, _ y: [Int32], classes: Int, spec: LogisticSpec) -> LinearState {
    let n = x.rows, p = x.cols
    let outs = classes == 2 ? 1 : classes
    let dim = outs * (p + 1)
    let invN = 1.0 / Double(n)
    let reg = spec.l2 * invN

    // Loss and gradient of theta = [W (outs × p) row-major, b (outs)], in fixed row blocks
    // (each block's partial sums kept apart and added in block order, so the result does not
    // depend on the thread count); a block of X stays in cache between its two products.
    let block = 2048
    let nblocks = (n + block - 1) / block
    let xdata = x.data, ys = y
    func evaluate(_ theta: [Double], _ grad: inout [Double]) -> Double {
        let partials = filledArray(count: nblocks * (dim + 1), zero: 0.0) { out in
            let parts = chunks(nblocks, n >= 20_000 ? workerCount : 1)
            parallelFor(parts.count) { part in
                var z = [Double](repeating: 0, count: block * outs)
                xdata.withUnsafeBufferPointer { xp in
                    theta.withUnsafeBufferPointer { tp in
                        z.withUnsafeMutableBufferPointer { zb in
                            let zp = zb.baseAddress!
                            let bias = tp.baseAddress! + outs * p
                            for blk in parts[part] {
                                let r0 = blk * block, m = min(n, r0 + block) - r0
                                let xb = xp.baseAddress! + r0 * p
                                let g = out.value + blk * (dim + 1)
                                if p > 0 && outs == 1 {
                                    cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(m), blasint(p), 1, xb, blasint(p),
                                                tp.baseAddress!, 1, 0, zp, 1)
                                } else if p > 0 {
                                    gemm(xb, false, tp.baseAddress!, true, zp, m: m, n: outs, k: p, lda: p, ldb: p, ldc: outs)
                                } else {
                                    for i in 0..<(m * outs) { zp[i] = 0 }
                                }
                                var loss = 0.0
                                if outs == 1 {
                                    let b0 = bias[0]
                                    for i in 0..<m {
                                        let v = zp[i] + b0
                                        let yi = ys[r0 + i] == 1 ? 1.0 : 0.0
                                        // log(1 + e^v) - y v and the sigmoid, from one exp.
                                        let e = exp(-abs(v))
                                        loss += max(v, 0) + log1p(e) - yi * v
                                        let sg = v >= 0 ? 1 / (1 + e) : e / (1 + e)
                                        zp[i] = (sg - yi) * invN
                                        g[p] += zp[i]
                                    }
                                } else {
                                    for i in 0..<m {
                                        let row = zp + i * outs
                                        var mx = -Double.infinity
                                        for k in 0..<outs { row[k] += bias[k]; mx = max(mx, row[k]) }
                                        var s = 0.0
                                        for k in 0..<outs { let e = exp(row[k] - mx); row[k] = e; s += e }
                                        let yi = Int(ys[r0 + i])
                                        loss += log(s) - log(row[yi])
                                        let inv = invN / s
                                        for k in 0..<outs { row[k] *= inv }
                                        row[yi] -= invN
                                        for k in 0..<outs { g[outs * p + k] += row[k] }
                                    }
                                }
                                g[dim] = loss
                                if p > 0 && outs == 1 {
                                    cblas_dgemv(CblasRowMajor, CblasTrans, blasint(m), blasint(p), 1, xb, blasint(p),
                                                zp, 1, 0, g, 1)
                                } else if p > 0 {
                                    gemm(zp, true, xb, false, g, m: outs, n: p, k: m, lda: outs, ldb: p, ldc: p)
                                }
                            }
                        }
                    }
                }
            }
        }
        var loss = 0.0
        for k in 0..<dim { grad[k] = 0 }
        for blk in 0..<nblocks {
            let base = blk * (dim + 1)
            for k in 0..<dim { grad[k] += partials[base + k] }
            loss += partials[base + dim]
        }
        var w2 = 0.0
        for k in 0..<(outs * p) { grad[k] += reg * theta[k]; w2 += theta[k] * theta[k] }
        return loss * invN + 0.5 * reg * w2
    }

    let theta = lbfgs(dim: dim, maxIter: spec.maxIter, gtol: 1e-7, evaluate)
    return LinearState(coef: Array(theta[0..<(outs * p)]), intercept: Array(theta[(outs * p)...]), outputs: outs)
}

/// Limited-memory BFGS (memory 10) with a backtracking Armijo line search, from zero.
func lbfgs(dim: Int, maxIter: Int, gtol: Double, _ f: (_ x: [Double], _ g: inout [Double]) -> Double) -> [Double] {
    let m = 10
    var x = [Double](repeating: 0, count: dim)
    var g = [Double](repeating: 0, count: dim)
    var fx = f(x, &g)
    var sList: [[Double]] = [], yList: [[Double]] = [], rhoList: [Double] = []
    var gNew = g
    var iterations = 0, evaluations = 1
    defer {
        if ProcessInfo.processInfo.environment["MLSH_LBFGS_TRACE"] != nil {
            print("lbfgs: \(iterations) iterations, \(evaluations) evaluations, f=\(fx)")
        }
    }
    for iter in 0..<maxIter {
        iterations = iter + 1
        var gmax = 0.0
        for v in g { gmax = max(gmax, abs(v)) }
        if gmax <= gtol { break }
        // Two-loop recursion.
        var d = g.map { -$0 }
        var alphas = [Double](repeating: 0, count: sList.count)
        for i in stride(from: sList.count - 1, through: 0, by: -1) {
            var a = 0.0
            for j in 0..<dim { a += sList[i][j] * d[j] }
            a *= rhoList[i]; alphas[i] = a
            for j in 0..<dim { d[j] -= a * yList[i][j] }
        }
        if let s = sList.last, let yv = yList.last {
            var sy = 0.0, yy = 0.0
            for j in 0..<dim { sy += s[j] * yv[j]; yy += yv[j] * yv[j] }
            let gamma = yy > 0 ? sy / yy : 1
            for j in 0..<dim { d[j] *= gamma }
        }
        for i in 0..<sList.count {
            var b = 0.0
            for j in 0..<dim { b += yList[i][j] * d[j] }
            b *= rhoList[i]
            for j in 0..<dim { d[j] += sList[i][j] * (alphas[i] - b) }
        }
        var slope = 0.0
        for j in 0..<dim { slope += g[j] * d[j] }
        if slope >= 0 { // not a descent direction: restart from steepest descent
            d = g.map { -$0 }; slope = 0
            for j in 0..<dim { slope += g[j] * d[j] }
            sList.removeAll(); yList.removeAll(); rhoList.removeAll()
        }
        var step = 1.0
        if iter == 0 && sList.isEmpty {
            var norm = 0.0
            for v in g { norm += v * v }
            step = min(1.0, 1.0 / max(norm.squareRoot(), 1e-300))
        }
        var xNew = x
        var fNew = fx
        var accepted = false
        for _ in 0..<40 {
            for j in 0..<dim { xNew[j] = x[j] + step * d[j] }
            fNew = f(xNew, &gNew)
            evaluations += 1
            if fNew <= fx + 1e-4 * step * slope { accepted = true; break }
            step *= 0.5
        }
        if !accepted { break }
        var s = [Double](repeating: 0, count: dim), yv = [Double](repeating: 0, count: dim)
        var sy = 0.0
        for j in 0..<dim { s[j] = xNew[j] - x[j]; yv[j] = gNew[j] - g[j]; sy += s[j] * yv[j] }
        let fOld = fx
        x = xNew; g = gNew; fx = fNew
        if sy > 1e-300 {
            sList.append(s); yList.append(yv); rhoList.append(1 / sy)
            if sList.count > m { sList.removeFirst(); yList.removeFirst(); rhoList.removeFirst() }
        }
        if abs(fOld - fx) <= 1e-15 * max(abs(fOld), abs(fx), 1) { break }
    }
    return x
}

/// Class probabilities from a logistic model's scores.
func logisticProba(_ state: LinearState, _ x: Dense, classes: Int) -> Dense {
    let z = state.decision(x)
    var out = Dense(rows: x.rows, cols: classes)
    if state.outputs == 1 {
        for i in 0..<x.rows {
            let v = z.data[i]
            let s = v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v))
            out.data[i * 2] = 1 - s; out.data[i * 2 + 1] = s
        }
    } else {
        softmaxRows(z, into: &out)
    }
    return out
}

/// Row-wise softmax of `z` into `out` (same shape).
func softmaxRows(_ z: Dense, into out: inout Dense) {
    let k = z.cols
    for i in 0..<z.rows {
        var m = -Double.infinity
        for j in 0..<k { m = max(m, z.data[i * k + j]) }
        var s = 0.0
        for j in 0..<k { let e = exp(z.data[i * k + j] - m); out.data[i * k + j] = e; s += e }
        for j in 0..<k { out.data[i * k + j] /= s }
    }
}
