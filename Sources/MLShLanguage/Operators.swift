import Foundation

/// Unary operators, by their language spelling.
public enum UnaryOp: String, Sendable {
    case neg = "-", not

    /// The name of the element-wise operation in column expressions.
    public var opName: String {
        switch self {
        case .neg: "neg"
        case .not: "not"
        }
    }
}

/// Arithmetic, comparison and logic on values. Expressions over `$` columns build
/// `ColumnExpr` trees; a domain value applies an operator itself (`DomainObject.binary`,
/// `DomainObject.unary`), as the left operand first, then as the right.
enum Ops {
    static func overflow(_ op: String, _ a: Int64, _ b: Int64) -> MLShError {
        MLShError(.overflow, "integer overflow in \(a) \(op) \(b) (use floats, e.g. \(a).0, for larger numbers)")
    }

    static func typeError(_ op: BinaryOp, _ a: Value, _ b: Value) -> MLShError {
        MLShError.type("cannot apply '\(op.rawValue)' to \(a.typeName) and \(b.typeName)")
    }

    /// Lifts both operands into a column expression when either is one.
    static func exprBinary(_ name: String, _ a: Value, _ b: Value) -> Value? {
        guard case .expr = a, let l = ColumnExpr(a), let r = ColumnExpr(b) else {
            guard case .expr = b, let l = ColumnExpr(a), let r = ColumnExpr(b) else { return nil }
            return .expr(.call(name, [l, r]))
        }
        return .expr(.call(name, [l, r]))
    }

    /// The operator applied by a domain operand: the left one, else the right one; nil
    /// when neither operand is a domain value that supports it.
    static func domain(_ op: BinaryOp, _ a: Value, _ b: Value) throws(MLShError) -> Value? {
        if case .object(let o) = a, let r = try o.binary(op, b, side: .left) { return r }
        if case .object(let o) = b, let r = try o.binary(op, a, side: .right) { return r }
        return nil
    }

    static func binary(_ op: BinaryOp, _ a: Value, _ b: Value) throws(MLShError) -> Value {
        switch op {
        case .add: return try add(a, b)
        case .sub:
            switch (a, b) {
            case (.int(let x), .int(let y)):
                let (r, o) = x.subtractingReportingOverflow(y)
                if o { throw overflow("-", x, y) }
                return .int(r)
            case (.float(let x), .float(let y)): return .float(x - y)
            default: break
            }
        case .mul:
            switch (a, b) {
            case (.int(let x), .int(let y)):
                let (r, o) = x.multipliedReportingOverflow(by: y)
                if o { throw overflow("*", x, y) }
                return .int(r)
            case (.float(let x), .float(let y)): return .float(x * y)
            default: break
            }
        case .eq: if !isLifted(a, b) { return .bool(valuesEqual(a, b)) }
        case .ne: if !isLifted(a, b) { return .bool(!valuesEqual(a, b)) }
        case .compose:
            if let r = try domain(op, a, b) { return r }
            throw MLShError.type("'>>' composes transforms and models, not \(a.typeName) and \(b.typeName)")
        default: break
        }
        if let e = exprBinary(op.opName, a, b) { return e }
        if let r = try domain(op, a, b) { return r }
        switch op {
        case .sub, .mul, .div, .mod, .pow:
            return try numeric(op, a, b)
        case .lt, .le, .gt, .ge:
            return .bool(try compare(op, a, b))
        case .and, .or:
            guard case .bool(let x) = a, case .bool(let y) = b else { throw typeError(op, a, b) }
            return .bool(op == .and ? (x && y) : (x || y))
        default:
            throw typeError(op, a, b)
        }
    }

    static func isLifted(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.expr, _), (_, .expr): return true
        case (.object, _), (_, .object): return true
        default: return false
        }
    }

    static func add(_ a: Value, _ b: Value) throws(MLShError) -> Value {
        switch (a, b) {
        case (.int(let x), .int(let y)):
            let (r, o) = x.addingReportingOverflow(y)
            if o { throw overflow("+", x, y) }
            return .int(r)
        case (.float(let x), .float(let y)): return .float(x + y)
        case (.int(let x), .float(let y)): return .float(Double(x) + y)
        case (.float(let x), .int(let y)): return .float(x + Double(y))
        case (.string(let x), .string(let y)): return .string(x + y)
        case (.list(let x), .list(let y)): return .list(x + y)
        default:
            if let e = exprBinary("add", a, b) { return e }
            if let r = try domain(.add, a, b) { return r }
            throw typeError(.add, a, b)
        }
    }

    static func numeric(_ op: BinaryOp, _ a: Value, _ b: Value) throws(MLShError) -> Value {
        if case .int(let x) = a, case .int(let y) = b {
            switch op {
            case .mod:
                if y == 0 { throw MLShError.value("integer modulo by zero") }
                if x == .min && y == -1 { return .int(0) }
                let r = x % y
                return .int(r != 0 && (r < 0) != (y < 0) ? r + y : r)
            case .pow where y >= 0:
                var result: Int64 = 1, base = x, e = y
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { throw overflow("^", x, y) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { throw overflow("^", x, y) }
                        base = b2
                    }
                }
                return .int(result)
            default: break
            }
        }
        guard let x = a.number, let y = b.number else { throw typeError(op, a, b) }
        switch op {
        case .sub: return .float(x - y)
        case .mul: return .float(x * y)
        case .div: return .float(x / y)
        case .mod:
            let r = fmod(x, y)
            return .float(r != 0 && (r < 0) != (y < 0) ? r + y : r)
        case .pow: return .float(pow(x, y))
        default: throw typeError(op, a, b)
        }
    }

    static func compare(_ op: BinaryOp, _ a: Value, _ b: Value) throws(MLShError) -> Bool {
        let c: Int
        switch (a, b) {
        case (.int(let x), .int(let y)): c = x < y ? -1 : (x == y ? 0 : 1)
        case (.string(let x), .string(let y)): c = x < y ? -1 : (x == y ? 0 : 1)
        default:
            guard let x = a.number, let y = b.number else { throw typeError(op, a, b) }
            if x.isNaN || y.isNaN { return false }
            c = x < y ? -1 : (x == y ? 0 : 1)
        }
        switch op {
        case .lt: return c < 0
        case .le: return c <= 0
        case .gt: return c > 0
        default: return c >= 0
        }
    }

    static func unary(_ op: UnaryOp, _ v: Value) throws(MLShError) -> Value {
        switch (op, v) {
        case (.neg, .int(let x)):
            if x == .min { throw MLShError(.overflow, "integer overflow in -(\(x))") }
            return .int(-x)
        case (.neg, .float(let x)): return .float(-x)
        case (.not, .bool(let b)): return .bool(!b)
        case (_, .expr(let e)): return .expr(.call(op.opName, [e]))
        case (_, .object(let o)): if let r = try o.unary(op) { return r }
        default: break
        }
        switch op {
        case .neg: throw MLShError.type("cannot negate \(v.typeName)")
        case .not: throw MLShError.type("'not' needs a bool, got \(v.typeName)")
        }
    }

    /// Truthiness for `if`, `while` and `assert`: only bools qualify.
    static func truth(_ v: Value, _ what: String) throws(MLShError) -> Bool {
        if case .bool(let b) = v { return b }
        throw MLShError.type("\(what) must be true or false, got \(v.typeName) \(v.inline())")
    }
}
