import MLShEngine
import MLShLanguage

/// One data-quality check as a value: made by `not_null($x)` and friends, consumed
/// by `check` and `expect`.
final class CheckValue: DomainObject {
    let item: CheckItem
    init(_ check: Check, text: String) { item = CheckItem(check: check, text: text) }
    var typeName: String { "check" }
    func render() -> String { item.text }
    var summary: String { item.text }
}

/// `check`, `expect` and the checks they take (§5).
enum QualityChecks {
    static func text(_ name: String, _ args: [Value]) -> String {
        name + "(" + args.map(DataArgs.text).joined(separator: ", ") + ")"
    }

    static func make(_ name: String, _ params: [String], _ summary: String, _ example: String,
                     _ build: @escaping (Arguments) throws(MLShError) -> Check) -> Builtin {
        Builtin(name, params, category: "quality", summary: summary, example: example) { a, _ throws(MLShError) in
            .object(CheckValue(try build(a), text: text(name, a.allPositional)))
        }
    }

    static func column(_ a: Arguments, _ name: String = "x") throws(MLShError) -> String {
        try DataArgs.columnName(try a.value(name), a.function)
    }

    static var builtins: [Builtin] { [
        make("not_null", ["x"], "Check: the column has no missing values (NaN is missing).", "check(t, not_null($price))") { a throws(MLShError) in
            .notNull(try column(a))
        },
        make("between", ["x", "lo", "hi"], "Check: every value lies in [lo, hi] (missing values are skipped).", "check(t, between($age, 0, 120))") { a throws(MLShError) in
            .between(try column(a), try a.double("lo"), try a.double("hi"))
        },
        make("unique", ["x"], "Check: no value repeats (failing = rows that share a value; missing values are skipped).", "check(t, unique($id))") { a throws(MLShError) in
            .unique(try column(a))
        },
        make("rows_between", ["lo", "hi"], "Check: the row count lies in [lo, hi].", "check(t, rows_between(100, 1e7))") { a throws(MLShError) in
            .rowsBetween(try a.double("lo"), try a.double("hi"))
        },
        make("in_set", ["x", "values"], "Check: every value is one of the list (missing values are skipped).", #"check(t, in_set($city, ["Oslo", "Lima"]))"#) { a throws(MLShError) in
            guard case .list(let xs) = try a.value("values") else { throw MLShError.type("in_set needs a list of allowed values") }
            var allowed: [Scalar] = []
            for x in xs {
                guard let s = x.scalar else { throw MLShError.type("in_set: allowed values are numbers, bools or strings") }
                allowed.append(s)
            }
            return .inSet(try column(a), allowed)
        },
        make("matches", ["x", "pattern"], "Check: every value matches the regular expression (search; anchor with ^ and $; missing values are skipped).",
             #"check(t, matches($zip, r"^\d{5}$"))"#) { a throws(MLShError) in
            .matches(try column(a), try a.string("pattern"))
        },
        make("max_missing", ["x", "frac"], "Check: at most this fraction of values is missing (NaN is missing).", "check(t, max_missing($age, 0.05))") { a throws(MLShError) in
            .maxMissing(try column(a), try a.double("frac"))
        },
        Builtin("check", ["t", "..."], category: "quality",
                summary: "Runs data checks (or any true/false expression); a report table: check, passed, failing, example. "
                    + "Missing values (NaN too) are counted by not_null and max_missing and skipped by every other rule; "
                    + "a condition skips the rows where it reads one.",
                example: "check(t, not_null($price), unique($id), $price >= 0)") { a, _ throws(MLShError) in
            let t = try a.table("t")
            let items = try QualityChecks.items(a.extra, t)
            return DataLibrary.wrap(try engine { () throws(EngineError) in try t.check(items) })
        },
        Builtin("expect", ["t", "..."], category: "quality",
                summary: "Runs the checks of `check`; returns the table when all pass, else stops naming each failure.",
                example: "load(\"x.csv\") |> expect(not_null($id), $price >= 0) |> describe") { a, _ throws(MLShError) in
            let v = try a.value("t")
            let t = try a.table("t")
            let items = try QualityChecks.items(a.extra, t)
            try engine { () throws(EngineError) in try t.expect(items) }
            return v
        },
    ] }

    static func items(_ args: [Value], _ t: Table) throws(MLShError) -> [CheckItem] {
        guard !args.isEmpty else { throw MLShError.type("check needs at least one check, like not_null($x)") }
        var out: [CheckItem] = []
        for v in args {
            switch v {
            case .object(let c as CheckValue): out.append(c.item)
            case .expr(let e):
                let k = try ExprLowering.lower(e)
                out.append(CheckItem(check: try engine { () throws(EngineError) in try t.condition(k, text: e.text) }, text: e.text))
            default: throw MLShError.type("check takes checks like not_null($x) or conditions like $x > 0, got \(v.typeName)")
            }
        }
        return out
    }
}
