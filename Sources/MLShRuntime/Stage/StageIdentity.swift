import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShStore

/// Content identities of values, the parts of a stage's cache key: equal content gives
/// equal identities however the value was made (a table by its fingerprint, a model by
/// the SHA-256 of its model file, a function by its normalised source and what it reads).
enum StageIdentity {
    /// A stage reads a value a cache key cannot be made of (a deployment, a run).
    struct Unkeyable: Error { let typeName: String }
    /// A stage reads the value of a stale stage (`mlsh stages` does not compute those).
    struct Pending: Error { let stage: String }

    /// The identity of `v`. Functions are followed into what they read (a function that
    /// reads itself is named once).
    static func of(_ v: Value) throws -> String {
        var visiting = Set<ObjectIdentifier>()
        return try of(v, &visiting)
    }

    static func of(_ v: Value, _ visiting: inout Set<ObjectIdentifier>) throws -> String {
        switch v {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return "int:\(i)"
        case .float(let d): return "float:" + String(d.bitPattern, radix: 16)
        case .string(let s): return s.utf8.count <= 64 ? "string:" + s.debugDescription : "string:" + digest(s)
        case .expr(let e): return "expr:" + e.text
        case .list(let xs):
            var parts: [String] = []
            for x in xs { parts.append(try of(x, &visiting)) }
            return "list:" + digest(parts.joined(separator: "\n"))
        case .record(let r):
            var parts: [String] = []
            for (k, x) in r.pairs { parts.append(k.debugDescription + "=" + (try of(x, &visiting))) }
            return "record:" + digest(parts.joined(separator: "\n"))
        case .function(let f):
            if f.isBuiltin { return "builtin:" + (f.name ?? "") }
            let id = ObjectIdentifier(f)
            if visiting.contains(id) { return "fn:self" }
            visiting.insert(id)
            defer { visiting.remove(id) }
            var parts = [f.normalizedSource ?? ""]
            for (name, value) in f.capturedValues { parts.append(name + "=" + (try of(value, &visiting))) }
            return "fn:" + digest(parts.joined(separator: "\n"))
        case .object(let o):
            return try object(o)
        }
    }

    static func object(_ o: any DomainObject) throws -> String {
        switch o {
        case let t as TableValue: return "table:" + t.fingerprint
        case let c as ColumnValue: return "column:" + c.name.debugDescription + ":" + (try columnTable(c).fingerprint())
        case let m as ModelValue: return "model:" + digest(try ModelFile.encode(m.model, mlshVersion: Runtime.version))
        case let s as SpecValue: return "spec:" + digest(try JSONEncoder().encode(s.spec))
        case let m as MetricsValue:
            var parts = m.metrics.values.map { "\($0.0)=\(String($0.1.bitPattern, radix: 16))" }
            if let c = m.metrics.confusion { parts.append("confusion=" + c.fingerprint()) }
            return "metrics:" + digest(parts.joined(separator: "\n"))
        case let p as PlotValue: return "plot:" + digest(p.plot.svg())
        case let g as GroupedValue: return "grouped:" + g.keyNames.joined(separator: ",") + ":" + g.table.fingerprint()
        case let e as ExperimentValue: return "experiment:" + e.name.debugDescription
        case let v as ModelVersionValue: return "model-version:" + v.version.label + ":" + v.version.artifact
        case let p as PendingStageValue: throw Pending(stage: p.stage)
        default: throw Unkeyable(typeName: o.typeName)
        }
    }

    /// A column as a one-column table.
    static func columnTable(_ c: ColumnValue) throws(MLShError) -> Table {
        try engine { () throws(EngineError) in try Table(names: [c.name], columns: [c.column]) }
    }

    /// Hex SHA-256 of text or bytes.
    static func digest(_ s: String) -> String { digest(Array(s.utf8)) }
    static func digest(_ bytes: [UInt8]) -> String {
        var h = SHA256()
        h.update(bytes)
        return h.hexDigest()
    }
    static func digest(_ data: Data) -> String { digest([UInt8](data)) }
}

/// What `mlsh stages` binds to the value of a stale stage it did not compute: any use is
/// an error, and a stage reading it is stale in turn.
final class PendingStageValue: DomainObject {
    /// The stale stage (or stages) the value would come from.
    let stage: String
    init(stage: String) { self.stage = stage }
    var typeName: String { "value of stale stage \(stage)" }
    func render() -> String { "<not computed: stage \(stage) is stale>" }
}
