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

/// A tuning search but its table: the pipeline, what it learns, the grid (or a seeded
/// random subset of it) and the folds. Codable, so a worker in another process can
/// evaluate its candidates.
public struct TuneProblem: Codable, Sendable {
    public struct Dimension: Codable, Sendable {
        public var name: String
        public var values: [SettingValue]
    }
    public var spec: PipelineSpec
    public var target: String?
    public var features: [String]?
    public var grid: [Dimension]
    public var random: Int?
    public var folds: Int
    public var seed: UInt64
    public var positive: String?
    public var task: ModelTask?

    public init(spec: PipelineSpec, target: String?, features: [String]?, grid: [(String, [SettingValue])], random: Int?,
                folds: Int, seed: UInt64, positive: String?, task: ModelTask?) {
        self.spec = spec; self.target = target; self.features = features
        self.grid = grid.map { Dimension(name: $0.0, values: $0.1) }
        self.random = random; self.folds = folds; self.seed = seed; self.positive = positive; self.task = task
    }

    /// The candidates' settings, in order: every combination of the grid (the last key
    /// varying fastest), or with `random` a seeded subset of them.
    public func candidates() throws(ModelError) -> [[(String, SettingValue)]] {
        guard spec.model != nil else { throw .noModel }
        guard !grid.isEmpty else { throw .invalid("tune needs a grid of settings, such as grid={alpha: [0.1, 1, 10]}") }
        for d in grid where d.values.isEmpty { throw .invalid("tune grid key \(d.name) has no values") }
        var candidates: [[(String, SettingValue)]] = [[]]
        for d in grid {
            var next: [[(String, SettingValue)]] = []
            for c in candidates { for v in d.values { next.append(c + [(d.name, v)]) } }
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
        return candidates
    }

    /// The fold metrics of candidate `index` on `table`.
    public func evaluate(_ index: Int, on table: Table) throws(ModelError) -> [Metrics] {
        let all = try candidates()
        guard all.indices.contains(index) else { throw .invalid("tune has no candidate \(index + 1) (it has \(all.count))") }
        return try foldMetrics(try applySettings(spec, all[index]), on: table, target: target, features: features,
                               folds: folds, seed: seed, positive: positive, task: task)
    }
}

/// Grid (or, with `random`, a seeded random subset of the grid) search by cross-validation.
/// `metric` defaults to rmse (regression) / accuracy (classification) / inertia (clustering);
/// errors are minimised, scores maximised. Returns the best settings refitted on the whole
/// table, and one row per candidate: its settings, `mean_<metric>`, `std_<metric>`, `rank`.
/// `evaluate`, when given, computes every candidate's fold metrics (elsewhere: workers);
/// by default they are computed here, one after another.
public func tune(_ spec: PipelineSpec, on table: Table, target: String?, features: [String]?,
                 grid: [(String, [SettingValue])], random: Int? = nil, folds: Int = 5, seed: UInt64 = 0,
                 metric: String? = nil, positive: String? = nil, task: ModelTask? = nil,
                 evaluate: ((TuneProblem, Int) throws(ModelError) -> [[Metrics]])? = nil) throws(ModelError)
    -> (best: FittedModel, bestSettings: [(String, SettingValue)], results: Table) {
    guard let model = spec.model else { throw .noModel }
    let problem = TuneProblem(spec: spec, target: target, features: features, grid: grid, random: random, folds: folds,
                              seed: seed, positive: positive, task: task)
    let candidates = try problem.candidates()
    // Validate every candidate before the first fit.
    let specs = try candidates.map { c throws(ModelError) -> PipelineSpec in try applySettings(spec, c) }
    let metrics: [[Metrics]]
    if let evaluate {
        metrics = try evaluate(problem, candidates.count)
    } else {
        metrics = try specs.map { s throws(ModelError) in
            try foldMetrics(s, on: table, target: target, features: features, folds: folds, seed: seed, positive: positive, task: task)
        }
    }
    var metricName = metric
    var means: [Double] = [], stds: [Double] = []
    for ms in metrics {
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
