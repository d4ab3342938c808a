/// Writes a table as a Parquet file (see `Parquet`): row groups × columns are encoded and
/// compressed in parallel, then laid out in order behind `PAR1`, with the footer last.
struct ParquetWriter {
    let table: Table
    let compression: ParquetCompression
    let rowGroupRows: Int

    /// Rows per data page: 1 MiB of doubles.
    static let pageRows = 1 << 17

    /// A column's place in the schema.
    struct Info {
        let name: String
        let physical: ParquetPhysical
    }

    /// An encoded column chunk, its offsets relative to its own start.
    struct Encoded {
        /// The chunk's bytes: page headers and page bodies, in order.
        var parts: [[UInt8]] = []
        /// Their total size.
        var size = 0
        var dictionaryPageOffset: Int?
        var dataPageOffset = 0
        var uncompressed = 0
        var encodings: [Int32] = []
        var failure: String?
    }

    /// The file as pieces to write one after the other.
    func encode() throws(EngineError) -> [[UInt8]] {
        let infos = table.columns.enumerated().map { k, c in info(table.names[k], c) }
        let groups = table.rowCount == 0 ? [] : stride(from: 0, to: table.rowCount, by: rowGroupRows).map {
            $0..<min(table.rowCount, $0 + rowGroupRows)
        }
        let columns = table.columns.count
        let writer = self
        let encoded = dataParallelChunks(count: groups.count * columns, sequential: table.rowCount * columns < 1 << 16) { task in
            writer.chunk(table.columns[task % columns], groups[task / columns])
        }
        if let bad = encoded.first(where: { $0.failure != nil }), let message = bad.failure {
            throw EngineError.invalidArgument(message)
        }
        var out: [[UInt8]] = [Array("PAR1".utf8)]
        var offset = 4
        var meta = ThriftWriter()
        meta.beginStruct(nil)
        meta.i32(1, 2)
        meta.listHeader(2, .structure, count: columns + 1)
        meta.beginStruct(nil)
        meta.string(4, "schema")
        meta.i32(5, Int32(columns))
        meta.endStruct()
        for i in infos { schemaElement(&meta, i) }
        meta.i64(3, Int64(table.rowCount))
        meta.listHeader(4, .structure, count: groups.count)
        for (g, rows) in groups.enumerated() {
            let first = offset
            var total = 0
            meta.beginStruct(nil)
            meta.listHeader(1, .structure, count: columns)
            for c in 0..<columns {
                let e = encoded[g * columns + c]
                let start = offset
                out.append(contentsOf: e.parts)
                offset += e.size
                total += e.uncompressed
                meta.beginStruct(nil)
                meta.i64(2, Int64(start))
                meta.beginStruct(3)
                meta.i32(1, infos[c].physical.rawValue)
                meta.i32List(2, e.encodings)
                meta.stringList(3, [infos[c].name])
                meta.i32(4, compression.codec)
                meta.i64(5, Int64(rows.count))
                meta.i64(6, Int64(e.uncompressed))
                meta.i64(7, Int64(e.size))
                meta.i64(9, Int64(start + e.dataPageOffset))
                if let d = e.dictionaryPageOffset { meta.i64(11, Int64(start + d)) }
                meta.endStruct()
                meta.endStruct()
            }
            meta.i64(2, Int64(total))
            meta.i64(3, Int64(rows.count))
            meta.i64(5, Int64(first))
            meta.i64(6, Int64(offset - first))
            meta.i16(7, Int16(truncatingIfNeeded: g))
            meta.endStruct()
        }
        meta.string(6, "mlsh")
        meta.endStruct()
        var tail = meta.bytes
        appendLittleEndian(&tail, UInt32(meta.bytes.count))
        tail.append(contentsOf: Array("PAR1".utf8))
        out.append(tail)
        return out
    }

    /// A column's schema entry. Every column is OPTIONAL, as pandas' and Polars' are: files
    /// written with and without missing values then share one schema (a page without
    /// missing values costs one run of definition levels).
    func info(_ name: String, _ c: Column) -> Info {
        switch c.storage {
        case .float: return Info(name: name, physical: .double)
        case .int: return Info(name: name, physical: .int64)
        case .bool: return Info(name: name, physical: .boolean)
        case .string: return Info(name: name, physical: .byteArray)
        }
    }

    func schemaElement(_ w: inout ThriftWriter, _ i: Info) {
        w.beginStruct(nil)
        w.i32(1, i.physical.rawValue)
        w.i32(3, 1)                // OPTIONAL
        w.string(4, i.name)
        if i.physical == .byteArray {
            w.i32(6, 0)            // converted type UTF8
            w.beginStruct(10)      // logical type STRING
            w.beginStruct(1)
            w.endStruct()
            w.endStruct()
        }
        w.endStruct()
    }

    /// Column `c`'s rows `rows` as a chunk: a dictionary page for strings, then data pages.
    func chunk(_ c: Column, _ rows: Range<Int>) -> Encoded {
        var e = Encoded()
        e.encodings = [ParquetEncoding.plain, ParquetEncoding.rle]
        switch c.storage {
        case .string(let codes, let dictionary):
            // This chunk's entries in order of first use, and its values' indices into them.
            var local = [Int32](repeating: -1, count: dictionary.count)
            var entries: [Int32] = []
            var indices: [UInt32] = []
            indices.reserveCapacity(rows.count)
            for i in rows {
                let code = Int(codes[i])
                guard code >= 0 && code < dictionary.count else { continue }
                if local[code] < 0 { local[code] = Int32(entries.count); entries.append(Int32(code)) }
                indices.append(UInt32(local[code]))
            }
            var plain: [UInt8] = []
            for k in entries {
                let s = dictionary[Int(k)].utf8
                let n = UInt32(truncatingIfNeeded: s.count)
                for b in 0..<4 { plain.append(UInt8(truncatingIfNeeded: n >> (8 * UInt32(b)))) }
                plain.append(contentsOf: s)
            }
            e.dictionaryPageOffset = 0
            page(&e, plain, type: ParquetPageType.dictionary) { w in
                w.beginStruct(7)
                w.i32(1, Int32(clamping: entries.count))
                w.i32(2, ParquetEncoding.plain)
                w.endStruct()
            }
            e.encodings.append(ParquetEncoding.rleDictionary)
            let width = max(1, parquetBitWidth(entries.count - 1))
            var next = 0
            codes.withUnsafeBufferPointer { cb in
                dataPages(&e, rows, encoding: ParquetEncoding.rleDictionary, defs: { page, d in
                    var present = 0
                    for k in 0..<page.count {
                        let ok: UInt8 = cb[page.lowerBound + k] >= 0 ? 1 : 0
                        d[k] = ok
                        present += Int(ok)
                    }
                    return present
                }, values: { _, _, present, body in
                    body.append(UInt8(width))
                    indices.withUnsafeBufferPointer { all in
                        parquetEncodeHybrid(UnsafeBufferPointer(rebasing: all[next..<(next + present)]), width: width, into: &body)
                    }
                    next += present
                })
            }
        case .float(let v):
            v.withUnsafeBufferPointer { vb in
                dataPages(&e, rows, encoding: ParquetEncoding.plain, defs: { page, d in
                    var present = 0
                    for k in 0..<page.count {
                        let ok: UInt8 = vb[page.lowerBound + k].isNaN ? 0 : 1
                        d[k] = ok
                        present += Int(ok)
                    }
                    return present
                }, values: { page, d, present, body in
                    parquetAppendPresent(vb, page, d, present, into: &body)
                })
            }
        case .int(let v, let m):
            v.withUnsafeBufferPointer { vb in
                dataPages(&e, rows, encoding: ParquetEncoding.plain, defs: { page, d in parquetValidity(m, page, d) },
                          values: { page, d, present, body in parquetAppendPresent(vb, page, d, present, into: &body) })
            }
        case .bool(let v, let m):
            v.withUnsafeBufferPointer { vb in
                dataPages(&e, rows, encoding: ParquetEncoding.plain, defs: { page, d in parquetValidity(m, page, d) },
                          values: { page, d, _, body in
                    var acc: UInt8 = 0, bits: UInt8 = 0
                    for k in 0..<page.count where d[k] != 0 {
                        if vb[page.lowerBound + k] { acc |= 1 << bits }
                        bits += 1
                        if bits == 8 { body.append(acc); acc = 0; bits = 0 }
                    }
                    if bits > 0 { body.append(acc) }
                })
            }
        }
        return e
    }

    /// Data pages v1 for `rows`: definition levels (`defs` sets one per row of a page,
    /// 0 for missing, and returns how many are 1), then the values `values` appends for a
    /// page's rows.
    func dataPages(_ e: inout Encoded, _ rows: Range<Int>, encoding: Int32,
                   defs: (Range<Int>, UnsafeMutablePointer<UInt8>) -> Int,
                   values: (Range<Int>, UnsafePointer<UInt8>, Int, inout [UInt8]) -> Void) {
        var start = rows.lowerBound
        var levels = [UInt8](repeating: 0, count: min(rows.count, Self.pageRows))
        while start < rows.upperBound {
            let page = start..<min(rows.upperBound, start + Self.pageRows)
            var body: [UInt8] = []
            body.reserveCapacity(page.count * 8 + 64)
            levels.withUnsafeMutableBufferPointer { d in
                guard let base = d.baseAddress else { return }
                let present = defs(page, base)
                var runs: [UInt8] = []
                parquetEncodeHybrid(UnsafeBufferPointer(rebasing: d[0..<page.count]), width: 1, into: &runs)
                appendLittleEndian(&body, UInt32(runs.count))
                body.append(contentsOf: runs)
                values(page, base, present, &body)
            }
            if start == rows.lowerBound { e.dataPageOffset = e.size }
            self.page(&e, body, type: ParquetPageType.data) { w in
                w.beginStruct(5)
                w.i32(1, Int32(page.count))
                w.i32(2, encoding)
                w.i32(3, ParquetEncoding.rle)
                w.i32(4, ParquetEncoding.rle)
                w.endStruct()
            }
            start = page.upperBound
        }
    }

    /// Appends a page: its header (`sub` writes the header of its kind) and its
    /// compressed body.
    func page(_ e: inout Encoded, _ body: [UInt8], type: Int32, sub: (inout ThriftWriter) -> Void) {
        guard e.failure == nil else { return }
        guard let compressed = compression == .none ? body : body.withUnsafeBytes({ compression.compress($0) }) else {
            e.failure = "\(compression.rawValue) compression failed"
            return
        }
        guard body.count <= Int(Int32.max), compressed.count <= Int(Int32.max) else {
            e.failure = "a page of \(body.count) bytes is larger than Parquet allows (2 GiB)"
            return
        }
        var w = ThriftWriter()
        w.beginStruct(nil)
        w.i32(1, type)
        w.i32(2, Int32(body.count))
        w.i32(3, Int32(compressed.count))
        sub(&w)
        w.endStruct()
        e.parts.append(w.bytes)
        e.parts.append(compressed)
        e.size += w.bytes.count + compressed.count
        e.uncompressed += w.bytes.count + body.count
    }
}

/// Sets the definition levels of `page` from a validity mask (all 1 without one) and
/// returns how many are 1.
func parquetValidity(_ mask: [Bool]?, _ page: Range<Int>, _ d: UnsafeMutablePointer<UInt8>) -> Int {
    guard let mask else {
        d.initialize(repeating: 1, count: page.count)
        return page.count
    }
    return mask.withUnsafeBufferPointer { m in
        var present = 0
        for k in 0..<page.count {
            let ok: UInt8 = m[page.lowerBound + k] ? 1 : 0
            d[k] = ok
            present += Int(ok)
        }
        return present
    }
}

/// Appends the values of `page` whose definition level is 1, as their bytes.
func parquetAppendPresent<T: BitwiseCopyable>(_ values: UnsafeBufferPointer<T>, _ page: Range<Int>, _ d: UnsafePointer<UInt8>,
                                              _ present: Int, into body: inout [UInt8]) {
    let all = UnsafeBufferPointer(rebasing: values[page])
    if present == page.count {
        body.append(contentsOf: UnsafeRawBufferPointer(all))
        return
    }
    let packed = [T](unsafeUninitializedCapacity: present) { buf, n in
        var j = 0
        for k in 0..<all.count where d[k] != 0 && j < present {
            buf[j] = all[k]
            j += 1
        }
        n = j
    }
    packed.withUnsafeBytes { body.append(contentsOf: $0) }
}

/// Appends `v` as little-endian bytes.
@inline(__always)
func appendLittleEndian<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
    withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
}
