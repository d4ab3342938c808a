import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShServe
import MLShStore

/// Alerts on served models: `alert(model, name, when=, hold=, notify=)` writes a rule every
/// server of that model evaluates; `alerts()` lists what fired and resolved.
extension StoreLibrary {
    static func alertBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("alert", ["model", "name", "when", "hold=\"0s\"", "notify=none"], category: "deployment",
                summary: "An alert on a served model: fires when the condition (an mls expression over drift_share, drifted(\"f\"), anomaly_share, rmse, mae, r2, accuracy, f1, auc, error_rate, p99_ms, requests, labeled) has held for hold; each firing and resolving is stored and POSTed to notify in Alertmanager's webhook format.",
                example: #"alert("diabetes", "drifting", when="drift_share > 0.3 or rmse > 60", hold="10m", notify="http://127.0.0.1:9093/hook")"#) { a, _ throws(MLShError) in
            let model: String
            switch try a.value("model") {
            case .string(let s): model = s
            case .object(let d as DeploymentValue):
                guard let name = d.server.service.routes.first?.model.name else { throw MLShError(.serve, "alert: the deployment serves nothing") }
                model = name
            case let v: throw MLShError.type("alert: 'model' must be a model name or a deployment, got \(v.typeName)")
            }
            let name = try a.string("name"), when = try a.string("when")
            let tree = try alertTree(when)
            let hold = try duration(a["hold"] ?? .string("0s"), "alert: hold")
            let notify = try a.optionalString("notify")
            if let notify, !(notify.hasPrefix("http://") || notify.hasPrefix("https://")) || URL(string: notify)?.host == nil {
                throw MLShError.value("alert: notify must be an http:// URL, got \"\(notify)\"")
            }
            let store = try session.store()
            try storing { () throws(StoreError) in
                try store.putAlertRule(AlertRuleRecord(model: model, name: name, condition: when, tree: JSONWriter.text(tree.json),
                                                       hold: hold, notify: notify))
            }
            return .record(Record([("model", .string(model)), ("name", .string(name)), ("when", .string(when)),
                                   ("hold", .float(hold)), ("notify", notify.map { .string($0) } ?? .none)]))
        },
        Builtin("alerts", [], category: "deployment",
                summary: "Every alert transition the servers recorded: a table of model, alert, status (firing or resolved), value, at.",
                example: "alerts() |> filter($status == \"firing\")") { _, _ throws(MLShError) in
            var events: [AlertEventRecord] = []
            if session.exists {
                let store = try session.store()
                events = try storing { () throws(StoreError) in try store.alertEvents() }
            }
            return .object(TableValue(try StoreTables.alerts(events)))
        },
    ] }

    /// The condition parsed as mls and checked: signals, `drifted("feature")`, numbers,
    /// booleans, arithmetic, comparisons, `and`/`or`/`not`. An error points into the text.
    static func alertTree(_ text: String) throws(MLShError) -> AlertExpr {
        try conditionTree(text, names: AlertExpr.signals, what: "alert")
    }

    /// An alert condition or a retraining gate parsed as mls and checked against the
    /// names it may use (`champion.rmse` names a member of the champion's figures).
    static func conditionTree(_ text: String, names: [String], what: String) throws(MLShError) -> AlertExpr {
        let file = SourceFile(name: "<\(what)>", text: text)
        let (statements, errors) = parse(file)
        if let e = errors.first { throw e }
        let alert = what == "alert"
        let example = alert ? "\"drift_share > 0.3 or rmse > 60\"" : "\"rmse <= champion.rmse * 0.98\""
        guard statements.count == 1, case .exprStmt(let root, _) = statements[0].kind else {
            throw MLShError.value("\(what): the condition is one expression, such as \(example)")
        }
        let known = alert ? "signals: \(names.joined(separator: ", ")), drifted(\"feature\")"
                          : "figures: \(names.filter { !$0.contains(".") }.joined(separator: ", ")), and the champion's as champion.\(names.first ?? "rmse"), ..."
        func name(_ s: String, _ n: Node) throws(MLShError) -> AlertExpr {
            guard names.contains(s) else {
                var m = "\(what): unknown \(alert ? "signal" : "figure") '\(s)' (\(known))"
                if let c = closestName(to: s, in: names) { m += "; did you mean '\(c)'?" }
                throw MLShError(.name, m, span: n.span)
            }
            return .signal(s)
        }
        func convert(_ n: Node) throws(MLShError) -> AlertExpr {
            switch n.kind {
            case .intLit(let i): return .number(Double(i))
            case .floatLit(let d): return .number(d)
            case .boolLit(let b): return .number(b ? 1 : 0)
            case .name(let s): return try name(s, n)
            case .field(let base, let member):
                guard !alert, case .name(let b) = base.kind else { break }
                return try name(b + "." + member, n)
            case .call(let callee, let args):
                guard alert, case .name("drifted") = callee.kind else { break }
                guard args.count == 1, args[0].name == nil, case .stringLit(let f) = args[0].value.kind else {
                    throw MLShError(.type, "alert: drifted takes one feature name, drifted(\"bmi\")", span: n.span)
                }
                return .drifted(f)
            case .unary(let op, let e): return op == .not ? .not(try convert(e)) : .negate(try convert(e))
            case .binary(let op, let l, let r):
                guard AlertExpr.operators.contains(op.rawValue) else { break }
                return .binary(op.rawValue, try convert(l), try convert(r))
            default: break
            }
            let uses = alert ? "signals, drifted(\"feature\")" : "figures, champion.figures"
            throw MLShError(.type, "\(what): a condition uses \(uses), numbers, arithmetic, comparisons, and, or, not", span: n.span)
        }
        return try convert(root)
    }

    /// `"10m"`, `"30s"`, `"1h"`, `"500ms"`, `"1d"` or a number of seconds.
    static func duration(_ v: Value, _ what: String) throws(MLShError) -> Double {
        if let d = v.number, d >= 0, d.isFinite { return d }
        guard case .string(let s) = v else { throw MLShError.type("\(what) must be a duration such as \"10m\", got \(v.typeName)") }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for (u, k) in units where s.hasSuffix(u) {
            if let n = Double(s.dropLast(u.count)), n >= 0, n.isFinite { return n * k }
        }
        throw MLShError.value("\(what) must be a duration such as \"30s\", \"10m\" or \"1h\", got \"\(s)\"")
    }
}
