/// Reading and writing Apache Parquet files.
///
/// Reading: flat schemas (every top-level field a REQUIRED or OPTIONAL leaf); BOOLEAN →
/// bool, INT32 and INT64 → int (unsigned 8/16/32-bit too; a UINT_64 above Int64.max is an
/// error), FLOAT and DOUBLE → float, BYTE_ARRAY (STRING, ENUM, JSON or unannotated UTF-8)
/// → string; DECIMAL stored as an integer → float; DATE, TIMESTAMP, TIME and INT96 → ISO
/// 8601 text (mlsh has no date type). Nulls come from definition levels. Pages v1 and
/// v2, PLAIN and dictionary encodings (PLAIN_DICTIONARY, RLE_DICTIONARY; RLE booleans),
/// Parquet 2's DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
/// BYTE_STREAM_SPLIT; UNCOMPRESSED, SNAPPY, GZIP and ZSTD. Row groups and columns are decoded in parallel,
/// straight into each column's arrays; a projection reads only the chunks of the columns
/// it names. Anything else (nested or repeated fields, encryption, other encodings or
/// codecs) is an `unsupportedFile` error naming the column and the feature; a damaged
/// file is a `malformedData` error with the byte offset, never a crash or an allocation
/// larger than the file can justify.
///
/// Writing: one flat schema (float → DOUBLE, int → INT64, bool → BOOLEAN, string →
/// BYTE_ARRAY annotated STRING, dictionary-encoded), every column OPTIONAL (missing values,
/// NaN included, are nulls); data pages v1 of about 1 MiB, row groups of `rowGroupRows`
/// rows.
public enum Parquet {
    /// Reads the file at `path` (mapped into memory, not copied; each chunk's pages let go
    /// once it is decoded); with `columns`, only those, in that order.
    public static func read(path: String, columns: [String]? = nil) throws(EngineError) -> Table {
        var t = try dataWithFileBytes(path) { (buf, mapped) throws(EngineError) -> Table in
            try parse(UnsafeRawBufferPointer(buf), name: path, columns: columns, mapped: mapped)
        }
        t.label = dataBaseName(path)
        return t
    }

    /// Reads Parquet bytes; `name` is used in error messages (as the path).
    public static func read(data: [UInt8], name: String, columns: [String]? = nil) throws(EngineError) -> Table {
        try data.withUnsafeBufferPointer { (buf) throws(EngineError) -> Table in
            try parse(UnsafeRawBufferPointer(buf), name: name, columns: columns)
        }
    }

    static func parse(_ file: UnsafeRawBufferPointer, name: String, columns: [String]?,
                      mapped: Bool = false) throws(EngineError) -> Table {
        let label = dataBaseName(name)
        let result: Result<Table, ParquetFailure>
        do throws(ParquetFailure) {
            result = .success(try ParquetReader(file: file, label: label, mapped: mapped).read(columns: columns))
        } catch {
            result = .failure(error)
        }
        switch result {
        case .success(var t):
            t.label = label
            return t
        case .failure(let f):
            if let e = f.engine { throw e }
            if f.unsupported { throw EngineError.unsupportedFile(path: name, message: f.message) }
            throw EngineError.malformedData(path: name, offset: f.offset ?? 0, message: f.message)
        }
    }

    /// Writes `t` to `path` through `FileOutput` (atomically onto the resolved target).
    public static func write(_ t: Table, to path: String, compression: ParquetCompression = .zstd,
                             rowGroupRows: Int = 1 << 20) throws(EngineError) {
        let parts = try ParquetWriter(table: t, compression: compression, rowGroupRows: max(1, rowGroupRows)).encode()
        try FileOutput.write(parts: parts, to: path)
    }

    /// The bytes of `t` as a Parquet file.
    public static func encode(_ t: Table, compression: ParquetCompression = .zstd,
                              rowGroupRows: Int = 1 << 20) throws(EngineError) -> [UInt8] {
        Array(try ParquetWriter(table: t, compression: compression, rowGroupRows: max(1, rowGroupRows)).encode().joined())
    }
}
