import Foundation
import MLShCommon
import MLShStore

/// Alerts as Prometheus alerting rules over the servers' `/metrics`: each condition is
/// translated to PromQL over `mlsh_signal{model_name, signal}` and
/// `mlsh_feature_drifted{model_name, feature}` (the values the servers evaluate their own
/// alerts on, the largest among a model's servers), with `for` from `hold`.
public enum PrometheusRules {
    /// The rules file (YAML) for these alerts.
    public static func yaml(_ rules: [AlertRuleRecord]) -> String {
        var out = "# Written by `mlsh alerts --prometheus`: the alerts of the store as Prometheus alerting rules.\ngroups:\n  - name: mlsh\n    rules:\n"
        if rules.isEmpty { out = out.replacingOccurrences(of: "    rules:\n", with: "    rules: []\n") }
        for r in rules {
            guard let tree = (try? JSONParser.parse(r.tree)).flatMap({ AlertExpr(json: $0) }) else { continue }
            out += "      - alert: \(quoted(r.name))\n"
            out += "        expr: \(quoted("(" + tree.promQL(model: r.model) + ") > 0"))\n"
            out += "        for: \(duration(r.hold))\n"
            out += "        labels:\n          model: \(quoted(r.model))\n"
            out += "        annotations:\n          condition: \(quoted(r.condition))\n"
        }
        return out
    }

    /// A YAML double-quoted string (a JSON string is one).
    static func quoted(_ s: String) -> String { JSONWriter.text(.string(s)) }

    /// Seconds as a Prometheus duration (`600` → `10m`).
    static func duration(_ seconds: Double) -> String {
        let ms = Int((seconds * 1000).rounded())
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1000 == 0 { return "\(ms / 1000)s" }
        return "\(ms)ms"
    }
}

extension AlertExpr {
    /// The condition in PromQL: signals as the largest `mlsh_signal` of the model's servers,
    /// comparisons with `bool` (1 or 0), `and`/`or`/`not` on those.
    public func promQL(model: String) -> String {
        let name = PrometheusRules.quoted(model)
        switch self {
        case .number(let d): return d.isFinite ? String(d) : (d.isNaN ? "NaN" : (d > 0 ? "+Inf" : "-Inf"))
        // A signal no server reports is NaN, a feature no server scored is not drifted.
        case .signal(let s): return "(max(mlsh_signal{model_name=\(name),signal=\(PrometheusRules.quoted(s))}) or vector(NaN))"
        case .drifted(let f): return "(max(mlsh_feature_drifted{model_name=\(name),feature=\(PrometheusRules.quoted(f))}) or vector(0))"
        case .not(let e): return "(\(e.promQL(model: model)) == bool 0)"
        case .negate(let e): return "-(\(e.promQL(model: model)))"
        case .binary(let op, let a, let b):
            let x = a.promQL(model: model), y = b.promQL(model: model)
            switch op {
            case "and": return "((\(x) != bool 0) * (\(y) != bool 0))"
            case "or": return "clamp_max((\(x) != bool 0) + (\(y) != bool 0), 1)"
            case "+", "-", "*", "/": return "(\(x) \(op) \(y))"
            default: return "(\(x) \(op) bool \(y))"
            }
        }
    }
}
