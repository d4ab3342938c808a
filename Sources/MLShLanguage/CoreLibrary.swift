import Foundation

/// The builtins every session has: output, types and conversions, collections,
/// numbers and element-wise math (which also build column expressions), reductions,
/// timing, parameters and error capture.
public struct CoreLibrary: Library {
    public func register(into interp: Interpreter) {
        for b in general + collections + conversions { interp.register(b) }
        for (name, summary, fn) in CoreLibrary.unaryMath {
            interp.register(unaryMath(name, summary, fn))
            interp.elementwise.insert(name)
        }
        for b in moreMath { interp.register(b); interp.elementwise.insert(b.name) }
        for b in reductions { interp.register(b) }
        interp.defineConstant("pi", .float(Double.pi))
        interp.defineConstant("inf", .float(.infinity))
        interp.defineConstant("nan", .float(.nan))
    }

    // MARK: general

    var general: [Builtin] { [
        Builtin("print", ["..."], category: "output", summary: "Write values separated by spaces and a newline (strings raw).",
                example: #"print("alpha =", 0.1)"#) { a, interp throws(MLShError) in
            interp.output(a.extra.map { $0.printed() }.joined(separator: " "))
            return .none
        },
        Builtin("show", ["x", "rows=none"], category: "output",
                summary: "Display a value exactly as the prompt would; a table or column with up to `rows` rows.",
                example: "show(iris, rows=30)") { a, interp throws(MLShError) in
            var x = try a.value("x")
            if a["rows"] != nil {
                let n = try a.int("rows")
                guard n > 0 else { throw MLShError.value("show: rows must be 1 or more, got \(n)") }
                guard case .object(let o) = x, let shown = o.showing(rows: n) else {
                    throw MLShError.type("show: rows= applies to tables and columns, got \(x.typeName)")
                }
                x = .object(shown)
            }
            interp.showValue(x)
            return .none
        },
        Builtin("type", ["x"], category: "types", summary: "The type name of a value.",
                example: "type(1.5)  # \"float\"") { a, _ throws(MLShError) in .string(try a.value("x").typeName) },
        Builtin("time", ["f"], category: "timing", summary: "Call f() and return {seconds, value}.",
                example: "time(fn() => sum(range(1000)))") { a, interp throws(MLShError) in
            let f = try a.value("f")
            let t0 = DispatchTime.now().uptimeNanoseconds
            let v = try interp.call(f, [])
            let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
            return .record(Record([("seconds", .float(dt)), ("value", v)]))
        },
        Builtin("sleep", ["seconds"], category: "timing",
                summary: "Waits this many seconds (a script waiting on a server); Ctrl-C stops the wait.",
                example: "sleep(0.5)") { a, _ throws(MLShError) in
            let seconds = try a.double("seconds")
            guard seconds.isFinite, seconds >= 0, seconds <= 31_536_000 else {
                throw MLShError.value("sleep: seconds must be a number from 0 to a year, got \(formatFloat(seconds))")
            }
            let end = DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9)
            while true {
                if Interrupt.pending { throw MLShError(.interrupted, "evaluation stopped by Ctrl-C") }
                let now = DispatchTime.now().uptimeNanoseconds
                guard now < end else { break }
                usleep(UInt32(min(end - now, 50_000_000) / 1000))
            }
            return .none
        },
        Builtin("param", ["name", "default=none"], category: "scripts",
                summary: "The --param value of that name given to `mlsh run`, else the default.",
                example: #"let alpha = param("alpha", 0.1)"#) { a, interp throws(MLShError) in
            let name = try a.string("name")
            return interp.params[name] ?? a["default"] ?? .none
        },
        Builtin("try", ["f"], category: "errors",
                summary: "Call f() and return {ok, value, error} instead of stopping on an error.",
                example: "try(fn() => 1 / 0)") { a, interp throws(MLShError) in
            let f = try a.value("f")
            do throws(MLShError) {
                let v = try interp.call(f, [])
                return .record(Record([("ok", .bool(true)), ("value", v), ("error", .none)]))
            } catch {
                if error.kind == .interrupted { throw error }
                return .record(Record([("ok", .bool(false)), ("value", .none), ("error", .string(error.message))]))
            }
        },
        Builtin("error", ["message"], category: "errors", summary: "Stop with an error carrying this message.",
                example: #"error("bad input")"#) { a, _ throws(MLShError) in
            throw MLShError(.error, try a.value("message").printed())
        },
    ] }

    // MARK: collections and strings

    var collections: [Builtin] { [
        Builtin("len", ["x"], category: "collections",
                summary: "Items of a list, characters of a string, fields of a record, rows of a table.",
                example: "len([1, 2, 3])  # 3") { a, _ throws(MLShError) in
            let x = try a.value("x")
            switch x {
            case .list(let l): return .int(Int64(l.count))
            case .string(let s): return .int(Int64(s.count))
            case .record(let r): return .int(Int64(r.keys.count))
            case .object(let o): if let n = o.length { return .int(Int64(n)) }
            default: break
            }
            throw MLShError.type("\(x.typeName) has no length")
        },
        Builtin("range", ["start", "stop=none", "step=1"], category: "collections",
                summary: "Integers from start (default 0) up to, not including, stop.",
                example: "for i in range(3) { print(i) }") { a, _ throws(MLShError) in
            var start = Int64(try a.int("start")), stop: Int64
            if a["stop"] != nil { stop = Int64(try a.int("stop")) } else { stop = start; start = 0 }
            let step = Int64(try a.int("step", 1))
            guard step != 0 else { throw MLShError.value("range step must not be zero") }
            return .object(RangeValue(start: start, stop: stop, step: step))
        },
        Builtin("keys", ["r"], category: "collections", summary: "A record's keys, in order.",
                example: "keys({a: 1, b: 2})") { a, _ throws(MLShError) in
            guard case .record(let r) = try a.value("r") else { throw MLShError.type("keys needs a record") }
            return .list(r.keys.map { .string($0) })
        },
        Builtin("values", ["r"], category: "collections", summary: "A record's values, in order.",
                example: "values({a: 1, b: 2})") { a, _ throws(MLShError) in
            guard case .record(let r) = try a.value("r") else { throw MLShError.type("values needs a record") }
            return .list(r.values)
        },
        Builtin("contains", ["x", "item"], category: "collections",
                summary: "Whether a list holds an item, a string a substring, or a record a key.",
                example: #"contains([1, 2], 2)"#) { a, _ throws(MLShError) in
            let x = try a.value("x"), item = try a.value("item")
            switch (x, item) {
            case (.list(let l), _): return .bool(l.contains { valuesEqual($0, item) })
            case (.string(let s), .string(let t)): return .bool(t.isEmpty || s.contains(t))
            case (.record(let r), .string(let k)): return .bool(r[k] != nil)
            case (.object(let o), _):
                if let items = o.iterate() { return .bool(items.contains { valuesEqual($0, item) }) }
            default: break
            }
            throw MLShError.type("contains needs a list, string or record (got \(x.typeName) and \(item.typeName))")
        },
        Builtin("map", ["items", "f"], category: "collections", summary: "Apply f to each item of a list.",
                example: "map([1, 2, 3], fn(x) => x * 2)") { a, interp throws(MLShError) in
            let f = try a.value("f")
            return .list(try CoreLibrary.items(try a.value("items"), "map").map { v throws(MLShError) in try interp.call(f, [v]) })
        },
        Builtin("filter", ["items", "f"], first: .items, category: "collections", summary: "The items of a list for which f is true.",
                example: "filter([1, 2, 3], fn(x) => x > 1)") { a, interp throws(MLShError) in
            let f = try a.value("f")
            var out: [Value] = []
            for v in try CoreLibrary.items(try a.value("items"), "filter") {
                if try Ops.truth(try interp.call(f, [v]), "filter's function result") { out.append(v) }
            }
            return .list(out)
        },
        Builtin("sorted", ["items", "key=none", "descending=false"], category: "collections",
                summary: "A list sorted ascending (numbers or strings), optionally by key(item).",
                example: "sorted([3, 1, 2])") { a, interp throws(MLShError) in
            let xs = try CoreLibrary.items(try a.value("items"), "sorted")
            var keyed: [(Value, Value)] = []
            for x in xs { keyed.append((try a["key"].map { f throws(MLShError) in try interp.call(f, [x]) } ?? x, x)) }
            var failure: MLShError?
            keyed.sort { l, r in
                do throws(MLShError) { return try Ops.compare(.lt, l.0, r.0) } catch { failure = error; return false }
            }
            if let failure { throw failure }
            if try a.bool("descending", false) { keyed.reverse() }
            return .list(keyed.map(\.1))
        },
        Builtin("reversed", ["items"], category: "collections", summary: "A list in reverse order.",
                example: "reversed([1, 2, 3])") { a, _ throws(MLShError) in
            .list(Array(try CoreLibrary.items(try a.value("items"), "reversed").reversed()))
        },
        Builtin("enumerate", ["items"], category: "collections", summary: "[index, item] pairs of a list.",
                example: #"for [i, x] in enumerate(["a", "b"]) { print(i, x) }"#) { a, _ throws(MLShError) in
            .list(try CoreLibrary.items(try a.value("items"), "enumerate").enumerated().map { .list([.int(Int64($0.offset)), $0.element]) })
        },
        Builtin("zip", ["a", "b"], category: "collections", summary: "[a_i, b_i] pairs of two lists, as long as the shorter.",
                example: "zip([1, 2], [\"x\", \"y\"])") { a, _ throws(MLShError) in
            let x = try CoreLibrary.items(try a.value("a"), "zip"), y = try CoreLibrary.items(try a.value("b"), "zip")
            return .list(zip(x, y).map { .list([$0, $1]) })
        },
        Builtin("to_list", ["x"], category: "collections", summary: "A list of the items of a range, column or list.",
                example: "to_list(range(3))") { a, _ throws(MLShError) in .list(try CoreLibrary.items(try a.value("x"), "to_list")) },
        Builtin("upper", ["s"], category: "strings",
                summary: "A string in upper case (each value of a string column or $ expression).",
                example: #"upper("abc")  # "ABC"; derive(t, code = upper($code)) does each value"#) { a, interp throws(MLShError) in
            try CoreLibrary.text("upper", a) { s throws(MLShError) in .string(s.uppercased()) }
        },
        Builtin("lower", ["s"], category: "strings",
                summary: "A string in lower case (each value of a string column or $ expression).",
                example: #"lower("ABC")  # "abc"; derive(t, city = lower($city)) does each value"#) { a, interp throws(MLShError) in
            try CoreLibrary.text("lower", a) { s throws(MLShError) in .string(s.lowercased()) }
        },
        Builtin("trim", ["s"], category: "strings",
                summary: "A string without leading and trailing white space (each value of a string column or $ expression).",
                example: #"trim("  x ")  # "x"; derive(t, contract = trim($contract)) does each value"#) { a, interp throws(MLShError) in
            try CoreLibrary.text("trim", a) { s throws(MLShError) in .string(s.trimmingCharacters(in: .whitespacesAndNewlines)) }
        },
        Builtin("replace", ["s", "old", "new"], category: "strings",
                summary: "A string with every `old` replaced by `new` (each value of a string column or $ expression).",
                example: #"replace("a-b", "-", "_")  # "a_b"; derive(t, plan = replace($plan, "-", " ")) does each value"#) { a, interp throws(MLShError) in
            try CoreLibrary.text("replace", a, [try a.value("old"), try a.value("new")]) { s throws(MLShError) in
                let old = try a.string("old")
                guard !old.isEmpty else { throw MLShError.value("replace: 'old' must not be empty") }
                return .string(s.replacingOccurrences(of: old, with: try a.string("new")))
            }
        },
        Builtin("split_text", ["s", "sep", "i=none"], category: "strings",
                summary: "The parts of a string between separators, or part i (0-based, negative from the end; none when "
                    + "there is none). On a string column or $ expression: part i of each value (i is needed).",
                example: #"split_text("a,b", ",")  # ["a", "b"]; derive(t, area = split_text($phone, "-", 0)) takes part 0 of each value"#) { a, interp throws(MLShError) in
            let rest = [try a.value("sep")] + (a["i"].map { [$0] } ?? [])
            return try CoreLibrary.text("split_text", a, rest) { s throws(MLShError) in
                let sep = try a.string("sep")
                guard !sep.isEmpty else { throw MLShError.value("split_text: 'sep' must not be empty") }
                let parts = s.components(separatedBy: sep)
                guard a["i"] != nil else { return .list(parts.map { .string($0) }) }
                let i = try a.int("i")
                let k = i < 0 ? parts.count + i : i
                return k >= 0 && k < parts.count ? .string(parts[k]) : .none
            }
        },
        Builtin("join_text", ["items", "sep=\"\""], category: "strings", summary: "Items joined into one string.",
                example: #"join_text(["a", "b"], ", ")"#) { a, _ throws(MLShError) in
            var parts: [String] = []
            for item in try CoreLibrary.items(try a.value("items"), "join_text") { parts.append(try item.text(in: "join_text")) }
            return .string(parts.joined(separator: try a.string("sep", "")))
        },
    ] }

    /// The items of a list, a string (its characters) or an iterable domain value.
    public static func items(_ v: Value, _ fn: String) throws(MLShError) -> [Value] {
        switch v {
        case .list(let l): return l
        case .string(let s): return s.map { .string(String($0)) }
        case .object(let o): if let xs = o.iterate() { return xs }
        default: break
        }
        throw MLShError.type("\(fn) needs a list, got \(v.typeName)")
    }

    // MARK: conversions

    var conversions: [Builtin] { [
        Builtin("str", ["x"], category: "types", summary: "A value as text (as print writes it).",
                example: "str(0.1)  # \"0.1\"") { a, _ throws(MLShError) in .string(try a.value("x").text(in: "str")) },
        Builtin("int", ["x"], category: "types", summary: "An int from a number (toward zero), bool or numeric string.",
                example: #"int("42")"#) { a, _ throws(MLShError) in
            let x = try a.value("x")
            switch x {
            case .int: return x
            case .bool(let b): return .int(b ? 1 : 0)
            case .float(let d):
                guard d.isFinite, d > -9.3e18, d < 9.3e18 else { throw MLShError.value("cannot convert \(formatFloat(d)) to int") }
                return .int(Int64(d))
            case .string(let s):
                if let i = Int64(s.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "_", with: "")) { return .int(i) }
                throw MLShError.value("cannot convert \(quoteString(s)) to int")
            case .expr(let e): return .expr(.call("cast", [e, .string("int")]))
            default: throw MLShError.type("cannot convert \(x.typeName) to int")
            }
        },
        Builtin("float", ["x"], category: "types", summary: "A float from a number, bool or numeric string.",
                example: #"float("1e-3")"#) { a, _ throws(MLShError) in
            let x = try a.value("x")
            switch x {
            case .float: return x
            case .int(let i): return .float(Double(i))
            case .bool(let b): return .float(b ? 1 : 0)
            case .string(let s):
                let t = s.trimmingCharacters(in: .whitespaces).lowercased()
                if let d = Double(t) { return .float(d) }
                if t == "inf" { return .float(.infinity) }
                throw MLShError.value("cannot convert \(quoteString(s)) to float")
            case .expr(let e): return .expr(.call("cast", [e, .string("float")]))
            default: throw MLShError.type("cannot convert \(x.typeName) to float")
            }
        },
    ] }

    // MARK: element-wise math

    nonisolated(unsafe) static let unaryMath: [(String, String, (Double) -> Double)] = [
        ("sqrt", "Square root.", { $0.squareRoot() }),
        ("exp", "e to the power x.", { Foundation.exp($0) }),
        ("log", "Natural logarithm.", { Foundation.log($0) }),
        ("log1p", "log(1 + x), accurate near 0.", { Foundation.log1p($0) }),
        ("log2", "Base-2 logarithm.", { Foundation.log2($0) }),
        ("log10", "Base-10 logarithm.", { Foundation.log10($0) }),
        ("sin", "Sine (radians).", { Foundation.sin($0) }),
        ("cos", "Cosine (radians).", { Foundation.cos($0) }),
        ("tan", "Tangent (radians).", { Foundation.tan($0) }),
        ("floor", "Largest integer value not above x (a float).", { $0.rounded(.down) }),
        ("ceil", "Smallest integer value not below x (a float).", { $0.rounded(.up) }),
    ]

    func unaryMath(_ name: String, _ summary: String, _ fn: @escaping (Double) -> Double) -> Builtin {
        Builtin(name, ["x"], category: "math", summary: summary + " Works on numbers, columns and $ expressions.",
                example: "\(name)(2.0)") { a, interp throws(MLShError) in
            let x = try a.value("x")
            if let r = try CoreLibrary.lift(name, [x]) { return r }
            guard let d = x.number else { throw MLShError.type("\(name) needs a number, got \(x.typeName)") }
            return .float(fn(d))
        }
    }

    /// A string function of argument `s`: lifted onto a column or `$` expression (with its
    /// constant arguments `rest`), else `f` of the string.
    static func text(_ name: String, _ a: Arguments, _ rest: [Value] = [],
                     _ f: (String) throws(MLShError) -> Value) throws(MLShError) -> Value {
        if let r = try lift(name, [try a.value("s")] + rest) { return r }
        return try f(try a.string("s"))
    }

    /// Builds a column expression when an argument is one, or lets a domain value among
    /// the arguments (a column) apply the function; nil for plain scalars.
    static func lift(_ name: String, _ args: [Value]) throws(MLShError) -> Value? {
        if args.contains(where: { if case .expr = $0 { return true }; return false }) {
            var parts: [ColumnExpr] = []
            for v in args {
                guard let e = ColumnExpr(v) else { throw MLShError.type("\(name): \(v.typeName) cannot be used in a column expression") }
                parts.append(e)
            }
            return .expr(.call(name, parts))
        }
        let objects = args.compactMap { v -> (any DomainObject)? in if case .object(let o) = v { o } else { nil } }
        for o in objects { if let r = try o.apply(name, args) { return r } }
        // Iterable values (ranges) fall through to the list forms.
        if let o = objects.first, o.iterate() == nil { throw MLShError.type("\(name) does not apply to \(o.typeName)") }
        return nil
    }

    var moreMath: [Builtin] { [
        Builtin("abs", ["x"], category: "math", summary: "Absolute value (int stays int).", example: "abs(-3)") { a, interp throws(MLShError) in
            let x = try a.value("x")
            if let r = try CoreLibrary.lift("abs", [x]) { return r }
            switch x {
            case .int(let i):
                guard i != .min else { throw MLShError(.overflow, "integer overflow in abs(\(i))") }
                return .int(Swift.abs(i))
            case .float(let d): return .float(Swift.abs(d))
            default: throw MLShError.type("abs needs a number, got \(x.typeName)")
            }
        },
        Builtin("round", ["x", "digits=0"], category: "math",
                summary: "Round half to even at `digits` decimals, as numpy does (ints stay ints).", example: "round(2.675, 2)") { a, interp throws(MLShError) in
            let x = try a.value("x")
            let digits = try a.int("digits", 0)
            if let r = try CoreLibrary.lift("round", [x, .int(Int64(digits))]) { return r }
            switch x {
            case .int: return x
            case .float(let d): return .float(CoreLibrary.round(d, digits))
            default: throw MLShError.type("round needs a number, got \(x.typeName)")
            }
        },
        Builtin("sign", ["x"], category: "math", summary: "-1, 0 or 1 by the sign of x.", example: "sign(-2.5)") { a, interp throws(MLShError) in
            let x = try a.value("x")
            if let r = try CoreLibrary.lift("sign", [x]) { return r }
            switch x {
            case .int(let i): return .int(i > 0 ? 1 : (i < 0 ? -1 : 0))
            case .float(let d): return .float(d.isNaN ? d : (d > 0 ? 1 : (d < 0 ? -1 : 0)))
            default: throw MLShError.type("sign needs a number, got \(x.typeName)")
            }
        },
        Builtin("clip", ["x", "lo", "hi"], category: "math", summary: "x limited to [lo, hi].", example: "clip(1.5, 0, 1)") { a, interp throws(MLShError) in
            let x = try a.value("x"), lo = try a.value("lo"), hi = try a.value("hi")
            if let r = try CoreLibrary.lift("clip", [x, lo, hi]) { return r }
            guard let d = x.number, let l = lo.number, let h = hi.number else { throw MLShError.type("clip needs numbers") }
            if case .int = x, case .int = lo, case .int = hi { return .int(Int64(Swift.min(Swift.max(d, l), h))) }
            return .float(d.isNaN ? d : Swift.min(Swift.max(d, l), h))
        },
        Builtin("min2", ["a", "b"], category: "math", summary: "The smaller of two values (element-wise on columns).",
                example: "min2($a, 0)") { a, interp throws(MLShError) in try CoreLibrary.pick("min2", a, <) },
        Builtin("max2", ["a", "b"], category: "math", summary: "The larger of two values (element-wise on columns).",
                example: "max2($a, 0)") { a, interp throws(MLShError) in try CoreLibrary.pick("max2", a, >) },
        Builtin("is_nan", ["x"], category: "math", summary: "Whether x is NaN (missing).", example: "is_nan(nan)") { a, interp throws(MLShError) in
            let x = try a.value("x")
            if let r = try CoreLibrary.lift("is_nan", [x]) { return r }
            if case .none = x { return .bool(true) }
            return .bool(x.number?.isNaN ?? false)
        },
        Builtin("fill_nan", ["x", "v"], category: "math", summary: "x, or v where x is NaN (missing).",
                example: "fill_nan($age, 0)") { a, interp throws(MLShError) in
            let x = try a.value("x"), v = try a.value("v")
            if let r = try CoreLibrary.lift("fill_nan", [x, v]) { return r }
            if case .none = x { return v }
            if let d = x.number, d.isNaN { return v }
            return x
        },
        Builtin("if_else", ["cond", "a", "b"], category: "math", summary: "a where cond is true, else b (element-wise).",
                example: "if_else($x > 0, $x, 0)") { a, interp throws(MLShError) in
            let c = try a.value("cond"), x = try a.value("a"), y = try a.value("b")
            if let r = try CoreLibrary.lift("if_else", [c, x, y]) { return r }
            return try Ops.truth(c, "if_else's condition") ? x : y
        },
        Builtin("cast", ["x", "type"], category: "math", summary: "x converted to \"int\", \"float\" or \"bool\".",
                example: #"cast($n, "float")"#) { a, interp throws(MLShError) in
            let x = try a.value("x"), t = try a.string("type")
            guard ["int", "float", "bool"].contains(t) else {
                throw MLShError.value("cast: type must be \"int\", \"float\" or \"bool\", got \(quoteString(t))")
            }
            if let r = try CoreLibrary.lift("cast", [x, .string(t)]) { return r }
            switch (t, x) {
            case ("float", _): guard let d = x.number else { break }; return .float(d)
            case ("int", .float(let d)):
                guard d.isFinite, d.magnitude < 9.2e18 else { throw MLShError.value("cannot cast \(formatFloat(d)) to int") }
                return .int(Int64(d))
            case ("int", .int), ("bool", .bool): return x
            case ("int", .bool(let b)): return .int(b ? 1 : 0)
            case ("bool", _): guard let d = x.number else { break }; return .bool(d != 0)
            default: break
            }
            throw MLShError.type("cannot cast \(x.typeName) to \(t)")
        },
    ] }

    static func pick(_ name: String, _ a: Arguments, _ better: (Double, Double) -> Bool) throws(MLShError) -> Value {
        let x = try a.value("a"), y = try a.value("b")
        if let r = try lift(name, [x, y]) { return r }
        guard let dx = x.number, let dy = y.number else { throw MLShError.type("\(name) needs numbers") }
        if dx.isNaN { return x }
        if dy.isNaN { return y }
        return better(dy, dx) ? y : x
    }

    static func round(_ d: Double, _ digits: Int) -> Double {
        guard d.isFinite else { return d }
        if digits == 0 { return d.rounded(.toNearestOrEven) }
        let m = Foundation.pow(10.0, Double(Swift.min(Swift.max(digits, -308), 308)))
        let r = (d * m).rounded(.toNearestOrEven) / m
        return r.isFinite ? r : d
    }

    // MARK: reductions

    var reductions: [Builtin] {
        let specs: [(String, String)] = [
            ("sum", "Sum of numbers (a list, a column, or $expr inside a verb); NaN skipped."),
            ("mean", "Arithmetic mean; NaN skipped."),
            ("median", "Median (linear interpolation); NaN skipped."),
            ("std", "Sample standard deviation (n - 1); NaN skipped."),
            ("var", "Sample variance (n - 1); NaN skipped."),
            ("count", "Number of non-missing values."),
            ("count_nan", "Number of NaN (missing) values."),
            ("n_unique", "Number of distinct non-missing values."),
        ]
        var out = specs.map { (name, summary) in
            Builtin(name, ["x"], category: "reductions", summary: summary, example: "\(name)([1, 2, 3, 4])") { a, interp throws(MLShError) in
                let x = try a.value("x")
                if let r = try CoreLibrary.lift(name, [x]) { return r }
                return try CoreLibrary.reduce(name, try CoreLibrary.items(x, name), q: 0)
            }
        }
        for (name, better) in [("min", true), ("max", false)] {
            out.append(Builtin(name, ["x", "..."], category: "reductions",
                               summary: "The \(better ? "smallest" : "largest") of a list, a column, or of several arguments.",
                               example: "\(name)([3, 1, 2])") { a, interp throws(MLShError) in
                let all = a.allPositional
                if all.count == 1 {
                    let x = all[0]
                    if let r = try CoreLibrary.lift(name, [x]) { return r }
                    return try CoreLibrary.extreme(try CoreLibrary.items(x, name), name, smallest: better)
                }
                if all.contains(where: { if case .expr = $0 { return true }; return false }), all.count == 2 {
                    return try CoreLibrary.lift(better ? "min2" : "max2", all) ?? .none
                }
                return try CoreLibrary.extreme(all, name, smallest: better)
            })
        }
        out.append(Builtin("quantile", ["x", "q"], category: "reductions",
                           summary: "The q-quantile (0..1) with linear interpolation, as numpy; NaN skipped.",
                           example: "quantile([1, 2, 3, 4], 0.25)") { a, interp throws(MLShError) in
            let x = try a.value("x"), q = try a.double("q")
            guard q >= 0, q <= 1 else { throw MLShError.value("quantile: q must be between 0 and 1, got \(formatFloat(q))") }
            if let r = try CoreLibrary.lift("quantile", [x, .float(q)]) { return r }
            return try CoreLibrary.reduce("quantile", try CoreLibrary.items(x, "quantile"), q: q)
        })
        return out
    }

    static func extreme(_ xs: [Value], _ name: String, smallest: Bool) throws(MLShError) -> Value {
        var best: Value?
        for x in xs {
            if let d = x.number, d.isNaN { continue }
            guard let b = best else { best = x; continue }
            if try Ops.compare(smallest ? .lt : .gt, x, b) { best = x }
        }
        guard let best else { throw MLShError.value("\(name) of an empty list") }
        return best
    }

    static func reduce(_ name: String, _ xs: [Value], q: Double) throws(MLShError) -> Value {
        if name == "count" { return .int(Int64(xs.filter { !($0.number?.isNaN ?? false) }.count)) }
        if name == "n_unique" {
            var seen: [Value] = []
            for x in xs where !(x.number?.isNaN ?? false) && !seen.contains(where: { valuesEqual($0, x) }) { seen.append(x) }
            return .int(Int64(seen.count))
        }
        var ds: [Double] = []
        var allInt = true
        var isum: Int64 = 0
        var overflow = false
        for x in xs {
            switch x {
            case .int(let i):
                ds.append(Double(i))
                let (s, o) = isum.addingReportingOverflow(i); isum = s; overflow = overflow || o
            case .float(let d): allInt = false; ds.append(d)
            case .bool(let b): ds.append(b ? 1 : 0); let (s, o) = isum.addingReportingOverflow(b ? 1 : 0); isum = s; overflow = overflow || o
            default: throw MLShError.type("\(name) needs numbers, found \(x.typeName) \(x.inline())")
            }
        }
        if name == "count_nan" { return .int(Int64(ds.filter(\.isNaN).count)) }
        if name == "sum" && allInt {
            if overflow { throw MLShError(.overflow, "integer overflow in sum") }
            return .int(isum)
        }
        let v = ds.filter { !$0.isNaN }
        let n = Double(v.count)
        switch name {
        case "sum": return .float(v.reduce(0, +))
        case "mean": return .float(v.isEmpty ? .nan : v.reduce(0, +) / n)
        case "var", "std":
            guard v.count > 1 else { return .float(.nan) }
            let m = v.reduce(0, +) / n
            let ss = v.reduce(0) { $0 + ($1 - m) * ($1 - m) } / (n - 1)
            return .float(name == "std" ? ss.squareRoot() : ss)
        case "median", "quantile":
            guard !v.isEmpty else { return .float(.nan) }
            let s = v.sorted()
            let pos = (name == "median" ? 0.5 : q) * (n - 1)
            let lo = Int(pos.rounded(.down)), hi = Swift.min(lo + 1, s.count - 1)
            return .float(s[lo] + (s[hi] - s[lo]) * (pos - Double(lo)))
        default: throw MLShError.value("unknown reduction \(name)")
        }
    }
}
