import CKernels
/// One value of a column, or a value given by the user to compare against a column.
public enum Scalar: Sendable, Equatable {
    case float(Double), int(Int64), bool(Bool), string(String), missing

    /// The value as text for reports and messages: floats shortest (`3.0`), missing as `NA`.
    public var text: String {
        switch self {
        case .float(let d): return d.isNaN ? "NA" : dataFormatFloat(d)
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return s
        case .missing: return "NA"
        }
    }

    /// The value as a Double when it is a number or bool (missing and strings give nil).
    public var doubleValue: Double? {
        switch self {
        case .float(let d): return d.isNaN ? nil : d
        case .int(let i): return Double(i)
        case .bool(let b): return b ? 1 : 0
        case .string, .missing: return nil
        }
    }
}

/// The shortest text that reads back to the same Double (`0.1`, `3.0`, `1e-07`, `inf`).
func dataFormatFloat(_ d: Double) -> String {
    if d.isNaN { return "nan" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    return d.description
}

extension Column {
    /// Value `i`, or `.missing` when `i` is out of range or the value is missing.
    public func value(at i: Int) -> Scalar {
        guard i >= 0, i < count else { return .missing }
        switch storage {
        case .float(let v): return v[i].isNaN ? .missing : .float(v[i])
        case .int(let v, let m):
            if let m, !m[i] { return .missing }
            return .int(v[i])
        case .bool(let v, let m):
            if let m, !m[i] { return .missing }
            return .bool(v[i])
        case .string(let c, let d):
            let k = Int(c[i])
            return k >= 0 && k < d.count ? .string(d[k]) : .missing
        }
    }

    /// A column from scalars, typed by what they hold: all ints → int; ints and floats →
    /// float; bools → bool; strings → string; all missing (or empty) → float.
    /// Mixing strings or bools with other kinds is a `typeMismatch`.
    public init(scalars: [Scalar]) throws(EngineError) {
        var hasFloat = false, hasInt = false, hasBool = false, hasString = false
        for s in scalars {
            switch s {
            case .float: hasFloat = true
            case .int: hasInt = true
            case .bool: hasBool = true
            case .string: hasString = true
            case .missing: break
            }
        }
        let kinds = [hasFloat || hasInt, hasBool, hasString].filter { $0 }.count
        if kinds > 1 {
            var seen: [String] = []
            if hasInt { seen.append("int") }
            if hasFloat { seen.append("float") }
            if hasBool { seen.append("bool") }
            if hasString { seen.append("string") }
            throw EngineError.typeMismatch("cannot make a column from mixed values (\(seen.joined(separator: ", ")))")
        }
        if hasString {
            self.init(strings: scalars.map { if case .string(let s) = $0 { return s } else { return nil } })
        } else if hasBool {
            var v = [Bool](); v.reserveCapacity(scalars.count)
            var m = [Bool](); m.reserveCapacity(scalars.count)
            for s in scalars {
                if case .bool(let b) = s { v.append(b); m.append(true) } else { v.append(false); m.append(false) }
            }
            self.init(bools: v, validity: m.contains(false) ? m : nil)
        } else if hasInt && !hasFloat {
            var v = [Int64](); v.reserveCapacity(scalars.count)
            var m = [Bool](); m.reserveCapacity(scalars.count)
            for s in scalars {
                if case .int(let i) = s { v.append(i); m.append(true) } else { v.append(0); m.append(false) }
            }
            self.init(ints: v, validity: m.contains(false) ? m : nil)
        } else {
            self.init(floats: scalars.map { $0.doubleValue ?? .nan })
        }
    }

    /// The values as Doubles: ints and bools converted, missing → NaN; strings are a `typeMismatch`.
    public func doubles() throws(EngineError) -> [Double] {
        switch storage {
        case .float(let v): return v
        case .int(let v, let m):
            var out = v.map { Double($0) }
            if let m { for i in out.indices where !m[i] { out[i] = .nan } }
            return out
        case .bool(let v, let m):
            var out = v.map { $0 ? 1.0 : 0.0 }
            if let m { for i in out.indices where !m[i] { out[i] = .nan } }
            return out
        case .string:
            throw EngineError.typeMismatch("expected a numeric column, got a string column")
        }
    }

    /// The number of missing values.
    public var missingCount: Int {
        switch storage {
        case .float(let v): return v.reduce(0) { $0 + ($1.isNaN ? 1 : 0) }
        case .int(_, let m), .bool(_, let m): return m.map { $0.reduce(0) { $0 + ($1 ? 0 : 1) } } ?? 0
        case .string(let c, _): return c.reduce(0) { $0 + ($1 < 0 ? 1 : 0) }
        }
    }

    /// The rows at `indices`, in that order; an index of -1 (or out of range) gives a missing value.
    public func taking(_ indices: [Int]) -> Column {
        switch storage {
        case .float(let v):
            return Column(floats: dataGather(v, indices, fill: .nan).values)
        case .int(let v, let m):
            let (vals, outside) = dataGather(v, indices, fill: 0)
            let valid = m.map { dataGather($0, indices, fill: false).values } ?? (outside ? dataInside(indices, rows: v.count) : nil)
            return Column(ints: vals, validity: valid)
        case .bool(let v, let m):
            let (vals, outside) = dataGather(v, indices, fill: false)
            let valid = m.map { dataGather($0, indices, fill: false).values } ?? (outside ? dataInside(indices, rows: v.count) : nil)
            return Column(bools: vals, validity: valid)
        case .string(let c, let d):
            return Column(.string(codes: dataGather(c, indices, fill: -1).values, dictionary: d))
        }
    }

    /// The values where `mask` is true; `mask` has one entry per value, `pieces` is its
    /// split. Each piece is compacted on its own (in parallel when there are several) into
    /// the place its kept values start, never past its last kept value. 8- and 4-byte
    /// values go through CKernels (AVX2 left-packing: a permutation of 4 or 8 values per
    /// step, chosen by their mask bits); others branch-free: every value is written and the
    /// write position advances by the mask, since a filter keeps rows in no pattern a
    /// branch predictor could learn.
    func compacted(_ mask: [Bool], _ pieces: DataMaskPieces) -> Column {
        func compact<T>(_ v: [T]) -> [T] {
            [T](unsafeUninitializedCapacity: pieces.kept) { dst, count in
                v.withUnsafeBufferPointer { src in
                    mask.withUnsafeBufferPointer { m in
                        let box = DataUncheckedBox((src, m, dst))
                        _ = dataParallelChunks(count: pieces.ranges.count) { j in
                            let (src, m, dst) = box.value
                            let r = pieces.ranges[j], room = pieces.starts[j + 1] - pieces.starts[j]
                            guard room > 0, let out = dst.baseAddress.map({ $0 + pieces.starts[j] }),
                                  let from = src.baseAddress.map({ $0 + r.lowerBound }),
                                  let bits = m.baseAddress.map({ $0 + r.lowerBound }) else { return 0 }
                            switch MemoryLayout<T>.stride {
                            case 8 where MemoryLayout<T>.size == 8:
                                mlsh_compact64(UnsafeRawPointer(from).assumingMemoryBound(to: UInt64.self), bits, r.count,
                                               UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt64.self), room)
                            case 4 where MemoryLayout<T>.size == 4:
                                mlsh_compact32(UnsafeRawPointer(from).assumingMemoryBound(to: UInt32.self), bits, r.count,
                                               UnsafeMutableRawPointer(out).assumingMemoryBound(to: UInt32.self), room)
                            default:
                                var i = 0, k = 0
                                while i < r.count && k < room {
                                    (out + k).initialize(to: from[i])
                                    k &+= Int(unsafeBitCast(bits[i], to: UInt8.self))
                                    i &+= 1
                                }
                            }
                            return 0
                        }
                    }
                }
                count = pieces.kept
            }
        }
        switch storage {
        case .float(let v): return Column(floats: compact(v))
        case .int(let v, let valid): return Column(ints: compact(v), validity: valid.map { compact($0) })
        case .bool(let v, let valid): return Column(bools: compact(v), validity: valid.map { compact($0) })
        case .string(let c, let d): return Column(.string(codes: compact(c), dictionary: d))
        }
    }

    /// Rows `range` (clamped to the column).
    public func slice(_ range: Range<Int>) -> Column {
        let r = range.clamped(to: 0..<count)
        switch storage {
        case .float(let v): return Column(floats: Array(v[r]))
        case .int(let v, let m): return Column(ints: Array(v[r]), validity: m.map { Array($0[r]) })
        case .bool(let v, let m): return Column(bools: Array(v[r]), validity: m.map { Array($0[r]) })
        case .string(let c, let d): return Column(.string(codes: Array(c[r]), dictionary: d))
        }
    }

    /// Whether value `i` is missing; false when `i` is out of range.
    func dataIsMissing(_ i: Int) -> Bool {
        guard i >= 0, i < count else { return true }
        return isMissing(i)
    }
}
