import MLShCommon
import MLShEngine

/// Ordinary least squares (`linear()`), like scikit-learn's `LinearRegression`.
public struct LinearSpec: Codable, Sendable, Equatable {
    public init() {}
}

/// Ridge regression minimising ‖y − Xw‖² + alpha‖w‖², intercept unpenalised.
public struct RidgeSpec: Codable, Sendable, Equatable {
    public var alpha: Double
    public init(alpha: Double = 1) { self.alpha = alpha }
}

/// Lasso minimising ‖y − Xw‖²/(2n) + alpha‖w‖₁ by coordinate descent (scikit-learn's stopping rule).
public struct LassoSpec: Codable, Sendable, Equatable {
    public var alpha: Double, maxIter: Int, tol: Double
    public init(alpha: Double = 1, maxIter: Int = 1000, tol: Double = 1e-4) {
        self.alpha = alpha; self.maxIter = maxIter; self.tol = tol
    }
}

/// Logistic regression, scikit-learn's `LogisticRegression(C=1/l2)` (multinomial for more than two classes).
public struct LogisticSpec: Codable, Sendable, Equatable {
    public var l2: Double, maxIter: Int
    public init(l2: Double = 1, maxIter: Int = 100) { self.l2 = l2; self.maxIter = maxIter }
}

/// k-means with k-means++ seeding; `inits` runs (default 1, like scikit-learn's `n_init="auto"`), best inertia kept.
public struct KMeansSpec: Codable, Sendable, Equatable {
    public var k: Int, seed: UInt64, inits: Int
    public init(k: Int = 8, seed: UInt64 = 0, inits: Int = 1) { self.k = k; self.seed = seed; self.inits = inits }
}

/// A decision tree (Gini / squared error) on 256 quantile bins per feature.
public struct TreeSpec: Codable, Sendable, Equatable {
    public var maxDepth: Int?, minLeaf: Int
    public init(maxDepth: Int? = nil, minLeaf: Int = 1) { self.maxDepth = maxDepth; self.minLeaf = minLeaf }
}

/// A random forest: bootstrap samples, √features per split for classification, all for regression.
public struct ForestSpec: Codable, Sendable, Equatable {
    public var trees: Int, maxDepth: Int?, minLeaf: Int, seed: UInt64
    public init(trees: Int = 100, maxDepth: Int? = nil, minLeaf: Int = 1, seed: UInt64 = 0) {
        self.trees = trees; self.maxDepth = maxDepth; self.minLeaf = minLeaf; self.seed = seed
    }
}

/// Gradient boosting on histograms (log-loss, softmax or squared error), Newton leaf values,
/// no L2. `subsample` < 1 grows each round's trees on that fraction of the rows, drawn without
/// replacement from `seed` (stochastic gradient boosting); at 1 (the default, as scikit-learn's
/// HistGradientBoosting, which never subsamples rows) every row is used and `seed` changes nothing.
public struct BoostSpec: Codable, Sendable, Equatable {
    public var rounds: Int, lr: Double, maxDepth: Int, minLeaf: Int, subsample: Double, seed: UInt64
    public init(rounds: Int = 100, lr: Double = 0.1, maxDepth: Int = 3, minLeaf: Int = 1, subsample: Double = 1, seed: UInt64 = 0) {
        self.rounds = rounds; self.lr = lr; self.maxDepth = maxDepth; self.minLeaf = minLeaf; self.subsample = subsample; self.seed = seed
    }

    enum CodingKeys: String, CodingKey { case rounds, lr, maxDepth, minLeaf, subsample, seed }

    /// Models saved before `subsample` existed read as 1 (every row, as they were fitted).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(rounds: try c.decode(Int.self, forKey: .rounds), lr: try c.decode(Double.self, forKey: .lr),
                  maxDepth: try c.decode(Int.self, forKey: .maxDepth), minLeaf: try c.decode(Int.self, forKey: .minLeaf),
                  subsample: try c.decodeIfPresent(Double.self, forKey: .subsample) ?? 1,
                  seed: try c.decode(UInt64.self, forKey: .seed))
    }
}

/// k nearest neighbours (Euclidean, uniform weights).
public struct KNNSpec: Codable, Sendable, Equatable {
    public var k: Int
    public init(k: Int = 5) { self.k = k }
}

/// Gaussian naive Bayes with scikit-learn's `var_smoothing = 1e-9`.
public struct NaiveBayesSpec: Codable, Sendable, Equatable {
    public var varSmoothing: Double
    public init(varSmoothing: Double = 1e-9) { self.varSmoothing = varSmoothing }
}

/// Any model's parameters.
public enum ModelSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    case linear(LinearSpec), ridge(RidgeSpec), lasso(LassoSpec), logistic(LogisticSpec)
    case kmeans(KMeansSpec), tree(TreeSpec), forest(ForestSpec), boost(BoostSpec)
    case knn(KNNSpec), naiveBayes(NaiveBayesSpec)

    /// Every model name, as called in mlsh.
    public static let kinds = ["linear", "ridge", "lasso", "logistic", "kmeans", "tree", "forest",
                               "boost", "knn", "naive_bayes"]

    /// The setting names each model accepts.
    public static func acceptedSettings(kind: String) -> [String] {
        switch kind {
        case "linear": return []
        case "ridge": return ["alpha"]
        case "lasso": return ["alpha", "max_iter", "tol"]
        case "logistic": return ["l2", "max_iter"]
        case "kmeans": return ["k", "seed", "inits"]
        case "tree": return ["max_depth", "min_leaf"]
        case "forest": return ["trees", "max_depth", "min_leaf", "seed"]
        case "boost": return ["rounds", "lr", "max_depth", "min_leaf", "subsample", "seed"]
        case "knn": return ["k"]
        case "naive_bayes": return ["var_smoothing"]
        default: return []
        }
    }

    /// Builds a spec from a call's name and named settings; unknown names and wrong types are errors.
    public static func make(kind: String, settings: [String: SettingValue]) throws(ModelError) -> ModelSpec {
        guard kinds.contains(kind) else {
            throw .unknownKind(kind, accepted: kinds, suggestion: closestName(to: kind, in: kinds))
        }
        let r = try SettingReader(kind: kind, settings: settings, accepted: acceptedSettings(kind: kind))
        switch kind {
        case "linear": return .linear(LinearSpec())
        case "ridge": return .ridge(RidgeSpec(alpha: try r.double("alpha", 1, min: 0)))
        case "lasso":
            return .lasso(LassoSpec(alpha: try r.double("alpha", 1, min: 0), maxIter: try r.int("max_iter", 1000, min: 1),
                                    tol: try r.double("tol", 1e-4, positive: true)))
        case "logistic":
            return .logistic(LogisticSpec(l2: try r.double("l2", 1, positive: true), maxIter: try r.int("max_iter", 100, min: 1)))
        case "kmeans":
            return .kmeans(KMeansSpec(k: try r.int("k", 8, min: 1), seed: try r.seed("seed"), inits: try r.int("inits", 1, min: 1)))
        case "tree":
            return .tree(TreeSpec(maxDepth: try r.optionalInt("max_depth", nil, min: 1), minLeaf: try r.int("min_leaf", 1, min: 1)))
        case "forest":
            return .forest(ForestSpec(trees: try r.int("trees", 100, min: 1), maxDepth: try r.optionalInt("max_depth", nil, min: 1),
                                      minLeaf: try r.int("min_leaf", 1, min: 1), seed: try r.seed("seed")))
        case "boost":
            return .boost(BoostSpec(rounds: try r.int("rounds", 100, min: 1), lr: try r.double("lr", 0.1, positive: true),
                                    maxDepth: try r.int("max_depth", 3, min: 1), minLeaf: try r.int("min_leaf", 1, min: 1),
                                    subsample: try r.fraction("subsample", 1), seed: try r.seed("seed")))
        case "knn": return .knn(KNNSpec(k: try r.int("k", 5, min: 1)))
        default: return .naiveBayes(NaiveBayesSpec(varSmoothing: try r.double("var_smoothing", 1e-9, min: 0)))
        }
    }

    /// The model's name as called in mlsh.
    public var kind: String {
        switch self {
        case .linear: return "linear"
        case .ridge: return "ridge"
        case .lasso: return "lasso"
        case .logistic: return "logistic"
        case .kmeans: return "kmeans"
        case .tree: return "tree"
        case .forest: return "forest"
        case .boost: return "boost"
        case .knn: return "knn"
        case .naiveBayes: return "naive_bayes"
        }
    }

    /// Every setting with its value (defaults included), in call order.
    public var settings: [(String, SettingValue)] {
        func opt(_ i: Int?) -> SettingValue { i.map { .int(Int64($0)) } ?? .none }
        switch self {
        case .linear: return []
        case .ridge(let s): return [("alpha", .number(s.alpha))]
        case .lasso(let s): return [("alpha", .number(s.alpha)), ("max_iter", .int(Int64(s.maxIter))), ("tol", .number(s.tol))]
        case .logistic(let s): return [("l2", .number(s.l2)), ("max_iter", .int(Int64(s.maxIter)))]
        case .kmeans(let s): return [("k", .int(Int64(s.k))), ("seed", .int(Int64(truncatingIfNeeded: s.seed))), ("inits", .int(Int64(s.inits)))]
        case .tree(let s): return [("max_depth", opt(s.maxDepth)), ("min_leaf", .int(Int64(s.minLeaf)))]
        case .forest(let s):
            return [("trees", .int(Int64(s.trees))), ("max_depth", opt(s.maxDepth)), ("min_leaf", .int(Int64(s.minLeaf))),
                    ("seed", .int(Int64(truncatingIfNeeded: s.seed)))]
        case .boost(let s):
            return [("rounds", .int(Int64(s.rounds))), ("lr", .number(s.lr)), ("max_depth", .int(Int64(s.maxDepth))),
                    ("min_leaf", .int(Int64(s.minLeaf))), ("subsample", .number(s.subsample)),
                    ("seed", .int(Int64(truncatingIfNeeded: s.seed)))]
        case .knn(let s): return [("k", .int(Int64(s.k)))]
        case .naiveBayes(let s): return [("var_smoothing", .number(s.varSmoothing))]
        }
    }

    /// The call as written in mlsh, e.g. `ridge(alpha=1.0)`.
    public var description: String {
        kind + "(" + settings.map { "\($0.0)=\($0.1)" }.joined(separator: ", ") + ")"
    }

    /// This spec with some settings replaced (used by `tune`).
    public func with(_ changes: [String: SettingValue]) throws(ModelError) -> ModelSpec {
        var d = Dictionary(settings, uniquingKeysWith: { a, _ in a })
        for (k, v) in changes { d[k] = v }
        return try ModelSpec.make(kind: kind, settings: d)
    }

    /// Whether the model only classifies (so an int target means classes).
    var onlyClassifies: Bool {
        switch self {
        case .logistic, .naiveBayes: return true
        default: return false
        }
    }

    /// Whether the model only regresses.
    var onlyRegresses: Bool {
        switch self {
        case .linear, .ridge, .lasso: return true
        default: return false
        }
    }

    /// Refuses a `task=` the model cannot do (kmeans takes none: it has no target).
    func check(task: ModelTask?) throws(ModelError) {
        switch task {
        case .classification? where onlyRegresses:
            throw .invalid("\(kind)() only predicts numbers; task=\"classification\" needs a classifier such as logistic(), tree(), forest(), boost(), knn() or naive_bayes()")
        case .regression? where onlyClassifies:
            throw .invalid("\(kind)() only classifies; task=\"regression\" needs a regressor such as ridge(), tree(), forest(), boost() or knn()")
        case .clustering?:
            throw .invalid("task= is \"classification\" or \"regression\"; \(kind)() clusters without it")
        default: break
        }
    }

    /// Whether the model can both classify and regress, so an int target's task is a choice.
    var choosesTask: Bool { !onlyClassifies && !onlyRegresses && kind != "kmeans" }
}

extension ModelTask {
    /// `task="classification" | "regression"` as written in a call.
    public static func parse(_ text: String) throws(ModelError) -> ModelTask {
        let accepted = ["classification", "regression"]
        guard accepted.contains(text), let t = ModelTask(rawValue: text) else {
            throw .invalid("task= must be \"classification\" or \"regression\", got \"\(text)\""
                           + (closestName(to: text, in: accepted).map { " (did you mean \"\($0)\"?)" } ?? ""))
        }
        return t
    }
}

/// The note `fit`, `cv` and `tune` show when an int target with few distinct values (20 at
/// most) is treated as a regression target without `task=` saying so; nil otherwise.
public func implicitRegressionNote(_ spec: PipelineSpec, on table: Table, target: String?, task: ModelTask?) -> String? {
    guard task == nil, let model = spec.model, model.choosesTask, let target, let i = table.index(of: target) else { return nil }
    let col = table.columns[i]
    guard case .int(let v, let m) = col.storage else { return nil }
    var seen = Set<Int64>()
    for r in v.indices where m.map({ $0[r] }) ?? true {
        seen.insert(v[r])
        if seen.count > implicitRegressionMaxClasses { return nil }
    }
    return "note: \(model.kind)() treats the int target \(target) (\(seen.count) distinct values) as regression; "
        + "pass task=\"classification\" to predict classes, or task=\"regression\" to keep numbers and silence this note"
}

/// An int target with at most this many distinct values may be classes.
let implicitRegressionMaxClasses = 20
