import Foundation
import MLShCommon

/// Reads a Parquet file in memory: the footer, the schema and the page headers of the
/// chunks it needs are checked first (no allocation depends on an unchecked number),
/// then the chunks are decoded in parallel, each column's row groups straight into its
/// arrays.
struct ParquetReader {
    let file: UnsafeRawBufferPointer
    /// The table's name, for messages about unknown columns.
    let label: String
    /// Whether `file` is a read-only mapping of the file: then each chunk's pages leave the
    /// process's memory once it is decoded, so a read holds the columns, not the file too.
    var mapped = false

    /// The bytes the decoded columns may take: the memory this process may use.
    static let memoryBudget: Int = min(Int(clamping: ProcessInfo.processInfo.physicalMemory),
                                       ColumnMemory.cgroupLimit() ?? .max)

    func read(columns wanted: [String]?) throws(ParquetFailure) -> Table {
        let (meta, footer) = try footer()
        func atFooter(_ f: ParquetFailure) -> ParquetFailure {
            var g = f
            if g.offset == nil { g.offset = footer }
            return g
        }
        let schema: ParquetSchema
        do { schema = try ParquetSchema(meta.schema) } catch { throw atFooter(error) }
        let fields = try select(wanted, schema)
        var plans: [ParquetColumnPlan] = []
        for f in fields {
            do { plans.append(try schema.plan(f)) } catch { throw atFooter(error) }
        }
        // Row groups: their row counts, checked against the file's.
        var starts: [Int] = []
        var total = 0
        for (g, rg) in meta.rowGroups.enumerated() {
            guard rg.numRows >= 0, rg.columns.count == schema.leafCount else {
                throw ParquetFailure(footer, rg.numRows < 0
                    ? "row group \(g) has \(rg.numRows) rows"
                    : "row group \(g) has \(rg.columns.count) column chunks; the schema has \(schema.leafCount) leaf columns")
            }
            starts.append(total)
            let (sum, overflow) = total.addingReportingOverflow(Int(rg.numRows))
            guard !overflow else { throw ParquetFailure(footer, "the row groups' row counts overflow") }
            total = sum
        }
        guard meta.numRows == Int64(total) else {
            throw ParquetFailure(footer, "the file says \(meta.numRows) rows; its row groups hold \(total)")
        }
        let bytesPerRow = plans.reduce(0) { sum, p in
            switch p.target {
            case .double: return sum + 8
            case .int64: return sum + (p.optional ? 9 : 8)
            case .bool: return sum + (p.optional ? 2 : 1)
            case .codes: return sum + 4
            }
        }
        let (need, overflow) = total.multipliedReportingOverflow(by: bytesPerRow)
        guard !overflow, need <= Self.memoryBudget else {
            throw ParquetFailure(footer, "the file says \(total) rows; \(plans.count) columns of them need \(overflow ? "more than Int.max" : "\(need)") bytes, more than this machine's \(Self.memoryBudget)")
        }
        var chunks: [[ParquetChunk]] = []
        for p in plans {
            var list: [ParquetChunk] = []
            for (g, rg) in meta.rowGroups.enumerated() {
                list.append(try chunk(rg.columns[p.leaf], plan: p, rowGroup: g, rowStart: starts[g], rows: Int(rg.numRows), footer: footer))
            }
            chunks.append(list)
        }
        let reader = self
        let built = dataParallelChunks(count: plans.count, sequential: total * plans.count < 1 << 16) { c in
            Result { () throws(ParquetFailure) -> Column in
                try reader.column(plans[c], chunks[c], rows: total, inOrder: plans.count >= dataWorkerCount)
            }
        }
        var out: [Column] = []
        for r in built {
            switch r {
            case .success(let c): out.append(c)
            case .failure(let f): throw f
            }
        }
        do {
            return try Table(names: plans.map(\.name), columns: out)
        } catch {
            var f = ParquetFailure(footer, error.message)
            f.engine = error
            throw f
        }
    }

    /// The footer's metadata and its file offset.
    func footer() throws(ParquetFailure) -> (ParquetFileMeta, Int) {
        let size = file.count
        guard size >= 12 else {
            throw ParquetFailure(0, "not a Parquet file: \(size) bytes is too short for its magic numbers and footer")
        }
        func magic(_ at: Int) -> String { String(decoding: file[at..<(at + 4)], as: UTF8.self) }
        guard magic(0) == "PAR1" || magic(0) == "PARE" else {
            throw ParquetFailure(0, "not a Parquet file: it does not start with PAR1")
        }
        let tail = magic(size - 4)
        if tail == "PARE" { throw .unsupported("the file is encrypted (an encrypted footer), which mlsh does not read") }
        guard tail == "PAR1" else {
            throw ParquetFailure(size - 4, "the file does not end with PAR1: it is truncated, or not a Parquet file")
        }
        let length = Int(UInt32(littleEndian: file.loadUnaligned(fromByteOffset: size - 8, as: UInt32.self)))
        guard length <= size - 12 else {
            throw ParquetFailure(size - 8, "the footer length \(length) is more than the \(size - 12) bytes before it")
        }
        let start = size - 8 - length
        var r = ThriftReader(UnsafeRawBufferPointer(rebasing: file[start..<(size - 8)]).assumingMemoryBound(to: UInt8.self), origin: start)
        let meta: ParquetFileMeta
        do { meta = try r.fileMeta() } catch {
            var f = error
            f.message = "file metadata: " + f.message
            throw f
        }
        if meta.encrypted { throw .unsupported("the file is encrypted, which mlsh does not read") }
        return (meta, start)
    }

    /// The fields `wanted` names, in its order (all, in the file's order, when nil).
    func select(_ wanted: [String]?, _ schema: ParquetSchema) throws(ParquetFailure) -> [ParquetSchema.Field] {
        guard let wanted else { return schema.fields }
        var byName: [String: ParquetSchema.Field] = [:]
        for f in schema.fields where byName[f.name] == nil { byName[f.name] = f }
        var out: [ParquetSchema.Field] = []
        var seen = Set<String>()
        for name in wanted {
            guard let f = byName[name] else {
                var failure = ParquetFailure(nil, "")
                failure.engine = .unknownColumn(name, table: label, suggestion: closestName(to: name, in: schema.fields.map(\.name)))
                throw failure
            }
            guard seen.insert(name).inserted else {
                var failure = ParquetFailure(nil, "")
                failure.engine = .duplicateColumn(name)
                throw failure
            }
            out.append(f)
        }
        return out
    }

    /// Checks a column chunk's metadata and walks its page headers.
    func chunk(_ c: ParquetColumnChunk, plan: ParquetColumnPlan, rowGroup g: Int, rowStart: Int, rows: Int,
               footer: Int) throws(ParquetFailure) -> ParquetChunk {
        let what = "column '\(plan.name)', row group \(g)"
        if let path = c.filePath {
            throw .unsupported("\(what) is stored in another file ('\(path)'), which mlsh does not read")
        }
        guard let m = c.meta else {
            if c.encrypted { throw .unsupported("\(what) is encrypted, which mlsh does not read") }
            throw ParquetFailure(footer, "\(what) has no column metadata")
        }
        guard m.type == plan.physical.rawValue else {
            throw ParquetFailure(footer, "\(what) is stored as \(ParquetPhysical(rawValue: m.type)?.name ?? "type \(m.type)"); the schema says \(plan.physical.name)")
        }
        guard let codec = ParquetCompression(codec: m.codec) else {
            throw .unsupported("\(what) is compressed with \(ParquetCompression.name(m.codec)), which mlsh does not read (it reads SNAPPY, GZIP, ZSTD and uncompressed pages)")
        }
        // An empty row group's chunks hold nothing to read (writers leave their offsets 0).
        if rows == 0 { return ParquetChunk(rowGroup: g, rowStart: rowStart, rows: 0, codec: codec, pages: []) }
        // The chunk starts at its first page: the dictionary page's offset when it has one
        // (some writers leave the other offset 0 in a chunk without data pages).
        var start = m.dataPageOffset
        if let d = m.dictionaryPageOffset, d >= 4, d < start || start < 4 { start = d }
        let limit = Int64(file.count - 8)
        guard start >= 4, m.totalCompressedSize >= 0, start <= limit, m.totalCompressedSize <= limit - start else {
            throw ParquetFailure(footer, "\(what) says its \(m.totalCompressedSize) bytes start at byte \(start), outside the file's \(file.count) bytes")
        }
        let pages = try walkPages(Int(start), Int(start + m.totalCompressedSize), rows: rows, what: what)
        return ParquetChunk(rowGroup: g, rowStart: rowStart, rows: rows, codec: codec, pages: pages,
                            bytes: Int(start)..<Int(start + m.totalCompressedSize))
    }

    /// The pages between `start` and `end`, their headers checked: sizes inside the chunk,
    /// counts not negative, a dictionary page only first, data pages holding `rows` values.
    func walkPages(_ start: Int, _ end: Int, rows: Int, what: String) throws(ParquetFailure) -> [ParquetPage] {
        var pages: [ParquetPage] = []
        var pos = start
        var values = 0
        var sawData = false
        while pos < end {
            var r = ThriftReader(UnsafeRawBufferPointer(rebasing: file[pos..<end]).assumingMemoryBound(to: UInt8.self), origin: pos)
            let h: ParquetPageHeader
            do { h = try r.pageHeader() } catch {
                var f = error
                f.message = "\(what): page header: " + f.message
                throw f
            }
            let body = pos + r.pos
            func bad(_ message: String) -> ParquetFailure { ParquetFailure(pos, "\(what): page header: " + message) }
            guard h.compressedSize >= 0, h.uncompressedSize >= 0 else {
                throw bad("negative page size (\(h.compressedSize) compressed, \(h.uncompressedSize) uncompressed)")
            }
            let compressed = Int(h.compressedSize), uncompressed = Int(h.uncompressedSize)
            guard compressed <= end - body else {
                throw bad("a page of \(compressed) bytes runs past the end of its column chunk (\(end - body) bytes left)")
            }
            guard uncompressed <= ParquetCompression.maxPageBytes else {
                throw bad("a page of \(uncompressed) bytes uncompressed, more than mlsh reads (\(ParquetCompression.maxPageBytes))")
            }
            switch h.type {
            case ParquetPageType.dictionary:
                guard let d = h.dictionary else { throw bad("a dictionary page without its dictionary header") }
                guard !sawData else { throw bad("a dictionary page after data pages") }
                guard d.numValues >= 0 else { throw bad("\(d.numValues) dictionary values") }
                pages.append(ParquetPage(kind: .dictionary, body: body, compressedSize: compressed, uncompressedSize: uncompressed,
                                         numValues: Int(d.numValues), encoding: d.encoding))
            case ParquetPageType.data:
                guard let d = h.data else { throw bad("a data page without its data page header") }
                guard d.numValues >= 0 else { throw bad("\(d.numValues) values") }
                var p = ParquetPage(kind: .v1, body: body, compressedSize: compressed, uncompressedSize: uncompressed,
                                    numValues: Int(d.numValues), encoding: d.encoding)
                p.definitionEncoding = d.definitionLevelEncoding
                pages.append(p)
                values += p.numValues
                sawData = true
            case ParquetPageType.dataV2:
                guard let d = h.dataV2 else { throw bad("a v2 data page without its data page header") }
                guard d.numValues >= 0, d.numNulls >= 0, d.numNulls <= d.numValues else {
                    throw bad("\(d.numValues) values of which \(d.numNulls) null")
                }
                guard d.definitionLevelsByteLength >= 0, d.repetitionLevelsByteLength >= 0 else {
                    throw bad("negative level lengths (\(d.repetitionLevelsByteLength) and \(d.definitionLevelsByteLength))")
                }
                let levels = Int(d.definitionLevelsByteLength) + Int(d.repetitionLevelsByteLength)
                guard levels <= compressed, levels <= uncompressed else {
                    throw bad("\(levels) bytes of levels in a page of \(compressed) bytes (\(uncompressed) uncompressed)")
                }
                var p = ParquetPage(kind: .v2, body: body, compressedSize: compressed, uncompressedSize: uncompressed,
                                    numValues: Int(d.numValues), encoding: d.encoding)
                p.definitionBytes = Int(d.definitionLevelsByteLength)
                p.repetitionBytes = Int(d.repetitionLevelsByteLength)
                p.numNulls = Int(d.numNulls)
                p.isCompressed = d.isCompressed
                pages.append(p)
                values += p.numValues
                sawData = true
            case ParquetPageType.index:
                break
            default:
                throw bad("unknown page type \(h.type)")
            }
            guard values <= rows else {
                throw ParquetFailure(pos, "\(what): its pages hold more values than the row group's \(rows) rows")
            }
            pos = body + compressed
        }
        guard values == rows else {
            throw ParquetFailure(start, "\(what): its pages hold \(values) values; the row group has \(rows) rows")
        }
        return pages
    }
}
