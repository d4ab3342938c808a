/// The encodings of Parquet 2 writers (parquet-mr's v2 writer, DuckDB, Arrow when asked):
/// DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY strings,
/// BYTE_STREAM_SPLIT numbers.
extension ParquetChunkDecoder {
    /// `k` values of the page's encoding `encoding` (5, 6, 7 or 9) from `region` into `sink`.
    mutating func decodeV2Encoding(_ encoding: Int32, _ region: ParquetRegion, _ k: Int, into sink: ParquetSink) throws(ParquetFailure) {
        func refuse() -> ParquetFailure {
            .unsupported("a page of its \(plan.physical.name) values is in \(ParquetEncoding.name(encoding)), which mlsh does not read for that type")
        }
        switch (encoding, sink) {
        case (5, .int64(let out, _)) where plan.physical == .int64 || plan.physical == .int32:
            let raw = UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt64.self)
            _ = try parquetDeltaDecode(region, count: k, into: raw)
            if plan.physical == .int32 {
                for i in 0..<k {
                    out[i] = plan.unsigned32 ? Int64(UInt32(truncatingIfNeeded: raw[i])) : Int64(Int32(truncatingIfNeeded: raw[i]))
                }
            }
        case (6, .codes(let out)):
            try roomForStrings(k, region)
            let lengths = indexBuffer.reserve(k * 8 + 8).bindMemory(to: UInt64.self, capacity: k)
            let used = try parquetDeltaDecode(region, count: k, into: lengths)
            var pos = used
            let bytes = region.bytes
            for i in 0..<k {
                let len = Int(truncatingIfNeeded: lengths[i])
                guard len >= 0, len <= bytes.count - pos else {
                    throw region.fail(pos, "value \(i + 1) of \(k): a length of \(Int64(bitPattern: lengths[i])) bytes runs past the end of the page")
                }
                out[i] = internBytes(bytes, pos, len)
                pos += len
            }
        case (7, .codes(let out)):
            try roomForStrings(k, region)
            try deltaStrings(region, k, into: out)
        case (9, _):
            try byteStreamSplit(region, k, into: sink)
        default:
            throw refuse()
        }
    }

    /// The code of `len` bytes at `pos` of `bytes`.
    private mutating func internBytes(_ bytes: UnsafeRawBufferPointer, _ pos: Int, _ len: Int) -> Int32 {
        let base = bytes.baseAddress.map { $0.assumingMemoryBound(to: UInt8.self) } ?? parquetEmptyByte
        return interner.intern(base + pos, len)
    }

    /// DELTA_BYTE_ARRAY: prefix lengths, then suffixes as DELTA_LENGTH_BYTE_ARRAY; each
    /// value is the previous value's first `prefix` bytes followed by its suffix.
    private mutating func deltaStrings(_ region: ParquetRegion, _ k: Int, into out: UnsafeMutablePointer<Int32>) throws(ParquetFailure) {
        let numbers = indexBuffer.reserve(k * 16 + 16).bindMemory(to: UInt64.self, capacity: 2 * k)
        let prefixes = numbers, lengths = numbers + k
        var pos = try parquetDeltaDecode(region, count: k, into: prefixes)
        pos += try parquetDeltaDecode(region.dropFirst(pos), count: k, into: lengths)
        let bytes = region.bytes
        var previous: [UInt8] = []
        var value: [UInt8] = []
        for i in 0..<k {
            let prefix = Int(truncatingIfNeeded: prefixes[i]), len = Int(truncatingIfNeeded: lengths[i])
            guard prefix >= 0, prefix <= previous.count else {
                throw region.fail(pos, "value \(i + 1) of \(k): a prefix of \(Int64(bitPattern: prefixes[i])) bytes of a \(previous.count)-byte value")
            }
            guard len >= 0, len <= bytes.count - pos else {
                throw region.fail(pos, "value \(i + 1) of \(k): a suffix of \(Int64(bitPattern: lengths[i])) bytes runs past the end of the page")
            }
            value.removeAll(keepingCapacity: true)
            value.append(contentsOf: previous[0..<prefix])
            value.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[pos..<(pos + len)]))
            pos += len
            out[i] = value.withUnsafeBufferPointer { interner.intern($0.baseAddress ?? parquetEmptyByte, $0.count) }
            swap(&previous, &value)
        }
    }

    /// BYTE_STREAM_SPLIT: byte j of value i at `j × k + i`.
    private func byteStreamSplit(_ region: ParquetRegion, _ k: Int, into sink: ParquetSink) throws(ParquetFailure) {
        let width: Int
        switch plan.physical {
        case .float, .int32: width = 4
        case .double, .int64: width = 8
        default: throw .unsupported("a page of its \(plan.physical.name) values is in BYTE_STREAM_SPLIT, which mlsh does not read for that type")
        }
        guard k <= region.bytes.count / width else {
            throw region.fail(0, "\(k) \(plan.physical.name) values need \(k * width) bytes; the page has \(region.bytes.count)")
        }
        guard k > 0, let src = region.bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        @inline(__always) func gather(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for j in 0..<width { v |= UInt64(src[j * k + i]) << (8 * UInt64(j)) }
            return v
        }
        switch (sink, plan.physical) {
        case (.double(let out), .double): for i in 0..<k { out[i] = Double(bitPattern: gather(i)) }
        case (.double(let out), _): for i in 0..<k { out[i] = Double(Float(bitPattern: UInt32(truncatingIfNeeded: gather(i)))) }
        case (.int64(let out, _), .int64): for i in 0..<k { out[i] = Int64(bitPattern: gather(i)) }
        case (.int64(let out, _), _):
            for i in 0..<k {
                let v = UInt32(truncatingIfNeeded: gather(i))
                out[i] = plan.unsigned32 ? Int64(v) : Int64(Int32(bitPattern: v))
            }
        default:
            throw .unsupported("a page of its \(plan.physical.name) values is in BYTE_STREAM_SPLIT, which mlsh does not read for that type")
        }
    }
}

/// Decodes a DELTA_BINARY_PACKED stream of exactly `count` values into `out` (as 64-bit
/// two's complement; INT32 values are its low 32 bits) and returns the bytes it takes.
///
/// Layout: a header (block size, miniblocks per block, value count, first value as
/// zigzag), then blocks: the minimum delta (zigzag), one bit width per miniblock, and the
/// miniblocks, each `block size / miniblocks` deltas above the minimum, bit-packed.
func parquetDeltaDecode(_ region: ParquetRegion, count: Int, into out: UnsafeMutablePointer<UInt64>) throws(ParquetFailure) -> Int {
    let bytes = region.bytes
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
        throw region.fail(0, "an empty DELTA_BINARY_PACKED stream")
    }
    var pos = 0
    func varint() throws(ParquetFailure) -> UInt64 {
        var v: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard pos < bytes.count else { throw region.fail(pos, "DELTA_BINARY_PACKED header runs past the end of the page") }
            let b = base[pos]
            pos += 1
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            guard shift < 64 else { throw region.fail(pos, "varint longer than 64 bits") }
        }
    }
    func zigzag() throws(ParquetFailure) -> UInt64 {
        let u = try varint()
        return (u >> 1) ^ (0 &- (u & 1))
    }
    let blockSize = try varint(), miniblocks = try varint(), total = try varint()
    guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
          (blockSize / miniblocks) % 32 == 0 else {
        throw region.fail(0, "DELTA_BINARY_PACKED blocks of \(blockSize) values in \(miniblocks) miniblocks (a multiple of 128 in miniblocks of multiples of 32)")
    }
    guard total == UInt64(count) else {
        throw region.fail(0, "DELTA_BINARY_PACKED stream of \(total) values where \(count) belong")
    }
    var last = try zigzag()
    if count == 0 { return pos }
    out[0] = last
    let perMini = Int(blockSize / miniblocks), minis = Int(miniblocks)
    var i = 1
    while i < count {
        let minDelta = try zigzag()
        guard minis <= bytes.count - pos else { throw region.fail(pos, "DELTA_BINARY_PACKED bit widths run past the end of the page") }
        let widths = pos
        pos += minis
        for m in 0..<minis where i < count {
            let width = Int(base[widths + m])
            guard width <= 64 else { throw region.fail(widths + m, "DELTA_BINARY_PACKED bit width \(width), expected at most 64") }
            let take = min(perMini, count - i)
            let full = perMini * width / 8
            let available = min(full, bytes.count - pos)
            guard take * width <= available * 8 else {
                throw region.fail(pos, "a DELTA_BINARY_PACKED miniblock runs past the end of the page")
            }
            parquetUnpack64(base + pos, bytes: available, width: width, n: take, into: out + i)
            for j in i..<(i + take) {
                last = last &+ minDelta &+ out[j]
                out[j] = last
            }
            pos += available
            i += take
        }
    }
    return pos
}

/// Unpacks `n` values of `width` bits (0 to 64, least significant first) from `bytes`
/// bytes at `p`, which hold them all.
func parquetUnpack64(_ p: UnsafePointer<UInt8>, bytes: Int, width: Int, n: Int, into out: UnsafeMutablePointer<UInt64>) {
    guard width > 0 else {
        out.initialize(repeating: 0, count: n)
        return
    }
    let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
    var bit = 0
    for i in 0..<n {
        var v: UInt64 = 0
        var got = 0
        var at = bit
        // Byte by byte: at most 9 bytes a value; the stream is rarely on a hot path.
        while got < width {
            let byte = at >> 3, shift = at & 7
            let chunk = UInt64(byte < bytes ? p[byte] : 0) >> UInt64(shift)
            v |= got < 64 ? chunk << UInt64(got) : 0
            let taken = 8 - shift
            got += taken
            at += taken
        }
        out[i] = v & mask
        bit += width
    }
}
