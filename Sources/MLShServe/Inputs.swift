import MLShCommon
import MLShEngine
import MLShMonitor

/// A model's input columns, with each name's position looked up once.
public struct InputSchema: Sendable {
    public let columns: [(name: String, dtype: DType)]
    let position: [String: Int]
    /// Each column's type by name, as CSV reading takes it.
    let types: [String: DType]

    /// Each name's UTF-8 bytes, matched against a body's keys without making strings.
    let nameBytes: [[UInt8]]
    /// No name is given twice (the direct reader matches keys by bytes only then).
    let uniqueNames: Bool

    public init(_ columns: [(name: String, dtype: DType)]) {
        self.columns = columns
        var p: [String: Int] = [:]
        var t: [String: DType] = [:]
        for (k, c) in columns.enumerated() where p[c.name] == nil { p[c.name] = k; t[c.name] = c.dtype }
        position = p
        types = t
        names = columns.map(\.name)
        nameBytes = names.map { Array($0.utf8) }
        uniqueNames = p.count == columns.count
    }

    /// The same names and types, in the same order.
    func matches(_ other: InputSchema) -> Bool {
        columns.elementsEqual(other.columns) { $0.name == $1.name && $0.dtype == $1.dtype }
    }

    /// Whether a request one accepts reads the same for the other: the same names, each
    /// of the same type or numeric in both (in any order).
    func accepts(_ other: InputSchema) -> Bool {
        guard columns.count == other.columns.count else { return false }
        let theirs = Dictionary(other.columns.map { ($0.name, $0.dtype) }, uniquingKeysWith: { a, _ in a })
        return columns.allSatisfy { c in
            guard let t = theirs[c.name] else { return false }
            return t == c.dtype || (t != .string && t != .bool && c.dtype != .string && c.dtype != .bool)
        }
    }

    public let names: [String]
}

/// Request bodies → a table of the model's input columns, with the schema enforced:
/// every missing, extra and mistyped column is named in one 422. MLflow's protocol ignores
/// the columns the model does not use (as MLflow does) and names them instead.
public enum Inputs {
    /// An MLflow request's input: the model's columns, and the columns it gave that the
    /// model does not use (ignored), in the order they first appear.
    public typealias Ignoring = (table: Table, ignored: [String])

    /// Rows one request may hold (memory per request stays bounded by it, not only by the
    /// body limit: `{}` is a row in 3 bytes).
    public static let maxRows = 100_000

    static func checkRows(_ n: Int) throws(ServeError) {
        guard n <= maxRows else {
            throw ServeError(413, "payload_too_large", "the request holds \(n) rows; at most \(maxRows) are taken per request")
        }
    }

    /// The common body read straight into the schema's columns, without a JSON tree: one
    /// top-level member holding an array of records (`rows` on the mlsh route;
    /// `dataframe_records`, `instances` or `inputs` for MLflow) whose keys are all schema
    /// columns and whose values all fit their column's type. Nil for anything else —
    /// other forms, other members, extra, missing or mistyped columns, malformed JSON, too
    /// many rows — which the general path then reads and answers (with its errors, or the
    /// columns it ignores). When not nil, the table equals the general path's.
    static func direct(_ raw: UnsafeRawBufferPointer, schema: InputSchema, mlflow: Bool) -> Table? {
        guard schema.uniqueNames else { return nil }
        var p = JSONParser(bytes: raw)
        do throws(JSONError) {
            p.skipSpace()
            guard p.take(UInt8(ascii: "{")) else { return nil }
            p.skipSpace()
            guard let key = p.plainKey() else { return nil }
            let accepted = mlflow ? key.elementsEqual("dataframe_records".utf8) || key.elementsEqual("instances".utf8)
                || key.elementsEqual("inputs".utf8) : key.elementsEqual("rows".utf8)
            guard accepted else { return nil }
            p.skipSpace()
            guard p.take(UInt8(ascii: ":")) else { return nil }
            p.skipSpace()
            guard p.take(UInt8(ascii: "[")) else { return nil }
            var builders = schema.columns.map { ColumnBuilder($0.dtype, rows: 0) }
            var seen = [Bool](repeating: false, count: schema.columns.count)
            var rows = 0
            p.skipSpace()
            if !p.take(UInt8(ascii: "]")) {
                while true {
                    p.skipSpace()
                    guard rows < maxRows, p.take(UInt8(ascii: "{")) else { return nil }
                    for b in builders.indices { builders[b].addRow() }
                    rows += 1
                    var next = 0   // keys usually come in schema order
                    p.skipSpace()
                    if !p.take(UInt8(ascii: "}")) {
                        while true {
                            p.skipSpace()
                            guard let name = p.plainKey() else { return nil }
                            let k: Int
                            if next < schema.nameBytes.count, name.elementsEqual(schema.nameBytes[next]) { k = next } else {
                                // Wide schemas look names up by hash, narrow ones by scanning.
                                let found = schema.nameBytes.count > 32
                                    ? schema.position[String(decoding: name, as: UTF8.self)]
                                    : schema.nameBytes.firstIndex(where: { name.elementsEqual($0) })
                                guard let found else { return nil }
                                k = found
                            }
                            next = k + 1
                            p.skipSpace()
                            guard p.take(UInt8(ascii: ":")) else { return nil }
                            p.skipSpace()
                            guard let c = p.peek, c != UInt8(ascii: "{"), c != UInt8(ascii: "[") else { return nil }
                            builders[k].set(rows - 1, try p.value(depth: 1))
                            guard builders[k].bad == nil else { return nil }
                            seen[k] = true
                            p.skipSpace()
                            if p.take(UInt8(ascii: "}")) { break }
                            guard p.take(UInt8(ascii: ",")) else { return nil }
                        }
                    }
                    p.skipSpace()
                    if p.take(UInt8(ascii: "]")) { break }
                    guard p.take(UInt8(ascii: ",")) else { return nil }
                }
            }
            p.skipSpace()
            guard p.take(UInt8(ascii: "}")) else { return nil }
            p.skipSpace()
            guard p.offset == raw.count, rows == 0 || !seen.contains(false) else { return nil }
            return try? build(builders, schema: schema, missing: [], extra: [])
        } catch {
            return nil
        }
    }

    /// The mlsh route's body: `{"rows": [{...}, ...]}`.
    public static func rows(_ body: JSON, schema: InputSchema) throws(ServeError) -> Table {
        guard case .object = body else {
            throw ServeError(400, "bad_request", "the body must be a JSON object {\"rows\": [...]}, not \(body.typeName)")
        }
        guard let rows = body["rows"] else { throw ServeError(400, "bad_request", "the body has no \"rows\" member") }
        guard case .array(let items) = rows else {
            throw ServeError(400, "bad_request", "\"rows\" must be an array of objects, not \(rows.typeName)")
        }
        return try records(items, schema: schema, member: "rows", ignoring: false).table
    }

    /// MLflow's scoring protocol: exactly one of `dataframe_split`, `dataframe_records`,
    /// `instances`, `inputs`.
    public static func mlflow(_ body: JSON, schema: InputSchema) throws(ServeError) -> Ignoring {
        guard case .object(let members) = body else {
            throw ServeError(400, "bad_request", "the body must be a JSON object with one of dataframe_split, dataframe_records, instances, inputs; got \(body.typeName)")
        }
        let known = ["dataframe_split", "dataframe_records", "instances", "inputs"]
        let given = members.filter { known.contains($0.0) }
        guard given.count == 1, let (key, value) = given.first else {
            throw ServeError(400, "bad_request", given.isEmpty
                ? "the body needs one of dataframe_split, dataframe_records, instances, inputs"
                : "the body must have exactly one of dataframe_split, dataframe_records, instances, inputs; it has \(given.map(\.0).joined(separator: ", "))")
        }
        switch key {
        case "dataframe_split":
            guard case .object = value, case .array(let cols)? = value["columns"], case .array(let data)? = value["data"] else {
                throw ServeError(400, "bad_request", "dataframe_split must be {\"columns\": [...], \"data\": [[...], ...]}")
            }
            var names: [String] = []
            for c in cols {
                guard case .string(let s) = c else { throw ServeError(400, "bad_request", "dataframe_split columns must be strings") }
                names.append(s)
            }
            return try matrix(names, data, schema: schema, member: "dataframe_split.data", ignoring: true)
        case "dataframe_records":
            guard case .array(let items) = value else { throw ServeError(400, "bad_request", "dataframe_records must be an array of objects") }
            return try records(items, schema: schema, member: key, ignoring: true)
        default:
            // instances / inputs: records, rows of values in schema order, or {column: [values]}.
            switch value {
            case .array(let items):
                if case .object? = items.first { return try records(items, schema: schema, member: key, ignoring: true) }
                if items.isEmpty { return try records([], schema: schema, member: key, ignoring: true) }
                return try matrix(schema.names, items, schema: schema, member: key, ignoring: true)
            case .object(let columns):
                var names: [String] = [], rows = 0, data: [[JSON]] = []
                for (k, (name, v)) in columns.enumerated() {
                    guard case .array(let values) = v else {
                        throw ServeError(400, "bad_request", "\(key).\(name) must be an array of values")
                    }
                    if k == 0 { rows = values.count; try checkRows(rows); data = Array(repeating: [], count: rows) }
                    guard values.count == rows else {
                        throw ServeError(400, "bad_request", "\(key) columns differ in length (\(name) has \(values.count), expected \(rows))")
                    }
                    names.append(name)
                    for r in 0..<rows { data[r].append(values[r]) }
                }
                return try matrix(names, data.map { .array($0) }, schema: schema, member: key, ignoring: true)
            default:
                throw ServeError(400, "bad_request", "\(key) must be an array or an object of columns, not \(value.typeName)")
            }
        }
    }

    /// A `text/csv` body with a header row (MLflow's protocol: other columns are ignored).
    public static func csv(_ bytes: [UInt8], schema: InputSchema) throws(ServeError) -> Ignoring {
        let t: Table
        do { t = try CSV.read(data: bytes, name: "request body", options: CSVOptions(types: schema.types)) } catch {
            throw ServeError(400, "bad_request", "malformed CSV: \(error.message)")
        }
        try checkRows(t.rowCount)
        let missing = schema.names.filter { t.index(of: $0) == nil }
        let extra = t.names.filter { schema.position[$0] == nil }
        var mistyped: [JSON] = []
        for f in schema.columns {
            guard let i = t.index(of: f.name) else { continue }
            if !compatible(t.columns[i].dtype, f.dtype) {
                mistyped.append(.object([("column", .string(f.name)), ("expected", .string(f.dtype.rawValue)),
                                         ("got", .string(t.columns[i].dtype.rawValue))]))
            }
        }
        try mismatch(missing: missing, extra: [], mistyped: mistyped)
        guard !extra.isEmpty else { return (t, []) }
        let columns = schema.names.compactMap { t.index(of: $0).map { t.columns[$0] } }
        do { return (try Table(names: schema.names, columns: columns), extra) } catch {
            throw ServeError(400, "bad_request", error.message)
        }
    }

    private static func compatible(_ got: DType, _ want: DType) -> Bool {
        got == want || (want == .float && got == .int)
    }

    /// Records: one object per row. A key absent from a row is a missing value there; a
    /// column absent from every row is missing. Keys outside the schema are refused, or
    /// returned as ignored when `ignoring`.
    static func records(_ items: [JSON], schema: InputSchema, member: String, ignoring: Bool) throws(ServeError) -> Ignoring {
        try checkRows(items.count)
        let position = schema.position
        var builders = schema.columns.map { ColumnBuilder($0.dtype, rows: items.count) }
        var seen = [Bool](repeating: false, count: schema.columns.count)
        var extra: [String] = []
        for (r, item) in items.enumerated() {
            guard case .object(let members) = item else {
                throw ServeError(400, "bad_request", "\(member)[\(r)] must be an object of column values, not \(item.typeName)")
            }
            for (key, v) in members {
                if let k = position[key] { builders[k].set(r, v); seen[k] = true } else if !extra.contains(key) { extra.append(key) }
            }
        }
        let missing = items.isEmpty ? [] : schema.columns.indices.filter { !seen[$0] }.map { schema.columns[$0].name }
        return (try build(builders, schema: schema, missing: missing, extra: ignoring ? [] : extra), ignoring ? extra : [])
    }

    /// Rows of values under column names (names outside the schema as in `records`).
    static func matrix(_ names: [String], _ rows: [JSON], schema: InputSchema,
                       member: String, ignoring: Bool) throws(ServeError) -> Ignoring {
        try checkRows(rows.count)
        let position = schema.position
        let extra = names.filter { position[$0] == nil }
        let missing = schema.names.filter { !names.contains($0) }
        var builders = schema.columns.map { ColumnBuilder($0.dtype, rows: rows.count) }
        let targets = names.map { position[$0] }
        for (r, row) in rows.enumerated() {
            guard case .array(let values) = row else {
                throw ServeError(400, "bad_request", "\(member)[\(r)] must be an array of values, not \(row.typeName)")
            }
            guard values.count == names.count else {
                throw ServeError(400, "bad_request", "\(member)[\(r)] has \(values.count) values for \(names.count) columns")
            }
            for (c, v) in values.enumerated() { if let k = targets[c] { builders[k].set(r, v) } }
        }
        return (try build(builders, schema: schema, missing: missing, extra: ignoring ? [] : extra), ignoring ? extra : [])
    }

    /// The typed columns, or one 422 naming every problem.
    static func build(_ builders: [ColumnBuilder], schema: InputSchema, missing: [String],
                      extra: [String]) throws(ServeError) -> Table {
        var mistyped: [JSON] = []
        var columns: [Column] = []
        columns.reserveCapacity(builders.count)
        for k in builders.indices {
            let f = schema.columns[k]
            if !missing.isEmpty, missing.contains(f.name) { columns.append(Column(floats: [])); continue }
            if let bad = builders[k].bad {
                let expected = f.dtype == .int ? "an integer" : f.dtype == .float ? "a number" : f.dtype == .bool ? "a boolean" : "a string"
                mistyped.append(.object([("column", .string(f.name)), ("row", .number(Double(bad.row))),
                                         ("expected", .string(expected)), ("got", .string(JSONWriter.text(bad.value)))]))
            }
            columns.append(builders[k].column())
        }
        try mismatch(missing: missing, extra: extra, mistyped: mistyped)
        do { return try Table(names: schema.names, columns: columns) } catch {
            throw ServeError(400, "bad_request", error.message)
        }
    }

    /// One 422 naming each missing, extra and mistyped column, or nothing.
    static func mismatch(missing: [String], extra: [String], mistyped: [JSON]) throws(ServeError) {
        guard !missing.isEmpty || !extra.isEmpty || !mistyped.isEmpty else { return }
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing column\(missing.count > 1 ? "s" : "") " + missing.joined(separator: ", ")) }
        if !extra.isEmpty { parts.append("unexpected column\(extra.count > 1 ? "s" : "") " + extra.joined(separator: ", ")) }
        for m in mistyped {
            if case .string(let c)? = m["column"], case .string(let e)? = m["expected"], case .string(let g)? = m["got"] {
                let row: String
                if case .number(let r)? = m["row"] { row = " in row \(Int(r))" } else { row = "" }
                parts.append("column \(c) expects \(e), got \(g)\(row)")
            }
        }
        throw ServeError(422, "schema_mismatch", "the input does not match the model's schema: " + parts.joined(separator: "; "),
                         details: [("missing", .array(missing.map { .string($0) })),
                                   ("extra", .array(extra.map { .string($0) })),
                                   ("mistyped", .array(mistyped))])
    }
}
