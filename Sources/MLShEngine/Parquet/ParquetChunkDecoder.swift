#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A page of a column chunk, its header checked against the chunk's bytes.
struct ParquetPage {
    enum Kind { case dictionary, v1, v2 }
    let kind: Kind
    /// The file offset of the page's body (after its header).
    let body: Int
    let compressedSize: Int
    let uncompressedSize: Int
    let numValues: Int
    let encoding: Int32
    /// v1: the definition levels' encoding.
    var definitionEncoding: Int32 = ParquetEncoding.rle
    /// v2: the level sections' lengths, the null count, whether values are compressed.
    var definitionBytes = 0
    var repetitionBytes = 0
    var numNulls = -1
    var isCompressed = true
}

/// A column chunk to decode: its pages, and where its rows go in the column.
struct ParquetChunk {
    let rowGroup: Int
    let rowStart: Int
    let rows: Int
    let codec: ParquetCompression
    let pages: [ParquetPage]
    /// Where its bytes lie in the file (page headers included).
    var bytes: Range<Int> = 0..<0
}

/// Where a chunk's values go: its first row in the column's arrays. Missing values are
/// NaN (double), a validity byte of 0 (int64, bool), or code -1 (codes).
enum ParquetSink {
    case double(UnsafeMutablePointer<Double>)
    case int64(UnsafeMutablePointer<Int64>, validity: UnsafeMutablePointer<UInt8>?)
    case bool(UnsafeMutablePointer<UInt8>, validity: UnsafeMutablePointer<UInt8>?)
    case codes(UnsafeMutablePointer<Int32>)

    func advanced(by k: Int) -> ParquetSink {
        switch self {
        case .double(let p): return .double(p + k)
        case .int64(let p, let v): return .int64(p + k, validity: v.map { $0 + k })
        case .bool(let p, let v): return .bool(p + k, validity: v.map { $0 + k })
        case .codes(let p): return .codes(p + k)
        }
    }
}

/// Scratch memory that grows and is reused from page to page.
final class ParquetScratch {
    private(set) var base: UnsafeMutableRawPointer?
    private var capacity = 0

    /// At least `bytes` bytes (contents undefined).
    func reserve(_ bytes: Int) -> UnsafeMutableRawPointer {
        if let base, capacity >= bytes { return base }
        base?.deallocate()
        capacity = max(bytes, 64, capacity * 2)
        let p = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        base = p
        return p
    }

    deinit { base?.deallocate() }
}

/// Decodes the pages of one column chunk into its sink.
struct ParquetChunkDecoder {
    let file: UnsafeRawBufferPointer
    let plan: ParquetColumnPlan
    let chunk: ParquetChunk
    /// "column 'x', row group 2", for messages.
    let what: String
    let pageBuffer = ParquetScratch()
    let levelBuffer = ParquetScratch()
    let indexBuffer = ParquetScratch()
    let codecContext = ParquetCodecContext()
    let batchBuffer = ParquetScratch()

    /// The dictionary page's values in the target's form (for strings, their codes in
    /// `interner`); nil until a dictionary page is read.
    private var dictionary: ParquetScratch?
    private var dictionaryCount = 0
    /// The distinct strings of this chunk (codes targets).
    var interner = ParquetInterner()
    /// Values that were null.
    var nulls = 0

    init(file: UnsafeRawBufferPointer, plan: ParquetColumnPlan, chunk: ParquetChunk) {
        self.file = file; self.plan = plan; self.chunk = chunk
        what = "column '\(plan.name)', row group \(chunk.rowGroup)"
    }

    func fail(_ f: ParquetFailure) -> ParquetFailure {
        var g = f
        g.message = "\(what): " + f.message
        return g
    }

    /// Decodes every page into `sink` (positioned at the chunk's first row). `ownedRows`
    /// rows before the chunk were written by this thread and are done (so a page may
    /// decompress over their last bytes and put them back; see `readInPlace`).
    mutating func decode(into sink: ParquetSink, ownedRows: Int = 0) throws(ParquetFailure) {
        var row = 0
        do {
            for page in chunk.pages {
                switch page.kind {
                case .dictionary: try readDictionary(page)
                case .v1, .v2:
                    let at = sink.advanced(by: row)
                    if try !readInPlace(page, into: at, ownedBytes: (ownedRows + row) * 8) {
                        try readData(page, into: at)
                    }
                    row += page.numValues
                }
            }
        } catch {
            throw fail(error)
        }
    }

    /// The bytes of `page` from `skip` on (v2's level sections stay out), decompressed
    /// when the chunk's codec says so.
    /// `into`, when given, is where the decompressed bytes go (the column's own memory,
    /// which has room for them) instead of the scratch buffer.
    private func pageBytes(_ page: ParquetPage, skip: Int = 0, compressed: Bool = true,
                           into direct: UnsafeMutableRawPointer? = nil) throws(ParquetFailure) -> ParquetRegion {
        let stored = UnsafeRawBufferPointer(rebasing: file[(page.body + skip)..<(page.body + page.compressedSize)])
        let size = page.uncompressedSize - skip
        if chunk.codec == .none || !compressed {
            guard stored.count == size else {
                throw ParquetFailure(page.body, "an uncompressed page of \(stored.count) bytes says it holds \(size)")
            }
            return ParquetRegion(bytes: stored, origin: page.body + skip, exact: true)
        }
        if let problem = chunk.codec.implausible(stored, size: size) { throw ParquetFailure(page.body + skip, problem) }
        let out = UnsafeMutableRawBufferPointer(start: direct ?? pageBuffer.reserve(size), count: size)
        if let problem = chunk.codec.decompress(stored, into: out, context: codecContext) {
            throw ParquetFailure(page.body + skip, problem)
        }
        return ParquetRegion(bytes: UnsafeRawBufferPointer(out), origin: page.body + skip, exact: false)
    }

    private mutating func readDictionary(_ page: ParquetPage) throws(ParquetFailure) {
        guard dictionary == nil else { throw ParquetFailure(page.body, "a second dictionary page") }
        guard page.encoding == ParquetEncoding.plain || page.encoding == ParquetEncoding.plainDictionary else {
            throw .unsupported("its dictionary page is in \(ParquetEncoding.name(page.encoding)), which mlsh does not read")
        }
        let region = try pageBytes(page)
        let n = page.numValues
        // A count beyond what the bytes can hold is a lie, caught before allocating.
        let fits: Int
        switch plan.physical {
        case .boolean: fits = region.bytes.count * 8
        case .int32, .float, .byteArray: fits = region.bytes.count / 4
        case .int64, .double: fits = region.bytes.count / 8
        case .int96: fits = region.bytes.count / 12
        case .fixedLenByteArray: fits = 0
        }
        guard n <= fits else {
            throw region.fail(0, "a dictionary of \(n) \(plan.physical.name) values in \(region.bytes.count) bytes")
        }
        let store = ParquetScratch()
        let width: Int
        switch plan.target {
        case .double: width = 8
        case .int64: width = 8
        case .bool: width = 1
        case .codes: width = 4
        }
        let p = store.reserve(max(1, n * width))
        let sink: ParquetSink
        switch plan.target {
        case .double: sink = .double(p.bindMemory(to: Double.self, capacity: n))
        case .int64: sink = .int64(p.bindMemory(to: Int64.self, capacity: n), validity: nil)
        case .bool: sink = .bool(p.bindMemory(to: UInt8.self, capacity: n), validity: nil)
        case .codes: sink = .codes(p.bindMemory(to: Int32.self, capacity: n))
        }
        try plain(region, n, into: sink)
        dictionary = store
        dictionaryCount = n
    }

    private mutating func readData(_ page: ParquetPage, into sink: ParquetSink) throws(ParquetFailure) {
        let n = page.numValues
        var values: ParquetRegion
        var defs: UnsafeMutablePointer<UInt8>?
        var present = n
        let validity: UnsafeMutablePointer<UInt8>?
        switch sink {
        case .int64(_, let v), .bool(_, let v): validity = v
        default: validity = nil
        }
        // PLAIN 8-byte values decompress straight into the column when nothing shares their
        // decompressed bytes: v1 pages without levels, v2 values sections.
        var direct = false
        func destination(_ size: Int, _ count: Int) -> UnsafeMutableRawPointer? {
            size == count * 8 ? eightByteValues(page, sink) : nil
        }
        if page.kind == .v1 {
            let target = plan.optional ? nil : destination(page.uncompressedSize, n)
            values = try pageBytes(page, into: target)
            direct = target != nil
            if plan.optional {
                guard page.definitionEncoding == ParquetEncoding.rle else {
                    throw .unsupported("its definition levels are in \(ParquetEncoding.name(page.definitionEncoding)), which mlsh does not read")
                }
                let (levels, rest) = try values.lengthPrefixed("definition levels")
                let out = validity ?? levelBuffer.reserve(n).assumingMemoryBound(to: UInt8.self)
                var d = ParquetHybridDecoder(levels)
                present = try d.bits(n, into: out)
                defs = out
                values = rest
            }
        } else {
            let levelBytes = page.repetitionBytes + page.definitionBytes
            if plan.optional {
                let levels = ParquetRegion(bytes: UnsafeRawBufferPointer(rebasing: file[(page.body + page.repetitionBytes)..<(page.body + levelBytes)]),
                                           origin: page.body + page.repetitionBytes, exact: true)
                let out = validity ?? levelBuffer.reserve(n).assumingMemoryBound(to: UInt8.self)
                var d = ParquetHybridDecoder(levels)
                present = try d.bits(n, into: out)
                defs = out
            }
            if page.numNulls >= 0 && page.numNulls != n - present {
                throw ParquetFailure(page.body, "the page header says \(page.numNulls) nulls, its definition levels \(n - present)")
            }
            let target = page.isCompressed ? destination(page.uncompressedSize - levelBytes, present) : nil
            values = try pageBytes(page, skip: levelBytes, compressed: page.isCompressed, into: target)
            direct = target != nil
        }
        if !plan.optional, let validity { validity.initialize(repeating: 1, count: n) }
        nulls += n - present
        switch page.encoding {
        case ParquetEncoding.plain where direct:
            break
        case ParquetEncoding.plain:
            try plain(values, present, into: sink)
        case ParquetEncoding.plainDictionary, ParquetEncoding.rleDictionary:
            try lookUp(values, present, into: sink)
        case 5, 6, 7, 9:
            try decodeV2Encoding(page.encoding, values, present, into: sink)
        case ParquetEncoding.rle where plan.target == .bool:
            guard case .bool(let out, _) = sink else { break }
            let (body, _) = try values.lengthPrefixed("RLE booleans")
            var d = ParquetHybridDecoder(body)
            _ = try d.bits(present, into: out)
        default:
            throw .unsupported("a page is in \(ParquetEncoding.name(page.encoding)), which mlsh does not read")
        }
        guard present < n, let defs else { return }
        switch sink {
        case .double(let p): parquetSpread(p, n: n, present: present, defs: defs, fill: .nan)
        case .int64(let p, _): parquetSpread(p, n: n, present: present, defs: defs, fill: 0)
        case .bool(let p, _): parquetSpread(p, n: n, present: present, defs: defs, fill: 0)
        case .codes(let p): parquetSpread(p, n: n, present: present, defs: defs, fill: -1)
        }
    }

    /// `k` PLAIN values from the start of `region`.
    private mutating func plain(_ region: ParquetRegion, _ k: Int, into sink: ParquetSink) throws(ParquetFailure) {
        let bytes = region.bytes
        func need(_ width: Int) throws(ParquetFailure) {
            guard k <= bytes.count / width else {
                throw region.fail(0, "\(k) \(plan.physical.name) values need \(k * width) bytes; the page has \(bytes.count)")
            }
        }
        guard k > 0, let src = bytes.baseAddress else {
            if k > 0 { throw region.fail(0, "\(k) values in an empty page") }
            return
        }
        switch sink {
        case .double(let out):
            if plan.physical == .double {
                try need(8)
                UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: k * 8)
            } else {
                try need(4)
                for i in 0..<k { out[i] = Double(Float(bitPattern: src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            }
        case .int64(let out, _):
            switch plan.physical {
            case .int64:
                try need(8)
                UnsafeMutableRawPointer(out).copyMemory(from: src, byteCount: k * 8)
            case .int32:
                try need(4)
                if plan.unsigned32 {
                    for i in 0..<k { out[i] = Int64(src.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)) }
                } else {
                    for i in 0..<k { out[i] = Int64(src.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self)) }
                }
            default:
                try need(12)
                for i in 0..<k {
                    let nanos = src.loadUnaligned(fromByteOffset: 12 * i, as: Int64.self)
                    let day = Int64(src.loadUnaligned(fromByteOffset: 12 * i + 8, as: UInt32.self))
                    // Julian day 2440588 is 1970-01-01.
                    let (ns, o1) = (day - 2_440_588).multipliedReportingOverflow(by: 86_400_000_000_000)
                    let (v, o2) = ns.addingReportingOverflow(nanos)
                    guard !o1 && !o2 else { throw region.fail(12 * i, "INT96 timestamp out of range (Julian day \(day))") }
                    out[i] = v
                }
            }
        case .bool(let out, _):
            guard k <= bytes.count * 8 else {
                throw region.fail(0, "\(k) BOOLEAN values need \((k + 7) / 8) bytes; the page has \(bytes.count)")
            }
            let p = src.assumingMemoryBound(to: UInt8.self)
            parquetBitSpread.withUnsafeBufferPointer { spread in
                let whole = k / 8
                for j in 0..<whole {
                    UnsafeMutableRawPointer(out + 8 * j).storeBytes(of: spread[Int(p[j])], as: UInt64.self)
                }
                for i in (whole * 8)..<k { out[i] = p[i / 8] >> UInt8(i % 8) & 1 }
            }
        case .codes(let out):
            try roomForStrings(k, region)
            // Lengths and places are read a batch at a time, then the batch is interned.
            let p = src.assumingMemoryBound(to: UInt8.self)
            let end = bytes.count
            let batch = 32
            let scratch = batchBuffer.reserve(3 * batch * 8)
            let offsets = scratch.bindMemory(to: Int.self, capacity: 2 * batch), lengths = offsets + batch
            let hashes = (scratch + 2 * batch * 8).bindMemory(to: UInt64.self, capacity: batch)
            var pos = 0
            var i = 0
            while i < k {
                let m = min(batch, k - i)
                for j in 0..<m {
                    guard end - pos >= 4 else { throw region.fail(pos, "value \(i + j + 1) of \(k): its length runs past the end of the page") }
                    let len = Int(UInt32(littleEndian: UnsafeRawPointer(p + pos).loadUnaligned(as: UInt32.self)))
                    pos += 4
                    guard len <= end - pos else {
                        throw region.fail(pos - 4, "value \(i + j + 1) of \(k): a length of \(len) bytes runs past the end of the page (\(end - pos) left)")
                    }
                    offsets[j] = pos
                    lengths[j] = len
                    pos += len
                }
                interner.intern(batch: m, base: p, offsets: offsets, lengths: lengths, hashes: hashes, into: out + i)
                i += m
            }
        }
    }

    /// Fails when `k` more strings could take the codes past what a string column holds
    /// (2^31 − 1 distinct values).
    func roomForStrings(_ k: Int, _ region: ParquetRegion) throws(ParquetFailure) {
        guard interner.count <= Int(Int32.max) - k else {
            throw .unsupported("more than \(Int32.max) distinct strings, more than a string column holds")
        }
    }

    /// `k` dictionary indices from `region` (a bit-width byte, then hybrid runs), looked up.
    private func lookUp(_ region: ParquetRegion, _ k: Int, into sink: ParquetSink) throws(ParquetFailure) {
        guard let dictionary, let dict = dictionary.base else {
            throw region.fail(0, "a dictionary-encoded page without a dictionary page before it")
        }
        if k == 0 { return }
        guard region.bytes.count >= 1 else { throw region.fail(0, "a dictionary-encoded page with no data") }
        let width = Int(region.bytes[0])
        guard width <= 32 else { throw region.fail(0, "dictionary index bit width \(width), expected at most 32") }
        let idx = indexBuffer.reserve(k * 4).bindMemory(to: UInt32.self, capacity: k)
        var d = ParquetHybridDecoder(region.dropFirst(1))
        try d.values(k, width: width, into: idx)
        guard dictionaryCount > 0 else { throw region.fail(0, "an index into an empty dictionary") }
        let last = UInt32(truncatingIfNeeded: dictionaryCount - 1)
        // Indices are clamped while gathering, and the largest checked after.
        @inline(__always) func gather<T>(_ out: UnsafeMutablePointer<T>, _ table: UnsafePointer<T>) -> UInt32 {
            var m: UInt32 = 0
            for i in 0..<k {
                let j = idx[i]
                m = max(m, j)
                out[i] = table[Int(min(j, last))]
            }
            return m
        }
        let maxSeen: UInt32
        switch sink {
        case .double(let out): maxSeen = gather(out, dict.assumingMemoryBound(to: Double.self))
        case .int64(let out, _): maxSeen = gather(out, dict.assumingMemoryBound(to: Int64.self))
        case .bool(let out, _): maxSeen = gather(out, dict.assumingMemoryBound(to: UInt8.self))
        case .codes(let out): maxSeen = gather(out, dict.assumingMemoryBound(to: Int32.self))
        }
        guard maxSeen <= last else {
            throw region.fail(0, "dictionary index \(maxSeen) outside the \(dictionaryCount)-entry dictionary")
        }
    }
}

/// Moves `present` values packed at the start of `out` to the rows whose definition level
/// is 1, filling the other rows of `n` with `fill`. Works backwards, in place.
@inline(__always)
func parquetSpread<T>(_ out: UnsafeMutablePointer<T>, n: Int, present: Int, defs: UnsafePointer<UInt8>, fill: T) {
    var j = present - 1
    var i = n - 1
    // Once i == j every row at or before i is present and already in place.
    while i > j {
        if defs[i] != 0 {
            out[i] = out[j]
            j -= 1
        } else {
            out[i] = fill
        }
        i -= 1
    }
}
