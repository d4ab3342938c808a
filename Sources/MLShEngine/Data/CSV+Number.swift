#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What a CSV field holds, as far as type inference is concerned.
enum CSVValue {
    case missing
    case int(Int64)
    case float(Double)
    case bool(Bool)
    case text
}

/// 10^e for e in 0...22 (exact in a Double); a switch, so no global initialisation per call.
@inline(__always) func csvPow10(_ e: Int) -> Double {
    switch e {
    case 0: return 1e0
    case 1: return 1e1
    case 2: return 1e2
    case 3: return 1e3
    case 4: return 1e4
    case 5: return 1e5
    case 6: return 1e6
    case 7: return 1e7
    case 8: return 1e8
    case 9: return 1e9
    case 10: return 1e10
    case 11: return 1e11
    case 12: return 1e12
    case 13: return 1e13
    case 14: return 1e14
    case 15: return 1e15
    case 16: return 1e16
    case 17: return 1e17
    case 18: return 1e18
    case 19: return 1e19
    case 20: return 1e20
    case 21: return 1e21
    case 22: return 1e22
    default: return 1e22
    }
}


@inline(__always) func csvIsDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

/// Parses a decimal number starting at `start` (leading and trailing spaces allowed) and
/// stops at the first byte that cannot continue it. Returns `nil` when there is no
/// number; otherwise the value (`.int` when written without `.` or exponent and in
/// range, else `.float`) and the index after it. Exact: up to 19 significant digits go
/// through `csvDecimalToDouble`, anything harder to `strtod`.
@inline(__always)
func csvParseNumber(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (CSVValue, Int)? {
    // Fast path, small enough to inline: `-?digits(.digits)?` with at most 19 digits
    // whose value is exact as described below; everything else takes the full parser.
    var i = start
    var negative = false
    if i < end && p[i] == 45 { negative = true; i += 1 }
    var mantissa: UInt64 = 0
    let intStart = i
    while i < end {
        let d = p[i] &- 48
        if d >= 10 { break }
        mantissa = mantissa &* 10 &+ UInt64(d)
        i += 1
    }
    var digits = i - intStart
    if i < end && p[i] == 46 {
        i += 1
        let fracStart = i
        while i < end {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        let fracDigits = i - fracStart
        digits += fracDigits
        if digits == 0 || digits > 19 || fracDigits > 22 || mantissa > 1 << 53 { return csvParseNumberFull(p, start, end) }
        if i < end && (p[i] | 0x20 == 101 || p[i] == 32) { return csvParseNumberFull(p, start, end) }
        let v = Double(mantissa) / csvPow10(fracDigits)
        return (.float(negative ? -v : v), i)
    }
    if digits == 0 || digits > 18 { return csvParseNumberFull(p, start, end) }
    if i < end && (p[i] | 0x20 == 101 || p[i] == 32) { return csvParseNumberFull(p, start, end) }
    let n = Int64(mantissa)
    return (.int(negative ? -n : n), i)
}

/// The fast path of `csvParseNumber` for a float column: a decimal
/// `-?digits(.digits)?([eE][+-]?digits)?` with at most 19 significant digits directly
/// followed by a separator, line break or the end. Stores the correctly rounded value in
/// `out` and returns the index after it, or returns -1 when the field needs the general
/// path (spaces, `+`, markers, text, more digits, or a value `csvDecimalToDouble` leaves
/// to `strtod`).
@inline(__always)
func csvParsePlainDouble(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ sep: UInt8, _ out: inout Double) -> Int {
    var i = start
    var negative = false
    if i < end && p[i] == 45 { negative = true; i += 1 }
    var mantissa: UInt64 = 0
    let intStart = i
    while i < end {
        let d = p[i] &- 48
        if d >= 10 { break }
        mantissa = mantissa &* 10 &+ UInt64(d)
        i += 1
    }
    var digits = i - intStart
    var exp10 = 0
    if i < end && p[i] == 46 {
        i += 1
        let fracStart = i
        // Eight digits at a time while they last (long fractions), then one at a time.
        let raw = UnsafeRawPointer(p)
        while i + 8 <= end {
            let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            guard csvIsEightDigits(w) else { break }
            mantissa = mantissa &* 100_000_000 &+ csvEightDigits(w)
            i += 8
        }
        while i < end {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        exp10 = fracStart - i
        digits += i - fracStart
    }
    guard digits > 0 else { return -1 }
    if digits > 19 && csvSignificantDigits(p, intStart, i) > 19 { return -1 }
    if i < end && p[i] | 0x20 == 101 {
        let e = csvParseExponent(p, i + 1, end)
        guard e.next >= 0 else { return -1 }
        exp10 += e.value
        i = e.next
    }
    guard i == end || p[i] == sep || p[i] == 10 || p[i] == 13 else { return -1 }
    if mantissa <= 1 << 53 && exp10 >= -22 && exp10 <= 0 {
        // The common case, inline: one exact division, correctly rounded.
        let v = Double(mantissa) / csvPow10(-exp10)
        out = negative ? -v : v
        return i
    }
    guard let v = csvDecimalToDouble(mantissa, exp10, negative) else { return -1 }
    out = v
    return i
}

/// Whether the eight bytes of `w` (little-endian) are all ASCII digits.
@inline(__always)
func csvIsEightDigits(_ w: UInt64) -> Bool {
    ((w & 0xF0F0_F0F0_F0F0_F0F0) | (((w &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4))
        == 0x3333_3333_3333_3333
}

/// The value of eight ASCII digits loaded little-endian into `w` (first digit most significant).
@inline(__always)
func csvEightDigits(_ w: UInt64) -> UInt64 {
    var v = w &- 0x3030_3030_3030_3030
    v = (v &* 10) &+ (v >> 8)  // pairs of digits
    let mask: UInt64 = 0x0000_00FF_0000_00FF
    let mul1: UInt64 = 0x000F_4240_0000_0064  // 100 + (1_000_000 << 32)
    let mul2: UInt64 = 0x0000_2710_0000_0001  // 1 + (10_000 << 32)
    return (((v & mask) &* mul1) &+ (((v >> 16) & mask) &* mul2)) >> 32
}

/// The number of significant digits in the digits-and-dot text `[s, e)`: all digits but
/// the leading zeros.
func csvSignificantDigits(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> Int {
    var i = s
    while i < e && (p[i] == 48 || p[i] == 46) { i += 1 }
    var n = 0
    while i < e { if p[i] != 46 { n += 1 }; i += 1 }
    return n
}

/// Parses the exponent digits after an `e` at `start` (`[+-]?digits`, magnitude capped at
/// 100,000): the signed value and the index after it, or `next` -1 when no digit follows.
@inline(__always)
func csvParseExponent(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (value: Int, next: Int) {
    var j = start
    var negative = false
    if j < end && (p[j] == 45 || p[j] == 43) { negative = p[j] == 45; j += 1 }
    guard j < end, csvIsDigit(p[j]) else { return (0, -1) }
    var e = 0
    while j < end, csvIsDigit(p[j]) {
        if e < 100_000 { e = e * 10 + Int(p[j] &- 48) }
        j += 1
    }
    return (negative ? -e : e, j)
}

/// The double nearest to `mantissa * 10^exp10` (negated when `negative`), rounding ties
/// to even as `strtod` does; `mantissa` is exact (at most 19 significant digits). Exact
/// double arithmetic when both factors are exact (Clinger's fast path), else
/// `csvEiselLemire`; nil in the rare cases neither decides (the caller uses `strtod`).
@inline(__always)
func csvDecimalToDouble(_ mantissa: UInt64, _ exp10: Int, _ negative: Bool) -> Double? {
    if mantissa == 0 { return negative ? -0.0 : 0.0 }
    if mantissa <= 1 << 53 && exp10 >= -22 && exp10 <= 22 {
        let m = Double(mantissa)
        let v = exp10 < 0 ? m / csvPow10(-exp10) : m * csvPow10(exp10)
        return negative ? -v : v
    }
    return csvEiselLemire(mantissa, exp10, negative)
}

/// The Eisel-Lemire algorithm (as in Go's `strconv`): `mantissa * 10^exp10` correctly
/// rounded to a double, from one or two 64×64→128-bit products with the truncated
/// power of ten in `csvPowersOfTen128`. Returns nil when the truncation error could
/// change the rounding, on an exact halfway case it cannot settle, and for results that
/// are subnormal, infinite or outside the table; `mantissa` must not be 0.
@inline(__always)
func csvEiselLemire(_ mantissa: UInt64, _ exp10: Int, _ negative: Bool) -> Double? {
    guard exp10 >= -348, exp10 <= 347 else { return nil }
    let clz = mantissa.leadingZeroBitCount
    let man = mantissa << UInt64(clz)
    var retExp2 = UInt64(bitPattern: Int64(((217_706 &* exp10) >> 16) &+ 64 &+ 1023)) &- UInt64(clz)
    let index = (exp10 + 348) &* 2
    return csvPowersOfTen128.withUnsafeBufferPointer { table -> Double? in
        var (xHi, xLo) = man.multipliedFullWidth(by: table[index])
        // The product's low bits are uncertain by up to `man`: look at the next 64 bits.
        if (xHi & 0x1FF) == 0x1FF && xLo &+ man < man {
            let (yHi, yLo) = man.multipliedFullWidth(by: table[index + 1])
            var mergedHi = xHi
            let mergedLo = xLo &+ yHi
            if mergedLo < xLo { mergedHi &+= 1 }
            if (mergedHi & 0x1FF) == 0x1FF && mergedLo &+ 1 == 0 && yLo &+ man < man { return nil }
            xHi = mergedHi
            xLo = mergedLo
        }
        let msb = xHi >> 63
        var retMantissa = xHi >> (msb + 9)
        retExp2 &-= 1 ^ msb
        // Exactly halfway between two doubles: leave it to the slow path.
        if xLo == 0 && (xHi & 0x1FF) == 0 && (retMantissa & 3) == 1 { return nil }
        retMantissa &+= retMantissa & 1
        retMantissa >>= 1
        if retMantissa >> 53 > 0 {
            retMantissa >>= 1
            retExp2 &+= 1
        }
        // Biased exponent 0 (subnormal) or 0x7FF and above (infinite).
        if retExp2 &- 1 >= 0x7FF - 1 { return nil }
        var bits = (retExp2 << 52) | (retMantissa & 0x000F_FFFF_FFFF_FFFF)
        if negative { bits |= 1 << 63 }
        return Double(bitPattern: bits)
    }
}

/// The full number parser behind `csvParseNumber` (signs, spaces, exponents, long mantissas).
@inline(never)
func csvParseNumberFull(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> (CSVValue, Int)? {
    var i = start
    while i < end && p[i] == 32 { i += 1 }
    let numStart = i
    var negative = false
    if i < end && (p[i] == 45 || p[i] == 43) { negative = p[i] == 45; i += 1 }
    var mantissa: UInt64 = 0
    let intStart = i
    while i < end {
        let d = p[i] &- 48
        if d >= 10 { break }
        mantissa = mantissa &* 10 &+ UInt64(d)
        i += 1
    }
    var digits = i - intStart
    var exp10 = 0
    var isFloat = false
    if i < end && p[i] == 46 {
        isFloat = true
        i += 1
        let fracStart = i
        while i < end {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        exp10 = fracStart - i
        digits += i - fracStart
    }
    guard digits > 0 else { return nil }
    let digitsEnd = i
    if i < end && (p[i] | 0x20) == 101 {
        let e = csvParseExponent(p, i + 1, end)
        guard e.next >= 0 else { return nil }
        exp10 += e.value
        isFloat = true
        i = e.next
    }
    let numEnd = i
    while i < end && p[i] == 32 { i += 1 }
    if !isFloat && digits <= 19 {
        // With at most 19 digits the mantissa did not wrap (10^19 < 2^64).
        if negative {
            if mantissa <= UInt64(Int64.max) { return (.int(-Int64(mantissa)), i) }
            if mantissa == UInt64(Int64.max) + 1 { return (.int(Int64.min), i) }
        } else if mantissa <= UInt64(Int64.max) {
            return (.int(Int64(mantissa)), i)
        }
    }
    // With at most 19 significant digits (leading zeros aside) the mantissa is exact.
    if digits <= 19 || csvSignificantDigits(p, intStart, digitsEnd) <= 19,
       let v = csvDecimalToDouble(mantissa, exp10, negative) {
        return (.float(v), i)
    }
    return (.float(csvStrtod(p, numStart, numEnd)), i)
}

/// `strtod` over bytes already checked to be a plain decimal number.
func csvStrtod(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double {
    let n = end - start
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double in
        for k in 0..<n { buf[k] = CChar(bitPattern: p[start + k]) }
        buf[n] = 0
        guard let base = buf.baseAddress else { return .nan }
        return strtod(base, nil)
    }
}

/// Whether bytes `[s, e)` equal the ASCII word `w`, ignoring case.
func csvEqualsIgnoringCase(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int, _ w: StaticString) -> Bool {
    guard e - s == w.utf8CodeUnitCount else { return false }
    let wp = w.utf8Start
    for k in 0..<(e - s) where p[s + k] | 0x20 != wp[k] | 0x20 { return false }
    return true
}

/// Classifies unquoted field bytes `[s, e)` (spaces around are ignored): a number, a
/// bool (`true`/`false`, any case), `inf`/`infinity` with a sign, or text.
func csvClassifyUnquoted(_ p: UnsafePointer<UInt8>, _ s: Int, _ e: Int) -> CSVValue {
    var a = s, b = e
    while a < b && p[a] == 32 { a += 1 }
    while b > a && p[b - 1] == 32 { b -= 1 }
    if a == b { return .text }
    if let (v, next) = csvParseNumber(p, a, b), next == b { return v }
    if csvEqualsIgnoringCase(p, a, b, "true") { return .bool(true) }
    if csvEqualsIgnoringCase(p, a, b, "false") { return .bool(false) }
    var c = a
    var negative = false
    if p[c] == 45 || p[c] == 43 { negative = p[c] == 45; c += 1 }
    if csvEqualsIgnoringCase(p, c, b, "inf") || csvEqualsIgnoringCase(p, c, b, "infinity") {
        return .float(negative ? -.infinity : .infinity)
    }
    return .text
}
