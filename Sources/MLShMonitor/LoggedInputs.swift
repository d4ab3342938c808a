import MLShCommon
import MLShEngine
import MLShModels

/// Logged request inputs back into tables: the request log keeps each answered row's inputs
/// as the text of a JSON object; drift, anomaly and quality figures over logged rows score
/// them as a table of the model's feature columns, as the server scored them when answering.
public enum LoggedInputs {
    /// `inputs` (one JSON object's text per row) as a table of `features`, in their order.
    /// Keys outside the features are ignored; a cell that is absent, null or of the wrong
    /// type, and every cell of a row that does not read as an object, is missing. Nil only
    /// when the features name a column twice.
    public static func table(_ inputs: [String], features: [(name: String, dtype: DType)]) -> Table? {
        var position: [String: Int] = [:]
        for (k, f) in features.enumerated() where position[f.name] == nil { position[f.name] = k }
        var builders = features.map { ColumnBuilder($0.dtype, rows: inputs.count) }
        for (r, text) in inputs.enumerated() {
            guard case .object(let members)? = try? JSONParser.parse(text) else { continue }
            for (key, v) in members { if let k = position[key] { builders[k].set(r, v) } }
        }
        var columns: [Column] = []
        columns.reserveCapacity(builders.count)
        for k in builders.indices {
            // A mistyped cell stays missing: the builder kept it aside, not in the column.
            columns.append(builders[k].column())
        }
        return try? Table(names: features.map(\.name), columns: columns)
    }

    /// The training sample a model file keeps (`state.reference`, CSV), typed after the
    /// model's features: what drift and anomaly scores compare logged rows with. Nil for
    /// files written before mlsh kept one, or when it does not read.
    public static func trainingSample(_ model: FittedModel) -> Table? {
        guard let csv = model.state.reference else { return nil }
        var types: [String: DType] = [:]
        for f in model.features where types[f.name] == nil { types[f.name] = f.dtype }
        return try? CSV.read(data: Array(csv.utf8), name: "reference", options: CSVOptions(types: types))
    }
}

/// One schema column filled cell by cell, straight into its typed values (no table of JSON
/// cells in between): every cell starts missing, and the first cell of the wrong type is
/// kept for the 422.
public struct ColumnBuilder {
    @usableFromInline let dtype: DType
    @usableFromInline var floats: [Double] = [], ints: [Int64] = [], bools: [Bool] = [], strings: [String?] = []
    /// int and bool: which rows hold a value.
    @usableFromInline var valid: [Bool] = []
    /// The first cell of the wrong type, with its row.
    public var bad: (row: Int, value: JSON)?

    @inlinable public init(_ dtype: DType, rows: Int) {
        self.dtype = dtype
        guard rows > 0 else { return }   // grown by `addRow`
        switch dtype {
        case .float: floats = [Double](repeating: .nan, count: rows)
        case .int: ints = [Int64](repeating: 0, count: rows); valid = [Bool](repeating: false, count: rows)
        case .bool: bools = [Bool](repeating: false, count: rows); valid = [Bool](repeating: false, count: rows)
        case .string: strings = [String?](repeating: nil, count: rows)
        }
    }

    /// One more row, its cell missing.
    @inlinable public mutating func addRow() {
        switch dtype {
        case .float: floats.append(.nan)
        case .int: ints.append(0); valid.append(false)
        case .bool: bools.append(false); valid.append(false)
        case .string: strings.append(nil)
        }
    }

    /// Row `r`'s cell; a key given twice in one row counts as its last value.
    @inlinable public mutating func set(_ r: Int, _ cell: JSON) {
        if bad?.row == r { bad = nil }
        switch (dtype, cell) {
        case (.float, .number(let d)): floats[r] = d
        case (.float, .null): floats[r] = .nan
        case (.int, .number(let d)) where d == d.rounded() && abs(d) < 9.2e18: ints[r] = Int64(d); valid[r] = true
        case (.bool, .bool(let b)): bools[r] = b; valid[r] = true
        case (.int, .null), (.bool, .null): valid[r] = false
        case (.string, .string(let s)): strings[r] = s
        case (.string, .null): strings[r] = nil
        default: if bad == nil { bad = (r, cell) }
        }
    }

    @inlinable public func column() -> Column {
        switch dtype {
        case .float: return Column(floats: floats)
        case .int: return Column(ints: ints, validity: valid.contains(false) ? valid : nil)
        case .bool: return Column(bools: bools, validity: valid.contains(false) ? valid : nil)
        case .string: return Column(strings: strings)
        }
    }
}
