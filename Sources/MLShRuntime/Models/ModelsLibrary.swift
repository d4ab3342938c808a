import MLShEngine
import MLShLanguage
import MLShModels

/// Transforms, model specs, `>>` pipelines, fit/predict/evaluate/cv/tune and the
/// metric functions (§6).
struct ModelsLibrary: Library {
    func register(into interp: Interpreter) {
        for b in transforms + models + verbs + metricFunctions { interp.register(b) }
    }

    static func settings(_ a: Arguments) throws(MLShError) -> [String: SettingValue] {
        var out: [String: SettingValue] = [:]
        for (k, v) in a.named { out[k] = try v.setting("\(a.function) \(k)") }
        return out
    }

    // MARK: transforms

    var transforms: [Builtin] {
        func transform(_ kind: String, _ summary: String, _ example: String, positional: String? = nil) -> Builtin {
            Builtin(kind, ["...", "**"], category: "transforms", summary: summary, example: example) { a, _ throws(MLShError) in
                var settings = try ModelsLibrary.settings(a)
                var columnArgs = a.extra
                // impute("median"), poly(2), select_features(5): a leading plain value is the main setting.
                if let positional, let first = columnArgs.first, !(first.isColumnReference) {
                    settings[positional] = try first.setting("\(kind) \(positional)")
                    columnArgs.removeFirst()
                }
                let cols = columnArgs.isEmpty ? nil : try DataArgs.columnNames(columnArgs, kind)
                let spec = try modeling { () throws(ModelError) in try TransformSpec.make(kind: kind, settings: settings, columns: cols) }
                return .object(SpecValue(PipelineSpec(spec)))
            }
        }
        let features = Builtin("features", ["**"], category: "transforms",
                               summary: "Columns computed by column expressions, in order, fitted and served with the model (the raw columns they read join its inputs); reductions such as mean($x) take their training value.",
                               example: "features(bmi2 = $bmi ^ 2, ratio = $a / $b) >> ridge()") { a, _ throws(MLShError) in
            guard !a.named.isEmpty else {
                throw MLShError.type("features needs named column expressions, like features(bmi2 = $bmi ^ 2)")
            }
            var names: [String] = [], exprs: [KExpr] = []
            for (name, v) in a.named {
                if case .object = v { throw MLShError.type("features \(name) must be a column expression like $x * 2, got \(v.typeName)") }
                names.append(name)
                exprs.append(try ExprLowering.expression(v, "features \(name)"))
            }
            return .object(SpecValue(PipelineSpec(.features(FeaturesSpec(names: names, exprs: exprs)))))
        }
        return [features,
            transform("standardize", "Centres and scales numeric columns (population std; a constant column keeps scale 1).", "standardize($x0, $x1)"),
            transform("minmax", "Scales numeric columns to [0, 1].", "minmax()"),
            transform("impute", "Fills missing values: \"mean\", \"median\", \"most_frequent\" or \"constant\" (value=).", #"impute("median")"#, positional: "strategy"),
            transform("onehot", "One 0/1 column per category of string columns; a category unseen in training is all zeros, or refused with unknown=\"error\".", "onehot($species, unknown=\"error\")"),
            transform("bin", "Quantile bins of numeric columns.", "bin($age, bins=10)"),
            transform("poly", "Squares and pairwise products of numeric columns.", "poly(degree=2)", positional: "degree"),
            transform("select_features", "Keeps the k features with the best F-statistic against the target.", "select_features(k=5)", positional: "k"),
        ]
    }

    // MARK: models

    var models: [Builtin] {
        let summaries: [(String, String, String)] = [
            ("linear", "Ordinary least squares.", "linear()"),
            ("ridge", "Least squares with an L2 penalty alpha·‖w‖² (scikit-learn's Ridge).", "ridge(alpha=1.0)"),
            ("lasso", "Least squares with an L1 penalty (scikit-learn's Lasso objective).", "lasso(alpha=0.1)"),
            ("logistic", "Logistic regression, l2 = 1/C (multinomial for more than two classes).", "logistic(l2=1.0)"),
            ("kmeans", "k-means clustering with k-means++ starts.", "kmeans(k=3, seed=0)"),
            ("tree", "A decision tree (Gini or squared error): classification for a string or bool target, regression for numbers unless fit(..., task=\"classification\").", "tree(max_depth=4)"),
            ("forest", "A random forest of histogram trees (a number target is regressed unless fit(..., task=\"classification\")).", "forest(trees=100, seed=0)"),
            ("boost", "Gradient boosting on histograms (log-loss, softmax or squared error). subsample < 1 grows each round on that fraction of the rows, drawn from seed; at the default 1 every row is used and seed has no effect.", "boost(rounds=100, lr=0.1, subsample=0.8, seed=1)"),
            ("knn", "k nearest neighbours: classification for a string or bool target, regression for numbers unless fit(..., task=\"classification\").", "knn(k=5)"),
            ("naive_bayes", "Gaussian naive Bayes.", "naive_bayes()"),
        ]
        return summaries.map { kind, summary, example in
            // Every setting with its default, from the spec a call without settings builds.
            let defaults = ((try? ModelSpec.make(kind: kind, settings: [:]))?.settings ?? []).map { "\($0.0)=\($0.1)" }
            return Builtin(kind, ["**"], category: "models", summary: summary + " Settings and defaults: " +
                    (defaults.isEmpty ? "none." : defaults.joined(separator: ", ") + "."),
                    example: example) { a, _ throws(MLShError) in
                let settings = try ModelsLibrary.settings(a)
                let spec = try modeling { () throws(ModelError) in try ModelSpec.make(kind: kind, settings: settings) }
                return .object(SpecValue(PipelineSpec(spec)))
            }
        }
    }
}

extension Value {
    /// `$x` or `col("x")`: a value naming a column rather than a setting.
    var isColumnReference: Bool {
        switch self {
        case .expr(.column), .expr(.call("col", _)): return true
        case .list(let xs): return xs.allSatisfy(\.isColumnReference)
        default: return false
        }
    }
}
