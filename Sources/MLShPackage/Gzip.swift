import CZlib

/// gzip (RFC 1952) through zlib, for image layers: no name and time 0 in the header, so
/// the same bytes always compress to the same stream (with the same zlib).
enum Gzip {
    /// `bytes` compressed at zlib's default level; nil if zlib fails.
    static func compress(_ bytes: [UInt8]) -> [UInt8]? {
        var z = z_stream()
        guard mlsh_deflate_init_gzip(&z, 6) == Z_OK else { return nil }
        defer { deflateEnd(&z) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count / 2 + 1024)
        let chunk = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunk)
        var status = Z_OK
        bytes.withUnsafeBufferPointer { input in
            var offset = 0
            repeat {
                // zlib counts input in 32 bits: feed at most 1 GiB at a time.
                let take = min(input.count - offset, 1 << 30)
                z.next_in = UnsafeMutablePointer(mutating: input.baseAddress.map { $0 + offset })
                z.avail_in = UInt32(take)
                offset += take
                let flush = offset == input.count ? Z_FINISH : Z_NO_FLUSH
                repeat {
                    buffer.withUnsafeMutableBufferPointer { b in
                        z.next_out = b.baseAddress
                        z.avail_out = UInt32(chunk)
                        status = deflate(&z, flush)
                        out.append(contentsOf: b[0..<(chunk - Int(z.avail_out))])
                    }
                } while z.avail_out == 0 && status == Z_OK
            } while offset < input.count && status == Z_OK
        }
        return status == Z_STREAM_END ? out : nil
    }
}
