import CSnappy
import CZlib
import CZstd

/// How `save` compresses the pages of a Parquet file.
public enum ParquetCompression: String, Sendable, CaseIterable {
    case none, snappy, gzip, zstd

    /// The `CompressionCodec` value in the file.
    var codec: Int32 {
        switch self {
        case .none: return 0
        case .snappy: return 1
        case .gzip: return 2
        case .zstd: return 6
        }
    }

    /// The codec of a `CompressionCodec` value, or nil for one mlsh does not read.
    init?(codec: Int32) {
        switch codec {
        case 0: self = .none
        case 1: self = .snappy
        case 2: self = .gzip
        case 6: self = .zstd
        default: return nil
        }
    }

    /// A codec's name as the format spells it, for messages.
    static func name(_ codec: Int32) -> String {
        switch codec {
        case 0: return "UNCOMPRESSED"
        case 1: return "SNAPPY"
        case 2: return "GZIP"
        case 3: return "LZO"
        case 4: return "BROTLI"
        case 5: return "LZ4 (Hadoop)"
        case 6: return "ZSTD"
        case 7: return "LZ4_RAW"
        default: return "codec \(codec)"
        }
    }

    /// The largest page mlsh decompresses: a page says how large it decompresses, and a
    /// file could say anything. Writers keep pages near 1 MiB.
    static let maxPageBytes = 1 << 30

    /// Why `src` cannot decompress to `size` bytes, judged before any output is allocated:
    /// the stream's own length where the format records one, else the format's largest
    /// ratio (deflate 1032:1, zstd 32768:1); nil when it may.
    func implausible(_ src: UnsafeRawBufferPointer, size: Int) -> String? {
        if src.isEmpty && size == 0 { return nil }
        switch self {
        case .none:
            return src.count == size ? nil : "an uncompressed page of \(src.count) bytes says it holds \(size)"
        case .snappy:
            guard let s = src.baseAddress else { return "empty snappy data" }
            var declared = 0
            guard snappy_uncompressed_length(s.assumingMemoryBound(to: CChar.self), src.count, &declared) == SNAPPY_OK else {
                return "malformed snappy data"
            }
            return declared == size ? nil : "snappy data decompresses to \(declared) bytes, the page header says \(size)"
        case .zstd:
            guard let s = src.baseAddress else { return "empty zstd data" }
            let declared = ZSTD_getFrameContentSize(s, src.count)
            // ZSTD_CONTENTSIZE_ERROR (-2) is reported by decompressing; _UNKNOWN (-1) bounded by the ratio.
            if declared < UInt64.max - 1 {
                return declared == UInt64(size) ? nil : "zstd data decompresses to \(declared) bytes, the page header says \(size)"
            }
            return size / 32768 <= src.count ? nil : "\(src.count) bytes of zstd data cannot decompress to the page header's \(size)"
        case .gzip:
            return size / 1032 <= src.count ? nil : "\(src.count) bytes of gzip data cannot decompress to the page header's \(size)"
        }
    }

    /// Decompresses `src` into exactly `dst.count` bytes, or says why not (the caller adds
    /// the position). `context` keeps codec state from page to page.
    func decompress(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer,
                    context: ParquetCodecContext? = nil) -> String? {
        // Some writers store an empty section (a page of nulls only) as no bytes at all.
        if src.isEmpty && dst.isEmpty { return nil }
        if let problem = implausible(src, size: dst.count) { return problem }
        switch self {
        case .none:
            if let d = dst.baseAddress, let s = src.baseAddress { d.copyMemory(from: s, byteCount: src.count) }
            return nil
        case .snappy:
            guard let s = src.baseAddress else { return "empty snappy data" }
            if dst.count == 0 { return nil }
            guard let d = dst.baseAddress else { return "no output buffer" }
            var n = dst.count
            guard snappy_uncompress(s.assumingMemoryBound(to: CChar.self), src.count, d.assumingMemoryBound(to: CChar.self), &n) == SNAPPY_OK,
                  n == dst.count else {
                return "malformed snappy data"
            }
            return nil
        case .zstd:
            guard let s = src.baseAddress else { return "empty zstd data" }
            let r = context?.zstd().map { ZSTD_decompressDCtx($0, dst.baseAddress, dst.count, s, src.count) }
                ?? ZSTD_decompress(dst.baseAddress, dst.count, s, src.count)
            if ZSTD_isError(r) != 0 {
                let name = ZSTD_getErrorName(r).map { String(cString: $0) } ?? "unknown"
                return "malformed zstd data (\(name))"
            }
            guard r == dst.count else { return "zstd data decompresses to \(r) bytes, the page header says \(dst.count)" }
            return nil
        case .gzip:
            return gunzip(src, into: dst)
        }
    }

    /// Inflates gzip (or zlib) members back to back into exactly `dst.count` bytes.
    private func gunzip(_ src: UnsafeRawBufferPointer, into dst: UnsafeMutableRawBufferPointer) -> String? {
        guard let s = src.baseAddress, !src.isEmpty else { return "empty gzip data" }
        var z = z_stream()
        guard mlsh_inflate_init(&z) == Z_OK else { return "zlib cannot start" }
        defer { inflateEnd(&z) }
        var inPos = 0, outPos = 0
        let outBase = dst.baseAddress?.assumingMemoryBound(to: UInt8.self)
        let spare = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        defer { spare.deallocate() }
        while true {
            z.next_in = UnsafeMutablePointer(mutating: (s + inPos).assumingMemoryBound(to: UInt8.self))
            z.avail_in = UInt32(clamping: src.count - inPos)
            if let outBase, outPos < dst.count {
                z.next_out = outBase + outPos
                z.avail_out = UInt32(clamping: dst.count - outPos)
            } else {
                // A full output still lets zlib find the member's end (one byte of room
                // that must stay unused).
                z.next_out = spare
                z.avail_out = 1
            }
            let before = (z.avail_in, z.avail_out)
            let r = inflate(&z, Z_NO_FLUSH)
            let consumed = Int(before.0 - z.avail_in), produced = Int(before.1 - z.avail_out)
            inPos += consumed
            if outPos >= dst.count {
                if produced > 0 { return "gzip data decompresses to more than the page header's \(dst.count) bytes" }
            } else {
                outPos += produced
            }
            if r == Z_STREAM_END {
                // Skip zero padding; another member may follow.
                while inPos < src.count && src[inPos] == 0 { inPos += 1 }
                if inPos >= src.count { break }
                guard inflateReset(&z) == Z_OK else { return "zlib cannot restart" }
                continue
            }
            if r == Z_BUF_ERROR && consumed == 0 && produced == 0 {
                return inPos >= src.count ? "gzip data ends early" : "gzip data decompresses to more than the page header's \(dst.count) bytes"
            }
            guard r == Z_OK else {
                let msg = z.msg.map { String(cString: $0) } ?? "error \(r)"
                return "malformed gzip data (\(msg))"
            }
        }
        guard outPos == dst.count else { return "gzip data decompresses to \(outPos) bytes, the page header says \(dst.count)" }
        return nil
    }

    /// Compresses `src` (nil on a codec failure, which does not happen for valid input).
    func compress(_ src: UnsafeRawBufferPointer) -> [UInt8]? {
        switch self {
        case .none:
            return Array(src)
        case .zstd:
            let bound = ZSTD_compressBound(src.count)
            var failed = false
            let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, n in
                let r = ZSTD_compress(buf.baseAddress, bound, src.baseAddress, src.count, 1)
                if ZSTD_isError(r) != 0 { failed = true; n = 0 } else { n = r }
            }
            return failed ? nil : out
        case .snappy:
            // The empty stream is its length, 0.
            guard let s = src.baseAddress, !src.isEmpty else { return [0] }
            let bound = snappy_max_compressed_length(src.count)
            var failed = false
            let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, n in
                var len = bound
                let status = buf.baseAddress.map { base in
                    base.withMemoryRebound(to: CChar.self, capacity: bound) {
                        snappy_compress(s.assumingMemoryBound(to: CChar.self), src.count, $0, &len)
                    }
                } ?? SNAPPY_BUFFER_TOO_SMALL
                if status != SNAPPY_OK { failed = true; n = 0 } else { n = len }
            }
            return failed ? nil : out
        case .gzip:
            var z = z_stream()
            guard mlsh_deflate_init_gzip(&z, 6) == Z_OK else { return nil }
            defer { deflateEnd(&z) }
            let bound = Int(deflateBound(&z, UInt(src.count)))
            var failed = false
            let spare = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
            defer { spare.deallocate() }
            let out = [UInt8](unsafeUninitializedCapacity: bound) { buf, n in
                z.next_in = src.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: UInt8.self)) } ?? spare
                z.avail_in = UInt32(src.count)
                z.next_out = buf.baseAddress
                z.avail_out = UInt32(bound)
                let r = deflate(&z, Z_FINISH)
                if r != Z_STREAM_END { failed = true; n = 0 } else { n = bound - Int(z.avail_out) }
            }
            return failed ? nil : out
        }
    }
}

/// Codec state one decoder reuses from page to page (a zstd context is worth keeping:
/// making one per page costs an allocation and its tables).
final class ParquetCodecContext {
    private var dctx: OpaquePointer?

    /// The zstd decompression context, made on first use; nil if it cannot be made.
    func zstd() -> OpaquePointer? {
        if dctx == nil { dctx = ZSTD_createDCtx() }
        return dctx
    }

    deinit { if let dctx { ZSTD_freeDCtx(dctx) } }
}
