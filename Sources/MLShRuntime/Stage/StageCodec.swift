import Foundation
import MLShCommon
import MLShEngine
import MLShLanguage
import MLShModels
import MLShPlot
import MLShStore

/// A stage's value in the store: JSON for numbers, strings, lists and records (exactly:
/// ints and floats keep their type and bits), tables and columns as snapshot files, models
/// as model files (both content-addressed blobs), metrics, plots and specs as their data.
enum StageCodec {
    /// An encoded value: its JSON, the blobs it references and their total size.
    struct Stored {
        var json: JSON
        var blobs: [String] = []
        var bytes = 0
    }

    /// What a stage returns; anything else is refused by `encode`.
    static let storable = "a table, column, model, metrics, record, list, number, string, bool, plot or model spec"

    static func encode(_ v: Value, stage: String, store: Store) throws(MLShError) -> Stored {
        var blobs: [String] = [], bytes = 0
        let json = try encode(v, stage, store, &blobs, &bytes)
        return Stored(json: json, blobs: blobs, bytes: bytes)
    }

    static func encode(_ v: Value, _ stage: String, _ store: Store, _ blobs: inout [String], _ bytes: inout Int) throws(MLShError) -> JSON {
        switch v {
        case .none: return .null
        case .bool(let b): return .bool(b)
        case .int(let i): return .object([("int", .string(String(i)))])
        case .float(let d): return .object([("float", .string(String(d.bitPattern, radix: 16)))])
        case .string(let s): return .object([("string", .string(s))])
        case .list(let xs):
            var items: [JSON] = []
            for x in xs { items.append(try encode(x, stage, store, &blobs, &bytes)) }
            return .object([("list", .array(items))])
        case .record(let r):
            var items: [JSON] = []
            for (k, x) in r.pairs { items.append(.array([.string(k), try encode(x, stage, store, &blobs, &bytes)])) }
            return .object([("record", .array(items))])
        case .object(let t as TableValue):
            let (hash, size) = try storing { () throws(StoreError) in try store.putTable(t.table) }
            blobs.append(hash); bytes += size
            return .object([("table", .string(hash)), ("fingerprint", .string(t.fingerprint)), ("rows", JSON(Int64(t.table.rowCount)))])
        case .object(let c as ColumnValue):
            let table = try StageIdentity.columnTable(c)
            let (hash, size) = try storing { () throws(StoreError) in try store.putTable(table) }
            blobs.append(hash); bytes += size
            return .object([("column", .string(hash)), ("name", .string(c.name))])
        case .object(let m as ModelValue):
            let (hash, size) = try storing { () throws(StoreError) in
                let file = try ModelFile.encode(m.model, mlshVersion: Runtime.version)
                return (try store.putArtifact(file), file.count)
            }
            blobs.append(hash); bytes += size
            return .object([("model", .string(hash))])
        case .object(let m as MetricsValue):
            var fields: [(String, JSON)] = [
                ("task", .string(m.metrics.task.rawValue)),
                ("values", .array(m.metrics.values.map { .array([.string($0.0), .string(String($0.1.bitPattern, radix: 16))]) })),
            ]
            if let c = m.metrics.confusion {
                fields.append(("confusion", try encode(.object(TableValue(c)), stage, store, &blobs, &bytes)))
            }
            return .object([("metrics", .object(fields))])
        case .object(let p as PlotValue):
            return .object([("plot", .string(try text(p.plot, stage)))])
        case .object(let s as SpecValue):
            return .object([("spec", .string(try text(s.spec, stage)))])
        default:
            let article = "aeiou".contains(v.typeName.first ?? "x") ? "an" : "a"
            throw MLShError.type("stage \(stage): cannot store its value, \(article) \(v.typeName); a stage returns \(storable)")
        }
    }

    static func text<T: Encodable>(_ value: T, _ stage: String) throws(MLShError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return String(decoding: try encoder.encode(value), as: UTF8.self) } catch {
            throw MLShError(.store, "stage \(stage): cannot store its value: \(error)")
        }
    }

    static func value<T: Decodable>(_ type: T.Type, _ text: String, _ stage: String) throws(MLShError) -> T {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do { return try decoder.decode(type, from: Data(text.utf8)) } catch {
            throw MLShError(.store, "stage \(stage): its cached value is damaged: \(error)")
        }
    }

    /// The value a stage stored.
    static func decode(_ json: JSON, stage: String, store: Store) throws(MLShError) -> Value {
        func damaged(_ what: String) -> MLShError { MLShError(.store, "stage \(stage): its cached value is damaged (\(what))") }
        switch json {
        case .null: return .none
        case .bool(let b): return .bool(b)
        case .object(let fields):
            guard let (tag, body) = fields.first else { throw damaged("an empty object") }
            switch (tag, body) {
            case ("int", .string(let s)):
                guard let i = Int64(s) else { throw damaged("int \(s)") }
                return .int(i)
            case ("float", .string(let s)):
                guard let bits = UInt64(s, radix: 16) else { throw damaged("float \(s)") }
                return .float(Double(bitPattern: bits))
            case ("string", .string(let s)): return .string(s)
            case ("list", .array(let items)):
                var out: [Value] = []
                for item in items { out.append(try decode(item, stage: stage, store: store)) }
                return .list(out)
            case ("record", .array(let items)):
                var r = Record()
                for item in items {
                    guard case .array(let pair) = item, pair.count == 2, case .string(let k) = pair[0] else { throw damaged("a record field") }
                    r[k] = try decode(pair[1], stage: stage, store: store)
                }
                return .record(r)
            case ("table", .string(let hash)):
                let t = try storing { () throws(StoreError) in try store.table(hash, label: stage) }
                var fingerprint: String?
                if case .string(let f)? = json["fingerprint"] { fingerprint = f }
                return .object(TableValue(t, origin: .stage(stage), fingerprint: fingerprint))
            case ("column", .string(let hash)):
                let t = try storing { () throws(StoreError) in try store.table(hash, label: stage) }
                guard let c = t.columns.first, let name = t.names.first else { throw damaged("a column with no data") }
                return .object(ColumnValue(c, name: name))
            case ("model", .string(let hash)):
                return .object(ModelValue(try storing { () throws(StoreError) in try store.model(hash) }))
            case ("metrics", .object):
                guard case .string(let taskName)? = body["task"], let task = ModelTask(rawValue: taskName),
                      case .array(let items)? = body["values"] else { throw damaged("metrics") }
                var values: [(String, Double)] = []
                for item in items {
                    guard case .array(let pair) = item, pair.count == 2, case .string(let k) = pair[0], case .string(let b) = pair[1],
                          let bits = UInt64(b, radix: 16) else { throw damaged("a metric") }
                    values.append((k, Double(bitPattern: bits)))
                }
                var confusion: Table?
                if let c = body["confusion"], case .object(let t as TableValue) = try decode(c, stage: stage, store: store) { confusion = t.table }
                return .object(MetricsValue(Metrics(task: task, values: values, confusion: confusion)))
            case ("plot", .string(let text)): return .object(PlotValue(try value(Plot.self, text, stage)))
            case ("spec", .string(let text)): return .object(SpecValue(try value(PipelineSpec.self, text, stage)))
            default: throw damaged("unknown kind '\(tag)'")
            }
        default:
            throw damaged("unexpected \(json)")
        }
    }
}
