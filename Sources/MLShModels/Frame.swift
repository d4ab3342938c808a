import MLShEngine

/// The working set of named columns a pipeline passes from step to step.
struct Frame: Sendable {
    var names: [String]
    var columns: [Column]
    var rowCount: Int

    init(names: [String], columns: [Column], rowCount: Int) {
        self.names = names; self.columns = columns; self.rowCount = rowCount
    }

    func index(_ name: String) -> Int? { names.firstIndex(of: name) }

    /// Column `name` as numbers, for transform `kind` (a string column is an error).
    func numbers(_ name: String, for kind: String) throws(ModelError) -> [Double] {
        guard let i = index(name) else { throw .missingColumn(name, suggestion: nil) }
        guard columns[i].modelIsNumeric else { throw .invalid("\(kind)() needs numeric columns; column \(name) is string") }
        return columns[i].modelDoubles
    }

    /// The frame as a table (for column expressions).
    func table() throws(ModelError) -> Table { try makeTable(names, columns) }
}

extension Column {
    /// Whether the column holds numbers (float, int or bool).
    var modelIsNumeric: Bool { dtype != .string }

    /// The values as Doubles (missing → NaN; bool → 0/1; strings → NaN).
    var modelDoubles: [Double] {
        switch storage {
        case .float(let v): return v
        case .int(let v, let m):
            var out = v.map { Double($0) }
            if let m { for i in 0..<out.count where !m[i] { out[i] = .nan } }
            return out
        case .bool(let v, let m):
            var out = v.map { $0 ? 1.0 : 0.0 }
            if let m { for i in 0..<out.count where !m[i] { out[i] = .nan } }
            return out
        case .string(let c, _): return [Double](repeating: .nan, count: c.count)
        }
    }

    /// The values as labels (missing → nil); integral floats print without a fraction.
    var modelLabels: [String?] {
        switch storage {
        case .float(let v): return v.map { $0.isNaN ? nil : formatLabel($0) }
        case .int(let v, let m): return v.indices.map { i in (m.map { $0[i] } ?? true) ? String(v[i]) : nil }
        case .bool(let v, let m): return v.indices.map { i in (m.map { $0[i] } ?? true) ? (v[i] ? "true" : "false") : nil }
        case .string(let c, let d): return c.map { $0 >= 0 && Int($0) < d.count ? d[Int($0)] : nil }
        }
    }

    /// The number of missing values.
    var modelMissingCount: Int {
        switch storage {
        case .float(let v): return v.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        case .int(_, let m), .bool(_, let m): return m.map { $0.reduce(0) { $0 + ($1 ? 0 : 1) } } ?? 0
        case .string(let c, _): return c.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        }
    }

    /// Rows `idx` of the column.
    func modelGather(_ idx: [Int]) -> Column {
        switch storage {
        case .float(let v): return Column(floats: idx.map { v[$0] })
        case .int(let v, let m): return Column(ints: idx.map { v[$0] }, validity: m.map { mm in idx.map { mm[$0] } })
        case .bool(let v, let m): return Column(bools: idx.map { v[$0] }, validity: m.map { mm in idx.map { mm[$0] } })
        case .string(let c, let d): return Column(.string(codes: idx.map { c[$0] }, dictionary: d))
        }
    }
}

func formatLabel(_ d: Double) -> String {
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    return "\(d)"
}

extension Table {
    /// Rows `idx` of every column.
    func modelGatherRows(_ idx: [Int]) throws(ModelError) -> Table {
        let cols = columns.map { $0.modelGather(idx) }
        let n = names, l = label
        return try engineCall { () throws(EngineError) -> Table in try Table(names: n, columns: cols, label: l) }
    }

    /// This table with one column replaced.
    func modelReplacing(_ name: String, with column: Column) throws(ModelError) -> Table {
        var cols = columns
        guard let i = index(of: name) else { return self }
        cols[i] = column
        let n = names, l = label
        return try engineCall { () throws(EngineError) -> Table in try Table(names: n, columns: cols, label: l) }
    }
}

/// Builds a table, wrapping engine errors.
func makeTable(_ names: [String], _ columns: [Column]) throws(ModelError) -> Table {
    try engineCall { () throws(EngineError) -> Table in try Table(names: names, columns: columns) }
}
