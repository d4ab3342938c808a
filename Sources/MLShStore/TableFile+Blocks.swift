import CZstd
import Foundation
import MLShEngine

extension TableFile {
    /// An array of the header, checked: its element count, its first block's index in file
    /// order, and where each block's decoded bytes start in the array.
    struct ArrayPlan {
        let entry: ArrayEntry
        let what: String
        let count: Int
        let firstBlock: Int
        let rawStarts: [Int]
    }

    /// A column of the header with its checked arrays.
    struct ColumnPlan {
        let entry: ColumnEntry
        let arrays: [ArrayPlan]
    }

    /// The header, checked against itself and the data length.
    struct Plan {
        let columns: [ColumnPlan]
        let blockCount: Int
    }

    /// Checks everything the header claims before anything is allocated: format and
    /// version, dtypes and their arrays, counts without overflow, and blocks that lie back
    /// to back in the data section, in file order, and fill it exactly.
    static func validate(_ header: Header, dataLength: Int) throws(StoreError) -> Plan {
        func bad(_ message: String) -> StoreError { StoreError("malformed snapshot file: " + message) }
        guard header.format == "mlsh-table", header.version == version else {
            throw bad("the header says format '\(header.format)' version \(header.version), expected 'mlsh-table' version \(version)")
        }
        let rows = header.rows
        guard rows >= 0 else { throw bad("negative row count \(rows)") }
        guard !header.columns.isEmpty || rows == 0 else { throw bad("\(rows) rows but no columns") }
        var next = 0, blockIndex = 0
        var columns: [ColumnPlan] = []
        for c in header.columns {
            let column = "column \(c.name)"
            var expected: [(name: String, type: String, count: Int?)]
            switch c.dtype {
            case "float": expected = [("values", "f64", rows)]
            case "int": expected = [("values", "i64", rows), ("mask", "u8", rows)]
            case "bool": expected = [("values", "u8", rows), ("mask", "u8", rows)]
            case "string":
                guard let d = c.dictionary, d >= 0, d < Int.max else { throw bad("\(column) has no valid dictionary entry count") }
                expected = [("codes", "i32", rows), ("offsets", "u64", d + 1), ("bytes", "u8", nil)]
            default: throw bad("\(column) has unknown dtype '\(c.dtype)'")
            }
            if c.dtype != "string" && c.dictionary != nil { throw bad("\(column) is \(c.dtype) but has a dictionary") }
            let optionalMask = c.dtype == "int" || c.dtype == "bool"
            guard c.arrays.count == expected.count || (optionalMask && c.arrays.count == 1) else {
                throw bad("\(column) has \(c.arrays.count) arrays; a \(c.dtype) column has \(optionalMask ? "1 or 2" : "\(expected.count)")")
            }
            var arrays: [ArrayPlan] = []
            for (a, want) in zip(c.arrays, expected) {
                let what = "\(column) (\(a.name))"
                guard a.name == want.name, a.type == want.type, let size = elementSize(a.type) else {
                    throw bad("\(column) has array '\(a.name)' of type '\(a.type)' where '\(want.name)' of type '\(want.type)' belongs")
                }
                var starts: [Int] = []
                var raw = 0
                for b in a.blocks {
                    guard b.offset == next else {
                        throw bad("block out of range: \(what) has a block at offset \(b.offset), expected \(next)")
                    }
                    guard b.length > 0, b.length <= dataLength - next, padded(b.length) <= dataLength - next else {
                        throw bad("block out of range: \(what) has a block of \(b.length) bytes at offset \(next) of a \(dataLength)-byte data section")
                    }
                    guard b.rawLength > 0, b.rawLength <= blockBytes, b.rawLength % size == 0 else {
                        throw bad("\(what) has a block of \(b.rawLength) decoded bytes (1 to \(blockBytes), whole \(a.type) values)")
                    }
                    switch b.encoding {
                    case "raw" where b.length == b.rawLength, "zstd": break
                    case "raw": throw bad("\(what) has a raw block of \(b.length) bytes that says it decodes to \(b.rawLength)")
                    default: throw bad("\(what) has a block with unknown encoding '\(b.encoding)'")
                    }
                    starts.append(raw)
                    let (sum, overflow) = raw.addingReportingOverflow(b.rawLength)
                    guard !overflow else { throw bad("\(what) is too large") }
                    raw = sum
                    next += padded(b.length)
                }
                let count = raw / size
                if let n = want.count {
                    let (bytes, overflow) = n.multipliedReportingOverflow(by: size)
                    guard !overflow, bytes == raw else {
                        throw bad("\(what) holds \(raw) bytes; \(n) \(a.type) values need \(overflow ? "more than Int.max" : "\(bytes)")")
                    }
                }
                arrays.append(ArrayPlan(entry: a, what: what, count: count, firstBlock: blockIndex, rawStarts: starts))
                blockIndex += a.blocks.count
            }
            columns.append(ColumnPlan(entry: c, arrays: arrays))
        }
        guard next == dataLength else {
            throw bad("the data section has \(dataLength - next) bytes no block uses")
        }
        return Plan(columns: columns, blockCount: blockIndex)
    }

    /// Reads arrays block by block into their final buffers, in parallel, recording each
    /// block's digest and any failure at its index in file order.
    struct BlockReader<Source: TableFileSource> {
        let source: Source
        let dataStart: Int
        let digests: TableFileSlots<[UInt8]>
        let failures: TableFileSlots<StoreError?>

        /// The array `a` as `[T]`; string codes are checked against `dictionary` entries,
        /// bools to be 0 or 1.
        func read<T>(_: T.Type, _ a: ArrayPlan, dictionary: Int? = nil) -> [T] {
            [T](unsafeUninitializedCapacity: a.count) { buf, n in
                let all = UnsafeMutableRawBufferPointer(buf)
                let shared = TableFileShared((self, all))
                tableFileParallel(a.entry.blocks.count) { k in
                    let (reader, all) = shared.value
                    let b = a.entry.blocks[k]
                    let dest = UnsafeMutableRawBufferPointer(rebasing: all[a.rawStarts[k]..<(a.rawStarts[k] + b.rawLength)])
                    let (digest, readFailure) = reader.readBlock(b, into: dest, what: "\(a.what) block \(k)")
                    var failure = readFailure
                    if failure == nil { failure = TableFile.check(T.self, dest, what: "\(a.what) block \(k)", dictionary: dictionary) }
                    if failure != nil { dest.initializeMemory(as: UInt8.self, repeating: 0) }
                    reader.digests[a.firstBlock + k] = digest
                    reader.failures[a.firstBlock + k] = failure
                }
                n = a.count
            }
        }

        /// One block into `dest` (its decoded size) and the digest of its stored, padded bytes.
        func readBlock(_ b: Block, into dest: UnsafeMutableRawBufferPointer, what: String) -> ([UInt8], StoreError?) {
            let h = BlockDigest()
            let at = dataStart + b.offset
            let stored = TableFile.padded(b.length)
            func truncated(_ byte: Int) -> StoreError { StoreError("snapshot file is truncated at byte \(byte) (in \(what))") }
            TableFile.prefault(dest)
            if b.encoding == "raw" {
                var pos = 0
                while pos < b.length {
                    let piece = UnsafeMutableRawBufferPointer(rebasing: dest[pos..<min(b.length, pos + TableFile.readPiece)])
                    guard source.read(into: piece, at: at + pos) else { return (h.finalize(), truncated(at + pos)) }
                    h.update(UnsafeRawBufferPointer(piece))
                    pos += piece.count
                }
                var pad = [UInt8](repeating: 0, count: stored - b.length)
                guard pad.withUnsafeMutableBytes({ source.read(into: $0, at: at + b.length) }) else {
                    return (h.finalize(), truncated(at + b.length))
                }
                h.update(pad)
                return (h.finalize(), nil)
            }
            var frame = [UInt8](repeating: 0, count: stored)
            guard frame.withUnsafeMutableBytes({ source.read(into: $0, at: at) }) else { return (h.finalize(), truncated(at)) }
            h.update(frame)
            let r = frame.withUnsafeBytes { ZSTD_decompress(dest.baseAddress, dest.count, $0.baseAddress, b.length) }
            if ZSTD_isError(r) != 0 {
                let name = ZSTD_getErrorName(r).map { String(cString: $0) } ?? "unknown"
                return (h.finalize(), StoreError("malformed snapshot file: zstd error in \(what): \(name)"))
            }
            guard r == dest.count else {
                return (h.finalize(), StoreError("malformed snapshot file: \(what) decodes to \(r) bytes, its header says \(dest.count)"))
            }
            return (h.finalize(), nil)
        }
    }

    /// Maps the pages of a fresh destination buffer in one call (`MADV_POPULATE_WRITE`,
    /// Linux 5.14+) instead of one fault per page as the read first touches them: a large
    /// read into new memory is otherwise dominated by faults. Best effort.
    static func prefault(_ buffer: UnsafeMutableRawBufferPointer) {
        #if os(Linux)
        guard let base = buffer.baseAddress, buffer.count >= 1 << 20 else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: base) + page - 1) / page * page
        let end = (Int(bitPattern: base) + buffer.count) / page * page
        guard end > start, let p = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(p, end - start, 23)   // MADV_POPULATE_WRITE
        #endif
    }

    /// Checks decoded bytes that not every pattern is valid for: bools (0 or 1) and string
    /// codes (-1 ..< entries).
    static func check<T>(_: T.Type, _ bytes: UnsafeMutableRawBufferPointer, what: String, dictionary: Int?) -> StoreError? {
        if T.self == Bool.self {
            if let i = bytes.firstIndex(where: { $0 > 1 }) {
                return StoreError("malformed snapshot file: \(what) holds byte \(bytes[i]) where a bool (0 or 1) belongs")
            }
        } else if let d = dictionary {
            let codes = bytes.assumingMemoryBound(to: Int32.self)
            let limit = Int32(clamping: d)
            if let c = codes.first(where: { $0 < -1 || $0 >= limit }) {
                return StoreError("malformed snapshot file: \(what) holds code \(c) outside its \(d)-entry dictionary")
            }
        }
        return nil
    }
}
