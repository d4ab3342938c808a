import CLapack
import MLShEngine

/// k nearest neighbours (Euclidean, uniform weights).
public struct KNNSpec: Codable, Sendable, Equatable {
    public var k: Int
    public init(k: Int = 5) { self.k = k }
}

extension KNNSpec: Estimator {
    static let descriptor = EstimatorDescriptor(
        name: "knn", tasks: [.regression, .classification],
        summary: "k nearest neighbours: classification for a string or bool target, regression for numbers unless fit(..., task=\"classification\").",
        example: "knn(k=5)",
        state: KNNState.self, defaults: KNNSpec(),
        settings: [.int("k", \.k, min: 1, help: "the number of neighbours that vote (classes) or are averaged (numbers)")])

    func fit(_ x: Dense, _ y: EncodedTarget) throws(ModelError) -> FittedEstimator {
        let n = x.rows
        guard k <= n else { throw .kTooLarge(kind: "knn", k: k, rows: n) }
        let classify = y.task == .classification
        let targets = classify ? y.classIds.map { Double($0) } : y.values
        return FittedEstimator(state: .knn(KNNState(k: k, rows: n, features: x.cols, x: x.data, y: targets,
                                                    classes: classify ? y.classes.count : 0)))
    }
}

extension ModelSpec {
    /// A `knn()` model of these settings.
    public static func knn(_ spec: KNNSpec) -> ModelSpec { ModelSpec(spec) }
}

/// The training set a k-nearest-neighbours model searches.
public struct KNNState: Codable, Sendable, Equatable {
    public var k: Int
    public var rows: Int
    public var features: Int
    public var x: [Double]
    /// The target: class ids for classification, values for regression.
    public var y: [Double]
    /// 0 for regression, else the number of classes.
    public var classes: Int
}

extension KNNState {
    /// Predictions: n × classes probabilities (uniform vote), or n × 1 means for regression.
    func predict(_ q: Dense) -> Dense {
        let p = features, nt = rows, kk = k
        let outCols = classes == 0 ? 1 : classes
        var trainNorm = [Double](repeating: 0, count: nt)
        for i in 0..<nt { var s = 0.0; for j in 0..<p { s += x[i * p + j] * x[i * p + j] }; trainNorm[i] = s }
        // Distance blocks of at most ~4M doubles (32 MB) per thread, whatever the training size.
        let blockRows = max(1, min(128, 4_000_000 / max(nt, 1)))
        let blocks = (q.rows + blockRows - 1) / blockRows
        let tn = trainNorm
        let xs = x, ys = y, cls = classes
        let qdata = q.data
        let parts = chunks(blocks, workerCount)
        let data = filledArray(count: q.rows * outCols, zero: 0.0) { outBox in
        parallelFor(parts.count) { part in
            var dist = [Double](repeating: 0, count: blockRows * nt)
            var bestD = [Double](repeating: 0, count: kk), bestI = [Int](repeating: 0, count: kk)
            let outPtr = outBox.value
            for blk in parts[part] {
                let r0 = blk * blockRows, r1 = min(q.rows, r0 + blockRows), m = r1 - r0
                qdata.withUnsafeBufferPointer { qp in
                    xs.withUnsafeBufferPointer { xp in
                        dist.withUnsafeMutableBufferPointer { dp in
                            if p > 0 {
                                gemm(qp.baseAddress! + r0 * p, false, xp.baseAddress!, true, dp.baseAddress!,
                                     m: m, n: nt, k: p, lda: p, ldb: p, ldc: nt, alpha: -2)
                            } else {
                                for i in 0..<(m * nt) { dp[i] = 0 }
                            }
                        }
                    }
                }
                dist.withUnsafeBufferPointer { dp in
                    tn.withUnsafeBufferPointer { tp in
                        for r in 0..<m {
                            // Partial selection: keep the k smallest, sorted, by insertion.
                            var filled = 0
                            let row = dp.baseAddress! + r * nt
                            var worst = Double.infinity
                            for t in 0..<nt {
                                let d = row[t] + tp[t]
                                if filled == kk && d >= worst { continue }
                                var pos = filled < kk ? filled : kk - 1
                                if filled < kk { filled += 1 }
                                while pos > 0 && bestD[pos - 1] > d {
                                    bestD[pos] = bestD[pos - 1]; bestI[pos] = bestI[pos - 1]; pos -= 1
                                }
                                bestD[pos] = d; bestI[pos] = t
                                worst = filled == kk ? bestD[kk - 1] : .infinity
                            }
                            let o = outPtr + (r0 + r) * (cls == 0 ? 1 : cls)
                            if cls == 0 {
                                var s = 0.0
                                for j in 0..<filled { s += ys[bestI[j]] }
                                o[0] = s / Double(max(filled, 1))
                            } else {
                                for j in 0..<filled { o[Int(ys[bestI[j]])] += 1 / Double(filled) }
                            }
                        }
                    }
                }
            }
        }
        }
        return Dense(rows: q.rows, cols: outCols, data: data)
    }
}

extension KNNState: LearnedParameters {
    static let codingKey = "knn"

    func estimate(_ x: Dense, model: FittedState) -> Dense { predict(x) }

    /// Every training row is compared.
    var scoringCost: Int { rows.multipliedReportingOverflow(by: max(1, features)).partialValue }

    func validate(in model: FittedState) throws(ModelError) {
        let p = model.inputs.count
        guard features == p, rows > 0, k >= 1, k <= rows, x.count == rows * p, y.count == rows,
              classes == (model.task == .classification ? model.classes.count : 0) else {
            throw FittedState.inconsistent("knn training set shapes")
        }
        if classes > 0 {
            for v in y where !(v >= 0 && v < Double(classes) && v == v.rounded()) { throw FittedState.inconsistent("knn class id \(v)") }
        }
    }
}

extension EstimatorState {
    /// The parameters knn learn.
    public static func knn(_ state: KNNState) -> EstimatorState { EstimatorState(state) }
}
