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

#if arch(x86_64) && !os(Windows)
/// 10^e for e in 0...27 (exact in a Float80, since 5^27 < 2^64).
@inline(__always) func csvPow10x(_ e: Int) -> Float80 {
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
    case 23: return 1e23
    case 24: return 1e24
    case 25: return 1e25
    case 26: return 1e26
    case 27: return 1e27
    default: return 1e27
    }
}
#endif

@inline(__always) func csvIsDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }

/// Parses a decimal number starting at `start` (leading and trailing spaces allowed) and
/// stops at the first byte that cannot continue it. Returns `nil` when there is no
/// number; otherwise the value (`.int` when written without `.` or exponent and in
/// range, else `.float`) and the index after it. Exact: up to 19 digits use exact
/// floating-point arithmetic, anything harder goes to `strtod`.
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

/// The fast path of `csvParseNumber` for a float column: a plain decimal `-?digits(.digits)?`
/// (at most 19 digits, mantissa ≤ 2^53, at most 22 fraction digits) directly followed by
/// a separator, line break or the end. Returns the index after it, or -1 when the field
/// needs the general path.
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
    var fracDigits = 0
    if i < end && p[i] == 46 {
        i += 1
        let fracStart = i
        while i < end {
            let d = p[i] &- 48
            if d >= 10 { break }
            mantissa = mantissa &* 10 &+ UInt64(d)
            i += 1
        }
        fracDigits = i - fracStart
        digits += fracDigits
    }
    guard digits > 0, digits <= 19, fracDigits <= 22, mantissa <= 1 << 53 else { return -1 }
    guard i == end || p[i] == sep || p[i] == 10 || p[i] == 13 else { return -1 }
    let v = fracDigits == 0 ? Double(mantissa) : Double(mantissa) / csvPow10(fracDigits)
    out = negative ? -v : v
    return i
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
    if i < end && (p[i] | 0x20) == 101 {
        var j = i + 1
        var eneg = false
        if j < end && (p[j] == 45 || p[j] == 43) { eneg = p[j] == 45; j += 1 }
        guard j < end, csvIsDigit(p[j]) else { return nil }
        var e = 0
        while j < end, csvIsDigit(p[j]) {
            if e < 100_000 { e = e * 10 + Int(p[j] &- 48) }
            j += 1
        }
        exp10 += eneg ? -e : e
        isFloat = true
        i = j
    }
    let numEnd = i
    while i < end && p[i] == 32 { i += 1 }
    if digits <= 19 {
        // With at most 19 digits the mantissa did not wrap (10^19 < 2^64).
        if !isFloat {
            if negative {
                if mantissa <= UInt64(Int64.max) { return (.int(-Int64(mantissa)), i) }
                if mantissa == UInt64(Int64.max) + 1 { return (.int(Int64.min), i) }
            } else if mantissa <= UInt64(Int64.max) {
                return (.int(Int64(mantissa)), i)
            }
        }
        if mantissa == 0 { return (.float(negative ? -0.0 : 0.0), i) }
        if mantissa <= 1 << 53 && exp10 >= -22 && exp10 <= 22 {
            let m = Double(mantissa)
            let v = exp10 < 0 ? m / csvPow10(-exp10) : m * csvPow10(exp10)
            return (.float(negative ? -v : v), i)
        }
        if exp10 == 0 {
            let v = Double(mantissa)
            return (.float(negative ? -v : v), i)
        }
        #if arch(x86_64) && !os(Windows)
        if exp10 >= -27 && exp10 <= 27 {
            // One correctly rounded Float80 operation on exact operands; rounding that to
            // Double is exact unless the Float80 result sits exactly on a Double midpoint.
            let m = Float80(mantissa)
            let x = exp10 < 0 ? m / csvPow10x(-exp10) : m * csvPow10x(exp10)
            if x.significandBitPattern & 0x7FF != 0x400 {
                let v = Double(x)
                return (.float(negative ? -v : v), i)
            }
        }
        #endif
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
