import MLShEngine
import MLShLanguage
import MLShModels
import MLShMonitor

/// Monitoring builtins: `drift(reference, current, method=none)` (§8) and
/// `anomalies(reference, current, ...)`.
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
        Builtin("anomalies", ["reference", "current", "trees=100", "sample=256", "contamination=\"auto\"", "seed=0"],
                category: "monitoring",
                summary: "Current data with anomaly_score (scikit-learn's score_samples: lower is more abnormal) and anomaly (bool) from an isolation_forest fitted on the reference's numeric columns that current also has.",
                example: #"anomalies(train, requests(d)) |> filter($anomaly)"#) { a, _ throws(MLShError) in
            let reference = try a.table("reference"), current = try a.table("current")
            var settings: [String: SettingValue] = [:]
            for key in ["trees", "sample", "contamination", "seed"] {
                if let v = a[key] { settings[key] = try v.setting("anomalies \(key)") }
            }
            let (score, flag) = try modeling { () throws(ModelError) in
                try Anomalies.score(reference: reference, current: current, settings: settings)
            }
            var out = try engine { () throws(EngineError) in
                try current.setting("anomaly_score", score).setting("anomaly", flag)
            }
            out.label = current.label
            return .object(TableValue(out))
        },
    ] }
}

/// `anomalies(reference, current)`: an isolation forest fitted on the reference, scoring current rows.
enum Anomalies {
    /// The columns `anomalies` appends (replacing them when current has them).
    static let added = ["anomaly_score", "anomaly"]

    /// The numeric columns of `reference` (in its order) that `current` also has as numbers;
    /// a request log's own columns and the appended ones are left out.
    static func features(_ reference: Table, _ current: Table) -> [String] {
        func numeric(_ c: Column) -> Bool { c.dtype == .int || c.dtype == .float }
        return zip(reference.names, reference.columns).compactMap { name, col in
            guard numeric(col), !added.contains(name), !Drift.requestLogColumns.contains(name),
                  let i = current.index(of: name), numeric(current.columns[i]) else { return nil }
            return name
        }
    }

    /// Fits `isolation_forest(settings)` on `reference` and scores `current`: each row's score
    /// (lower is more abnormal) and outlier flag.
    static func score(reference: Table, current: Table,
                      settings: [String: SettingValue]) throws(ModelError) -> (score: Column, flag: Column) {
        let spec = try ModelSpec.make(kind: "isolation_forest", settings: settings)
        guard reference.rowCount > 0 else { throw .invalid("anomalies: the reference table has no rows") }
        let names = features(reference, current)
        guard !names.isEmpty else {
            throw .invalid("anomalies: reference and current share no numeric column (reference: "
                           + reference.names.joined(separator: ", ") + "; current: " + current.names.joined(separator: ", ") + ")")
        }
        /// A missing value names the table it is in.
        func naming<T>(_ side: String, _ body: () throws(ModelError) -> T) throws(ModelError) -> T {
            do { return try body() } catch {
                guard case .missingValues(let column, let count) = error else { throw error }
                throw .invalid("anomalies: column \(column) has \(count) missing value\(count == 1 ? "" : "s") in the \(side) table; drop those rows first")
            }
        }
        let model = try naming("reference") { () throws(ModelError) in
            try fit(PipelineSpec(spec), on: reference, target: nil, features: names)
        }
        let predicted = try naming("current") { () throws(ModelError) in try model.predictions(current) }
        guard let flag = predicted.first(where: { $0.name == "prediction" })?.column,
              let score = predicted.first(where: { $0.name == "score" })?.column
        else { throw .invalid("anomalies: the isolation forest gave no scores") }
        return (score, flag)
    }
}
