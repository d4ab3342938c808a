import MLShEngine

extension FittedState {
    /// Checks that every array has the size the rest of the state implies, so a state read from
    /// a file (possibly damaged or hand-edited) cannot index out of bounds when predicting.
    public func validate() throws(ModelError) {
        let bad = FittedState.inconsistent
        guard formatVersion == 1 else { throw .invalid("the model file has format version \(formatVersion); this mlsh reads version 1") }
        guard featureNames.count == featureTypes.count, !featureNames.isEmpty else { throw bad("feature names and types differ in number") }
        for t in featureTypes where DType(rawValue: t) == nil { throw bad("unknown feature type '\(t)'") }
        if let t = targetType, DType(rawValue: t) == nil { throw bad("unknown target type '\(t)'") }
        for t in transforms { try t.step.validate() }
        let k = classes.count
        switch task {
        case .classification: guard k >= 2 else { throw bad("a classifier with \(k) classes") }
        case .regression, .clustering, .outlierDetection: guard k == 0 else { throw bad("classes on a \(task.rawValue) model") }
        }
        try estimator.learned.validate(in: self)
    }

    /// The error for a state whose parts do not fit together.
    static func inconsistent(_ what: String) -> ModelError { .invalid("the model file is inconsistent: \(what)") }

    /// Whether the estimator is gradient boosting (its trees add up raw scores).
    var isBoosted: Bool { spec.model?.parameters is BoostSpec }
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
