#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Distinct byte strings, each kept once with its code (0, 1, ... in order of first
/// interning): how BYTE_ARRAY values become a dictionary-encoded string column without
/// an allocation per value. Open addressing over a power-of-two table whose slots hold
/// the entry's index and the top half of its hash, so a probe touches an entry's bytes
/// only when that half matches.
struct ParquetInterner {
    /// The entries' bytes, back to back.
    private(set) var bytes: [UInt8] = []
    /// Where entry `k` starts in `bytes`; `starts[count]` is the end.
    private(set) var starts: [Int] = [0]
    /// Each entry's hash (for growing the table).
    private var hashes: [UInt64] = []
    /// Per slot: the hash's top 32 bits and the entry index + 1 in the low 32; 0 is empty.
    private var slots: [UInt64] = Array(repeating: 0, count: 64)
    /// Where the last batch's early loads went (kept so they are not optimised away).
    private var touched: UInt64 = 0

    var count: Int { hashes.count }

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    /// The code of the bytes at `p` (`n` of them), adding them when new.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int32 {
        intern(p, n, hash: parquetHash(p, n))
    }

    /// The code of the bytes at `p` whose hash is `h`.
    mutating func intern(_ p: UnsafePointer<UInt8>, _ n: Int, hash h: UInt64) -> Int32 {
        let tag = h & Self.tagMask
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: h) & mask
        let found: Int32? = slots.withUnsafeBufferPointer { s in
            starts.withUnsafeBufferPointer { st in
                bytes.withUnsafeBufferPointer { b in
                    while true {
                        let e = s[i]
                        if e == 0 { return nil }
                        if e & Self.tagMask == tag {
                            let k = Int(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1
                            let start = st[k], len = st[k + 1] - start
                            if len == n && parquetSameBytes((b.baseAddress ?? parquetEmptyByte) + start, p, n) { return Int32(k) }
                        }
                        i = (i + 1) & mask
                    }
                }
            }
        }
        if let found { return found }
        let k = hashes.count
        bytes.append(contentsOf: UnsafeBufferPointer(start: p, count: n))
        starts.append(bytes.count)
        hashes.append(h)
        slots[i] = tag | UInt64(k + 1)
        if hashes.count * 2 > slots.count { grow() }
        return Int32(k)
    }

    /// The codes of `m` values (at `base + offsets[j]`, `lengths[j]` bytes each; `hashes`
    /// has room for `m`). The memory each lookup will wait for (its first slot, that
    /// entry's start and bytes) is loaded for the whole batch first, stage by stage, so
    /// the waits overlap instead of adding up.
    mutating func intern(batch m: Int, base: UnsafePointer<UInt8>, offsets: UnsafePointer<Int>, lengths: UnsafePointer<Int>,
                         hashes h: UnsafeMutablePointer<UInt64>, into out: UnsafeMutablePointer<Int32>) {
        var touch: UInt64 = 0
        let mask = slots.count - 1
        slots.withUnsafeBufferPointer { s in
            starts.withUnsafeBufferPointer { st in
                bytes.withUnsafeBufferPointer { b in
                    for j in 0..<m {
                        h[j] = parquetHash(base + offsets[j], lengths[j])
                        touch &+= s[Int(truncatingIfNeeded: h[j]) & mask]
                    }
                    for j in 0..<m {
                        let e = s[Int(truncatingIfNeeded: h[j]) & mask]
                        if e != 0 { touch &+= UInt64(bitPattern: Int64(st[Int(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1])) }
                    }
                    for j in 0..<m {
                        let e = s[Int(truncatingIfNeeded: h[j]) & mask]
                        if e != 0, let p = b.baseAddress {
                            let start = st[Int(truncatingIfNeeded: e & 0xFFFF_FFFF) - 1]
                            if start < b.count { touch &+= UInt64(p[start]) }
                        }
                    }
                }
            }
        }
        touched = touch
        for j in 0..<m { out[j] = intern(base + offsets[j], lengths[j], hash: h[j]) }
    }

    /// The code of `other`'s entry `k`.
    mutating func intern(from other: ParquetInterner, _ k: Int) -> Int32 {
        other.bytes.withUnsafeBufferPointer { b in
            let start = other.starts[k]
            return intern((b.baseAddress ?? parquetEmptyByte) + start, other.starts[k + 1] - start, hash: other.hashes[k])
        }
    }

    private mutating func grow() {
        var next = [UInt64](repeating: 0, count: slots.count * 2)
        let mask = next.count - 1
        for (k, h) in hashes.enumerated() {
            var i = Int(truncatingIfNeeded: h) & mask
            while next[i] != 0 { i = (i + 1) & mask }
            next[i] = h & Self.tagMask | UInt64(k + 1)
        }
        slots = next
    }

    /// The entries `order` names (all, in order, when nil) as strings; `invalid` is set
    /// when one is not UTF-8.
    func strings(_ order: [Int32]? = nil) -> (strings: [String], invalid: Bool) {
        var out: [String] = []
        out.reserveCapacity(order?.count ?? count)
        var invalid = false
        bytes.withUnsafeBufferPointer { b in
            func add(_ k: Int) -> Bool {
                let entry = UnsafeBufferPointer(rebasing: b[starts[k]..<starts[k + 1]])
                // ASCII needs no validation (the general validator is slower by far).
                if parquetIsASCII(entry) {
                    out.append(String(decoding: entry, as: UTF8.self))
                    return true
                }
                guard let s = String(validating: entry, as: UTF8.self) else {
                    invalid = true
                    return false
                }
                out.append(s)
                return true
            }
            if let order {
                for k in order where !add(Int(k)) { return }
            } else {
                for k in 0..<count where !add(k) { return }
            }
        }
        return (out, invalid)
    }
}

/// Whether `n` bytes at `a` and `b` are equal (short ones compared as whole words).
@inline(__always)
func parquetSameBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    if n >= 8 {
        guard n <= 16 else { return memcmp(a, b, n) == 0 }
        return x.loadUnaligned(as: UInt64.self) == y.loadUnaligned(as: UInt64.self)
            && x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    }
    if n >= 4 {
        return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
            && x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
    }
    for i in 0..<n where a[i] != b[i] { return false }
    return true
}

/// Whether every byte is below 0x80.
@inline(__always)
func parquetIsASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    guard let p = bytes.baseAddress else { return true }
    let raw = UnsafeRawPointer(p)
    var high: UInt64 = 0
    var i = 0
    while i + 8 <= bytes.count {
        high |= raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        i += 8
    }
    while i < bytes.count {
        high |= UInt64(p[i])
        i += 1
    }
    return high & 0x8080_8080_8080_8080 == 0
}

@inline(__always)
private func parquetMix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    let r = a.multipliedFullWidth(by: b)
    return r.high ^ r.low
}

/// A fast 64-bit hash of `n` bytes: 8 bytes at a time, each word folded in by a 128-bit
/// multiply (wyhash's mixing); the tail read as whole (overlapping) words.
@inline(__always)
func parquetHash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
    let raw = UnsafeRawPointer(p)
    var h: UInt64 = 0x2D35_8DCC_AA6C_78A5 ^ UInt64(truncatingIfNeeded: n)
    var i = 0
    while i + 8 <= n {
        h = parquetMix(h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self), 0x8BB8_4B93_962E_ACC9)
        i += 8
    }
    if i < n {
        let w: UInt64
        if n >= 8 {
            w = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        } else if n >= 4 {
            w = UInt64(raw.loadUnaligned(as: UInt32.self)) | UInt64(raw.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32
        } else {
            w = UInt64(p[0]) | UInt64(p[n / 2]) << 8 | UInt64(p[n - 1]) << 16
        }
        h = parquetMix(h ^ w, 0x4B33_A62E_D433_D4A3)
    }
    return parquetMix(h, 0x9E37_79B9_7F4A_7C15)
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
