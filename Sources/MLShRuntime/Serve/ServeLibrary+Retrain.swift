import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShServe
import MLShStore

/// The retraining loop: `retrain(model, script=, when= | every= | now, gate=, canary=,
/// after=, promote=)` and `retrains()`.
extension StoreLibrary {
    static func retrainBuiltins(_ session: StoreSession) -> [Builtin] { [
        Builtin("retrain", ["model", "script", "when=none", "every=none", "gate=none", "canary=0", "after=500", "promote=\"production\""],
                category: "deployment",
                summary: "Retrains a served model: the script runs as a run of its experiment (param(\"since\"), param(\"until\") bound the labeled requests to train on) and log_models a challenger; challenger and champion are scored on the most recent labeled rows (a fifth, at least 20, all answered at or after until; the rows of one request share their time, so the labeled traffic must span several requests); one passing the gate (default: rmse <= champion.rmse, or accuracy >= champion.accuracy) is registered, then serves canary of the traffic and is promoted to the alias after `after` labeled answers if its live figures still pass (canary=0 promotes at once; a challenger identical to the champion is gated). promote names the alias (the latest version is the champion until it exists). when= (an alert's name) or every= (\"24h\") store the policy for servers to trigger; with neither, an attempt runs now and is returned.",
                example: #"retrain("diabetes", script="train.mls", when="drifting", gate="rmse <= champion.rmse * 0.98", canary=0.1, after=500)"#) { a, interp throws(MLShError) in
            let model = try a.string("model"), store = try session.existingStore("retrain")
            let when = try a.optionalString("when")
            let script = DataArgs.resolve(try a.string("script"), interp)
            let policy = try Retraining.policy(model: model, script: script, base: nil, when: when, every: a["every"],
                                               gate: try a.optionalString("gate"), canary: try a.double("canary", 0),
                                               after: try a.int("after", 500), promote: try a.string("promote", "production"),
                                               store: store, function: "retrain")
            guard when == nil && policy.every == nil else {
                try storing { () throws(StoreError) in try store.putRetrainPolicy(policy) }
                return .record(policyRecord(policy))
            }
            try session.flush()
            return .record(attemptRecord(try Retraining.now(policy, store: store, folder: session.folder, function: "retrain")))
        },
        Builtin("retrains", [], category: "deployment",
                summary: "Every retraining attempt: a table of id, model, trigger, run, champion, challenger, holdout, challenger_figures, champion_figures, canary_figures, decision (gated, canary, promoted, rolled_back, failed, or running), error, started, ended.",
                example: "retrains() |> filter($decision == \"promoted\")") { _, _ throws(MLShError) in
            var records: [RetrainRecord] = []
            if session.exists {
                let store = try session.store()
                records = try storing { () throws(StoreError) in try store.retrains() }
            }
            return .object(TableValue(try StoreTables.retrains(records)))
        },
    ] }

    static func policyRecord(_ p: RetrainPolicyRecord) -> Record {
        Record([("model", .string(p.model)), ("script", .string(p.script)), ("when", p.onAlert.map { .string($0) } ?? .none),
                ("every", p.every.map { .float($0) } ?? .none), ("gate", .string(p.gate)), ("canary", .float(p.canary)),
                ("after", .int(Int64(p.after))), ("promote", .string(p.promote))])
    }

    /// An attempt as `retrain` returns it: the columns of `retrains()`, figures as records.
    static func attemptRecord(_ r: RetrainRecord) -> Record {
        func figures(_ text: String?) -> Value {
            guard let text, let json = try? JSONParser.parse(text) else { return .none }
            return languageValue(json, floatKey: { _ in true })
        }
        return Record([
            ("id", .int(r.id)), ("model", .string(r.model)), ("trigger", .string(r.trigger)), ("run", r.run.map { .int($0) } ?? .none),
            ("champion", r.champion.map { .int($0) } ?? .none), ("challenger", r.challenger.map { .int($0) } ?? .none),
            ("holdout", r.holdout.map { .int(Int64($0)) } ?? .none), ("challenger_figures", figures(r.challengerFigures)),
            ("champion_figures", figures(r.championFigures)), ("canary_figures", figures(r.canaryFigures)),
            ("decision", .string(r.decision)), ("error", r.error.map { .string($0) } ?? .none),
            ("started", .string(formatTime(r.started))), ("ended", r.ended.map { .string(formatTime($0)) } ?? .none),
        ])
    }
}

extension StoreTables {
    /// Figures as `rmse=52.1, mae=41.9`, in the order recorded.
    static func figuresText(_ text: String?) -> String? {
        guard let text else { return nil }
        guard case .object(let members)? = try? JSONParser.parse(text) else { return text }
        return members.map { k, v in
            if case .object = v { return "\(k): {\(figuresText(JSONWriter.text(v)) ?? "")}" }
            return "\(k)=\(v.double.map { formatFloat(($0 * 10_000).rounded() / 10_000) } ?? JSONWriter.text(v))"
        }.joined(separator: ", ")
    }

    static func retrains(_ rs: [RetrainRecord]) throws(MLShError) -> Table {
        func ints(_ v: [Int64?]) -> Column { Column(ints: v.map { $0 ?? 0 }, validity: v.map { $0 != nil }) }
        return try engine { () throws(EngineError) in
            try Table(names: ["id", "model", "trigger", "run", "champion", "challenger", "holdout", "challenger_figures",
                              "champion_figures", "canary_figures", "decision", "error", "started", "ended"], columns: [
                Column(ints: rs.map(\.id)),
                Column(strings: rs.map(\.model)),
                Column(strings: rs.map(\.trigger)),
                ints(rs.map(\.run)),
                ints(rs.map(\.champion)),
                ints(rs.map(\.challenger)),
                ints(rs.map { $0.holdout.map(Int64.init) }),
                Column(strings: rs.map { figuresText($0.challengerFigures) }),
                Column(strings: rs.map { figuresText($0.championFigures) }),
                Column(strings: rs.map { figuresText($0.canaryFigures) }),
                Column(strings: rs.map(\.decision)),
                Column(strings: rs.map(\.error)),
                Column(strings: rs.map { formatTime($0.started) }),
                Column(strings: rs.map { $0.ended.map(formatTime) }),
            ], label: "retrains")
        }
    }
}
