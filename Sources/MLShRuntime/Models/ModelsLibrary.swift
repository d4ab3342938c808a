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
        func transform(_ d: TransformDescriptor) -> Builtin {
            Builtin(d.name, ["...", "**"], category: "transforms", summary: d.summary, example: d.example) { a, _ throws(MLShError) in
                var settings = try ModelsLibrary.settings(a)
                var columnArgs = a.extra
                // impute("median"), poly(2), select_features(5): a leading plain value is the main setting.
                if let positional = d.positional, let first = columnArgs.first, !(first.isColumnReference) {
                    settings[positional] = try first.setting("\(d.name) \(positional)")
                    columnArgs.removeFirst()
                }
                let cols = columnArgs.isEmpty ? nil : try DataArgs.columnNames(columnArgs, d.name)
                let spec = try modeling { () throws(ModelError) in try d.make(settings, columns: cols) }
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
        return [features] + TransformSpec.transforms.map(transform)
    }

    // MARK: models

    var models: [Builtin] {
        ModelSpec.estimators.map { d in
            let defaults = d.settings.map { "\($0.key)=\($0.defaultValue)" }
            return Builtin(d.name, ["**"], category: "models", summary: d.summary + " Settings and defaults: " +
                    (defaults.isEmpty ? "none." : defaults.joined(separator: ", ") + "."),
                    example: d.example) { a, _ throws(MLShError) in
                let settings = try ModelsLibrary.settings(a)
                let spec = try modeling { () throws(ModelError) in try d.make(settings) }
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
