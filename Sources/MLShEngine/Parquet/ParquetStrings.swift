#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Distinct byte strings, each kept once with its code (0, 1, ... in order of first
/// interning): how BYTE_ARRAY values become a dictionary-encoded string column without
/// an allocation per value. Open addressing over a power-of-two table.
struct ParquetInterner {
    /// The entries' bytes, back to back.
    private(set) var bytes: [UInt8] = []
    /// Where entry `k` starts in `bytes`; `starts[count]` is the end.
    private(set) var starts: [Int] = [0]
    private var hashes: [UInt64] = []
    /// Entry index + 1 per slot; 0 is empty.
    private var slots: [Int32] = Array(repeating: 0, count: 64)

    var count: Int { hashes.count }

    /// The code of the bytes at `p` (`n` of them), adding them when new.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        let h = parquetHash(p, n)
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        let found: Int32? = slots.withUnsafeBufferPointer { s in
            bytes.withUnsafeBufferPointer { b in
                while true {
                    let e = Int(s[i])
                    if e == 0 { return nil }
                    let k = e - 1
                    if hashes[k] == h {
                        let start = starts[k], len = starts[k + 1] - start
                        if len == n && (n == 0 || memcmp((b.baseAddress ?? parquetEmptyByte) + start, p, n) == 0) { return Int32(k) }
                    }
                    i = (i + 1) & mask
                }
            }
        }
        if let found { return found }
        let k = hashes.count
        bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        starts.append(bytes.count)
        hashes.append(h)
        slots[i] = Int32(k + 1)
        if hashes.count * 2 > slots.count { grow() }
        return Int32(k)
    }

    /// The code of `other`'s entry `k`.
    mutating func intern(from other: ParquetInterner, _ k: Int) -> Int32 {
        other.bytes.withUnsafeBufferPointer { b in
            let start = other.starts[k]
            return intern((b.baseAddress ?? parquetEmptyByte) + start, other.starts[k + 1] - start)
        }
    }

    private mutating func grow() {
        var next = [Int32](repeating: 0, count: slots.count * 2)
        let mask = next.count - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while next[i] != 0 { i = (i + 1) & mask }
            next[i] = Int32(k + 1)
        }
        slots = next
    }

    /// The entries as strings; nil with the first entry that is not UTF-8.
    func strings() -> (strings: [String], invalid: Int?) {
        var out: [String] = []
        out.reserveCapacity(count)
        var invalid: Int?
        bytes.withUnsafeBufferPointer { b in
            for k in 0..<count {
                let slice = UnsafeBufferPointer(rebasing: b[starts[k]..<starts[k + 1]])
                guard let s = String(validating: slice, as: UTF8.self) else { invalid = k; return }
                out.append(s)
            }
        }
        return (out, invalid)
    }
}

/// A fast 64-bit hash of `n` bytes (8 at a time, multiply-xorshift mixing).
@inline(__always)
func parquetHash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    let raw = UnsafeRawPointer(p)
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: n)
    var i = 0
    while i + 8 <= n {
        h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i += 8
    }
    if i < n {
        var w: UInt64 = 0
        for k in 0..<(n - i) { w |= UInt64(p[i + k]) << (8 * UInt64(k)) }
        h = (h ^ w) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 29
    }
    return h ^ (h >> 32)
}

/// Strings for the values of temporal columns (mlsh has no date or time type): ISO 8601
/// text, `2024-03-01`, `2024-03-01T12:30:00.250Z`, `12:30:00`.
enum ParquetTemporal {
    /// The civil date of a day count since 1970-01-01 (proleptic Gregorian).
    static func civil(_ days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = Int(doy - (153 * mp + 2) / 5 + 1)
        let m = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
    }

    static func date(_ days: Int64) -> String {
        let (y, m, d) = civil(days)
        let year = y < 0 ? "-" + pad(-y, 4) : pad(y, 4)
        return "\(year)-\(pad(Int64(m), 2))-\(pad(Int64(d), 2))"
    }

    /// `hh:mm:ss` of seconds into a day, with `digits` fraction digits of `fraction` when
    /// `digits` > 0.
    static func clock(_ seconds: Int64, fraction: Int64, digits: Int) -> String {
        var s = "\(pad(seconds / 3600, 2)):\(pad(seconds / 60 % 60, 2)):\(pad(seconds % 60, 2))"
        if digits > 0 { s += "." + pad(fraction, digits) }
        return s
    }

    static func digits(_ unit: ParquetTimeUnit) -> Int {
        switch unit {
        case .millis: return 3
        case .micros: return 6
        case .nanos: return 9
        }
    }

    /// A timestamp of `v` units since the epoch; `fraction` says whether to write the
    /// sub-second digits.
    static func timestamp(_ v: Int64, unit: ParquetTimeUnit, utc: Bool, fraction: Bool) -> String {
        let per = unit.perSecond
        let (secs, sub) = floorDivide(v, per)
        let (days, inDay) = floorDivide(secs, 86_400)
        return date(days) + "T" + clock(inDay, fraction: sub, digits: fraction ? digits(unit) : 0) + (utc ? "Z" : "")
    }

    /// A time of day of `v` units since midnight.
    static func time(_ v: Int64, unit: ParquetTimeUnit, fraction: Bool) -> String {
        let (secs, sub) = floorDivide(v, unit.perSecond)
        return clock(secs, fraction: sub, digits: fraction ? digits(unit) : 0)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }
}
