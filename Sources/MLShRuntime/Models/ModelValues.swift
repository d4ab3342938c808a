import MLShEngine
import MLShLanguage
import MLShModels

/// A transform, model spec or pipeline as a value: `standardize()`, `ridge(alpha=1)`,
/// `impute("median") >> logistic()`.
final class SpecValue: DomainObject {
    let spec: PipelineSpec
    init(_ spec: PipelineSpec) { self.spec = spec }

    var typeName: String {
        if spec.model == nil { return spec.steps.count == 1 ? "transform" : "pipeline" }
        return spec.steps.isEmpty ? "model spec" : "pipeline"
    }
    func render() -> String { spec.description }
    var summary: String { spec.description }
    var memberNames: [String] { spec.model?.settings.map(\.0) ?? [] }
    func member(_ name: String) throws(MLShError) -> Value? {
        guard let s = spec.model?.settings.first(where: { $0.0 == name }) else { return nil }
        return s.1.language
    }
    func isEqual(to other: any DomainObject) -> Bool { (other as? SpecValue)?.spec == spec }

    /// `a >> b`: the pipeline of two transforms, or of transforms and a model.
    func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value? {
        guard op == .compose, case .object(let o as SpecValue) = other else { return nil }
        let (a, b) = side == .left ? (spec, o.spec) : (o.spec, spec)
        return .object(SpecValue(try modeling { () throws(ModelError) in try PipelineSpec.compose(a, b) }))
    }
}

/// A fitted model (or pipeline): what `fit` returns and `predict` uses.
final class ModelValue: DomainObject {
    let model: FittedModel
    init(_ model: FittedModel) { self.model = model }

    var typeName: String { "model" }
    var summary: String { "<model \(model.spec.description)>" }
    func render() -> String {
        let s = model.summary
        var lines = ["model \(s.spec)"]
        lines.append("  task      \(s.task)" + (s.target.map { ", target \($0)" } ?? ""))
        let names = s.features.map(\.name)
        let shown = names.count > 8 ? names.prefix(8).joined(separator: ", ") + ", … (\(names.count))" : names.joined(separator: ", ")
        lines.append("  features  \(shown)")
        if !s.classes.isEmpty { lines.append("  classes   \(s.classes.joined(separator: ", "))") }
        if !s.trainingMetrics.isEmpty {
            lines.append("  training  " + s.trainingMetrics.map { "\($0.name) \(formatFloat(roundForDisplay($0.value)))" }.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }
    var memberNames: [String] {
        ["kind", "task", "target", "features", "classes", "spec", "metrics", "coefficients", "intercept", "centers",
         "inertia", "n_iter"]
    }
    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "kind": return .string(model.kind)
        case "task": return .string(model.task.rawValue)
        case "target": return model.target.map { .string($0) } ?? Value.none
        case "features": return .list(model.features.map { .string($0.name) })
        case "classes": return .list(model.classes.map { .string($0) })
        case "spec": return .object(SpecValue(model.spec))
        case "metrics": return .record(Record(model.trainingMetrics.map { ($0.0, .float($0.1)) }))
        case "coefficients":
            guard let c = model.coefficients else { return Value.none }
            return c.count == 1 ? numbers(c[0]) : .list(c.map(numbers))
        case "intercept":
            guard let i = model.intercept else { return Value.none }
            return i.count == 1 ? .float(i[0]) : numbers(i)
        case "centers":
            guard let c = model.centers else { return Value.none }
            return .list(c.map(numbers))
        case "inertia": return model.kmeansFit.map { .float($0.inertia) } ?? Value.none
        case "n_iter": return model.kmeansFit?.iterations.map { .int(Int64($0)) } ?? Value.none
        default: return nil
        }
    }
    func numbers(_ xs: [Double]) -> Value { .list(xs.map { .float($0) }) }
}

/// The metrics `evaluate` returns: a record of named figures that prints as a table.
final class MetricsValue: DomainObject {
    let metrics: Metrics
    init(_ metrics: Metrics) { self.metrics = metrics }

    var typeName: String { "metrics" }
    var summary: String {
        "{" + metrics.values.map { "\($0.0): \(formatFloat($0.1))" }.joined(separator: ", ") + "}"
    }
    func render() -> String {
        let width = metrics.values.map(\.0.count).max() ?? 0
        var lines = metrics.values.map { name, v in
            name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + formatFloat(roundForDisplay(v))
        }
        if let c = metrics.confusion {
            lines.append("confusion (rows: actual, columns: predicted)")
            lines.append(TableFormatter(maxRows: 30).render(c, name: nil))
        }
        return lines.joined(separator: "\n")
    }
    var memberNames: [String] { metrics.values.map(\.0) + (metrics.confusion == nil ? [] : ["confusion"]) }
    func member(_ name: String) throws(MLShError) -> Value? {
        if name == "confusion", let c = metrics.confusion { return .object(TableValue(c)) }
        if metrics.task == .regression, Self.classification.contains(name) {
            throw MLShError(.key, "\(name) is a classification metric, but the model does regression (it has: "
                            + memberNames.joined(separator: ", ") + "); a number target is regressed unless fit(..., task=\"classification\")")
        }
        return metrics[name].map { .float($0) }
    }
    static let classification: Set<String> = ["accuracy", "precision", "recall", "f1", "auc", "logloss", "confusion"]
    var length: Int? { metrics.values.count }
    /// The metrics as a plain record (what `log` records).
    var record: Record { Record(metrics.values.map { ($0.0, .float($0.1)) }) }
}

/// Six significant decimals for figures shown in tables (the value itself is exact).
func roundForDisplay(_ d: Double) -> Double {
    guard d.isFinite, d != 0 else { return d }
    let magnitude = Int((Swift.abs(d)).log10Floor)
    let digits = max(0, 6 - magnitude - 1)
    guard digits < 15 else { return d }
    let p = pow10(digits)
    return (d * p).rounded() / p
}

private func pow10(_ n: Int) -> Double { var x = 1.0; for _ in 0..<n { x *= 10 }; return x }

private extension Double {
    var log10Floor: Double {
        var x = self, e = 0.0
        while x >= 10 { x /= 10; e += 1 }
        while x < 1 { x *= 10; e -= 1 }
        return e
    }
}

extension SettingValue {
    /// The setting as a language value.
    var language: Value {
        switch self {
        case .number(let d): return .float(d)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .strings(let xs): return .list(xs.map { .string($0) })
        case .none: return .none
        }
    }
}

extension Value {
    /// The value as a model setting (lists of names or `$columns` become string lists).
    func setting(_ what: String) throws(MLShError) -> SettingValue {
        switch self {
        case .float(let d): return .number(d)
        case .int(let i): return .int(i)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .none
        case .list(let xs): return .strings(try DataArgs.columnNames(xs, what))
        default: throw MLShError.type("\(what) must be a number, string, bool or list, got \(typeName)")
        }
    }
}
