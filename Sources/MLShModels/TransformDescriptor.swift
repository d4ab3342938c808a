/// A transform's parameters (a spec struct such as `ImputeSpec`): `columns` nil means the
/// default columns, its descriptor names, documents, checks and builds it, and `fit` learns
/// its state.
protocol Transform: Codable, Equatable, Sendable {
    var columns: [String]? { get set }
    static var descriptor: TransformDescriptor { get }
    /// The columns it applies to in `frame` when the call names none.
    func defaultColumns(_ frame: Frame) -> [String]
    /// Learns the transform's state from the training frame, on `columns` (named or resolved).
    func fit(_ frame: Frame, columns: [String], target: TargetValues) throws(ModelError) -> FittedTransform
}

extension Transform {
    /// Numeric columns.
    func defaultColumns(_ frame: Frame) -> [String] { frame.numericNames }
}

/// One transform, described once: its name, its help, its settings, and how a call's
/// settings and columns build its spec. The registry `TransformSpec.transforms` lists them all.
public struct TransformDescriptor: Sendable {
    /// The name it is called by (`select_features`).
    public let name: String
    /// The key model files store its spec under (`selectFeatures`).
    let codingKey: String
    /// Its spec's type.
    let specType: any Transform.Type
    /// One sentence for `:help`.
    public let summary: String
    /// A call for `:help`.
    public let example: String
    /// The kind of step its `fit` learns.
    let fittedType: any FittedStep.Type
    /// The setting a leading plain argument gives (`impute("median")`), if any.
    public let positional: String?
    /// Its settings in call order, each with its default (from `defaults`).
    public let settings: [SettingDescriptor]
    /// The spec from checked settings (every key present) and columns.
    let build: @Sendable ([String: SettingValue], [String]?) -> TransformSpec
    /// The spec's setting values in `settings` order.
    let values: @Sendable (any Transform) -> [SettingValue]
    /// The spec with other columns.
    let rebuild: @Sendable (any Transform, [String]?) -> TransformSpec?

    /// The descriptor of spec `S`: `codingKey` is `name` unless given, `fitted` is the kind of step it
    /// learns, `defaults` the spec a call without settings builds.
    init<S: Transform>(name: String, codingKey: String? = nil, summary: String, example: String, positional: String? = nil,
                       fitted: any FittedStep.Type, defaults: S, settings fields: [Setting<S>]) {
        self.codingKey = codingKey ?? name; specType = S.self
        self.name = name; self.summary = summary; self.example = example; self.positional = positional
        fittedType = fitted
        settings = fields.map { $0.descriptor(defaults: defaults) }
        build = { checked, columns in
            var s = defaults
            for f in fields { if let v = checked[f.key] { f.set(&s, v) } }
            s.columns = columns
            return TransformSpec(s)
        }
        values = { spec in (spec as? S).map { s in fields.map { $0.get(s) } } ?? [] }
        rebuild = { spec, columns in
            guard var s = spec as? S else { return nil }
            s.columns = columns
            return TransformSpec(s)
        }
    }

    /// Builds the spec of a call's settings and columns; an unknown key, a wrong type or a value out of range is an error.
    public func make(_ settings: [String: SettingValue], columns: [String]?) throws(ModelError) -> TransformSpec {
        build(try checkSettings(settings, kind: name, rows: self.settings), columns)
    }
}
