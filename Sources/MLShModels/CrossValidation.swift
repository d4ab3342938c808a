import MLShEngine

/// Fold of each row: stratified by class (each class shuffled and dealt round-robin) when
/// `classes` is given, else a seeded shuffle cut into `folds` near-equal parts.
func foldAssignment(rows: Int, folds: Int, classes: [Int32]?, seed: UInt64) -> [Int] {
    var rng = SeededRandom(seed: seed, modelStream: 0xF01D)
    var fold = [Int](repeating: 0, count: rows)
    if let classes {
        var byClass: [Int32: [Int]] = [:]
        for (i, c) in classes.enumerated() { byClass[c, default: []].append(i) }
        var offset = 0
        for c in byClass.keys.sorted() {
            guard var members = byClass[c] else { continue }
            rng.shuffleByModulo(&members)
            for (t, i) in members.enumerated() { fold[i] = (t + offset) % folds }
            offset += members.count
        }
    } else {
        var perm = Array(0..<rows)
        rng.shuffleByModulo(&perm)
        for (t, i) in perm.enumerated() { fold[i] = t * folds / max(rows, 1) }
    }
    return fold
}

/// Per-fold metrics of fitting on the other folds.
func foldMetrics(_ spec: PipelineSpec, on table: Table, target: String?, features: [String]?,
                 folds: Int, seed: UInt64, positive: String? = nil, task: ModelTask? = nil) throws(ModelError) -> [Metrics] {
    guard let model = spec.model else { throw .noModel }
    guard folds >= 2 else { throw .invalid("cv needs at least 2 folds, got \(folds)") }
    guard table.rowCount >= folds else { throw .invalid("cv with \(folds) folds needs at least \(folds) rows, the table has \(table.rowCount)") }
    var classIds: [Int32]?
    if model.unsupervisedTask == nil, let target {
        let col = try engineCall { () throws(EngineError) -> Column in try table.column(target) }
        let enc = try encodeTarget(col, name: target, model: model, positive: positive, task: task)
        if enc.task == .classification { classIds = enc.classIds }
    } else if let task {
        throw unsupervisedTaskError(model, task)
    }
    let fold = foldAssignment(rows: table.rowCount, folds: folds, classes: classIds, seed: seed)
    var out: [Metrics] = []
    for f in 0..<folds {
        let trainIdx = fold.indices.filter { fold[$0] != f }
        let testIdx = fold.indices.filter { fold[$0] == f }
        guard !testIdx.isEmpty, !trainIdx.isEmpty else { continue }
        let train = try table.modelGatherRows(trainIdx), test = try table.modelGatherRows(testIdx)
        let m = try fit(spec, on: train, target: target, features: features, positive: positive, task: task)
        out.append(try m.evaluate(test))
    }
    return out
}

/// k-fold cross-validation (stratified for classification): one row per metric with its
/// mean and population std over the folds.
public func crossValidate(_ spec: PipelineSpec, on table: Table, target: String?, features: [String]?,
                          folds: Int = 5, seed: UInt64 = 0, positive: String? = nil, task: ModelTask? = nil) throws(ModelError) -> Table {
    let all = try foldMetrics(spec, on: table, target: target, features: features, folds: folds, seed: seed,
                              positive: positive, task: task)
    guard let first = all.first else { throw .invalid("cv produced no folds") }
    var names: [String] = [], means: [Double] = [], stds: [Double] = []
    for (i, (name, _)) in first.values.enumerated() {
        let v = all.map { $0.values[i].1 }
        let (m, s) = meanStd(v)
        names.append(name); means.append(m); stds.append(s)
    }
    return try makeTable(["metric", "mean", "std"], [Column(strings: names), Column(floats: means), Column(floats: stds)])
}

/// Applies `key = value` settings to a pipeline: `alpha` sets the model's setting,
/// `impute.strategy` (a transform's name) or `0.strategy` (a step's index) a transform's.
func applySettings(_ spec: PipelineSpec, _ settings: [(String, SettingValue)]) throws(ModelError) -> PipelineSpec {
    var out = spec
    var modelChanges: [String: SettingValue] = [:]
    var stepChanges: [Int: [String: SettingValue]] = [:]
    for (key, value) in settings {
        if let dot = key.firstIndex(of: ".") {
            let step = String(key[..<dot]), name = String(key[key.index(after: dot)...])
            let index: Int? = Int(step) ?? out.steps.firstIndex { $0.kind == step }
            guard let index, index >= 0, index < out.steps.count else {
                if let m = out.model, m.kind == step { modelChanges[name] = value; continue }
                throw .invalid("tune grid key \(key): the pipeline has no step \(step); steps: "
                               + (out.steps.map(\.kind) + (out.model.map { [$0.kind] } ?? [])).joined(separator: ", "))
            }
            stepChanges[index, default: [:]][name] = value
        } else {
            modelChanges[key] = value
        }
    }
    for (i, c) in stepChanges { out.steps[i] = try out.steps[i].with(c) }
    if !modelChanges.isEmpty {
        guard let m = out.model else { throw .noModel }
        out.model = try m.with(modelChanges)
    }
    return out
}

/// Grid (or, with `random`, a seeded random subset of the grid) search by cross-validation.
/// `metric` defaults to rmse (regression) / accuracy (classification) / inertia (clustering);
/// errors are minimised, scores maximised. Returns the best settings refitted on the whole
/// table, and one row per candidate: its settings, `mean_<metric>`, `std_<metric>`, `rank`.
public func tune(_ spec: PipelineSpec, on table: Table, target: String?, features: [String]?,
                 grid: [(String, [SettingValue])], random: Int? = nil, folds: Int = 5, seed: UInt64 = 0,
                 metric: String? = nil, positive: String? = nil, task: ModelTask? = nil) throws(ModelError)
    -> (best: FittedModel, bestSettings: [(String, SettingValue)], results: Table) {
    guard let model = spec.model else { throw .noModel }
    guard !grid.isEmpty else { throw .invalid("tune needs a grid of settings, such as grid={alpha: [0.1, 1, 10]}") }
    for (k, v) in grid where v.isEmpty { throw .invalid("tune grid key \(k) has no values") }
    var candidates: [[(String, SettingValue)]] = [[]]
    for (key, values) in grid {
        var next: [[(String, SettingValue)]] = []
        for c in candidates { for v in values { next.append(c + [(key, v)]) } }
        candidates = next
    }
    if let random {
        guard random >= 1 else { throw .invalid("tune(random=...) must be at least 1") }
        if random < candidates.count {
            var rng = SeededRandom(seed: seed, modelStream: 0x7E5E)
            var idx = Array(candidates.indices)
            rng.shuffleByModulo(&idx)
            candidates = idx[0..<random].sorted().map { candidates[$0] }
        }
    }
    // Validate every candidate before the first fit.
    let specs = try candidates.map { c throws(ModelError) -> PipelineSpec in try applySettings(spec, c) }
    var metricName = metric
    var means: [Double] = [], stds: [Double] = []
    for s in specs {
        let ms = try foldMetrics(s, on: table, target: target, features: features, folds: folds, seed: seed,
                                 positive: positive, task: task)
        if metricName == nil {
            switch ms.first?.task {
            case .regression: metricName = "rmse"
            case .classification: metricName = "accuracy"
            default: metricName = "inertia"
            }
        }
        let name = metricName ?? "rmse"
        var v: [Double] = []
        for m in ms {
            guard let x = m[name] else {
                var message = "tune metric \"\(name)\" is not reported for \(model.kind)(); available: "
                    + m.values.map(\.0).joined(separator: ", ")
                if m.task == .regression, task == nil, model.choosesTask {
                    message += " (the target \(target ?? "") was treated as regression; pass task=\"classification\" for classification metrics)"
                }
                throw .invalid(message)
            }
            v.append(x)
        }
        let (mean, std) = meanStd(v)
        means.append(mean); stds.append(std)
    }
    let name = metricName ?? "rmse"
    let lower = Metrics.lowerIsBetter(name) ?? false
    let order = means.indices.sorted { a, b in
        let x = means[a].isNaN ? (lower ? Double.infinity : -Double.infinity) : means[a]
        let y = means[b].isNaN ? (lower ? Double.infinity : -Double.infinity) : means[b]
        return lower ? (x < y || (x == y && a < b)) : (x > y || (x == y && a < b))
    }
    var rank = [Int64](repeating: 0, count: means.count)
    for (r, i) in order.enumerated() { rank[i] = Int64(r + 1) }
    let bestIndex = order.first ?? 0
    let best = try fit(specs[bestIndex], on: table, target: target, features: features, positive: positive, task: task)
    var names: [String] = [], cols: [Column] = []
    for (j, (key, _)) in grid.enumerated() {
        let vals = candidates.map { $0[j].1 }
        names.append(key)
        if vals.allSatisfy({ $0.asDouble != nil }) {
            if vals.allSatisfy({ if case .int = $0 { return true } else { return false } }) {
                cols.append(Column(ints: vals.map { if case .int(let i) = $0 { return i } else { return 0 } }))
            } else {
                cols.append(Column(floats: vals.map { $0.asDouble ?? .nan }))
            }
        } else {
            cols.append(Column(strings: vals.map { v -> String in if case .string(let s) = v { return s } else { return v.description } }))
        }
    }
    names += ["mean_\(name)", "std_\(name)", "rank"]
    cols += [Column(floats: means), Column(floats: stds), Column(ints: rank)]
    return (best, candidates[bestIndex], try makeTable(names, cols))
}
