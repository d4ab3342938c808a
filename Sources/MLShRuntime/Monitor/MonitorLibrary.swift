import MLShEngine
import MLShLanguage
import MLShMonitor

/// Monitoring builtins: `drift(reference, current, method=none)` (§8).
struct MonitorLibrary: Library {
    func register(into interp: Interpreter) {
        for b in builtins { interp.register(b) }
    }

    var builtins: [Builtin] { [
        Builtin("drift", ["reference", "current", "method=none"], category: "monitoring",
                summary: "Per-feature drift of current data from a reference: feature, method, score, threshold, drifted (Evidently's default tests; method=\"ks\", \"wasserstein\", \"chisquare\", \"jensenshannon\" or \"psi\").",
                example: #"drift(train, requests(d))"#) { a, _ throws(MLShError) in
            let reference = try a.table("reference")
            let current = try a.table("current")
            var method: DriftMethod?
            if a["method"] != nil {
                let name = try a.string("method")
                guard let m = DriftMethod(rawValue: name) else { throw DriftError.unknownMethod(name).language }
                method = m
            }
            let scores = try bridged { () throws(DriftError) in
                try Drift.scores(reference: reference, current: current, method: method)
            }
            return .object(TableValue(try engine { () throws(EngineError) in try Drift.table(scores) }))
        },
    ] }
}
