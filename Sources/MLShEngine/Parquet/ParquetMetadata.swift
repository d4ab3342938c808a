/// The parts of Parquet's Thrift structs (`parquet.thrift` of apache/parquet-format) that
/// mlsh reads and writes, with their field ids. Fields mlsh does not use are skipped when
/// reading and not written.
enum ParquetPhysical: Int32 {
    case boolean = 0, int32 = 1, int64 = 2, int96 = 3, float = 4, double = 5, byteArray = 6, fixedLenByteArray = 7

    var name: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .int96: return "INT96"
        case .float: return "FLOAT"
        case .double: return "DOUBLE"
        case .byteArray: return "BYTE_ARRAY"
        case .fixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

/// Parquet's encodings (the values of the `Encoding` enum).
enum ParquetEncoding {
    static let plain: Int32 = 0
    static let plainDictionary: Int32 = 2
    static let rle: Int32 = 3
    static let bitPacked: Int32 = 4
    static let rleDictionary: Int32 = 8

    static func name(_ e: Int32) -> String {
        switch e {
        case 0: return "PLAIN"
        case 2: return "PLAIN_DICTIONARY"
        case 3: return "RLE"
        case 4: return "BIT_PACKED"
        case 5: return "DELTA_BINARY_PACKED"
        case 6: return "DELTA_LENGTH_BYTE_ARRAY"
        case 7: return "DELTA_BYTE_ARRAY"
        case 8: return "RLE_DICTIONARY"
        case 9: return "BYTE_STREAM_SPLIT"
        default: return "unknown encoding \(e)"
        }
    }
}

/// Parquet's page types.
enum ParquetPageType {
    static let data: Int32 = 0
    static let index: Int32 = 1
    static let dictionary: Int32 = 2
    static let dataV2: Int32 = 3
}

/// A time unit of TIME and TIMESTAMP logical types.
enum ParquetTimeUnit: Sendable {
    case millis, micros, nanos

    /// Units per second.
    var perSecond: Int64 {
        switch self {
        case .millis: return 1_000
        case .micros: return 1_000_000
        case .nanos: return 1_000_000_000
        }
    }
}

/// A schema element's logical type (the `LogicalType` union), as far as mlsh maps it.
enum ParquetLogicalType: Sendable {
    case string, map, list, enumeration, decimal(scale: Int32, precision: Int32), date
    case time(unit: ParquetTimeUnit), timestamp(utc: Bool, unit: ParquetTimeUnit)
    case integer(bits: Int, signed: Bool), null, json, bson, uuid, float16
    /// A union member mlsh does not know (by field id).
    case other(Int16)
}

/// One node of the schema (flattened depth-first in the footer).
struct ParquetSchemaElement {
    var type: Int32?
    var typeLength: Int32?
    /// 0 required, 1 optional, 2 repeated; nil for the root.
    var repetition: Int32?
    var name = ""
    var numChildren: Int32?
    var convertedType: Int32?
    var scale: Int32?
    var precision: Int32?
    var logical: ParquetLogicalType?
}

/// A column chunk's metadata.
struct ParquetColumnMeta {
    var type: Int32 = -1
    var encodings: [Int32] = []
    var path: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalUncompressedSize: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = -1
    var dictionaryPageOffset: Int64?
}

/// A column chunk of a row group.
struct ParquetColumnChunk {
    var filePath: String?
    var meta: ParquetColumnMeta?
    /// Whether the chunk has crypto metadata or encrypted column metadata.
    var encrypted = false
}

struct ParquetRowGroup {
    var columns: [ParquetColumnChunk] = []
    var numRows: Int64 = -1
}

/// The footer.
struct ParquetFileMeta {
    var version: Int32 = 0
    var schema: [ParquetSchemaElement] = []
    var numRows: Int64 = -1
    var rowGroups: [ParquetRowGroup] = []
    var createdBy: String?
    /// Whether an encryption algorithm is named (an encrypted file with a plaintext footer).
    var encrypted = false
}

struct ParquetDataPageHeader {
    var numValues: Int32 = -1
    var encoding: Int32 = -1
    var definitionLevelEncoding: Int32 = ParquetEncoding.rle
    var repetitionLevelEncoding: Int32 = ParquetEncoding.rle
}

struct ParquetDataPageHeaderV2 {
    var numValues: Int32 = -1
    var numNulls: Int32 = -1
    var numRows: Int32 = -1
    var encoding: Int32 = -1
    var definitionLevelsByteLength: Int32 = -1
    var repetitionLevelsByteLength: Int32 = -1
    var isCompressed = true
}

struct ParquetDictionaryPageHeader {
    var numValues: Int32 = -1
    var encoding: Int32 = ParquetEncoding.plain
}

struct ParquetPageHeader {
    var type: Int32 = -1
    var uncompressedSize: Int32 = -1
    var compressedSize: Int32 = -1
    var data: ParquetDataPageHeader?
    var dataV2: ParquetDataPageHeaderV2?
    var dictionary: ParquetDictionaryPageHeader?
}

// MARK: reading

extension ThriftReader {
    /// Reads a struct whose fields `body` handles by id and wire type (returning false for
    /// a field it does not take, which is then skipped).
    mutating func readStruct(_ body: (inout ThriftReader, Int16, UInt8) throws(ParquetFailure) -> Bool) throws(ParquetFailure) {
        try beginStruct()
        while let (id, type) = try field() {
            let taken = try body(&self, id, type)
            if !taken { try skip(type) }
        }
    }

    mutating func fileMeta() throws(ParquetFailure) -> ParquetFileMeta {
        var m = ParquetFileMeta()
        var seen = Set<Int16>()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .i32): m.version = try r.i32()
            case (2, .list): m.schema = try r.list(.structure) { (r) throws(ParquetFailure) in try r.schemaElement() }
            case (3, .i64): m.numRows = try r.i64()
            case (4, .list): m.rowGroups = try r.list(.structure) { (r) throws(ParquetFailure) in try r.rowGroup() }
            case (6, .binary): m.createdBy = try r.string()
            case (8, _): m.encrypted = true; return false
            default: return false
            }
            seen.insert(id)
            return true
        }
        for (id, name) in [(2, "schema"), (3, "num_rows"), (4, "row_groups")] where !seen.contains(Int16(id)) {
            throw fail("the file metadata has no \(name)")
        }
        return m
    }

    mutating func schemaElement() throws(ParquetFailure) -> ParquetSchemaElement {
        var e = ParquetSchemaElement()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .i32): e.type = try r.i32()
            case (2, .i32): e.typeLength = try r.i32()
            case (3, .i32): e.repetition = try r.i32()
            case (4, .binary): e.name = try r.string()
            case (5, .i32): e.numChildren = try r.i32()
            case (6, .i32): e.convertedType = try r.i32()
            case (7, .i32): e.scale = try r.i32()
            case (8, .i32): e.precision = try r.i32()
            case (10, .structure): e.logical = try r.logicalType()
            default: return false
            }
            return true
        }
        return e
    }

    /// The `LogicalType` union: one member struct set.
    mutating func logicalType() throws(ParquetFailure) -> ParquetLogicalType? {
        var result: ParquetLogicalType?
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            guard t == ThriftType.structure.rawValue else { return false }
            switch id {
            case 1: result = .string
            case 2: result = .map
            case 3: result = .list
            case 4: result = .enumeration
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    guard t == ThriftType.i32.rawValue else { return false }
                    if id == 1 { scale = try r.i32(); return true }
                    if id == 2 { precision = try r.i32(); return true }
                    return false
                }
                result = .decimal(scale: scale, precision: precision)
                return true
            case 6: result = .date
            case 7, 8:
                var utc = false
                var unit = ParquetTimeUnit.millis
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    if id == 1 && (t == ThriftType.boolTrue.rawValue || t == ThriftType.boolFalse.rawValue) {
                        utc = t == ThriftType.boolTrue.rawValue
                        return true
                    }
                    if id == 2 && t == ThriftType.structure.rawValue {
                        // The TimeUnit union: 1 millis, 2 micros, 3 nanos (each an empty struct).
                        try r.readStruct { (r, uid, ut) throws(ParquetFailure) -> Bool in
                            if uid == 2 { unit = .micros } else if uid == 3 { unit = .nanos }
                            return false
                        }
                        return true
                    }
                    return false
                }
                result = id == 7 ? .time(unit: unit) : .timestamp(utc: utc, unit: unit)
                return true
            case 10:
                var bits = 64
                var signed = true
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    if id == 1 && t == ThriftType.i8.rawValue { bits = Int(Int8(bitPattern: try r.byte())); return true }
                    if id == 2 && (t == ThriftType.boolTrue.rawValue || t == ThriftType.boolFalse.rawValue) {
                        signed = t == ThriftType.boolTrue.rawValue
                        return true
                    }
                    return false
                }
                result = .integer(bits: bits, signed: signed)
                return true
            case 11: result = .null
            case 12: result = .json
            case 13: result = .bson
            case 14: result = .uuid
            case 15: result = .float16
            default: result = .other(id)
            }
            return false   // the member's (empty) struct is skipped
        }
        return result
    }

    mutating func rowGroup() throws(ParquetFailure) -> ParquetRowGroup {
        var g = ParquetRowGroup()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .list): g.columns = try r.list(.structure) { (r) throws(ParquetFailure) in try r.columnChunk() }
            case (3, .i64): g.numRows = try r.i64()
            default: return false
            }
            return true
        }
        return g
    }

    mutating func columnChunk() throws(ParquetFailure) -> ParquetColumnChunk {
        var c = ParquetColumnChunk()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .binary): c.filePath = try r.string()
            case (3, .structure): c.meta = try r.columnMeta()
            case (8, _), (9, _): c.encrypted = true; return false
            default: return false
            }
            return true
        }
        return c
    }

    mutating func columnMeta() throws(ParquetFailure) -> ParquetColumnMeta {
        var m = ParquetColumnMeta()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .i32): m.type = try r.i32()
            case (2, .list): m.encodings = try r.list(.i32) { (r) throws(ParquetFailure) in try r.i32() }
            case (3, .list): m.path = try r.list(.binary) { (r) throws(ParquetFailure) in try r.string() }
            case (4, .i32): m.codec = try r.i32()
            case (5, .i64): m.numValues = try r.i64()
            case (6, .i64): m.totalUncompressedSize = try r.i64()
            case (7, .i64): m.totalCompressedSize = try r.i64()
            case (9, .i64): m.dataPageOffset = try r.i64()
            case (11, .i64): m.dictionaryPageOffset = try r.i64()
            default: return false
            }
            return true
        }
        return m
    }

    mutating func pageHeader() throws(ParquetFailure) -> ParquetPageHeader {
        var h = ParquetPageHeader()
        try readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
            switch (id, ThriftType(rawValue: t)) {
            case (1, .i32): h.type = try r.i32()
            case (2, .i32): h.uncompressedSize = try r.i32()
            case (3, .i32): h.compressedSize = try r.i32()
            case (5, .structure):
                var d = ParquetDataPageHeader()
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    guard t == ThriftType.i32.rawValue else { return false }
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.encoding = try r.i32()
                    case 3: d.definitionLevelEncoding = try r.i32()
                    case 4: d.repetitionLevelEncoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.data = d
            case (7, .structure):
                var d = ParquetDictionaryPageHeader()
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    guard t == ThriftType.i32.rawValue else { return false }
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.encoding = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dictionary = d
            case (8, .structure):
                var d = ParquetDataPageHeaderV2()
                try r.readStruct { (r, id, t) throws(ParquetFailure) -> Bool in
                    if id == 7 && (t == ThriftType.boolTrue.rawValue || t == ThriftType.boolFalse.rawValue) {
                        d.isCompressed = t == ThriftType.boolTrue.rawValue
                        return true
                    }
                    guard t == ThriftType.i32.rawValue else { return false }
                    switch id {
                    case 1: d.numValues = try r.i32()
                    case 2: d.numNulls = try r.i32()
                    case 3: d.numRows = try r.i32()
                    case 4: d.encoding = try r.i32()
                    case 5: d.definitionLevelsByteLength = try r.i32()
                    case 6: d.repetitionLevelsByteLength = try r.i32()
                    default: return false
                    }
                    return true
                }
                h.dataV2 = d
            default: return false
            }
            return true
        }
        return h
    }
}
