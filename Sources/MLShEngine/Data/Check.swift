/// A data-quality check on a table (see `Table.check`). Missing values — NaN in float
/// columns, missing ints, bools and strings — are treated alike by every rule:
/// `not_null` and `max_missing` count them, every other rule skips them (as Great
/// Expectations and pandera do), and a condition skips the rows where it reads one.
public enum Check: Sendable {
    /// No missing values in the column.
    case notNull(String)
    /// Every present value in `lo...hi`.
    case between(String, Double, Double)
    /// No present value occurs twice.
    case unique(String)
    /// The row count is in `lo...hi`.
    case rowsBetween(Double, Double)
    /// Every present value is one of the given ones.
    case inSet(String, [Scalar])
    /// Every present value (as text) contains a match of the regular expression;
    /// use `^` and `$` to match whole values (search semantics, as Python's `re.search`).
    case matches(String, String)
    /// At most this fraction (0...1) of the values is missing.
    case maxMissing(String, Double)
    /// A row-wise condition already evaluated to a bool column; false rows fail (missing
    /// does not). `Table.condition` makes one that skips rows with missing inputs.
    case predicate(text: String, mask: Column)

    /// The check as the user would write it, such as `not_null($price)`.
    public var text: String {
        func n(_ d: Double) -> String {
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return dataFormatFloat(d)
        }
        func lit(_ s: Scalar) -> String {
            if case .string(let x) = s { return "\"" + x.replacingOccurrences("\"", "\\\"") + "\"" }
            return s.text
        }
        switch self {
        case .notNull(let c): return "not_null($\(c))"
        case .between(let c, let lo, let hi): return "between($\(c), \(n(lo)), \(n(hi)))"
        case .unique(let c): return "unique($\(c))"
        case .rowsBetween(let lo, let hi): return "rows_between(\(n(lo)), \(n(hi)))"
        case .inSet(let c, let vs): return "in_set($\(c), [\(vs.map(lit).joined(separator: ", "))])"
        case .matches(let c, let re): return "matches($\(c), r\"\(re)\")"
        case .maxMissing(let c, let f): return "max_missing($\(c), \(dataFormatFloat(f)))"
        case .predicate(let t, _): return t
        }
    }
}

/// A check with the text shown for it in reports and errors.
public struct CheckItem: Sendable {
    /// The check.
    public let check: Check
    /// Its text, as the user wrote it.
    public let text: String
    /// A check item; the text defaults to the check's own rendering.
    public init(_ check: Check, text: String? = nil) {
        self.check = check
        self.text = text ?? check.text
    }
    /// A check item with the given text.
    public init(check: Check, text: String) {
        self.check = check
        self.text = text
    }
}

/// The outcome of one check.
struct DataCheckOutcome {
    var failing: Int
    var example: Scalar
    var passed: Bool
}

extension String {
    fileprivate func replacingOccurrences(_ a: Character, _ b: String) -> String {
        var out = ""
        for ch in self { if ch == a { out += b } else { out.append(ch) } }
        return out
    }
}

extension Table {
    /// Runs the checks and reports one row per check, in order: `check` (its text),
    /// `passed`, `failing` (failing rows; for `unique`, rows that share a value; for
    /// `rows_between`, the row count when it fails; for `max_missing`, the missing count
    /// when it fails) and `example` (a failing value, `row N` for a predicate, or missing).
    public func check(_ items: [CheckItem]) throws(EngineError) -> Table {
        var texts: [String] = [], passed: [Bool] = [], failing: [Int64] = [], examples: [String?] = []
        for item in items {
            let o = try dataRunCheck(item.check)
            texts.append(item.text)
            passed.append(o.passed)
            failing.append(Int64(o.failing))
            if case .missing = o.example { examples.append(nil) } else { examples.append(o.example.text) }
        }
        return try Table(names: ["check", "passed", "failing", "example"],
                         columns: [Column(strings: texts), Column(bools: passed), Column(ints: failing), Column(strings: examples)],
                         label: label.map { "check(\($0))" })
    }

    /// Runs the checks; throws `expectationFailed` naming each failed check when any fails.
    public func expect(_ items: [CheckItem]) throws(EngineError) {
        var messages: [String] = []
        for item in items {
            let o = try dataRunCheck(item.check)
            if o.passed { continue }
            var m = "\(item.text) failed"
            switch item.check {
            case .rowsBetween: m += " (\(rowCount) rows)"
            case .maxMissing: m += " (\(o.failing) of \(rowCount) missing)"
            default: m += " (\(o.failing) failing row\(o.failing == 1 ? "" : "s")"
                if case .missing = o.example {} else { m += ", e.g. \(o.example.text)" }
                m += ")"
            }
            messages.append(m)
        }
        if !messages.isEmpty { throw EngineError.expectationFailed(messages) }
    }

    func dataRunCheck(_ check: Check) throws(EngineError) -> DataCheckOutcome {
        switch check {
        case .notNull(let name):
            let c = try column(name)
            let m = c.missingCount
            return DataCheckOutcome(failing: m, example: .missing, passed: m == 0)
        case .between(let name, let lo, let hi):
            let c = try column(name)
            let v = try Reductions.numeric(c, "between")
            var n = 0
            var ex = Scalar.missing
            for (i, x) in v.enumerated() where !x.isNaN && !(x >= lo && x <= hi) {
                if n == 0 { ex = c.value(at: i) }
                n += 1
            }
            return DataCheckOutcome(failing: n, example: ex, passed: n == 0)
        case .unique(let name):
            let c = try column(name)
            let codes = dataKeyCodes(c)
            var counts: [DataKeyCode: Int] = [:]
            for k in codes where !k.missing { counts[k, default: 0] += 1 }
            var n = 0
            var ex = Scalar.missing
            for (i, k) in codes.enumerated() where !k.missing && (counts[k] ?? 0) > 1 {
                if n == 0 { ex = c.value(at: i) }
                n += 1
            }
            return DataCheckOutcome(failing: n, example: ex, passed: n == 0)
        case .rowsBetween(let lo, let hi):
            let ok = Double(rowCount) >= lo && Double(rowCount) <= hi
            return DataCheckOutcome(failing: ok ? 0 : rowCount, example: ok ? .missing : .int(Int64(rowCount)), passed: ok)
        case .inSet(let name, let values):
            let c = try column(name)
            var n = 0
            var ex = Scalar.missing
            for i in 0..<rowCount {
                let v = c.value(at: i)
                if case .missing = v { continue }
                if values.contains(where: { dataScalarEqual($0, v) }) { continue }
                if n == 0 { ex = v }
                n += 1
            }
            return DataCheckOutcome(failing: n, example: ex, passed: n == 0)
        case .matches(let name, let pattern):
            let c = try column(name)
            let regex: Regex<AnyRegexOutput>
            do { regex = try Regex(pattern) } catch {
                throw EngineError.invalidArgument("matches: invalid regular expression r\"\(pattern)\": \(error)")
            }
            var n = 0
            var ex = Scalar.missing
            var cache: [String: Bool] = [:]
            for i in 0..<rowCount {
                let v = c.value(at: i)
                if case .missing = v { continue }
                let s = v.text
                let ok: Bool
                if let hit = cache[s] { ok = hit } else {
                    ok = ((try? regex.firstMatch(in: s)) ?? nil) != nil
                    cache[s] = ok
                }
                if ok { continue }
                if n == 0 { ex = v }
                n += 1
            }
            return DataCheckOutcome(failing: n, example: ex, passed: n == 0)
        case .maxMissing(let name, let fraction):
            let c = try column(name)
            let m = c.missingCount
            let ok = rowCount == 0 || Double(m) / Double(rowCount) <= fraction
            return DataCheckOutcome(failing: ok ? 0 : m, example: .missing, passed: ok)
        case .predicate(let text, let mask):
            guard case .bool(let v, let valid) = mask.storage else {
                throw EngineError.typeMismatch("check \(text): the condition must give bool values, got \(mask.dtype.rawValue)")
            }
            guard v.count == rowCount else {
                throw EngineError.lengthMismatch(column: text, expected: rowCount, actual: v.count)
            }
            var n = 0
            var ex = Scalar.missing
            for i in v.indices where !v[i] && (valid?[i] ?? true) {
                if n == 0 { ex = .string("row \(i)") }
                n += 1
            }
            return DataCheckOutcome(failing: n, example: ex, passed: n == 0)
        }
    }
}

extension Table {
    /// A condition as a check: rows where it is false fail; rows where it reads a missing
    /// value (`KExpr.missingWhere`), or is missing, are skipped.
    public func condition(_ e: KExpr, text: String) throws(EngineError) -> Check {
        let value = try KernelProgram.compile(e, for: self).run(on: self)
        guard case .bool(let v, let valid) = value.storage else {
            throw EngineError.typeMismatch("check: \(text) is a \(value.dtype.rawValue) expression; a check must be true or false")
        }
        guard let m = e.missingWhere else { return .predicate(text: text, mask: value) }
        let missing = try KernelProgram.compile(m, for: self).run(on: self)
        guard case .bool(let skip, let known) = missing.storage, skip.count == v.count else {
            throw EngineError.invalidArgument("internal error: the missing rows of \(text) are not a bool column")
        }
        let present = v.indices.map { (valid?[$0] ?? true) && !skip[$0] && (known?[$0] ?? true) }
        return .predicate(text: text, mask: Column(bools: v, validity: present))
    }
}

extension KExpr {
    /// Where the expression reads a missing value that reaches its result — SQL's NULL
    /// rule: a missing column value, `none` or NaN makes the result missing, except
    /// through `is_nan` and `fill_nan`, which use it, and reductions, which skip it;
    /// `split_text` is missing where it finds no part. Nil when it never is.
    public var missingWhere: KExpr? {
        func any(_ xs: [KExpr?]) -> KExpr? {
            xs.compactMap { $0 }.reduce(nil) { acc, x in acc.map { .call("or", [$0, x]) } ?? x }
        }
        switch self {
        case .column: return .call("is_nan", [self])
        case .missing: return .bool(true)
        case .float(let v): return v.isNaN ? .bool(true) : nil
        case .int, .bool, .string, .reduce: return nil
        case .call("is_nan", _): return nil
        case .call("fill_nan", let args) where args.count == 2:
            guard let a = args[0].missingWhere, let b = args[1].missingWhere else { return nil }
            return .call("and", [a, b])
        case .call("if_else", let args) where args.count == 3:
            let a = args[1].missingWhere, b = args[2].missingWhere
            let branch: KExpr? = a == nil && b == nil ? nil : .call("if_else", [args[0], a ?? .bool(false), b ?? .bool(false)])
            return any([args[0].missingWhere, branch])
        case .call("split_text", let args): return any(args.map(\.missingWhere) + [.call("is_nan", [self])])
        case .call(_, let args): return any(args.map(\.missingWhere))
        }
    }
}

/// Equality of a user value and a column value: strings by text, numbers by value, bools alike.
func dataScalarEqual(_ a: Scalar, _ b: Scalar) -> Bool {
    switch (a, b) {
    case (.string(let x), .string(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.float, _), (.int, _):
        guard let x = a.doubleValue, let y = b.doubleValue else { return false }
        if case .bool = b { return false }
        return x == y
    default: return false
    }
}
