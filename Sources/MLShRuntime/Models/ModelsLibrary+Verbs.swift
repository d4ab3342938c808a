import Foundation
import MLShEngine
import MLShLanguage
import MLShModels
import Synchronization

extension Arguments {
    /// A transform, model spec or pipeline argument.
    func spec(_ name: String) throws(MLShError) -> PipelineSpec {
        let v = try value(name)
        guard case .object(let s as SpecValue) = v else {
            throw MLShError.type("\(function): '\(name)' must be a model spec or pipeline like ridge() or standardize() >> logistic(), got \(v.typeName)")
        }
        return s.spec
    }

    /// A fitted model argument.
    func fitted(_ name: String) throws(MLShError) -> FittedModel {
        let v = try value(name)
        guard case .object(let m as ModelValue) = v else {
            throw MLShError.type("\(function): '\(name)' must be a fitted model (from fit), got \(v.typeName)")
        }
        return m.model
    }

    /// An optional column name (`$y` or "y").
    func columnName(_ name: String) throws(MLShError) -> String? {
        guard let v = self[name] else { return nil }
        return try DataArgs.columnName(v, function)
    }

    /// An optional list of column names.
    func columnList(_ name: String) throws(MLShError) -> [String]? {
        guard let v = self[name] else { return nil }
        if case .list(let xs) = v { return try DataArgs.columnNames(xs, function) }
        return [try DataArgs.columnName(v, function)]
    }

    /// An optional string.
    func optionalString(_ name: String) throws(MLShError) -> String? {
        self[name] == nil ? nil : try string(name)
    }

    /// The optional `task="classification" | "regression"`.
    func task() throws(MLShError) -> ModelTask? {
        guard let text = try optionalString("task") else { return nil }
        return try modeling { () throws(ModelError) in try ModelTask.parse(text) }
    }
}

/// Says once per target column on stderr (not in the output: scripts' and notebooks'
/// output stay as they were) when an int target with few values is fitted as regression.
enum TaskNotes {
    private static let shown = Mutex<Set<String>>([])

    static func show(_ spec: PipelineSpec, _ t: Table, target: String?, task: ModelTask?) {
        guard let note = implicitRegressionNote(spec, on: t, target: target, task: task), let target else { return }
        guard shown.withLock({ $0.insert(target).inserted }) else { return }
        FileHandle.standardError.write(Data((note + "\n").utf8))
    }
}

extension ModelsLibrary {
    var verbs: [Builtin] { [
        Builtin("fit", ["spec", "t", "target=none", "features=none", "positive=none", "task=none"], category: "models",
                summary: "Fits a model or pipeline on a table; features default to every other column. kmeans() and isolation_forest() take no target. task=\"classification\" or \"regression\" chooses for models that do both (an int target is otherwise a regression target).",
                example: "let m = fit(standardize() >> logistic(), train, target=$species)") { a, _ throws(MLShError) in
            let spec = try a.spec("spec"), t = try a.table("t")
            let target = try a.columnName("target"), features = try a.columnList("features")
            let positive = try a.optionalString("positive"), task = try a.task()
            TaskNotes.show(spec, t, target: target, task: task)
            let m = try modeling { () throws(ModelError) in
                try fit(spec, on: t, target: target, features: features, positive: positive, task: task)
            }
            return .object(ModelValue(m))
        },
        Builtin("predict", ["m", "t"], category: "models",
                summary: "The table plus `prediction` (and `proba_<class>` for classifiers; for isolation_forest, prediction is true for an outlier and `score` is scikit-learn's score_samples, lower is more abnormal); other columns pass through.",
                example: "predict(m, test) |> head(3)") { a, _ throws(MLShError) in
            let m = try a.fitted("m"), t = try a.table("t")
            var out = try modeling { () throws(ModelError) in try m.predict(t) }
            out.label = t.label
            return .object(TableValue(out))
        },
        Builtin("evaluate", ["m", "t", "labels=none"], category: "models",
                summary: "The task's metrics on a table (rmse mae r2; accuracy precision recall f1 auc logloss; inertia silhouette ari; outlier_rate mean_score auc).",
                example: "evaluate(m, test).accuracy") { a, _ throws(MLShError) in
            let m = try a.fitted("m"), t = try a.table("t")
            let labels = try a.columnName("labels")
            return .object(MetricsValue(try modeling { () throws(ModelError) in try m.evaluate(t, labels: labels) }))
        },
        Builtin("cv", ["spec", "t", "target=none", "folds=5", "seed=0", "features=none", "positive=none", "task=none"], category: "models",
                summary: "k-fold cross-validation (stratified for classifiers): mean and std of each metric.",
                example: "cv(logistic(), iris, target=$species, folds=5, seed=0)") { a, _ throws(MLShError) in
            let spec = try a.spec("spec"), t = try a.table("t")
            let target = try a.columnName("target"), features = try a.columnList("features")
            let folds = try a.int("folds", 5), seed = try a.seed(), positive = try a.optionalString("positive")
            let task = try a.task()
            TaskNotes.show(spec, t, target: target, task: task)
            let table = try modeling { () throws(ModelError) in
                try crossValidate(spec, on: t, target: target, features: features, folds: folds, seed: seed,
                                  positive: positive, task: task)
            }
            return .object(TableValue(table))
        },
        Builtin("tune", ["spec", "t", "target=none", "grid=none", "random=none", "folds=5", "seed=0", "metric=none", "features=none", "positive=none", "task=none", "workers=1"],
                category: "models",
                summary: "Searches a grid of settings (or random=N samples of it) by cv; {model, settings, results}. workers=N evaluates the candidates in N worker processes over the store (as sweeps do).",
                example: "tune(logistic(), train, target=$species, grid={l2: [0.01, 0.1, 1, 10]}, metric=\"accuracy\")") { a, _ throws(MLShError) in
            try ModelsLibrary.tuneValue(a, evaluate: nil)
        },
        Builtin("importance", ["m"], category: "models",
                summary: "Coefficients (linear models) or impurity importance (trees), as a table.",
                example: "importance(m)") { a, _ throws(MLShError) in
            let m = try a.fitted("m")
            return .object(TableValue(try modeling { () throws(ModelError) in try m.importance() }))
        },
        Builtin("explain", ["m", "t", "seed=0", "repeats=5"], category: "models",
                summary: "Permutation importance on a table: how much each feature's shuffle hurts the main metric.",
                example: "explain(m, test, seed=0)") { a, _ throws(MLShError) in
            let m = try a.fitted("m"), t = try a.table("t")
            let seed = try a.seed(), repeats = try a.int("repeats", 5)
            return .object(TableValue(try modeling { () throws(ModelError) in try m.explain(t, seed: seed, repeats: repeats) }))
        },
        Builtin("export", ["m", "path"], category: "models",
                summary: "Writes a fitted model as an ONNX file (atomically) that onnxruntime runs: one input per feature column, outputs `prediction` and, for classifiers, `probabilities`; a part with no exact ONNX form is an error. See docs/export.md.",
                example: #"export(m, "model.onnx")"#) { a, _ throws(MLShError) in
            let m = try a.fitted("m"), path = try a.string("path")
            try modeling { () throws(ModelError) in try ONNXExport.write(m, to: path, producerVersion: Runtime.version) }
            return .none
        },
    ] }

    // MARK: metrics on columns

    static func column(_ a: Arguments, _ name: String) throws(MLShError) -> Column {
        let v = try a.value(name)
        switch v {
        case .object(let c as ColumnValue): return c.column
        case .list(let xs): return try DataArgs.columnFromList(xs, a.function)
        default: throw MLShError.type("\(a.function): '\(name)' must be a column, got \(v.typeName)")
        }
    }

    var metricFunctions: [Builtin] {
        typealias Metric = (Column, Column, String?) throws(ModelError) -> Double
        let pairs: [(String, String, String, Metric)] = [
            ("rmse", "predicted", "Root mean squared error.", { a, p, _ throws(ModelError) in try MetricFunctions.rmse(actual: a, predicted: p) }),
            ("mae", "predicted", "Mean absolute error.", { a, p, _ throws(ModelError) in try MetricFunctions.mae(actual: a, predicted: p) }),
            ("r2", "predicted", "Coefficient of determination.", { a, p, _ throws(ModelError) in try MetricFunctions.r2(actual: a, predicted: p) }),
            ("accuracy", "predicted", "Share of correct labels.", { a, p, _ throws(ModelError) in try MetricFunctions.accuracy(actual: a, predicted: p) }),
            ("precision", "predicted", "Precision (macro average for more than two classes).", { a, p, pos throws(ModelError) in try MetricFunctions.precision(actual: a, predicted: p, positive: pos) }),
            ("recall", "predicted", "Recall (macro average for more than two classes).", { a, p, pos throws(ModelError) in try MetricFunctions.recall(actual: a, predicted: p, positive: pos) }),
            ("f1", "predicted", "F1 score (macro average for more than two classes).", { a, p, pos throws(ModelError) in try MetricFunctions.f1(actual: a, predicted: p, positive: pos) }),
            ("auc", "score", "Area under the ROC curve of a score for the positive class.", { a, s, pos throws(ModelError) in try MetricFunctions.auc(actual: a, score: s, positive: pos) }),
            ("logloss", "probability", "Log loss of the positive class's probability.", { a, s, pos throws(ModelError) in try MetricFunctions.logloss(actual: a, probability: s, positive: pos) }),
            ("ari", "predicted", "Adjusted Rand index between two labelings.", { a, p, _ throws(ModelError) in try MetricFunctions.ari(actual: a, predicted: p) }),
        ]
        var out = pairs.map { name, second, summary, metric in
            Builtin(name, ["actual", second, "positive=none"], category: "metrics", summary: summary,
                    example: "\(name)(test.y, predict(m, test).\(second == "predicted" ? "prediction" : "proba_yes"))") { a, _ throws(MLShError) in
                let x = try ModelsLibrary.column(a, "actual"), y = try ModelsLibrary.column(a, second)
                let pos = try a.optionalString("positive")
                return .float(try modeling { () throws(ModelError) in try metric(x, y, pos) })
            }
        }
        out.append(Builtin("confusion", ["actual", "predicted"], category: "metrics",
                           summary: "The confusion table: one row per actual class, one column per predicted class.",
                           example: "confusion(test.species, predict(m, test).prediction)") { a, _ throws(MLShError) in
            let x = try ModelsLibrary.column(a, "actual"), y = try ModelsLibrary.column(a, "predicted")
            return .object(TableValue(try modeling { () throws(ModelError) in try MetricFunctions.confusion(actual: x, predicted: y) }))
        })
        return out
    }
}

extension ModelsLibrary {
    /// Computes every candidate's fold metrics somewhere else (`tune(..., workers=N)`):
    /// given the problem, the number of candidates and the table.
    typealias TuneEvaluator = (TuneProblem, Int, Table) throws(ModelError) -> [[Metrics]]

    /// `tune`'s value: the search, its candidates evaluated here or by `evaluate`.
    static func tuneValue(_ a: Arguments, evaluate: TuneEvaluator?) throws(MLShError) -> Value {
        let spec = try a.spec("spec"), t = try a.table("t")
        guard case .record(let r)? = a["grid"] else {
            throw MLShError.type("tune needs grid={setting: [values, ...]}")
        }
        var grid: [(String, [SettingValue])] = []
        for (k, v) in zip(r.keys, r.values) {
            guard case .list(let xs) = v else { throw MLShError.type("tune: grid value of \(k) must be a list") }
            var vals: [SettingValue] = []
            for x in xs { vals.append(try x.setting("tune grid \(k)")) }
            grid.append((k, vals))
        }
        let target = try a.columnName("target"), features = try a.columnList("features")
        let random: Int? = a["random"] == nil ? nil : try a.int("random")
        let folds = try a.int("folds", 5), seed = try a.seed()
        let metric = try a.optionalString("metric"), positive = try a.optionalString("positive")
        let task = try a.task()
        TaskNotes.show(spec, t, target: target, task: task)
        let workers = try a.int("workers", 1)
        guard workers >= 1 else { throw MLShError.value("tune: workers must be at least 1, got \(workers)") }
        var elsewhere: ((TuneProblem, Int) throws(ModelError) -> [[Metrics]])?
        if let evaluate {
            elsewhere = { (problem: TuneProblem, count: Int) throws(ModelError) -> [[Metrics]] in try evaluate(problem, count, t) }
        }
        let result = try modeling { () throws(ModelError) in
            try tune(spec, on: t, target: target, features: features, grid: grid, random: random,
                     folds: folds, seed: seed, metric: metric, positive: positive, task: task, evaluate: elsewhere)
        }
        return .record(Record([
            ("model", .object(ModelValue(result.best))),
            ("settings", .record(Record(result.bestSettings.map { ($0.0, $0.1.language) }))),
            ("results", .object(TableValue(result.results))),
        ]))
    }
}
