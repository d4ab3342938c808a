import MLShEngine

extension FittedState {
    /// Checks that every array has the size the rest of the state implies, so a state read from
    /// a file (possibly damaged or hand-edited) cannot index out of bounds when predicting.
    public func validate() throws(ModelError) {
        func bad(_ what: String) -> ModelError { .invalid("the model file is inconsistent: \(what)") }
        guard formatVersion == 1 else { throw .invalid("the model file has format version \(formatVersion); this mlsh reads version 1") }
        guard featureNames.count == featureTypes.count, !featureNames.isEmpty else { throw bad("feature names and types differ in number") }
        for t in featureTypes where DType(rawValue: t) == nil { throw bad("unknown feature type '\(t)'") }
        if let t = targetType, DType(rawValue: t) == nil { throw bad("unknown target type '\(t)'") }
        for t in transforms {
            switch t {
            case .standardize(let c, let a, let b), .minmax(let c, let a, let b):
                guard a.count == c.count, b.count == c.count else { throw bad("\(c.count) transform columns with \(a.count) parameters") }
                for x in b where x == 0 || !x.isFinite { throw bad("a zero or non-finite scale") }
            case .impute(let c, let nums, let labels):
                guard nums.count == c.count, labels.count == c.count else { throw bad("impute parameters") }
            case .onehot(let c, let cats, _):
                guard cats.count == c.count else { throw bad("onehot categories") }
            case .bin(let c, let e):
                guard e.count == c.count else { throw bad("bin edges") }
            case .poly(let c, let terms):
                for term in terms { for j in term where j < 0 || j >= c.count { throw bad("poly term index \(j)") } }
            case .select: break
            case .features(let names, let exprs):
                guard names.count == exprs.count, !names.isEmpty, !names.contains(""),
                      !exprs.contains(where: \.containsReduction) else { throw bad("feature expressions") }
            }
        }
        let p = inputs.count, k = classes.count
        switch task {
        case .classification: guard k >= 2 else { throw bad("a classifier with \(k) classes") }
        case .regression, .clustering: guard k == 0 else { throw bad("classes on a \(task.rawValue) model") }
        }
        switch estimator {
        case .linear(let l):
            let outs = task == .classification ? (k == 2 ? 1 : k) : 1
            guard l.outputs == outs, l.coef.count == outs * p, l.intercept.count == outs else { throw bad("linear coefficient shapes") }
        case .naiveBayes(let nb):
            guard task == .classification, nb.features == p, nb.theta.count == k * p, nb.variance.count == k * p,
                  nb.logPrior.count == k else { throw bad("naive Bayes parameter shapes") }
        case .knn(let s):
            guard s.features == p, s.rows > 0, s.k >= 1, s.k <= s.rows, s.x.count == s.rows * p, s.y.count == s.rows,
                  s.classes == (task == .classification ? k : 0) else { throw bad("knn training set shapes") }
            if s.classes > 0 {
                for v in s.y where !(v >= 0 && v < Double(s.classes) && v == v.rounded()) { throw bad("knn class id \(v)") }
            }
        case .kmeans(let km):
            guard task == .clustering, km.features == p, km.k >= 1, km.centers.count == km.k * p else { throw bad("kmeans centre shapes") }
            guard km.inertia >= 0, (km.nIter ?? 1) >= 1 else { throw bad("kmeans inertia or iteration count") }
        case .trees(let e):
            let boosted: Bool
            if case .boost = spec.model { boosted = true } else { boosted = false }
            let outs = task == .classification ? (boosted ? (k == 2 ? 1 : k) : k) : 1
            guard e.outputs == outs, !e.trees.isEmpty, e.importance.count == p else { throw bad("ensemble shapes") }
            if boosted { guard e.initial.count == outs, e.trees.count % outs == 0 else { throw bad("boosting shapes") } }
            for t in e.trees {
                let n = t.feature.count
                let treeOuts = boosted ? 1 : outs
                guard n > 0, t.outputs == treeOuts, t.threshold.count == n, t.left.count == n, t.right.count == n,
                      t.value.count == n * treeOuts else { throw bad("tree node arrays differ in size") }
                for i in 0..<n where t.feature[i] >= 0 {
                    // Children come after their parent, so a walk always ends.
                    guard Int(t.feature[i]) < p, Int(t.left[i]) > i, Int(t.left[i]) < n, Int(t.right[i]) > i, Int(t.right[i]) < n
                    else { throw bad("tree node \(i) points outside the tree") }
                }
            }
        }
    }
}

extension FittedModel {
    /// Rebuilds a model from a state read from outside (a file), after `FittedState.validate()`.
    public convenience init(checked state: FittedState) throws(ModelError) {
        try state.validate()
        self.init(state: state)
        // Feature expressions are checked by compiling them: every function and column they
        // name must exist, with fitting types, before the model answers a request.
        if computesFeatures {
            let empty = try makeTable(state.featureNames, state.featureTypes.map { t -> Column in
                switch DType(rawValue: t) {
                case .int?: return Column(ints: [])
                case .bool?: return Column(bools: [])
                case .string?: return Column(strings: [])
                default: return Column(floats: [])
                }
            })
            do { _ = try design(empty) } catch {
                throw .invalid("the model file is inconsistent: its feature expressions do not apply to its inputs (\(error.message))")
            }
        }
    }
}
