import Foundation
import MLShEngine

/// The estimators: each computes the scores `LearnedParameters.estimate` computes, then the
/// outputs are named.
extension ONNXBuilder {
    mutating func estimator() throws(ModelError) {
        let learned = state.estimator.learned
        let x = try design()
        switch learned {
        case let l as LinearState:
            try finish(linear(l, x))
        case let e as EnsembleState:
            try finish(trees(e, x))
        case let k as KMeansState:
            try kmeans(k, x)
        case let nb as NaiveBayesState:
            try finish(naiveBayes(nb, x))
        case let kn as KNNState:
            try finish(knn(kn, x))
        case let f as IsolationForestState:
            try isolationForest(f, x)
        default:
            throw notExportable("the \(state.spec.model?.kind ?? "model")() model")
        }
    }

    /// Names the scores: regression `prediction` `[N]`; classification `probabilities`
    /// `[N, classes]` and `prediction`, the class of the first largest probability (ArgMax)
    /// in the target's type (Gather over the labels).
    mutating func finish(_ scores: String) throws(ModelError) {
        switch state.task {
        case .regression:
            graph.op("Reshape", [scores, graph.int64s([-1])], named: "prediction")
            graph.output("prediction", .double, [nil])
        case .classification:
            let proba = graph.op("Identity", [scores], named: "probabilities")
            let best = graph.op("ArgMax", [proba], [("axis", .int(1)), ("keepdims", .int(0))])
            let (labels, type) = classLabels()
            graph.op("Gather", [graph.constant(labels), best], [("axis", .int(0))], named: "prediction")
            graph.output("prediction", type, [nil])
            graph.output("probabilities", .double, [nil, state.classes.count])
        default:
            throw notExportable("a \(state.task.rawValue) model")
        }
    }

    /// The classes as `FittedModel.predict` gives them: bools, ints or floats for such
    /// targets, else the labels.
    func classLabels() -> (ONNXTensor, ONNXType) {
        let c = state.classes, dims = [c.count]
        switch state.targetType.flatMap(DType.init(rawValue:)) {
        case .bool?: return (ONNXTensor(dims: dims, values: .bools(c.map { $0 == "true" })), .bool)
        case .int?:
            let v = c.compactMap { Int64($0) }
            if v.count == c.count { return (ONNXTensor(dims: dims, values: .int64s(v)), .int64) }
        case .float?:
            let v = c.compactMap { Double($0) }
            if v.count == c.count { return (ONNXTensor(dims: dims, values: .doubles(v)), .double) }
        default: break
        }
        return (ONNXTensor(dims: dims, values: .strings(c)), .string)
    }

    /// Binary scores `[N, 1]` as `[1 - s, s]` with `s = Sigmoid(z)`; several as Softmax.
    mutating func probabilities(_ z: String, outputs: Int) -> String {
        if outputs == 1 {
            let s = graph.op("Sigmoid", [z])
            return graph.op("Concat", [graph.op("Sub", [scalar(1), s]), s], [("axis", .int(1))])
        }
        return graph.op("Softmax", [z], [("axis", .int(1))])
    }

    /// `X W + b` (MatMul, Add); logistic: its probabilities.
    mutating func linear(_ l: LinearState, _ x: String) throws(ModelError) -> String {
        let p = state.inputs.count, k = l.outputs
        guard l.coef.count == p * k, l.intercept.count == k else { throw FittedState.inconsistent("linear shapes") }
        var w = [Double](repeating: 0, count: p * k)
        for o in 0..<k { for j in 0..<p { w[j * k + o] = l.coef[o * p + j] } }
        let z = graph.op("Add", [graph.op("MatMul", [x, graph.doubles(w, [p, k])]), graph.doubles(l.intercept, [k])])
        return state.task == .classification ? probabilities(z, outputs: k) : z
    }

    /// The trees' values in double: `leafNodes` gives each row's leaf in every tree, which
    /// Gather the leaves' values (class probabilities for forest classifiers); forests
    /// ReduceSum over the trees and Mul by 1/trees, as mlsh averages; boosting ReduceSums
    /// each output's trees (Reshape to rounds × outputs) and Adds the initial scores, then
    /// Sigmoid or Softmax for classifiers.
    mutating func trees(_ e: EnsembleState, _ x: String) throws(ModelError) -> String {
        let boosted = state.isBoosted
        let width = boosted ? 1 : e.outputs
        var values: [Double] = [], starts: [Int64] = [], shapes: [TreeShape] = []
        for tree in e.trees {
            guard tree.outputs == width, tree.value.count == tree.feature.count * width else {
                throw FittedState.inconsistent("tree node arrays differ in size")
            }
            starts.append(Int64(values.count / width))
            values += tree.value
            shapes.append(TreeShape(feature: tree.feature, threshold: tree.threshold, left: tree.left, right: tree.right))
        }
        let leaves = try leafNodes(shapes, x, starts: starts)                      // [N, trees]
        let picked = graph.op("Gather", [graph.doubles(values, [values.count / width, width]), leaves], [("axis", .int(0))])
        if !boosted {                                                               // [N, trees, classes or 1]
            let sum = graph.op("ReduceSum", [picked, graph.int64s([1])], [("keepdims", .int(0))])
            return graph.op("Mul", [sum, scalar(1 / Double(max(e.trees.count, 1)))])
        }
        guard e.initial.count == e.outputs, e.trees.count % e.outputs == 0 else { throw FittedState.inconsistent("boosting shapes") }
        let rounds = graph.op("Reshape", [picked, graph.int64s([-1, Int64(e.trees.count / e.outputs), Int64(e.outputs)])])
        let sum = graph.op("ReduceSum", [rounds, graph.int64s([1])], [("keepdims", .int(0))])
        let scores = graph.op("Add", [sum, graph.doubles(e.initial, [e.outputs])])
        return state.task == .classification ? probabilities(scores, outputs: e.outputs) : scores
    }

    /// The nearest centre as mlsh finds it: the first smallest `|c|² - 2 x·c` (MatMul,
    /// Add, ArgMin), as int64 `prediction`.
    mutating func kmeans(_ k: KMeansState, _ x: String) throws(ModelError) {
        let p = state.inputs.count
        guard k.centers.count == k.k * p else { throw FittedState.inconsistent("kmeans centres") }
        var w = [Double](repeating: 0, count: p * k.k), norms = [Double](repeating: 0, count: k.k)
        for c in 0..<k.k {
            var s = 0.0
            for j in 0..<p { let v = k.centers[c * p + j]; s += v * v; w[j * k.k + c] = -2 * v }
            norms[c] = s
        }
        let d = graph.op("Add", [graph.op("MatMul", [x, graph.doubles(w, [p, k.k])]), graph.doubles(norms, [k.k])])
        graph.op("ArgMin", [d], [("axis", .int(1)), ("keepdims", .int(0))], named: "prediction")
        graph.output("prediction", .int64, [nil])
    }

    /// Gaussian naive Bayes: the joint log-likelihood `logPrior - ½ Σ log(2π var)
    /// - ½ Σ (x - θ)² / var` per class (Unsqueeze, Sub, Mul, ReduceSum), then Softmax.
    mutating func naiveBayes(_ nb: NaiveBayesState, _ x: String) throws(ModelError) -> String {
        let k = nb.logPrior.count, p = nb.features
        guard nb.theta.count == k * p, nb.variance.count == k * p else { throw FittedState.inconsistent("naive Bayes shapes") }
        var constTerm = [Double](repeating: 0, count: k), invVar = nb.variance
        for c in 0..<k {
            var s = 0.0
            for j in 0..<p { s += log(2 * Double.pi * nb.variance[c * p + j]); invVar[c * p + j] = 1 / nb.variance[c * p + j] }
            constTerm[c] = nb.logPrior[c] - 0.5 * s
        }
        let rows = graph.op("Unsqueeze", [x, graph.int64s([1])])                       // [N, 1, p]
        let d = graph.op("Sub", [rows, graph.doubles(nb.theta, [1, k, p])])           // [N, k, p]
        let q = graph.op("Mul", [graph.op("Mul", [d, d]), graph.doubles(invVar, [1, k, p])])
        let s = graph.op("ReduceSum", [q, graph.int64s([2])], [("keepdims", .int(0))])  // [N, k]
        let jll = graph.op("Sub", [graph.doubles(constTerm, [k]), graph.op("Mul", [scalar(0.5), s])])
        return graph.op("Softmax", [jll], [("axis", .int(1))])
    }

    /// k nearest neighbours as mlsh finds them: the k smallest `|t|² - 2 x·t` over the
    /// training rows (MatMul, Add, TopK, which breaks ties by the lower row as mlsh does);
    /// regression: the neighbours' mean (Gather, ReduceSum, Div); classification: each
    /// neighbour's 1/k vote for its class (Gather of one-hot rows, ReduceSum).
    mutating func knn(_ s: KNNState, _ x: String) throws(ModelError) -> String {
        let p = state.inputs.count, n = s.rows, k = min(s.k, n)
        guard s.features == p, s.x.count == n * p, s.y.count == n, k > 0 else { throw FittedState.inconsistent("knn shapes") }
        var w = [Double](repeating: 0, count: p * n), norms = [Double](repeating: 0, count: n)
        for t in 0..<n {
            var sum = 0.0
            for j in 0..<p { let v = s.x[t * p + j]; sum += v * v; w[j * n + t] = -2 * v }
            norms[t] = sum
        }
        let d = graph.op("Add", [graph.op("MatMul", [x, graph.doubles(w, [p, n])]), graph.doubles(norms, [n])])
        let nearest = graph.node("TopK", [d, graph.int64s([Int64(k)])],
                                 [("axis", .int(1)), ("largest", .int(0)), ("sorted", .int(1))], outputs: 2)[1]
        if s.classes == 0 {
            let y = graph.op("Gather", [graph.doubles(s.y, [n]), nearest], [("axis", .int(0))])
            let sum = graph.op("ReduceSum", [y, graph.int64s([1])], [("keepdims", .int(1))])
            return graph.op("Div", [sum, scalar(Double(k))])
        }
        var votes = [Double](repeating: 0, count: n * s.classes)
        for t in 0..<n {
            let c = Int(s.y[t])
            guard c >= 0 && c < s.classes else { throw FittedState.inconsistent("knn class ids") }
            votes[t * s.classes + c] = 1 / Double(k)
        }
        let picked = graph.op("Gather", [graph.doubles(votes, [n, s.classes]), nearest], [("axis", .int(0))])
        return graph.op("ReduceSum", [picked, graph.int64s([1])], [("keepdims", .int(0))])
    }

    /// scikit-learn's score, `-2^(-Σ path length / (trees · c(ψ)))`, summed in double: the
    /// leaves `leafNodes` finds pick their path lengths (Gather, ReduceSum); then Div, Neg,
    /// Pow and `prediction = score < offset` (Less) beside `score`.
    mutating func isolationForest(_ f: IsolationForestState, _ x: String) throws(ModelError) {
        let denominator = Double(f.trees.count) * averagePathLength(f.maxSamples)
        guard denominator > 0 else { throw notExportable("an isolation_forest() of one sampled row") }
        var lengths: [Double] = [], starts: [Int64] = [], shapes: [TreeShape] = []
        for tree in f.trees {
            guard tree.pathLength.count == tree.feature.count
            else { throw FittedState.inconsistent("isolation tree node arrays differ in size") }
            starts.append(Int64(lengths.count))
            lengths += tree.pathLength
            shapes.append(TreeShape(feature: tree.feature, threshold: tree.threshold, left: tree.left, right: tree.right))
        }
        let nodes = try leafNodes(shapes, x, starts: starts)
        let picked = graph.op("Gather", [graph.doubles(lengths), nodes], [("axis", .int(0))])
        let total = graph.op("ReduceSum", [picked, graph.int64s([1])], [("keepdims", .int(0))])
        let exponent = graph.op("Div", [graph.op("Neg", [total]), scalar(denominator)])
        let score = graph.op("Neg", [graph.op("Pow", [scalar(2), exponent])], named: "score")
        graph.op("Less", [score, scalar(f.offset)], named: "prediction")
        graph.output("prediction", .bool, [nil])
        graph.output("score", .double, [nil])
    }

    /// One tree's splits: `x[feature] <= threshold` goes to `left`; a negative feature is a leaf.
    struct TreeShape {
        var feature: [Int32], threshold: [Double], left: [Int32], right: [Int32]
    }

    /// Each row's leaf in every tree, `[N, trees]` int64, numbered across the trees (tree
    /// `t`'s node `i` is `starts[t] + i`): an `ai.onnx.ml` TreeEnsembleRegressor with one
    /// target per tree whose leaves output their own node number (`BRANCH_LEQ` nodes with
    /// double thresholds; the numbers are small integers, exact in its float output), Cast
    /// and Add. The values are then gathered in double, so nothing passes through float.
    mutating func leafNodes(_ trees: [TreeShape], _ x: String, starts: [Int64]) throws(ModelError) -> String {
        var treeIds: [Int64] = [], nodeIds: [Int64] = [], featureIds: [Int64] = [], modes: [String] = []
        var thresholds: [Double] = [], trueIds: [Int64] = [], falseIds: [Int64] = []
        var targetTree: [Int64] = [], targetNode: [Int64] = [], targetIds: [Int64] = [], weights: [Double] = []
        for (t, tree) in trees.enumerated() {
            let n = tree.feature.count
            guard tree.threshold.count == n, tree.left.count == n, tree.right.count == n
            else { throw FittedState.inconsistent("tree node arrays differ in size") }
            guard n <= 1 << 24 else { throw notExportable("a tree of more than 2^24 nodes") }
            for i in 0..<n {
                treeIds.append(Int64(t)); nodeIds.append(Int64(i))
                if tree.feature[i] >= 0 {
                    featureIds.append(Int64(tree.feature[i])); modes.append("BRANCH_LEQ"); thresholds.append(tree.threshold[i])
                    trueIds.append(Int64(tree.left[i])); falseIds.append(Int64(tree.right[i]))
                } else {
                    featureIds.append(0); modes.append("LEAF"); thresholds.append(0); trueIds.append(0); falseIds.append(0)
                    targetTree.append(Int64(t)); targetNode.append(Int64(i)); targetIds.append(Int64(t)); weights.append(Double(i))
                }
            }
        }
        func doubles(_ v: [Double]) -> ONNXAttribute { .tensor(ONNXTensor(dims: [v.count], values: .doubles(v))) }
        let attributes: [(String, ONNXAttribute)] = [
            ("aggregate_function", .string("SUM")), ("n_targets", .int(Int64(trees.count))),
            ("nodes_treeids", .ints(treeIds)), ("nodes_nodeids", .ints(nodeIds)),
            ("nodes_featureids", .ints(featureIds)), ("nodes_modes", .strings(modes)),
            ("nodes_values_as_tensor", doubles(thresholds)),
            ("nodes_truenodeids", .ints(trueIds)), ("nodes_falsenodeids", .ints(falseIds)),
            ("post_transform", .string("NONE")),
            ("target_treeids", .ints(targetTree)), ("target_nodeids", .ints(targetNode)), ("target_ids", .ints(targetIds)),
            ("target_weights_as_tensor", doubles(weights)),
        ]
        let leaves = graph.op("TreeEnsembleRegressor", [x], attributes, domain: "ai.onnx.ml")
        return graph.op("Add", [graph.op("Cast", [leaves], [("to", .int(ONNXType.int64.rawValue))]), graph.int64s(starts)])
    }
}
