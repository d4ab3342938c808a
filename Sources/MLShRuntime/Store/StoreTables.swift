import MLShEngine
import MLShLanguage
import MLShStore

/// The store's tables as the language shows them, for `StoreListing` too.
enum StoreTables {
    /// Runs as `runs(exp)` shows them; with `experimentColumn`, an `experiment` column first.
    static func runs(_ records: [RunRecord], experimentColumn: Bool) throws(MLShError) -> Table {
        let t = try StoreLibrary.runsTable(records)
        guard experimentColumn else { return t }
        return try engine { () throws(EngineError) in
            try Table(names: ["experiment"] + t.names, columns: [Column(strings: records.map(\.experiment))] + t.columns, label: "runs")
        }
    }

    /// Registered versions as `models()` shows them: name version aliases run created.
    static func models(_ vs: [ModelVersionRecord]) throws(MLShError) -> Table {
        try engine { () throws(EngineError) in
            try Table(names: ["name", "version", "aliases", "run", "created"], columns: [
                Column(strings: vs.map(\.name)),
                Column(ints: vs.map(\.version)),
                Column(strings: vs.map { $0.aliases.joined(separator: ",") }),
                Column(ints: vs.map { $0.run ?? 0 }, validity: vs.map { $0.run != nil }),
                Column(strings: vs.map { formatTime($0.created) }),
            ], label: "models")
        }
    }

    /// Data versions as `datasets()` shows them: name version rows columns fingerprint
    /// bytes created run.
    static func datasets(_ vs: [SnapshotRecord]) throws(MLShError) -> Table {
        try engine { () throws(EngineError) in
            try Table(names: ["name", "version", "rows", "columns", "fingerprint", "bytes", "created", "run"], columns: [
                Column(strings: vs.map(\.name)),
                Column(ints: vs.map(\.version)),
                Column(ints: vs.map { Int64($0.rows) }),
                Column(ints: vs.map { Int64($0.columns) }),
                Column(strings: vs.map(\.fingerprint)),
                Column(ints: vs.map { Int64($0.bytes) }),
                Column(strings: vs.map { formatTime($0.created) }),
                Column(ints: vs.map { $0.run ?? 0 }, validity: vs.map { $0.run != nil }),
            ], label: "datasets")
        }
    }

    /// Alert transitions as `alerts()` shows them: model alert status value at.
    static func alerts(_ es: [AlertEventRecord]) throws(MLShError) -> Table {
        try engine { () throws(EngineError) in
            try Table(names: ["model", "alert", "status", "value", "at"], columns: [
                Column(strings: es.map(\.model)),
                Column(strings: es.map(\.name)),
                Column(strings: es.map(\.status)),
                Column(floats: es.map { $0.value ?? .nan }),
                Column(strings: es.map { formatTime($0.at) }),
            ], label: "alerts")
        }
    }

    /// `2026-11-29 18:55:09` (UTC) for a Unix time.
    static func time(_ t: Double) -> String { formatTime(t) }
}
