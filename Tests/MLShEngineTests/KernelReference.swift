import Foundation
@testable import MLShEngine

/// A naive scalar reference evaluator for `KExpr`: one row at a time, one value at a
/// time, straight from the semantics in LANGUAGE.md §4 and the opcode table's comments.
/// The differential tests compare the compiled block kernels against it.
struct KernelReference {
    /// A reference value; ints and bools carry their raw value even when missing (the
    /// kernel computes on them), but only valid values are compared.
    enum RV {
        case f(Double)
        case i(Int64, Bool)
        case b(Bool, Bool)
        case s(String?)

        var asDouble: Double {
            switch self {
            case .f(let v): return v
            case .i(let v, let ok): return ok ? Double(v) : .nan
            case .b(let v, let ok): return ok ? (v ? 1 : 0) : .nan
            case .s: return .nan
            }
        }
        var isFloat: Bool { if case .f = self { return true } else { return false } }
        /// Bools take part in int arithmetic as 0/1.
        var asInt: (Int64, Bool) {
            switch self {
            case .i(let v, let ok): return (v, ok)
            case .b(let v, let ok): return (v ? 1 : 0, ok)
            default: return (0, false)
            }
        }
    }

    struct Overflow: Error {}

    let table: Table
    let groupOf: [Int]
    let groupCount: Int
    private var cache: [KExpr: [RV]] = [:]

    init(table: Table, groups: Grouping?) {
        self.table = table
        groupOf = groups.map { $0.ids.map(Int.init) } ?? [Int](repeating: 0, count: table.rowCount)
        groupCount = groups?.count ?? 1
    }

    func column(_ name: String, _ r: Int) -> RV {
        guard let c = try? table.column(name) else { return .f(.nan) }
        switch c.storage {
        case .float(let v): return .f(v[r])
        case .int(let v, let m): return .i((m?[r] ?? true) ? v[r] : 0, m?[r] ?? true)
        case .bool(let v, let m): return .b(v[r], m?[r] ?? true)
        case .string(let codes, let d): return .s(codes[r] < 0 ? nil : d[Int(codes[r])])
        }
    }

    mutating func eval(_ e: KExpr, _ r: Int) throws -> RV {
        switch e {
        case .column(let n): return column(n, r)
        case .float(let v): return .f(v)
        case .int(let v): return .i(v, true)
        case .bool(let v): return .b(v, true)
        case .string(let s): return .s(s)
        case .missing: return .f(.nan)
        case .reduce:
            if cache[e] == nil { cache[e] = try reduce(e) }
            return cache[e]![groupOf[r]]
        case .call(let name, let args):
            var vs: [RV] = []
            for a in args { vs.append(try eval(a, r)) }
            // `none` is missing of the type of the operands it meets in the calls that
            // unify their operands (the condition's bool in if_else, a string in string
            // functions), else NaN; comparisons with it are refused.
            let valueArgs = name == "if_else" ? 1..<args.count : 0..<args.count
            let like = Self.unifying.contains(name) ? valueArgs.first { args[$0] != .missing }.map { vs[$0] } : nil
            for k in args.indices where args[k] == .missing {
                let t: RV = k == 0 && name == "if_else" ? .b(false, false)
                    : Self.stringFunctions.contains(name) ? .s(nil) : like ?? .f(.nan)
                switch t {
                case .f: vs[k] = .f(.nan)
                case .i: vs[k] = .i(0, false)
                case .b: vs[k] = .b(false, false)
                case .s: vs[k] = .s(nil)
                }
            }
            return try apply(name, vs, args)
        }
    }

    static let stringFunctions: Set<String> = ["trim", "lower", "upper", "replace", "split_text"]
    static let unifying: Set<String> = ["if_else", "fill_nan", "and", "or", "add", "sub", "mul", "min2", "max2", "mod", "pow"]

    func bothInt(_ a: RV, _ b: RV) -> Bool { !a.isFloat && !b.isFloat }

    func apply(_ name: String, _ v: [RV], _ args: [KExpr]) throws -> RV {
        switch name {
        case "add", "sub", "mul", "min2", "max2":
            if bothInt(v[0], v[1]) {
                let (a, x) = v[0].asInt, (b, y) = v[1].asInt
                let (r, o): (Int64, Bool)
                switch name {
                case "add": (r, o) = a.addingReportingOverflow(b)
                case "sub": (r, o) = a.subtractingReportingOverflow(b)
                case "mul": (r, o) = a.multipliedReportingOverflow(by: b)
                case "min2": (r, o) = (min(a, b), false)
                default: (r, o) = (max(a, b), false)
                }
                if o { throw Overflow() }
                return .i(r, x && y)
            }
            let a = v[0].asDouble, b = v[1].asDouble
            switch name {
            case "add": return .f(a + b)
            case "sub": return .f(a - b)
            case "mul": return .f(a * b)
            case "min2": return .f(a.isNaN || b.isNaN ? .nan : min(a, b))
            default: return .f(a.isNaN || b.isNaN ? .nan : max(a, b))
            }
        case "div": return .f(v[0].asDouble / v[1].asDouble)
        case "mod":
            if bothInt(v[0], v[1]) {
                let (a, x) = v[0].asInt, (b, y) = v[1].asInt
                if b == 0 { return .i(0, false) }
                var m = a % b
                if m != 0 && (m < 0) != (b < 0) { m += b }
                return .i(m, x && y)
            }
            let a = v[0].asDouble, b = v[1].asDouble
            var m = fmod(a, b)
            if m == 0 { m = b < 0 ? -0.0 : 0.0 } else if (m < 0) != (b < 0) { m += b }
            return .f(m)
        case "pow":
            if bothInt(v[0], v[1]), case .int(let e) = args[1], e >= 0 {
                let (a, x) = v[0].asInt
                var r: Int64 = 1
                for _ in 0..<e { let (p, o) = r.multipliedReportingOverflow(by: a); if o { throw Overflow() }; r = p }
                return .i(r, x)
            }
            return .f(Foundation.pow(v[0].asDouble, v[1].asDouble))
        case "neg", "abs", "sign":
            if !v[0].isFloat {
                let (a, x) = v[0].asInt
                switch name {
                case "neg": return .i(-a, x)
                case "abs": return .i(Swift.abs(a), x)
                default: return .i(a.signum(), x)
                }
            }
            let a = v[0].asDouble
            switch name {
            case "neg": return .f(-a)
            case "abs": return .f(Swift.abs(a))
            default: return .f(a > 0 ? 1 : a < 0 ? -1 : a)
            }
        case "floor", "ceil":
            if !v[0].isFloat { let (a, x) = v[0].asInt; return .i(a, x) }
            return .f(v[0].asDouble.rounded(name == "floor" ? .down : .up))
        case "round":
            var d: Int64 = 0
            if args.count > 1, case .int(let k) = args[1] { d = k }
            if !v[0].isFloat && d >= 0 { let (a, x) = v[0].asInt; return .i(a, x) }
            return .f(KLoop.round(v[0].asDouble, digits: d))
        case "sqrt": let a = v[0].asDouble; return .f(a < 0 ? .nan : a.squareRoot())
        case "exp": return .f(KernelMath.exp(v[0].asDouble))
        case "log": return .f(KernelMath.log(v[0].asDouble))
        case "log1p": return .f(KernelMath.log1p(v[0].asDouble))
        case "log2": return .f(Foundation.log2(v[0].asDouble))
        case "log10": return .f(Foundation.log10(v[0].asDouble))
        case "sin": return .f(Foundation.sin(v[0].asDouble))
        case "cos": return .f(Foundation.cos(v[0].asDouble))
        case "tan": return .f(Foundation.tan(v[0].asDouble))
        case "clip":
            let lo = try apply("max2", [v[0], v[1]], [])
            return try apply("min2", [lo, v[2]], [])
        case "is_nan":
            switch v[0] {
            case .f(let a): return .b(a.isNaN, true)
            case .i(_, let ok), .b(_, let ok): return .b(!ok, true)
            case .s(let s): return .b(s == nil, true)
            }
        case "fill_nan":
            if case .s(let a) = v[0], case .s(let f) = v[1] { return .s(a ?? f) }
            if v[0].isFloat || v[1].isFloat {
                let a = v[0].asDouble
                return .f(a.isNaN ? v[1].asDouble : a)
            }
            if case .b(let a, let ok) = v[0], case .b(let f, let fok) = v[1] { return ok ? .b(a, true) : .b(f, fok) }
            let (a, ok) = v[0].asInt, (f, fok) = v[1].asInt
            return ok ? .i(a, true) : .i(f, fok)
        case "if_else":
            guard case .b(let c, let cok) = v[0] else { return .f(.nan) }
            if case .s(let a) = v[1], case .s(let b) = v[2] { return .s(cok ? (c ? a : b) : nil) }
            if case .b(let a, let aok) = v[1], case .b(let b, let bok) = v[2] {
                return .b(c ? a : b, cok && (c ? aok : bok))
            }
            if v[1].isFloat || v[2].isFloat {
                return .f(cok ? (c ? v[1].asDouble : v[2].asDouble) : .nan)
            }
            let (a, aok) = v[1].asInt, (b, bok) = v[2].asInt
            return .i(c ? a : b, cok && (c ? aok : bok))
        case "eq", "ne", "lt", "le", "gt", "ge":
            if case .s(let a) = v[0], case .s(let b) = v[1] {
                guard let a, let b else { return .b(name == "ne", true) }
                return .b(kernelCompareStrings(a, name, b), true)
            }
            if bothInt(v[0], v[1]) {
                let (a, x) = v[0].asInt, (b, y) = v[1].asInt
                return .b(compare(name, a, b), x && y)
            }
            return .b(compare(name, v[0].asDouble, v[1].asDouble), true)
        case "and", "or":
            guard case .b(let a, let x) = v[0], case .b(let b, let y) = v[1] else { return .f(.nan) }
            return .b(name == "and" ? a && b : a || b, x && y)
        case "not":
            guard case .b(let a, let x) = v[0] else { return .f(.nan) }
            return .b(!a, x)
        case "trim", "lower", "upper", "replace", "split_text":
            guard case .s(let x) = v[0], let x else { return .s(nil) }
            switch (name, args.count > 1 ? args[1] : .missing, args.count > 2 ? args[2] : .missing) {
            case ("trim", _, _): return .s(x.trimmingCharacters(in: .whitespacesAndNewlines))
            case ("lower", _, _): return .s(x.lowercased())
            case ("upper", _, _): return .s(x.uppercased())
            case ("replace", .string(let old), .string(let new)): return .s(x.replacingOccurrences(of: old, with: new))
            case ("split_text", .string(let sep), .int(let i)):
                let parts = x.components(separatedBy: sep)
                let k = i < 0 ? parts.count + Int(i) : Int(i)
                return .s(parts.indices.contains(k) ? parts[k] : nil)
            default: return .f(.nan)
            }
        case "cast":
            guard case .string(let t) = args[1] else { return .f(.nan) }
            switch (t, v[0]) {
            case ("float", .s(let s)): return .f(s.flatMap { Double($0) } ?? .nan)
            case ("float", _): return .f(v[0].asDouble)
            case ("int", .f(let a)):
                let ok = a >= -9223372036854775808.0 && a < 9223372036854775808.0
                return .i(ok ? Int64(a) : 0, ok)
            case ("int", _): let (a, ok) = v[0].asInt; return .i(a, ok)
            case ("bool", .f(let a)): return .b(a != 0, !a.isNaN)
            case ("bool", .i(let a, let ok)): return .b(a != 0, ok)
            case ("bool", _): return v[0]
            default: return v[0]
            }
        default:
            return .f(.nan)
        }
    }

    func compare<T: Comparable>(_ op: String, _ a: T, _ b: T) -> Bool {
        switch op {
        case "eq": return a == b
        case "ne": return a != b
        case "lt": return a < b
        case "le": return a <= b
        case "gt": return a > b
        default: return a >= b
        }
    }

    /// A reduction per group, computed naively.
    mutating func reduce(_ e: KExpr) throws -> [RV] {
        guard case .reduce(let name, let arg, let extra) = e else { return [] }
        var perGroup = [[RV]](repeating: [], count: groupCount)
        for r in 0..<table.rowCount { perGroup[groupOf[r]].append(try eval(arg, r)) }
        var out: [RV] = []
        for vs in perGroup {
            func present(_ v: RV) -> Bool {
                switch v {
                case .f(let a): return !a.isNaN
                case .i(_, let ok), .b(_, let ok): return ok
                case .s(let s): return s != nil
                }
            }
            let ok = vs.filter(present)
            let floats = ok.map(\.asDouble)
            let isInt = vs.first.map { !$0.isFloat } ?? false
            let argIsInt: Bool
            switch (try? KernelProgram.compile(arg, for: table))?.resultType {
            case .int?, .bool?: argIsInt = true
            default: argIsInt = isInt
            }
            switch name {
            case "sum":
                if argIsInt { out.append(.i(ok.reduce(0) { $0 + $1.asInt.0 }, true)) } else { out.append(.f(floats.reduce(0, +))) }
            case "mean": out.append(.f(floats.isEmpty ? .nan : floats.reduce(0, +) / Double(floats.count)))
            case "var", "std":
                if floats.count < 2 { out.append(.f(.nan)); break }
                let m = floats.reduce(0, +) / Double(floats.count)
                let v = floats.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(floats.count - 1)
                out.append(.f(name == "var" ? v : v.squareRoot()))
            case "min", "max":
                if argIsInt {
                    let ints = ok.map(\.asInt.0)
                    let m = name == "min" ? ints.min() : ints.max()
                    out.append(.i(m ?? 0, m != nil))
                } else {
                    let m = name == "min" ? floats.min() : floats.max()
                    out.append(.f(m ?? .nan))
                }
            case "count": out.append(.i(Int64(ok.count), true))
            case "count_nan": out.append(.i(Int64(vs.count - ok.count), true))
            case "median", "quantile":
                var q = 0.5
                if name == "quantile", case .float(let x) = extra.first { q = x }
                let xs = floats.sorted()
                if xs.isEmpty { out.append(.f(.nan)); break }
                let pos = q * Double(xs.count - 1)
                let lo = Int(pos), hi = min(lo + 1, xs.count - 1), t = pos - Double(lo)
                out.append(.f(xs[lo] + (xs[hi] - xs[lo]) * t))
            case "n_unique":
                var set = Set<String>()
                for v in ok {
                    switch v {
                    case .f(let a): set.insert("\(a == 0 ? 0 : a)")
                    case .s(let s): set.insert(s ?? "")
                    default: set.insert("\(v.asInt.0)")
                    }
                }
                out.append(.i(Int64(set.count), true))
            default: out.append(.f(.nan))
            }
        }
        return out
    }
}
