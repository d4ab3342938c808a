/// How a Parquet column becomes an mlsh column: which typed array its values are decoded
/// into, and what is done to the finished column.
struct ParquetColumnPlan {
    /// The array pages decode into.
    enum Target { case double, int64, bool, codes }

    /// How stored values become the target's (beyond their physical type).
    enum Post {
        case none
        /// UINT_64: a value above Int64.max is an error.
        case unsigned64
        /// DECIMAL stored as an integer: a float, the integer × 10^-scale.
        case decimal(scale: Int)
        /// DATE, TIMESTAMP, TIME, INT96: ISO 8601 text.
        case date
        case timestamp(unit: ParquetTimeUnit, utc: Bool)
        case time(unit: ParquetTimeUnit)
        /// The UNKNOWN (null) logical type: a float column of missing values.
        case allMissing
    }

    let name: String
    /// The leaf's index: the position of its chunk in each row group.
    let leaf: Int
    let physical: ParquetPhysical
    /// Whether values may be null (OPTIONAL); REQUIRED pages carry no definition levels.
    let optional: Bool
    /// INT32 values are unsigned (UINT_8/16/32).
    let unsigned32: Bool
    let target: Target
    let post: Post
}

/// The columns of a file's schema as mlsh sees them: top-level fields, each a flat
/// column (one leaf) or something mlsh does not read (nested or repeated).
struct ParquetSchema {
    struct Field {
        let name: String
        /// The leaves below this field: their indices among all leaves.
        let leaves: Range<Int>
        /// Why mlsh cannot read it ("a list", "a struct", ...), nil for a flat column.
        let nested: String?
        let element: ParquetSchemaElement
    }

    let fields: [Field]
    let leafCount: Int

    /// Walks the depth-first element list, checking its child counts.
    init(_ elements: [ParquetSchemaElement]) throws(ParquetFailure) {
        guard let root = elements.first else { throw ParquetFailure(nil, "the file has no schema") }
        let top = Int(root.numChildren ?? 0)
        guard top >= 0, top <= elements.count - 1 else {
            throw ParquetFailure(nil, "the schema root says \(top) columns; the schema has \(elements.count - 1) elements")
        }
        var fields: [Field] = []
        var i = 1, leaves = 0
        for _ in 0..<top {
            guard i < elements.count else {
                throw ParquetFailure(nil, "the schema root says \(top) columns; the schema ends after \(fields.count)")
            }
            let e = elements[i]
            let firstLeaf = leaves
            var pending = 1
            var j = i
            while pending > 0 {
                guard j < elements.count else { throw ParquetFailure(nil, "the schema ends inside group '\(e.name)'") }
                let x = elements[j]
                pending -= 1
                let children = Int(x.numChildren ?? 0)
                if x.type == nil || children > 0 {
                    guard children >= 0, children <= elements.count - j - 1 else {
                        throw ParquetFailure(nil, "schema group '\(x.name)' says \(children) children; \(elements.count - j - 1) elements follow")
                    }
                    pending += children
                } else {
                    leaves += 1
                }
                j += 1
            }
            fields.append(Field(name: e.name, leaves: firstLeaf..<leaves, nested: ParquetSchema.nesting(e), element: e))
            i = j
        }
        guard i == elements.count else {
            throw ParquetFailure(nil, "the schema has \(elements.count - i) elements after its root's \(top) columns")
        }
        self.fields = fields
        self.leafCount = leaves
    }

    /// Why a top-level element is not a flat column, or nil when it is one.
    static func nesting(_ e: ParquetSchemaElement) -> String? {
        let group = e.type == nil || (e.numChildren ?? 0) > 0
        if !group && e.repetition != 2 { return nil }
        switch e.logical {
        case .list?: return "a list"
        case .map?: return "a map"
        default: break
        }
        switch e.convertedType {
        case 3?: return "a list"
        case 1?, 2?: return "a map"
        default: break
        }
        return group ? "a struct (a group of fields)" : "a repeated field"
    }

    /// The plan for flat field `f`, or an `unsupported` failure naming the column and
    /// what it uses.
    func plan(_ f: Field) throws(ParquetFailure) -> ParquetColumnPlan {
        let e = f.element
        func unsupported(_ what: String) -> ParquetFailure {
            .unsupported("column '\(f.name)' is \(what), which mlsh does not read")
        }
        if let nested = f.nested {
            throw .unsupported("column '\(f.name)' is \(nested), which mlsh does not read (it reads flat columns of numbers, bools and strings)")
        }
        guard let raw = e.type, let physical = ParquetPhysical(rawValue: raw) else {
            throw ParquetFailure(nil, "column '\(f.name)' has unknown physical type \(e.type.map(String.init) ?? "none")")
        }
        // A leaf without a repetition is taken as REQUIRED; REPEATED was refused as nested.
        let rep = e.repetition ?? 0
        guard rep == 0 || rep == 1 else {
            throw ParquetFailure(nil, "column '\(f.name)' has repetition \(rep), expected REQUIRED (0) or OPTIONAL (1)")
        }
        var target = ParquetColumnPlan.Target.int64
        var post = ParquetColumnPlan.Post.none
        var unsigned32 = false
        let logical = e.logical
        let converted = e.convertedType
        switch physical {
        case .boolean:
            target = .bool
        case .float, .double:
            target = .double
            if case .float16? = logical { throw unsupported("FLOAT16") }
        case .int32, .int64:
            target = .int64
            switch logical {
            case .integer(let bits, let signed)?:
                if !signed && physical == .int32 { unsigned32 = true }
                if !signed && physical == .int64 && bits == 64 { post = .unsigned64 }
            case .decimal(let scale, _)?:
                post = try decimal(Int(scale), f.name)
            case .date?:
                post = .date
            case .timestamp(let utc, let unit)?:
                post = .timestamp(unit: unit, utc: utc)
            case .time(let unit)?:
                post = .time(unit: unit)
            case .null?, nil:
                switch converted {
                case 11?, 12?, 13?: unsigned32 = physical == .int32
                case 14?: post = .unsigned64
                case 5?: post = try decimal(Int(e.scale ?? 0), f.name)
                case 6?: post = .date
                case 7?: post = .time(unit: .millis)
                case 8?: post = .time(unit: .micros)
                case 9?: post = .timestamp(unit: .millis, utc: true)
                case 10?: post = .timestamp(unit: .micros, utc: true)
                default: break
                }
            case let other?:
                throw unsupported("\(physical.name) annotated \(ParquetSchema.describe(other))")
            }
            if case .null? = logical { post = .allMissing }
        case .int96:
            target = .int64
            post = .timestamp(unit: .nanos, utc: false)
        case .byteArray:
            target = .codes
            switch logical {
            case .string?, .enumeration?, .json?, nil: break
            case .null?: post = .allMissing
            case .decimal?: throw unsupported("a DECIMAL stored as BYTE_ARRAY")
            case let other?: throw unsupported("BYTE_ARRAY annotated \(ParquetSchema.describe(other))")
            }
            if logical == nil, converted == 5 { throw unsupported("a DECIMAL stored as BYTE_ARRAY") }
            if logical == nil, converted == 20 { throw unsupported("BSON") }
        case .fixedLenByteArray:
            switch logical {
            case .decimal?: throw unsupported("a DECIMAL stored as FIXED_LEN_BYTE_ARRAY")
            case let other?: throw unsupported("FIXED_LEN_BYTE_ARRAY annotated \(ParquetSchema.describe(other))")
            case nil: throw unsupported(converted == 21 ? "an INTERVAL" : "FIXED_LEN_BYTE_ARRAY")
            }
        }
        return ParquetColumnPlan(name: f.name, leaf: f.leaves.lowerBound, physical: physical, optional: rep == 1,
                                 unsigned32: unsigned32, target: target, post: post)
    }

    private func decimal(_ scale: Int, _ name: String) throws(ParquetFailure) -> ParquetColumnPlan.Post {
        guard scale >= 0 && scale <= 38 else { throw ParquetFailure(nil, "column '\(name)' has DECIMAL scale \(scale), expected 0 to 38") }
        return .decimal(scale: scale)
    }

    static func describe(_ l: ParquetLogicalType) -> String {
        switch l {
        case .string: return "STRING"
        case .map: return "MAP"
        case .list: return "LIST"
        case .enumeration: return "ENUM"
        case .decimal: return "DECIMAL"
        case .date: return "DATE"
        case .time: return "TIME"
        case .timestamp: return "TIMESTAMP"
        case .integer: return "INTEGER"
        case .null: return "UNKNOWN"
        case .json: return "JSON"
        case .bson: return "BSON"
        case .uuid: return "UUID"
        case .float16: return "FLOAT16"
        case .other(let id): return "logical type \(id)"
        }
    }
}
