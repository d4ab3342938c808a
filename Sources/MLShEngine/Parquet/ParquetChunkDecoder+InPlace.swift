extension ParquetChunkDecoder {
    /// The column memory of a page's values when they are 8-byte PLAIN values stored as the
    /// column holds them (DOUBLE into float, INT64 into int), else nil.
    func eightByteValues(_ page: ParquetPage, _ sink: ParquetSink) -> UnsafeMutableRawPointer? {
        guard page.encoding == ParquetEncoding.plain, chunk.codec != .none else { return nil }
        switch sink {
        case .double(let p) where plan.physical == .double: return UnsafeMutableRawPointer(p)
        case .int64(let p, _) where plan.physical == .int64: return UnsafeMutableRawPointer(p)
        default: return nil
        }
    }

    /// Decodes a compressed v1 page of an OPTIONAL column's 8-byte PLAIN values without
    /// copying them: the page (a length, the definition levels, then the values) is
    /// decompressed into the column itself, starting `U − 8n` bytes before the page's
    /// first row (U its size, n its rows), so that its values end where its rows end.
    /// The bytes before the first row belong to rows this thread already decoded
    /// (`ownedBytes` of them): they are saved first and put back after. Without nulls the
    /// values land exactly on their rows; with nulls they are packed at the end and
    /// spread forwards. Returns false (nothing written) where this does not apply: other
    /// encodings, types or page kinds, not enough owned bytes before the page (the first
    /// page of a chunk decoded in parallel), or values that do not fill the page's end.
    mutating func readInPlace(_ page: ParquetPage, into sink: ParquetSink, ownedBytes: Int) throws(ParquetFailure) -> Bool {
        guard page.kind == .v1, plan.optional, page.definitionEncoding == ParquetEncoding.rle,
              let first = eightByteValues(page, sink) else { return false }
        let n = page.numValues, size = page.uncompressedSize
        let before = size - 8 * n
        guard before <= ownedBytes else { return false }
        let stored = UnsafeRawBufferPointer(rebasing: file[page.body..<(page.body + page.compressedSize)])
        if let problem = chunk.codec.implausible(stored, size: size) { throw ParquetFailure(page.body, problem) }
        let start = first - before
        let saved = max(0, before)
        let keep = levelBuffer.reserve(saved + n + 64)
        keep.copyMemory(from: start, byteCount: saved)
        if let problem = chunk.codec.decompress(stored, into: UnsafeMutableRawBufferPointer(start: start, count: size), context: codecContext) {
            throw ParquetFailure(page.body, problem)
        }
        let region = ParquetRegion(bytes: UnsafeRawBufferPointer(start: start, count: size), origin: page.body, exact: false)
        let (levels, rest) = try region.lengthPrefixed("definition levels")
        // The levels may lie where values and saved bytes go: decode them first.
        let defs: UnsafeMutablePointer<UInt8>
        if case .int64(_, let v?) = sink { defs = v } else { defs = (keep + saved).assumingMemoryBound(to: UInt8.self) }
        var d = ParquetHybridDecoder(levels)
        let present = try d.bits(n, into: defs)
        let fits = rest.bytes.count == 8 * present
        start.copyMemory(from: keep, byteCount: saved)
        guard fits else { return false }
        nulls += n - present
        guard present < n else { return true }
        switch sink {
        case .double(let p): parquetSpreadForward(p, n: n, present: present, defs: defs, fill: .nan)
        case .int64(let p, _): parquetSpreadForward(p, n: n, present: present, defs: defs, fill: 0)
        default: break
        }
        return true
    }
}

/// Moves `present` values packed at the end of `out`'s `n` rows to the rows whose
/// definition level is 1, filling the others with `fill`. Works forwards, in place.
@inline(__always)
func parquetSpreadForward<T>(_ out: UnsafeMutablePointer<T>, n: Int, present: Int, defs: UnsafePointer<UInt8>, fill: T) {
    var j = n - present
    var i = 0
    // Once i == j every row from i on is present and already in place.
    while i < j {
        if defs[i] != 0 {
            out[i] = out[j]
            j += 1
        } else {
            out[i] = fill
        }
        i += 1
    }
}
