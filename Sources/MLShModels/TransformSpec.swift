import MLShCommon
import MLShEngine

/// Any transform's parameters: one transform's spec (an `ImputeSpec`, ...), made by a call
/// (`TransformSpec.make`) or by the factory beside each spec (`.impute(ImputeSpec())`), or the
/// expressions of a `features` step.
public struct TransformSpec: Codable, Sendable, Equatable, CustomStringConvertible, CaseCoded {
    /// The spec of a registered transform; nil for `features`.
    let parameters: (any Transform)?
    /// The expressions of a `features` step; nil for the others.
    let featuresSpec: FeaturesSpec?

    /// Every transform but `features` (which the runtime builds from expressions), in `:help` order.
    public static let transforms: [TransformDescriptor] = [
        StandardizeSpec.descriptor, MinMaxSpec.descriptor, ImputeSpec.descriptor, OneHotSpec.descriptor,
        BinSpec.descriptor, PolySpec.descriptor, SelectFeaturesSpec.descriptor, PCASpec.descriptor,
    ]

    /// The spec if it is an `S` (`step.spec(as: ImputeSpec.self)`), nil otherwise.
    public func spec<S>(as type: S.Type) -> S? { parameters.map { $0 as? S } ?? featuresSpec as? S }

    /// The transform of spec `parameters`.
    init(_ parameters: any Transform) { self.parameters = parameters; featuresSpec = nil }
    /// The `features` step of `spec`.
    init(features spec: FeaturesSpec) { parameters = nil; featuresSpec = spec }

    /// Two transforms are equal when their specs are of one type and equal.
    public static func == (a: TransformSpec, b: TransformSpec) -> Bool {
        if let p = a.parameters, let q = b.parameters { return p.isEqual(to: q) }
        return a.parameters == nil && b.parameters == nil && a.featuresSpec == b.featuresSpec
    }

    /// The coding keys of every transform and `features`.
    static let caseKeys = Set(transforms.map(\.codingKey) + ["features"])

    /// Reads the form model files store, `{"<codingKey>": {"_0": <spec>}}` (see `CaseCoded`).
    public init(from decoder: any Decoder) throws {
        self = try TransformSpec.decodeCase(from: decoder) { key, payload, at in
            if key == "features" { return TransformSpec(features: try payload.decode(FeaturesSpec.self, forKey: at)) }
            return try TransformSpec.transforms.first { $0.codingKey == key }.map { TransformSpec(try payload.decode($0.specType, forKey: at)) }
        }
    }

    /// Writes `{"<codingKey>": {"_0": <spec>}}`.
    public func encode(to encoder: any Encoder) throws {
        if let p = parameters {
            try TransformSpec.encodeCase(type(of: p).descriptor.codingKey, p, to: encoder)
        } else {
            try TransformSpec.encodeCase("features", featuresSpec, to: encoder)
        }
    }

    /// The transform with `name` taken out of the columns it names (unchanged when it
    /// names none: it then applies to every fitting feature).
    func excluding(_ name: String) -> TransformSpec {
        guard let p = parameters, let cols = p.columns, cols.contains(name) else { return self }
        return type(of: p).descriptor.rebuild(p, cols.filter { $0 != name }) ?? self
    }

    /// Every transform name, as called in mlsh.
    public static let kinds = transforms.map(\.name)

    /// The transform called `name`, if there is one (`features` has none).
    public static func descriptor(named name: String) -> TransformDescriptor? {
        transforms.first { $0.name == name }
    }

    /// Builds a transform from a call's name, settings and named columns (nil: the default columns).
    public static func make(kind: String, settings: [String: SettingValue], columns: [String]? = nil) throws(ModelError) -> TransformSpec {
        guard let d = descriptor(named: kind) else {
            throw .unknownKind(kind, accepted: kinds, suggestion: closestName(to: kind, in: kinds))
        }
        return try d.make(settings, columns: columns)
    }

    /// The transform's name as called in mlsh.
    public var kind: String { parameters.map { type(of: $0).descriptor.name } ?? "features" }

    /// The named columns, or nil for the default set.
    public var columns: [String]? { parameters?.columns }

    /// Every setting with its value, leaving out those whose descriptor hides them at their default.
    public var settings: [(String, SettingValue)] {
        guard let p = parameters else { return [] }
        let d = type(of: p).descriptor
        return zip(d.settings, d.values(p)).filter { $0.shownAtDefault || $1 != $0.defaultValue }.map { ($0.key, $1) }
    }

    /// Checks the settings as a call would; `fit` does this first.
    func validate() throws(ModelError) {
        guard let p = parameters else { return }
        let d = type(of: p).descriptor
        try checkValues(d.values(p), kind: d.name, rows: d.settings)
    }

    /// The call as written in mlsh, e.g. `impute(strategy="median")` or `standardize($a, $b)`.
    public var description: String {
        if let f = featuresSpec {
            return "features(" + zip(f.names, f.exprs).map { "\($0) = \($1)" }.joined(separator: ", ") + ")"
        }
        var parts = (columns ?? []).map { "$" + $0 }
        parts += settings.map { "\($0.0)=\($0.1)" }
        return kind + "(" + parts.joined(separator: ", ") + ")"
    }

    /// This transform with some settings replaced (used by `tune`).
    public func with(_ changes: [String: SettingValue]) throws(ModelError) -> TransformSpec {
        if featuresSpec != nil {
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
        for f in steps.compactMap(\.featuresSpec) {
            for c in f.reads where !made.contains(c) && !out.contains(c) { out.append(c) }
            made.formUnion(f.names)
        }
        return out
    }

    /// The columns the pipeline's `features` steps compute.
    var featureNames: Set<String> {
        var out: Set<String> = []
        for f in steps.compactMap(\.featuresSpec) { out.formUnion(f.names) }
        return out
    }

    /// Steps joined with `>>`.
    public var description: String {
        var parts = steps.map(\.description)
        if let model { parts.append(model.description) }
        return parts.isEmpty ? "pipeline()" : parts.joined(separator: " >> ")
    }
}
