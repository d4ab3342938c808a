import MLShCommon

/// The element type of a column.
public enum DType: String, Sendable, Hashable, CaseIterable {
    case float, int, bool, string
}

/// An immutable, typed column of values. Storage is a Swift array, so copies share
/// their buffer until written (columns are never written after they are built).
///
/// Missing values: `float` uses NaN; `int` and `bool` use an optional validity mask
/// (`nil` means every value is present); `string` uses the code `-1`.
public struct Column: Sendable {
    /// The typed storage.
    public enum Storage: Sendable {
        case float([Double])
        case int([Int64], validity: [Bool]?)
        case bool([Bool], validity: [Bool]?)
        /// Dictionary-encoded strings: `codes[i]` indexes `dictionary`, or is -1 when missing.
        case string(codes: [Int32], dictionary: [String])
    }

    /// The values.
    public let storage: Storage

    /// Wraps typed storage.
    public init(_ storage: Storage) { self.storage = storage }

    /// A float column.
    public init(floats: [Double]) { self.storage = .float(floats) }
    /// An int column with an optional validity mask.
    public init(ints: [Int64], validity: [Bool]? = nil) { self.storage = .int(ints, validity: validity) }
    /// A bool column with an optional validity mask.
    public init(bools: [Bool], validity: [Bool]? = nil) { self.storage = .bool(bools, validity: validity) }
    /// A string column from optional values, dictionary-encoded in first-seen order.
    public init(strings: [String?]) {
        var dict: [String] = []
        var index: [String: Int32] = [:]
        var codes = [Int32](); codes.reserveCapacity(strings.count)
        for s in strings {
            guard let s else { codes.append(-1); continue }
            if let c = index[s] { codes.append(c) } else {
                let c = Int32(dict.count); index[s] = c; dict.append(s); codes.append(c)
            }
        }
        self.storage = .string(codes: codes, dictionary: dict)
    }

    /// The column's element type.
    public var dtype: DType {
        switch storage {
        case .float: return .float
        case .int: return .int
        case .bool: return .bool
        case .string: return .string
        }
    }

    /// Number of values.
    public var count: Int {
        switch storage {
        case .float(let v): return v.count
        case .int(let v, _): return v.count
        case .bool(let v, _): return v.count
        case .string(let c, _): return c.count
        }
    }

    /// Whether value `i` is missing. `i` must be in `0..<count`.
    public func isMissing(_ i: Int) -> Bool {
        switch storage {
        case .float(let v): return v[i].isNaN
        case .int(_, let m): return m.map { !$0[i] } ?? false
        case .bool(_, let m): return m.map { !$0[i] } ?? false
        case .string(let c, _): return c[i] < 0
        }
    }
}

/// An immutable, ordered list of equal-length named columns.
public struct Table: Sendable {
    /// Column names, in order; unique.
    public let names: [String]
    /// Columns, parallel to `names`.
    public let columns: [Column]
    /// The number of rows (0 for a table with no columns).
    public let rowCount: Int
    /// A display name (the variable or file the table came from), used in messages.
    public var label: String?

    /// The table with no columns.
    public static let empty = Table()
    private init() { names = []; columns = []; rowCount = 0 }

    /// Builds a table; fails when lengths differ or a name repeats.
    public init(names: [String], columns: [Column], label: String? = nil) throws(EngineError) {
        guard names.count == columns.count else {
            throw EngineError.invalidArgument("\(names.count) names for \(columns.count) columns")
        }
        if names.count <= 16 {
            // Pairwise: for the few columns of most tables (a served request builds one per
            // call) cheaper than hashing every name into a set.
            for i in names.indices.dropFirst() where names[..<i].contains(names[i]) { throw EngineError.duplicateColumn(names[i]) }
        } else {
            var seen = Set<String>()
            for n in names where !seen.insert(n).inserted { throw EngineError.duplicateColumn(n) }
        }
        let n = columns.first?.count ?? 0
        for (name, c) in zip(names, columns) where c.count != n {
            throw EngineError.lengthMismatch(column: name, expected: n, actual: c.count)
        }
        self.names = names; self.columns = columns; self.rowCount = n; self.label = label
    }

    /// The index of a column by name.
    public func index(of name: String) -> Int? { names.firstIndex(of: name) }

    /// A column by name, or an `unknownColumn` error suggesting the closest name.
    public func column(_ name: String) throws(EngineError) -> Column {
        guard let i = index(of: name) else {
            throw EngineError.unknownColumn(name, table: label, suggestion: closestName(to: name, in: names))
        }
        return columns[i]
    }
}

/// Row-to-group assignment made by `group`: `ids[row]` is in `0..<count`.
public struct Grouping: Sendable {
    /// The group of each row.
    public let ids: [Int32]
    /// The number of groups.
    public let count: Int
    /// Creates a grouping; every id must be in `0..<count`.
    public init(ids: [Int32], count: Int) { self.ids = ids; self.count = count }
}
