import MLShCommon
import MLShEngine

/// Centres and scales numeric columns (population std like `StandardScaler`; zero variance → scale 1).
public struct StandardizeSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public init(columns: [String]? = nil) { self.columns = columns }
}

/// Scales numeric columns to [0, 1] (a constant column maps to 0).
public struct MinMaxSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public init(columns: [String]? = nil) { self.columns = columns }
}

/// Fills missing values: `mean`, `median`, `most_frequent` or `constant` (`value`, default 0 / "missing").
public struct ImputeSpec: Codable, Sendable, Equatable {
    public var strategy: String, value: SettingValue, columns: [String]?
    public init(strategy: String = "mean", value: SettingValue = .none, columns: [String]? = nil) {
        self.strategy = strategy; self.value = value; self.columns = columns
    }
}

/// One 0/1 column `<col>_<value>` per category (sorted); a missing value → all zeros, and so
/// is a category unseen in training with `unknown` "ignore" (the default, as scikit-learn's
/// `handle_unknown`), while "error" refuses it.
public struct OneHotSpec: Codable, Sendable, Equatable {
    public var columns: [String]?
    public var unknown: String
    public init(columns: [String]? = nil, unknown: String = "ignore") { self.columns = columns; self.unknown = unknown }

    enum CodingKeys: String, CodingKey { case columns, unknown }

    /// Pipelines saved before `unknown` existed read as "ignore" (what they did).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(columns: try c.decodeIfPresent([String].self, forKey: .columns),
                  unknown: try c.decodeIfPresent(String.self, forKey: .unknown) ?? "ignore")
    }

    /// The default is left out, so such pipelines encode as they did before `unknown` existed.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(columns, forKey: .columns)
        if unknown != "ignore" { try c.encode(unknown, forKey: .unknown) }
    }
}

/// Replaces numeric columns by their quantile bin index `0..<bins` (like `KBinsDiscretizer(encode="ordinal")`).
public struct BinSpec: Codable, Sendable, Equatable {
    public var bins: Int, columns: [String]?
    public init(bins: Int = 10, columns: [String]? = nil) { self.bins = bins; self.columns = columns }
}

/// Adds products of numeric columns up to `degree` (`a*b`, `a^2`), in `PolynomialFeatures` order.
public struct PolySpec: Codable, Sendable, Equatable {
    public var degree: Int, columns: [String]?
    public init(degree: Int = 2, columns: [String]? = nil) { self.degree = degree; self.columns = columns }
}

/// Keeps the `k` numeric columns with the highest F statistic against the target
/// (`SelectKBest(f_regression)` / `f_classif`).
public struct SelectFeaturesSpec: Codable, Sendable, Equatable {
    public var k: Int, columns: [String]?
    public init(k: Int = 10, columns: [String]? = nil) { self.k = k; self.columns = columns }
}

/// Columns computed by column expressions, `features(bmi2 = $bmi ^ 2, ratio = $a / $b)`: in
/// order, each adds a column (or replaces the one of its name, as `derive` does); the others
/// pass through. Reductions inside (`$x - mean($x)`) are computed on the training rows when
/// fitted and kept as constants. The expressions are data (engine IR), never code.
public struct FeaturesSpec: Codable, Sendable, Equatable {
    public var names: [String], exprs: [KExpr]
    public init(names: [String], exprs: [KExpr]) { self.names = names; self.exprs = exprs }

    /// The columns the expressions read that they do not compute themselves, in first-use order.
    public var reads: [String] {
        var out: [String] = [], made: Set<String> = []
        for (name, e) in zip(names, exprs) {
            for c in e.referencedColumns where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.insert(name)
        }
        return out
    }
}

/// Any transform's parameters.
public enum TransformSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    case standardize(StandardizeSpec), minmax(MinMaxSpec), impute(ImputeSpec), onehot(OneHotSpec)
    case bin(BinSpec), poly(PolySpec), selectFeatures(SelectFeaturesSpec), features(FeaturesSpec)

    /// The transform with `name` taken out of the columns it names (unchanged when it
    /// names none: it then applies to every fitting feature).
    func excluding(_ name: String) -> TransformSpec {
        guard let cols = columns, cols.contains(name) else { return self }
        let kept = cols.filter { $0 != name }
        switch self {
        case .standardize(var s): s.columns = kept; return .standardize(s)
        case .minmax(var s): s.columns = kept; return .minmax(s)
        case .impute(var s): s.columns = kept; return .impute(s)
        case .onehot(var s): s.columns = kept; return .onehot(s)
        case .bin(var s): s.columns = kept; return .bin(s)
        case .poly(var s): s.columns = kept; return .poly(s)
        case .selectFeatures(var s): s.columns = kept; return .selectFeatures(s)
        case .features: return self
        }
    }

    /// Every transform name, as called in mlsh.
    public static let kinds = ["standardize", "minmax", "impute", "onehot", "bin", "poly", "select_features"]

    /// The setting names each transform accepts (besides its columns).
    public static func acceptedSettings(kind: String) -> [String] {
        switch kind {
        case "impute": return ["strategy", "value"]
        case "onehot": return ["unknown"]
        case "bin": return ["bins"]
        case "poly": return ["degree"]
        case "select_features": return ["k"]
        default: return []
        }
    }

    /// Builds a transform from a call's name, settings and named columns (nil: the default columns).
    public static func make(kind: String, settings: [String: SettingValue], columns: [String]? = nil) throws(ModelError) -> TransformSpec {
        guard kinds.contains(kind) else {
            throw .unknownKind(kind, accepted: kinds, suggestion: closestName(to: kind, in: kinds))
        }
        let r = try SettingReader(kind: kind, settings: settings, accepted: acceptedSettings(kind: kind))
        switch kind {
        case "standardize": return .standardize(StandardizeSpec(columns: columns))
        case "minmax": return .minmax(MinMaxSpec(columns: columns))
        case "impute":
            let s = try r.string("strategy", "mean", oneOf: ["mean", "median", "most_frequent", "constant"])
            let v = r.any("value") ?? .none
            switch v {
            case .number, .int, .string, .none, .bool: break
            case .strings: throw .wrongSettingType(kind: kind, name: "value", expected: "a number or a string", actual: v.typeName)
            }
            return .impute(ImputeSpec(strategy: s, value: v, columns: columns))
        case "onehot": return .onehot(OneHotSpec(columns: columns, unknown: try r.string("unknown", "ignore", oneOf: ["ignore", "error"])))
        case "bin": return .bin(BinSpec(bins: try r.int("bins", 10, min: 2), columns: columns))
        case "poly": return .poly(PolySpec(degree: try r.int("degree", 2, min: 1), columns: columns))
        default: return .selectFeatures(SelectFeaturesSpec(k: try r.int("k", 10, min: 1), columns: columns))
        }
    }

    /// The transform's name as called in mlsh.
    public var kind: String {
        switch self {
        case .standardize: return "standardize"
        case .minmax: return "minmax"
        case .impute: return "impute"
        case .onehot: return "onehot"
        case .bin: return "bin"
        case .poly: return "poly"
        case .selectFeatures: return "select_features"
        case .features: return "features"
        }
    }

    /// The named columns, or nil for the default set.
    public var columns: [String]? {
        switch self {
        case .standardize(let s): return s.columns
        case .minmax(let s): return s.columns
        case .impute(let s): return s.columns
        case .onehot(let s): return s.columns
        case .bin(let s): return s.columns
        case .poly(let s): return s.columns
        case .selectFeatures(let s): return s.columns
        case .features: return nil
        }
    }

    /// Every setting with its value (defaults included).
    public var settings: [(String, SettingValue)] {
        switch self {
        case .standardize, .minmax: return []
        case .onehot(let s): return s.unknown == "ignore" ? [] : [("unknown", .string(s.unknown))]
        case .impute(let s): return [("strategy", .string(s.strategy))] + (s.value == .none ? [] : [("value", s.value)])
        case .bin(let s): return [("bins", .int(Int64(s.bins)))]
        case .poly(let s): return [("degree", .int(Int64(s.degree)))]
        case .selectFeatures(let s): return [("k", .int(Int64(s.k)))]
        case .features: return []
        }
    }

    /// The call as written in mlsh, e.g. `impute(strategy="median")` or `standardize($a, $b)`.
    public var description: String {
        if case .features(let f) = self {
            return "features(" + zip(f.names, f.exprs).map { "\($0) = \($1)" }.joined(separator: ", ") + ")"
        }
        var parts = (columns ?? []).map { "$" + $0 }
        parts += settings.map { "\($0.0)=\($0.1)" }
        return kind + "(" + parts.joined(separator: ", ") + ")"
    }

    /// This transform with some settings replaced (used by `tune`).
    public func with(_ changes: [String: SettingValue]) throws(ModelError) -> TransformSpec {
        if case .features = self {
            guard let name = changes.keys.sorted().first else { return self }
            throw .unknownSetting(kind: kind, name: name, accepted: [], suggestion: nil)
        }
        var d = Dictionary(settings, uniquingKeysWith: { a, _ in a })
        for (k, v) in changes { d[k] = v }
        return try TransformSpec.make(kind: kind, settings: d, columns: columns)
    }
}

/// Transforms followed by at most one model: what `>>` builds and `fit` accepts.
public struct PipelineSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    public var steps: [TransformSpec]
    public var model: ModelSpec?

    public init(steps: [TransformSpec] = [], model: ModelSpec? = nil) { self.steps = steps; self.model = model }
    /// A pipeline of one model.
    public init(_ model: ModelSpec) { self.steps = []; self.model = model }
    /// A pipeline of one transform.
    public init(_ step: TransformSpec) { self.steps = [step]; self.model = nil }

    /// `a >> b`: the steps of `a` then those of `b`; only the last part may hold a model.
    public static func compose(_ a: PipelineSpec, _ b: PipelineSpec) throws(ModelError) -> PipelineSpec {
        guard a.model == nil else { throw .modelNotLast }
        return PipelineSpec(steps: a.steps + b.steps, model: b.model)
    }

    /// The raw columns the pipeline's `features` steps read (not computed by an earlier one).
    var featureReads: [String] {
        var out: [String] = [], made: Set<String> = []
        for case .features(let f) in steps {
            for c in f.reads where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.formUnion(f.names)
        }
        return out
    }

    /// The columns the pipeline's `features` steps compute.
    var featureNames: Set<String> {
        var out: Set<String> = []
        for case .features(let f) in steps { out.formUnion(f.names) }
        return out
    }

    /// Steps joined with `>>`.
    public var description: String {
        var parts = steps.map(\.description)
        if let model { parts.append(model.description) }
        return parts.isEmpty ? "pipeline()" : parts.joined(separator: " >> ")
    }
}
