/// Parquet's RLE / bit-packing hybrid (definition levels, dictionary indices, RLE
/// booleans): a sequence of runs, each led by a varint header. An even header `2n` is a
/// run of `n` copies of one value stored in ⌈width/8⌉ little-endian bytes; an odd header
/// `2g+1` is `8g` values bit-packed, `width` bits each, least significant bit first.

/// Bytes 0/1 for the 8 bits of each byte value, least significant bit in the first byte.
let parquetBitSpread: [UInt64] = (0..<256).map { b in
    var w: UInt64 = 0
    for i in 0..<8 where b >> i & 1 == 1 { w |= 1 << (8 * UInt64(i)) }
    return w
}

/// Bytes of a page being decoded: the file's own (positions in messages are file
/// offsets) or a decompressed copy (positions are the page's, and say so).
struct ParquetRegion {
    let bytes: UnsafeRawBufferPointer
    /// The file offset of `bytes[0]`, or of the compressed page when `exact` is false.
    let origin: Int
    let exact: Bool

    /// A failure at byte `at` of the region.
    func fail(_ at: Int, _ message: String) -> ParquetFailure {
        exact ? ParquetFailure(origin + at, message)
              : ParquetFailure(origin, message + " (at byte \(at) of the decompressed page)")
    }

    /// The region from byte `from` (at most its end) on.
    func dropFirst(_ from: Int) -> ParquetRegion {
        let k = min(max(0, from), bytes.count)
        return ParquetRegion(bytes: UnsafeRawBufferPointer(rebasing: bytes[k...]), origin: exact ? origin + k : origin, exact: exact)
    }

    /// Bytes `from ..< from + count`, which must lie inside.
    func slice(_ from: Int, _ count: Int) -> ParquetRegion {
        ParquetRegion(bytes: UnsafeRawBufferPointer(rebasing: bytes[from..<(from + count)]), origin: exact ? origin + from : origin, exact: exact)
    }

    /// A little-endian u32 length prefix at the start and the region it measures (the rest
    /// follows it).
    func lengthPrefixed(_ what: String) throws(ParquetFailure) -> (body: ParquetRegion, rest: ParquetRegion) {
        guard bytes.count >= 4 else { throw fail(0, "\(what): a 4-byte length runs past the end of the page") }
        let n = Int(UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self)))
        guard n <= bytes.count - 4 else {
            throw fail(0, "\(what): a length of \(n) bytes runs past the end of the page (\(bytes.count - 4) bytes left)")
        }
        return (slice(4, n), dropFirst(4 + n))
    }
}

/// Reads hybrid runs from a region of a page.
struct ParquetHybridDecoder {
    let p: UnsafePointer<UInt8>
    let count: Int
    let region: ParquetRegion
    var pos = 0

    init(_ region: ParquetRegion) {
        // An empty region has no base address; any pointer serves, as nothing is read.
        p = region.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? parquetEmptyByte
        count = region.bytes.count
        self.region = region
    }

    func fail(_ message: String) -> ParquetFailure { region.fail(pos, message) }

    private mutating func header() throws(ParquetFailure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard pos < count else { throw fail("run header runs past the end of its data") }
            let b = p[pos]
            pos += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            guard shift < 40 else { throw fail("run header longer than 5 bytes") }
        }
    }

    /// Decodes `n` values of bit width 1 into bytes 0/1; returns how many are 1.
    mutating func bits(_ n: Int, into out: UnsafeMutablePointer<UInt8>) throws(ParquetFailure) -> Int {
        var done = 0, ones = 0
        try parquetBitSpread.withUnsafeBufferPointer { (spread) throws(ParquetFailure) in
            while done < n {
                let start = pos
                let h = try header()
                if h & 1 == 0 {
                    let run = min(Int(h >> 1), n - done)
                    guard pos < count else { pos = start; throw fail("run value runs past the end of its data") }
                    let v = p[pos] & 1
                    pos += 1
                    (out + done).initialize(repeating: v, count: run)
                    if v == 1 { ones += run }
                    done += run
                } else {
                    let groupBytes = Int(min(h >> 1, UInt64(count)))
                    let bytes = min(groupBytes, count - pos)
                    let take = min(bytes * 8, n - done)
                    guard take > 0 || groupBytes == 0 else { pos = start; throw fail("bit-packed run runs past the end of its data") }
                    let whole = take / 8
                    for k in 0..<whole {
                        let b = p[pos + k]
                        UnsafeMutableRawPointer(out + done + 8 * k).storeBytes(of: spread[Int(b)], as: UInt64.self)
                        ones += b.nonzeroBitCount
                    }
                    for k in (whole * 8)..<take {
                        let bit = p[pos + k / 8] >> UInt8(k % 8) & 1
                        out[done + k] = bit
                        ones += Int(bit)
                    }
                    pos += bytes
                    done += take
                }
            }
        }
        return ones
    }

    /// Decodes `n` values of `width` bits (0 to 32) into `out`.
    mutating func values(_ n: Int, width: Int, into out: UnsafeMutablePointer<UInt32>) throws(ParquetFailure) {
        guard width >= 0 && width <= 32 else { throw fail("bit width \(width) is outside 0 to 32") }
        let valueBytes = (width + 7) / 8
        let mask: UInt64 = (1 << UInt64(width)) - 1
        var done = 0
        while done < n {
            let start = pos
            let h = try header()
            if h & 1 == 0 {
                let run = min(Int(h >> 1), n - done)
                guard count - pos >= valueBytes else { pos = start; throw fail("run value runs past the end of its data") }
                var v: UInt32 = 0
                for k in 0..<valueBytes { v |= UInt32(p[pos + k]) << (8 * UInt32(k)) }
                pos += valueBytes
                (out + done).initialize(repeating: v, count: run)
                done += run
            } else {
                let groups = Int(min(h >> 1, UInt64(count)))
                let bytes = min(groups * width, count - pos)
                let available = width == 0 ? groups * 8 : bytes * 8 / width
                let take = min(available, n - done)
                guard take > 0 || groups == 0 else { pos = start; throw fail("bit-packed run runs past the end of its data") }
                parquetUnpack(p + pos, bytes: bytes, width: width, mask: mask, n: take, into: out + done)
                pos += bytes
                done += take
            }
        }
    }
}

/// Readable bytes for empty regions (never written).
nonisolated(unsafe) let parquetEmptyByte: UnsafePointer<UInt8> = {
    let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 8)
    p.initialize(repeating: 0, count: 8)
    return UnsafePointer(p)
}()

/// Unpacks `n` values of `width` bits from `bytes` bytes at `p` (which hold them all).
@inline(__always)
func parquetUnpack(_ p: UnsafePointer<UInt8>, bytes: Int, width: Int, mask: UInt64, n: Int, into out: UnsafeMutablePointer<UInt32>) {
    if width == 0 {
        out.initialize(repeating: 0, count: n)
        return
    }
    let raw = UnsafeRawPointer(p)
    var bit = 0
    var i = 0
    // Whole 64-bit loads while 8 bytes remain from the value's first byte.
    let fast = bytes >= 8 ? min(n, ((bytes - 8) * 8) / width + 1) : 0
    while i < fast {
        let w = raw.loadUnaligned(fromByteOffset: bit >> 3, as: UInt64.self)
        out[i] = UInt32(truncatingIfNeeded: (w >> UInt64(bit & 7)) & mask)
        bit += width
        i += 1
    }
    while i < n {
        var w: UInt64 = 0
        let first = bit >> 3
        for k in 0..<max(0, min(8, bytes - first)) { w |= UInt64(p[first + k]) << (8 * UInt64(k)) }
        out[i] = UInt32(truncatingIfNeeded: (w >> UInt64(bit & 7)) & mask)
        bit += width
        i += 1
    }
}

/// The bits needed for values up to `maxValue` (0 for 0).
func parquetBitWidth(_ maxValue: Int) -> Int {
    maxValue <= 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
}

/// Appends `v` (values below 2^width) as hybrid runs: runs of 8 or more equal values as
/// RLE runs, the rest bit-packed in groups of 8 (the last group padded with zeros).
func parquetEncodeHybrid<T: FixedWidthInteger>(_ v: UnsafeBufferPointer<T>, width: Int, into out: inout [UInt8]) {
    let n = v.count
    let valueBytes = (width + 7) / 8
    func varint(_ x: Int) {
        var x = UInt64(x)
        while x >= 0x80 { out.append(UInt8(truncatingIfNeeded: x) | 0x80); x >>= 7 }
        out.append(UInt8(x))
    }
    func run(_ at: Int, limit: Int) -> Int {
        var j = at + 1
        while j < n && j - at < limit && v[j] == v[at] { j += 1 }
        return j - at
    }
    var i = 0
    while i < n {
        let r = run(i, limit: Int.max)
        if r >= 8 {
            varint(r << 1)
            let x = UInt64(truncatingIfNeeded: v[i])
            for k in 0..<valueBytes { out.append(UInt8(truncatingIfNeeded: x >> (8 * UInt64(k)))) }
            i += r
            continue
        }
        // Groups of 8 until a run of 8 starts at a group's start (at most 63 groups, so
        // the header is one byte).
        var j = i + 8
        while j < n && j - i < 63 * 8 && run(j, limit: 8) < 8 { j += 8 }
        let groups = (j - i) / 8
        varint(groups << 1 | 1)
        var acc: UInt64 = 0
        var bits = 0
        for k in i..<(i + groups * 8) {
            let x = k < n ? UInt64(truncatingIfNeeded: v[k]) : 0
            acc |= x << UInt64(bits)
            bits += width
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        i = min(j, n)
    }
}
