import CZstd
import Foundation
import MLShEngine

extension TableFile {
    /// A typed array ready to be written, in its canonical form.
    enum Part {
        case f64([Double]), i64([Int64]), i32([Int32]), u64([UInt64]), u8([UInt8]), bool([Bool])

        var type: String {
            switch self {
            case .f64: return "f64"
            case .i64: return "i64"
            case .i32: return "i32"
            case .u64: return "u64"
            case .u8, .bool: return "u8"
            }
        }

        func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
            switch self {
            case .f64(let v): return v.withUnsafeBytes(body)
            case .i64(let v): return v.withUnsafeBytes(body)
            case .i32(let v): return v.withUnsafeBytes(body)
            case .u64(let v): return v.withUnsafeBytes(body)
            case .u8(let v): return v.withUnsafeBytes(body)
            case .bool(let v): return v.withUnsafeBytes(body)
            }
        }

        var byteCount: Int { withBytes { $0.count } }
    }

    /// One block of a part as it will be stored: its raw byte range in the part, the zstd
    /// bytes when compression pays, and the SHA-256 of its stored, padded bytes.
    struct PlannedBlock {
        var part: Int
        var range: Range<Int>
        var compressed: [UInt8]?
        var digest: [UInt8] = []
        var storedLength: Int { compressed?.count ?? range.count }
    }

    /// A table laid out as a snapshot file, blocks compressed and hashed, not yet written:
    /// its checksum and size are known before any byte is.
    public struct Prepared {
        let head: [UInt8]
        let parts: [Part]
        let blocks: [PlannedBlock]
        /// The checksum the file ends with.
        public let checksum: [UInt8]
        /// The file's size in bytes.
        public let size: Int

        /// Writes the file through `sink`, in order, without building it whole.
        public func write(_ sink: (UnsafeRawBufferPointer) throws(StoreError) -> Void) throws(StoreError) {
            var failure: StoreError?
            func put(_ bytes: UnsafeRawBufferPointer) {
                guard failure == nil else { return }
                do throws(StoreError) { try sink(bytes) } catch { failure = error }
            }
            head.withUnsafeBytes { put($0) }
            let zeros = [UInt8](repeating: 0, count: 8)
            for b in blocks {
                if let c = b.compressed {
                    c.withUnsafeBytes { put($0) }
                } else {
                    parts[b.part].withBytes { put(UnsafeRawBufferPointer(rebasing: $0[b.range])) }
                }
                let pad = TableFile.padded(b.storedLength) - b.storedLength
                if pad > 0 { zeros.withUnsafeBytes { put(UnsafeRawBufferPointer(rebasing: $0[0..<pad])) } }
            }
            checksum.withUnsafeBytes { put($0) }
            if let failure { throw failure }
        }

        /// The whole file as bytes (for small tables and tests).
        public func bytes() -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(size)
            try? write { (b) throws(StoreError) in out.append(contentsOf: b) }
            return out
        }
    }

    /// Lays `table` out as a snapshot file: canonical arrays, blocks compressed where it
    /// pays and hashed, in parallel.
    public static func prepare(_ table: Table) throws(StoreError) -> Prepared {
        var parts: [Part] = []
        var columns: [(entry: ColumnEntry, parts: [(String, Int)])] = []
        for (name, column) in zip(table.names, table.columns) {
            var arrays: [(String, Int)] = []
            var dictionary: Int?
            for (arrayName, part) in canonicalParts(column, dictionary: &dictionary) {
                arrays.append((arrayName, parts.count))
                parts.append(part)
            }
            columns.append((ColumnEntry(name: name, dtype: column.dtype.rawValue, dictionary: dictionary, arrays: []), arrays))
        }
        var planned: [PlannedBlock] = []
        for (p, part) in parts.enumerated() {
            let n = part.byteCount
            var start = 0
            while start < n {
                let end = min(n, start + blockBytes)
                planned.append(PlannedBlock(part: p, range: start..<end, compressed: nil))
                start = end
            }
        }
        let slots = TableFileSlots<PlannedBlock?>(count: planned.count, initial: nil)
        let shared = TableFileShared((parts, planned))
        tableFileParallel(planned.count) { i in
            var b = shared.value.1[i]
            shared.value.0[b.part].withBytes { all in
                let raw = UnsafeRawBufferPointer(rebasing: all[b.range])
                b.compressed = compressIfWorthIt(raw)
                let h = BlockDigest()
                if let c = b.compressed { h.update(c) } else { h.update(raw) }
                let pad = TableFile.padded(b.storedLength) - b.storedLength
                if pad > 0 { h.update([UInt8](repeating: 0, count: pad)) }
                b.digest = h.finalize()
            }
            slots[i] = b
        }
        let blocks = slots.values.compactMap { $0 }
        // Offsets, in file order.
        var offset = 0
        var byPart: [[Block]] = Array(repeating: [], count: parts.count)
        for b in blocks {
            byPart[b.part].append(Block(offset: offset, length: b.storedLength,
                                        encoding: b.compressed == nil ? "raw" : "zstd", rawLength: b.range.count))
            offset += padded(b.storedLength)
        }
        let header = Header(format: "mlsh-table", version: version, rows: table.rowCount, fingerprint: table.fingerprint(),
                            columns: columns.map { c in
                                var e = c.entry
                                e.arrays = c.parts.map { ArrayEntry(name: $0.0, type: parts[$0.1].type, blocks: byPart[$0.1]) }
                                return e
                            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var json: [UInt8]
        do { json = Array(try encoder.encode(header)) } catch {
            throw StoreError("cannot encode the snapshot header: \(error)")
        }
        while json.count % 8 != 0 { json.append(UInt8(ascii: " ")) }
        var head = magic
        appendLittleEndian(UInt32(version), to: &head)
        appendLittleEndian(UInt32(0), to: &head)
        appendLittleEndian(UInt64(json.count), to: &head)
        appendLittleEndian(UInt64(offset), to: &head)
        head += json
        var sum = SHA256()
        sum.update(head)
        for b in blocks { sum.update(b.digest) }
        let checksum = sum.finalize()
        return Prepared(head: head, parts: parts, blocks: blocks, checksum: checksum,
                        size: head.count + offset + checksumSize)
    }

    /// The whole file for `table` as bytes (for small tables and tests).
    public static func encode(_ table: Table) throws(StoreError) -> [UInt8] {
        try prepare(table).bytes()
    }

    /// The zstd frame of `raw` when a trial on its first `sampleBytes` and the whole block
    /// both shrink below nine tenths; nil to store it raw.
    static func compressIfWorthIt(_ raw: UnsafeRawBufferPointer) -> [UInt8]? {
        guard raw.count >= 64, let base = raw.baseAddress else { return nil }
        let sample = min(raw.count, sampleBytes)
        if sample < raw.count {
            guard let s = compress(UnsafeRawBufferPointer(start: base, count: sample)), s.count * 10 < sample * 9 else { return nil }
        }
        guard let c = compress(raw), c.count * 10 < raw.count * 9 else { return nil }
        return c
    }

    /// `raw` as one zstd frame at `zstdLevel`, or nil when zstd fails.
    static func compress(_ raw: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let base = raw.baseAddress else { return nil }
        let bound = ZSTD_compressBound(raw.count)
        var failed = false
        let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, n in
            let r = ZSTD_compress(buf.baseAddress, bound, base, raw.count, zstdLevel)
            if ZSTD_isError(r) != 0 { failed = true; n = 0 } else { n = r }
        }
        return failed ? nil : out
    }

    /// A column's arrays, canonical: one NaN pattern, no mask when nothing is missing, 0 and
    /// false under the mask, string dictionaries in first-appearance order with no unused
    /// or repeated entries (`dictionary` is set to the entry count).
    static func canonicalParts(_ column: Column, dictionary: inout Int?) -> [(String, Part)] {
        switch column.storage {
        case .float(let v):
            let nan = Double.nan.bitPattern
            if v.contains(where: { $0.isNaN && $0.bitPattern != nan }) {
                return [("values", .f64(v.map { $0.isNaN ? .nan : $0 }))]
            }
            return [("values", .f64(v))]
        case .int(let v, let m):
            guard let m, m.contains(false) else { return [("values", .i64(v))] }
            let values = [Int64](unsafeUninitializedCapacity: v.count) { buf, n in
                for i in 0..<v.count { buf[i] = m[i] ? v[i] : 0 }
                n = v.count
            }
            return [("values", .i64(values)), ("mask", .bool(m))]
        case .bool(let v, let m):
            guard let m, m.contains(false) else { return [("values", .bool(v))] }
            return [("values", .bool(zip(v, m).map { $0 && $1 })), ("mask", .bool(m))]
        case .string(let codes, let dict):
            let (newCodes, newDict) = canonicalStrings(codes, dict)
            dictionary = newDict.count
            var offsets: [UInt64] = [0]
            offsets.reserveCapacity(newDict.count + 1)
            var bytes: [UInt8] = []
            for s in newDict {
                bytes.append(contentsOf: s.utf8)
                offsets.append(UInt64(bytes.count))
            }
            return [("codes", .i32(newCodes)), ("offsets", .u64(offsets)), ("bytes", .u8(bytes))]
        }
    }

    /// Codes and dictionary renumbered in first-appearance order, each distinct string once,
    /// unused entries dropped; codes outside the dictionary become -1 (missing).
    static func canonicalStrings(_ codes: [Int32], _ dict: [String]) -> ([Int32], [String]) {
        var remap = [Int32](repeating: -2, count: dict.count)
        var seen: [String: Int32] = [:]
        var out: [String] = []
        var identity = true
        for c in codes {
            let k = Int(c)
            if k < 0 || k >= dict.count { if c != -1 { identity = false }; continue }
            if remap[k] != -2 { continue }
            if let e = seen[dict[k]] { remap[k] = e } else {
                let e = Int32(out.count)
                remap[k] = e
                seen[dict[k]] = e
                out.append(dict[k])
            }
            if remap[k] != c { identity = false }
        }
        if identity && out.count == dict.count { return (codes, dict) }
        let mapped = codes.map { c -> Int32 in
            let k = Int(c)
            return k >= 0 && k < remap.count ? remap[k] : -1
        }
        return (mapped, out)
    }
}
