import Dispatch
import Foundation
import MLShCommon
import MLShEngine

/// Set MLSH_MODELS_TRACE=1 to print the time each fit phase takes (for benchmarking).
let traceFit = ProcessInfo.processInfo.environment["MLSH_MODELS_TRACE"] != nil
nonisolated(unsafe) var traceClock: UInt64 = 0
func trace(_ what: String) {
    guard traceFit else { return }
    let now = DispatchTime.now().uptimeNanoseconds
    if traceClock != 0 { print("  \(what): \(Double(now - traceClock) / 1e6) ms") }
    traceClock = now
}

/// The target of a supervised fit, encoded for the estimators.
struct EncodedTarget {
    var task: ModelTask
    var values: [Double] = []
    var classIds: [Int32] = []
    var classes: [String] = []
}

/// Fits a pipeline on a table. `features` nil means every column except the target; `target`
/// may be nil only for models fitted without one (kmeans, isolation_forest). For two classes
/// `positive` names the positive class. `task` nil decides from the target's type and the
/// model (see `encodeTarget`).
public func fit(_ spec: PipelineSpec, on table: Table, target: String?, features: [String]?,
                positive: String? = nil, task: ModelTask? = nil) throws(ModelError) -> FittedModel {
    // The target is never a feature: a transform naming it (`onehot($species)` in a
    // pipeline fitted with target=$species, as §6's example does) leaves it alone.
    var spec = spec
    if let target { spec.steps = spec.steps.map { $0.excluding(target) } }
    guard let model = spec.model else { throw .noModel }
    try model.validate()
    for step in spec.steps { try step.validate() }
    guard table.rowCount > 0 else { throw .emptyTable }
    _ = blasSingleThreaded
    if traceFit { traceClock = 0; trace("start") }
    let unsupervised = model.unsupervisedTask
    if unsupervised == nil && target == nil {
        throw .invalid("\(model.kind)() needs a target column: fit(model, table, target=$column)")
    }
    var featureNames: [String]
    // `features` steps: the raw columns they read join the input schema; those not listed in
    // `features` (when it is given) feed the expressions only, not the estimator.
    let reads = spec.featureReads, computed = spec.featureNames
    if let target, reads.contains(target) {
        throw .invalid("features() reads the target column \(target); features are computed from the inputs only "
                       + "(a served model never sees the target)")
    }
    if let target, computed.contains(target) {
        throw .invalid("features() computes a column named \(target), the target; give the feature another name")
    }
    var readOnly: [String] = []
    if let features {
        if let target, features.contains(target) {
            throw .invalid("the target \(target) is also listed among the features")
        }
        // A listed column that a features step computes is not an input.
        featureNames = features.filter { table.index(of: $0) != nil || !computed.contains($0) }
        for c in reads where !featureNames.contains(c) && table.index(of: c) != nil {
            featureNames.append(c)
            if !computed.contains(c) { readOnly.append(c) }
        }
    } else {
        featureNames = table.names.filter { $0 != target }
    }
    guard !featureNames.isEmpty else { throw .invalid("there are no feature columns to fit on") }
    var featureCols: [Column] = []
    for f in featureNames { featureCols.append(try engineCall { () throws(EngineError) -> Column in try table.column(f) }) }

    // Target.
    var enc = EncodedTarget(task: unsupervised ?? .clustering)
    var targetType: DType?
    if unsupervised == nil, let target {
        let col = try engineCall { () throws(EngineError) -> Column in try table.column(target) }
        enc = try encodeTarget(col, name: target, model: model, positive: positive, task: task)
        targetType = col.dtype
    } else if let task {
        throw unsupervisedTaskError(model, task)
    }

    trace("target")
    // Transforms.
    var frame = Frame(names: featureNames, columns: featureCols, rowCount: table.rowCount)
    let tv: TargetValues = enc.task == .regression ? .numbers(enc.values)
        : enc.task == .classification ? .classes(enc.classIds, count: enc.classes.count) : .none
    var fitted: [FittedTransform] = []
    for step in spec.steps {
        let ft = try step.fitTransform(frame, target: tv)
        frame = try ft.apply(frame)
        fitted.append(ft)
    }
    trace("transforms")
    let inputs = frame.names.filter { !readOnly.contains($0) }
    let x = try designMatrix(frame, inputs: inputs)
    trace("design matrix")

    // Estimator.
    let n = x.rows
    let fittedEstimator = try model.parameters.fit(x, enc)
    let estimator = fittedEstimator.state

    trace("estimator")
    var state = FittedState(formatVersion: 1, spec: spec, task: enc.task, target: unsupervised == nil ? target : nil,
                            featureNames: featureNames, featureTypes: featureCols.map { $0.dtype.rawValue },
                            classes: enc.classes, transforms: fitted, inputs: inputs, estimator: estimator,
                            trainingMetricNames: [], trainingMetricValues: [])
    if enc.task == .classification { state.targetType = targetType?.rawValue }
    state.trainingRows = n
    // Training metrics, from the design matrix already built; above 20,000 rows on an evenly
    // spaced sample of 20,000 (the figures are for orientation, the fit stays fast).
    let m = FittedModel(state: state)
    var rows = Array(0..<n)
    if n > 20_000 { rows = (0..<20_000).map { $0 * n / 20_000 } }
    let out: Dense
    if let raw = fittedEstimator.trainingScores, let e = estimator.learned as? EnsembleState {
        let k = e.outputs
        let picked = rows.count == n ? raw : rows.flatMap { raw[($0 * k)..<(($0 + 1) * k)] }
        out = e.boostedOutput(raw: picked, rows: rows.count, classes: enc.task == .classification ? enc.classes.count : 0)
    } else {
        out = m.estimate(rows.count == n ? x : x.rows(rows))
    }
    let metrics: Metrics
    switch enc.task {
    case .regression: metrics = regressionMetrics(actual: rows.map { enc.values[$0] }, predicted: out.column(0))
    case .classification:
        metrics = classificationMetrics(actual: rows.map { Int(enc.classIds[$0]) }, proba: out, classes: enc.classes)
    case .clustering:
        if let km = estimator.learned as? KMeansState { metrics = Metrics(task: .clustering, values: [("inertia", km.inertia)], confusion: nil) }
        else { metrics = Metrics(task: .clustering, values: [], confusion: nil) }
    case .outlierDetection:
        metrics = outlierMetrics(out, labels: nil)
    }
    trace("training metrics")
    let kept = table.rowCount <= FittedState.referenceRows ? Array(0..<table.rowCount)
        : (0..<FittedState.referenceRows).map { $0 * table.rowCount / FittedState.referenceRows }
    if let sample = try? makeTable(featureNames, featureCols).take(kept) {
        state.reference = String(decoding: CSV.encode(sample), as: UTF8.self)
    }
    state.trainingMetricNames = metrics.values.map(\.0)
    state.trainingMetricValues = metrics.values.map(\.1)
    return FittedModel(state: state)
}

/// The error for `task=` given to a model fitted without a target.
func unsupervisedTaskError(_ model: ModelSpec, _ task: ModelTask) -> ModelError {
    let does = model.unsupervisedTask == .outlierDetection ? "flags outliers" : "clusters rows"
    return .invalid("\(model.kind)() \(does); task=\"\(task.rawValue)\" applies to models fitted with a target")
}

/// Decides the task and encodes the target. Without `task`: string and bool targets are
/// classes, numbers are classes only for models that only classify (logistic, naive_bayes).
/// With `task`, the model must support it and a regression target must be numeric.
func encodeTarget(_ col: Column, name: String, model: ModelSpec, positive: String?,
                  task: ModelTask? = nil) throws(ModelError) -> EncodedTarget {
    let missing = col.modelMissingCount
    if missing > 0 {
        throw .invalid("target column \(name) has \(missing) missing value\(missing == 1 ? "" : "s"); drop those rows before fitting")
    }
    try model.check(task: task)
    let classify: Bool
    switch (task, col.dtype) {
    case (.classification, _): classify = true
    case (.regression, .string):
        throw .invalid("task=\"regression\" needs a numeric target; \(name) is string")
    case (.regression, _): classify = false
    case (_, .string), (_, .bool):
        if model.onlyRegresses {
            throw .invalid("\(model.kind)() predicts numbers, but target \(name) is \(col.dtype.rawValue); use a classifier such as logistic()")
        }
        classify = true
    case (_, .int), (_, .float):
        classify = model.onlyClassifies
    }
    guard classify else { return EncodedTarget(task: .regression, values: col.modelDoubles) }
    var classes = sortedLabels(col)
    guard classes.count >= 2 else { throw .oneClass(target: name, label: classes.first ?? "") }
    if let positive {
        guard let i = classes.firstIndex(of: positive) else {
            throw .invalid("positive class \"\(positive)\" is not a class of \(name); classes: " + classes.joined(separator: ", "))
        }
        guard classes.count == 2 else {
            throw .invalid("positive= applies to two classes; \(name) has \(classes.count)")
        }
        classes = [classes[1 - i], classes[i]]
    }
    return EncodedTarget(task: .classification, classIds: classIndices(col, classes: classes).map { max($0, 0) }, classes: classes)
}

/// The numeric matrix the estimator reads, columns `inputs` of the frame; strings and missing values are errors.
func designMatrix(_ frame: Frame, inputs: [String]) throws(ModelError) -> Dense {
    let n = frame.rowCount, p = inputs.count
    var cols: [[Double]] = []
    cols.reserveCapacity(p)
    // The frame's columns are often the inputs themselves, in order (unique names).
    let inOrder = frame.names == inputs
    for (k, name) in inputs.enumerated() {
        guard let i = inOrder ? k : frame.index(name) else { throw .missingColumn(name, suggestion: closestName(to: name, in: frame.names)) }
        let c = frame.columns[i]
        guard c.dtype != .string else { throw .stringFeature(column: name) }
        let v = c.modelDoubles
        // One pass: NaN is a missing value, ±inf an error.
        var bad = 0
        v.withUnsafeBufferPointer { vp in
            for x in vp where !x.isFinite { bad += 1 }
        }
        if bad > 0 {
            let missing = v.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
            if missing > 0 { throw .missingValues(column: name, count: missing) }
            if let at = v.firstIndex(where: { !$0.isFinite }) {
                throw .invalid("column \(name) has a non-finite value (\(v[at])) at row \(at + 1)")
            }
        }
        cols.append(v)
    }
    let data = [Double](unsafeUninitializedCapacity: n * p) { buf, count in
        guard let xp = buf.baseAddress else { count = 0; return }
        let block = 512
        var r0 = 0
        while r0 < n {
            let r1 = min(n, r0 + block)
            for j in 0..<p {
                cols[j].withUnsafeBufferPointer { cp in
                    for i in r0..<r1 { (xp + i * p + j).initialize(to: cp[i]) }
                }
            }
            r0 = r1
        }
        count = n * p
    }
    return Dense(rows: n, cols: p, data: data)
}

/// The index in `classes` of each value's label, -1 when missing or not a class. Avoids
/// formatting a label per row: strings map through their dictionary, numbers through their values.
func classIndices(_ col: Column, classes: [String]) -> [Int32] {
    var lookup: [String: Int32] = [:]
    for (i, c) in classes.enumerated() { lookup[c] = Int32(i) }
    switch col.storage {
    case .string(let codes, let dict):
        let map = dict.map { lookup[$0] ?? -1 }
        return codes.map { $0 >= 0 && Int($0) < map.count ? map[Int($0)] : -1 }
    case .int(let v, let m):
        var byValue: [Int64: Int32] = [:]
        for (i, c) in classes.enumerated() { if let x = Int64(c) { byValue[x] = Int32(i) } }
        if byValue.count <= 16, let lo = byValue.keys.min(), let hi = byValue.keys.max(), hi - lo < 1 << 16 {
            var dense = [Int32](repeating: -1, count: Int(hi - lo) + 1)
            for (k, i) in byValue { dense[Int(k - lo)] = i }
            return v.indices.map { r in
                if let m, !m[r] { return -1 }
                let x = v[r]
                return x >= lo && x <= hi ? dense[Int(x - lo)] : -1
            }
        }
        return v.indices.map { r in (m.map { $0[r] } ?? true) ? (byValue[v[r]] ?? -1) : -1 }
    default:
        return col.modelLabels.map { l in l.flatMap { lookup[$0] } ?? -1 }
    }
}
