import Foundation
import MLShEngine

/// Gaussian naive Bayes with scikit-learn's `var_smoothing = 1e-9`.
public struct NaiveBayesSpec: Codable, Sendable, Equatable {
    public var varSmoothing: Double
    public init(varSmoothing: Double = 1e-9) { self.varSmoothing = varSmoothing }
}

extension NaiveBayesSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "naive_bayes", codingKey: "naiveBayes", tasks: [.classification],
        summary: "Gaussian naive Bayes.", example: "naive_bayes()",
        state: NaiveBayesState.self, defaults: NaiveBayesSpec(),
        settings: [.number("var_smoothing", \.varSmoothing, min: 0,
                           help: "added to every variance, as a fraction of the largest feature variance")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        FittedEstimator(state: .naiveBayes(fitNaiveBayes(x, y.classIds, classes: y.classes.count, spec: self)))
    }
}

extension ModelSpec {
    /// A `naive_bayes()` model of these settings.
    public static func naiveBayes(_ spec: NaiveBayesSpec) -> ModelSpec { ModelSpec(spec) }
}

/// Per-class means, variances (plus `var_smoothing` × the largest feature variance) and priors.
public struct NaiveBayesState: Codable, Sendable, Equatable {
    public var theta: [Double]
    public var variance: [Double]
    public var logPrior: [Double]
    public var features: Int
}

/// Gaussian naive Bayes, as scikit-learn's `GaussianNB`.
func fitNaiveBayes(_ x: Dense, _ y: [Int32], classes: Int, spec: NaiveBayesSpec) -> NaiveBayesState {
    let n = x.rows, p = x.cols
    var sum = [Double](repeating: 0, count: classes * p), cnt = [Double](repeating: 0, count: classes)
    x.data.withUnsafeBufferPointer { xp in
        for i in 0..<n {
            let c = Int(y[i]); cnt[c] += 1
            let b = i * p, cb = c * p
            for j in 0..<p { sum[cb + j] += xp[b + j] }
        }
    }
    var theta = sum
    for c in 0..<classes { for j in 0..<p { theta[c * p + j] /= max(cnt[c], 1) } }
    var ss = [Double](repeating: 0, count: classes * p)
    x.data.withUnsafeBufferPointer { xp in
        for i in 0..<n {
            let c = Int(y[i]); let b = i * p, cb = c * p
            for j in 0..<p { let d = xp[b + j] - theta[cb + j]; ss[cb + j] += d * d }
        }
    }
    // Largest overall feature variance, for the smoothing term.
    let means = x.columnMeans()
    var tot = [Double](repeating: 0, count: p)
    x.data.withUnsafeBufferPointer { xp in
        for i in 0..<n { let b = i * p; for j in 0..<p { let d = xp[b + j] - means[j]; tot[j] += d * d } }
    }
    let maxVar = (tot.max() ?? 0) / Double(max(n, 1))
    let eps = spec.varSmoothing * maxVar
    var variance = ss
    for c in 0..<classes { for j in 0..<p { variance[c * p + j] = ss[c * p + j] / max(cnt[c], 1) + eps } }
    // A zero variance (a constant feature and var_smoothing 0) would divide by zero.
    for i in variance.indices where variance[i] <= 0 { variance[i] = 1e-300 }
    let logPrior = cnt.map { log($0 / Double(n)) }
    return NaiveBayesState(theta: theta, variance: variance, logPrior: logPrior, features: p)
}

extension NaiveBayesState {
    func proba(_ x: Dense) -> Dense {
        let k = logPrior.count, p = features
        var jll = Dense(rows: x.rows, cols: k)
        var constTerm = [Double](repeating: 0, count: k)
        var invVar = variance
        for c in 0..<k {
            var s = 0.0
            for j in 0..<p { s += log(2 * Double.pi * variance[c * p + j]); invVar[c * p + j] = 1 / variance[c * p + j] }
            constTerm[c] = logPrior[c] - 0.5 * s
        }
        x.data.withUnsafeBufferPointer { xp in
            for i in 0..<x.rows {
                let b = i * p
                for c in 0..<k {
                    var s = 0.0
                    let cb = c * p
                    for j in 0..<p { let d = xp[b + j] - theta[cb + j]; s += d * d * invVar[cb + j] }
                    jll.data[i * k + c] = constTerm[c] - 0.5 * s
                }
            }
        }
        var out = jll
        softmaxRows(jll, into: &out)
        return out
    }
}

extension NaiveBayesState: LearnedParameters {
    static let codingKey = "naiveBayes"

    func estimate(_ x: Dense, model: FittedState) -> Dense { proba(x) }

    var scoringCost: Int { theta.count * 2 }

    func validate(in model: FittedState) throws(ModelError) {
        let p = model.inputs.count, k = model.classes.count
        guard model.task == .classification, features == p, theta.count == k * p, variance.count == k * p,
              logPrior.count == k else { throw FittedState.inconsistent("naive Bayes parameter shapes") }
    }
}

extension EstimatorState {
    /// The parameters naive_bayes learn.
    public static func naiveBayes(_ state: NaiveBayesState) -> EstimatorState { EstimatorState(state) }
}
