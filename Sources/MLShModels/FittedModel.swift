import MLShCommon
import MLShEngine

/// A fitted pipeline: the transforms' learned state and the estimator's parameters.
/// Immutable; `predict` never changes it.
public final class FittedModel: Sendable {
    /// The model's complete learned state (what a store writes).
    public let state: FittedState

    /// The `features` steps' expressions compiled once, by transform index, for the input
    /// schema's types (a program recompiles itself for a table whose types differ).
    let featurePrograms: [Int: [KernelProgram]]

    /// Rebuilds a model from its state.
    public init(state: FittedState) {
        self.state = state
        featurePrograms = FittedModel.compileFeatures(state)
    }

    /// Compiles the feature expressions against an empty table of the input schema, replaying
    /// the steps before each; empty when there are none or they do not apply (each call then
    /// compiles for itself, and reports the error).
    static func compileFeatures(_ state: FittedState) -> [Int: [KernelProgram]] {
        guard state.transforms.contains(where: { $0.step is FittedFeatures }) else { return [:] }
        var frame = Frame(names: state.featureNames, columns: state.featureTypes.map { t -> Column in
            switch DType(rawValue: t) {
            case .int?: return Column(ints: [])
            case .bool?: return Column(bools: [])
            case .string?: return Column(strings: [])
            default: return Column(floats: [])
            }
        }, rowCount: 0)
        var out: [Int: [KernelProgram]] = [:]
        for (i, ft) in state.transforms.enumerated() {
            if let features = ft.step as? FittedFeatures {
                guard var table = try? frame.table() else { return [:] }
                var programs: [KernelProgram] = []
                for (name, e) in zip(features.names, features.exprs) {
                    guard let p = try? KernelProgram.compile(e, for: table), let c = try? p.run(on: table),
                          let next = try? table.setting(name, c) else { return [:] }
                    programs.append(p)
                    table = next
                }
                out[i] = programs
            }
            guard let next = try? ft.apply(frame, programs: out[i]) else { return [:] }
            frame = next
        }
        return out
    }

    /// The state, for serialisation.
    public func encodeParameters() -> FittedState { state }

    /// The pipeline this model was fitted from.
    public var spec: PipelineSpec { state.spec }
    /// The model's name (`ridge`, `forest`, ...).
    public var kind: String { state.spec.model?.kind ?? "pipeline" }
    /// What the model predicts.
    public var task: ModelTask { state.task }
    /// The target column, nil for clustering.
    public var target: String? { state.target }
    /// The input schema: each training feature column and its type.
    public var features: [(name: String, dtype: DType)] {
        zip(state.featureNames, state.featureTypes).map { ($0, DType(rawValue: $1) ?? .float) }
    }
    /// Class labels in model order.
    public var classes: [String] { state.classes }
    /// Metrics on the training data (on an evenly spaced sample of 20,000 rows when larger).
    public var trainingMetrics: [(String, Double)] { Array(zip(state.trainingMetricNames, state.trainingMetricValues)) }
    /// The columns the estimator reads after the transforms.
    public var inputColumns: [String] { state.inputs }

    /// Linear models: one row of weights per output (one for regression and binary logistic,
    /// one per class for multinomial), over `inputColumns`.
    public var coefficients: [[Double]]? {
        guard let l = state.estimator.learned as? LinearState else { return nil }
        let p = state.inputs.count
        return (0..<l.outputs).map { Array(l.coef[($0 * p)..<(($0 + 1) * p)]) }
    }
    /// Linear models: the intercept per output.
    public var intercept: [Double]? {
        guard let l = state.estimator.learned as? LinearState else { return nil }
        return l.intercept
    }
    /// kmeans: the centres, one row per cluster over `inputColumns`.
    public var centers: [[Double]]? {
        guard let k = state.estimator.learned as? KMeansState else { return nil }
        let p = k.features
        return (0..<k.k).map { Array(k.centers[($0 * p)..<(($0 + 1) * p)]) }
    }

    /// kmeans: the training inertia and Lloyd iterations (nil when an older file lacks them).
    public var kmeansFit: (inertia: Double, iterations: Int?)? {
        guard let k = state.estimator.learned as? KMeansState else { return nil }
        return (k.inertia, k.nIter)
    }

    /// Rough arithmetic operations to score one row (the estimator's work plus building
    /// the row from its features): a server uses it to keep expensive requests off its
    /// event loop. k-nearest neighbours pays for every training row.
    public var scoringCostPerRow: Int { state.featureNames.count * 4 + state.estimator.learned.scoringCost }

    /// Raw estimator output on a design matrix: class probabilities (n × classes),
    /// values (n × 1) or cluster ids (n × 1).
    func estimate(_ x: Dense) -> Dense { state.estimator.learned.estimate(x, model: state) }

    /// Whether the pipeline has a `features` step.
    var computesFeatures: Bool {
        state.transforms.contains { $0.step is FittedFeatures }
    }

    /// Checks a table against the input schema and builds the estimator's matrix.
    func design(_ t: Table) throws(ModelError) -> Dense {
        var cols: [Column] = []
        cols.reserveCapacity(state.featureNames.count)
        for (k, (name, type)) in zip(state.featureNames, state.featureTypes).enumerated() {
            // A table's names are unique: the column at the feature's own place, when it has
            // the name, is the one a search would find (served inputs come in schema order).
            guard let i = k < t.names.count && t.names[k] == name ? k : t.index(of: name) else {
                throw .missingColumn(name, suggestion: closestName(to: name, in: t.names.filter { !state.featureNames.contains($0) }))
            }
            let c = t.columns[i]
            let numeric = c.dtype == .float || c.dtype == .int
            if c.dtype.rawValue != type && !(numeric && (type == "float" || type == "int")) {
                throw .wrongColumnType(column: name, expected: type, actual: c.dtype.rawValue)
            }
            // Feature expressions see the type they were fitted on (int arithmetic can differ).
            if computesFeatures, type == "float", c.dtype == .int { cols.append(Column(floats: c.modelDoubles)); continue }
            cols.append(c)
        }
        var frame = Frame(names: state.featureNames, columns: cols, rowCount: t.rowCount)
        for (i, ft) in state.transforms.enumerated() { frame = try ft.apply(frame, programs: featurePrograms[i]) }
        return try designMatrix(frame, inputs: state.inputs)
    }

    /// The table plus a `prediction` column (float for regression, the class label for
    /// classification, the cluster id for kmeans, true for an outlier) and, for classifiers,
    /// `proba_<class>` columns; for outlier detection a `score` column (lower is more abnormal).
    /// Columns the model does not use pass through unchanged.
    public func predict(_ t: Table) throws(ModelError) -> Table {
        let predicted = try predictions(t)
        let replaced = Set(predicted.map(\.name))
        var allNames: [String] = [], allCols: [Column] = []
        for (n, c) in zip(t.names, t.columns) where !replaced.contains(n) { allNames.append(n); allCols.append(c) }
        var result = try makeTable(allNames + predicted.map(\.name), allCols + predicted.map(\.column))
        result.label = t.label
        return result
    }

    /// Only the columns `predict` adds: `prediction`, then each `proba_<class>` for
    /// classifiers or `score` for outlier detection (what a server answers with, without
    /// rebuilding the input table).
    public func predictions(_ t: Table) throws(ModelError) -> [(name: String, column: Column)] {
        let out = estimate(try design(t))
        switch state.task {
        case .regression:
            return [("prediction", Column(floats: out.column(0)))]
        case .clustering:
            return [("prediction", Column(ints: out.column(0).map { Int64($0) }))]
        case .outlierDetection:
            return [("prediction", Column(bools: out.column(0).map { $0 != 0 })), ("score", Column(floats: out.column(1)))]
        case .classification:
            let k = state.classes.count
            var codes = [Int32](repeating: 0, count: out.rows)
            for i in 0..<out.rows {
                var best = 0
                for c in 1..<k where out.data[i * k + c] > out.data[i * k + best] { best = c }
                codes[i] = Int32(best)
            }
            return [("prediction", classColumn(codes))]
                + (0..<k).map { ("proba_\(state.classes[$0])", Column(floats: out.column($0))) }
        }
    }

    /// Predicted classes as a column of the target's type (bool, int or float targets give
    /// bool, int or float predictions), else as the class labels.
    private func classColumn(_ codes: [Int32]) -> Column {
        let labels = Column(.string(codes: codes, dictionary: state.classes))
        switch state.targetType.flatMap(DType.init(rawValue:)) {
        case .bool?:
            let values = state.classes.map { $0 == "true" }
            return Column(bools: codes.map { values[Int($0)] })
        case .int?:
            let values = state.classes.compactMap { Int64($0) }
            guard values.count == state.classes.count else { return labels }
            return Column(ints: codes.map { values[Int($0)] })
        case .float?:
            let values = state.classes.compactMap { Double($0) }
            guard values.count == state.classes.count else { return labels }
            return Column(floats: codes.map { values[Int($0)] })
        default: return labels
        }
    }

    /// Metrics of the model on a table holding the target column (for kmeans: `labels`
    /// names an optional column of true groups for the adjusted Rand index; for outlier
    /// detection, an optional column of true outlier flags for the ROC AUC).
    public func evaluate(_ t: Table, labels: String? = nil) throws(ModelError) -> Metrics {
        let x = try design(t)
        let out = estimate(x)
        switch state.task {
        case .clustering:
            guard let km = state.estimator.learned as? KMeansState else { throw .invalid("not a clustering model") }
            let (ids, dist) = assignClusters(x, centers: km.centers, k: km.k)
            var values: [(String, Double)] = [("inertia", dist.reduce(0, +)),
                                              ("silhouette", silhouette(x, labels: ids, k: km.k))]
            if let labels {
                let col = try engineCall { () throws(EngineError) -> Column in try t.column(labels) }
                values.append(("ari", adjustedRandIndex(col.modelLabels.map { $0 ?? "" }, ids.map { String($0) })))
            }
            return Metrics(task: .clustering, values: values, confusion: nil)
        case .outlierDetection:
            guard let labels else { return outlierMetrics(out, labels: nil) }
            let col = try engineCall { () throws(EngineError) -> Column in try t.column(labels) }
            guard col.dtype != .string, col.modelMissingCount == 0 else {
                throw .invalid("evaluate(labels=$\(labels)) needs a bool or number column without missing values (true or nonzero: an outlier)")
            }
            return outlierMetrics(out, labels: col.modelDoubles.map { $0 != 0 })
        case .regression:
            let y = try targetColumn(t)
            return regressionMetrics(actual: y.modelDoubles, predicted: out.column(0))
        case .classification:
            let y = try targetColumn(t)
            let actual = classIndices(y, classes: state.classes).map { Int($0) }
            return classificationMetrics(actual: actual, proba: out, classes: state.classes)
        }
    }

    private func targetColumn(_ t: Table) throws(ModelError) -> Column {
        guard let target = state.target else { throw .invalid("the model has no target column") }
        guard let i = t.index(of: target) else {
            throw .invalid("evaluate needs the target column \(target), which this table lacks")
        }
        return t.columns[i]
    }

    /// Per-feature importance over `inputColumns`, largest magnitude first (ties in input
    /// order): coefficients for linear models (for multinomial, `importance` is the mean
    /// absolute coefficient and `coef_<class>` holds each class's weight), normalised impurity
    /// decrease for tree models.
    public func importance() throws(ModelError) -> Table {
        let names = state.inputs
        func sorted(_ extra: [String], _ importance: [Double], _ more: [[Double]]) throws(ModelError) -> Table {
            let order = importance.indices.sorted { a, b in
                let x = abs(importance[a]), y = abs(importance[b])
                return x > y || (x == y && a < b) || (y.isNaN && !x.isNaN)
            }
            let cols = [Column(strings: order.map { names[$0] }), Column(floats: order.map { importance[$0] })]
                + more.map { v in Column(floats: order.map { v[$0] }) }
            return try makeTable(["feature", "importance"] + extra, cols)
        }
        if let l = state.estimator.learned as? LinearState {
            let p = names.count
            if l.outputs == 1 { return try sorted([], l.coef, []) }
            var mean = [Double](repeating: 0, count: p)
            for k in 0..<l.outputs { for j in 0..<p { mean[j] += abs(l.coef[k * p + j]) / Double(l.outputs) } }
            return try sorted(state.classes.map { "coef_\($0)" }, mean, (0..<l.outputs).map { Array(l.coef[($0 * p)..<(($0 + 1) * p)]) })
        }
        if let e = state.estimator.learned as? EnsembleState {
            return try sorted([], e.importance, [])
        }
        throw .invalid("importance() is not defined for \(kind)(); use explain(model, table) for permutation importance")
    }

    /// Permutation importance on a table holding the target: for each feature column, the mean
    /// and (population) std over `repeats` shuffles of the drop in r2 (regression) or accuracy.
    public func explain(_ t: Table, seed: UInt64 = 0, repeats: Int = 5) throws(ModelError) -> Table {
        guard state.task != .clustering && state.task != .outlierDetection else {
            throw .invalid("explain() needs a supervised model; \(kind)() has no target")
        }
        guard repeats >= 1 else { throw .invalid("explain(repeats=...) must be at least 1") }
        let scoreName = state.task == .regression ? "r2" : "accuracy"
        func score(_ table: Table) throws(ModelError) -> Double {
            try evaluate(table)[scoreName] ?? .nan
        }
        let base = try score(t)
        var means: [Double] = [], stds: [Double] = []
        for (j, name) in state.featureNames.enumerated() {
            guard let ci = t.index(of: name) else { throw .missingColumn(name, suggestion: nil) }
            var drops: [Double] = []
            for r in 0..<repeats {
                var rng = SeededRandom(seed: seed, modelStream: UInt64(j * 1_000_003 + r))
                var perm = Array(0..<t.rowCount)
                rng.shuffleByModulo(&perm)
                let shuffled = try t.modelReplacing(name, with: t.columns[ci].modelGather(perm))
                drops.append(base - (try score(shuffled)))
            }
            let (m, s) = meanStd(drops)
            means.append(m); stds.append(s)
        }
        return try makeTable(["feature", "mean", "std"],
                             [Column(strings: state.featureNames), Column(floats: means), Column(floats: stds)])
    }
}
