import Foundation
import MLShCommon

/// A runs-table filter: an mls expression over a run's columns (`rmse < 50 and (alpha ==
/// 0.1 or depth > 3)`), parsed with the language's operator table (`ExprSyntax`) and
/// evaluated per run. A comparison with a missing value is false.
indirect enum RunFilter: Equatable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case none
    case column(String)
    case prefix(String, RunFilter)
    case infix(String, RunFilter, RunFilter)

    /// A value while evaluating.
    enum Value: Equatable {
        case number(Double), string(String), bool(Bool), missing
    }

    /// Parses `text`; the error says what was expected and at which character.
    static func parse(_ text: String) throws(UIError) -> RunFilter {
        var p = FilterParser(tokens: try FilterParser.tokenize(text))
        let e = try p.expression(0)
        if let t = p.peek { throw UIError(400, "filter: unexpected '\(t.text)' at character \(t.offset + 1)") }
        return e
    }

    /// The column names the expression reads.
    var columns: [String] {
        switch self {
        case .column(let n): [n]
        case .prefix(_, let a): a.columns
        case .infix(_, let a, let b): a.columns + b.columns
        default: []
        }
    }

    /// Whether a run (its columns by name) passes.
    func matches(_ row: (String) -> Value) -> Bool {
        if case .bool(true) = evaluate(row) { return true }
        return false
    }

    func evaluate(_ row: (String) -> Value) -> Value {
        switch self {
        case .number(let d): return .number(d)
        case .string(let s): return .string(s)
        case .bool(let b): return .bool(b)
        case .none: return .missing
        case .column(let n): return row(n)
        case .prefix(let op, let a):
            let v = a.evaluate(row)
            switch (op, v) {
            case ("not", .bool(let b)): return .bool(!b)
            case ("not", .missing): return .bool(true)
            case ("neg", .number(let d)): return .number(-d)
            default: return .missing
            }
        case .infix(let op, let a, let b):
            if op == "and" {
                guard case .bool(true) = a.evaluate(row) else { return .bool(false) }
                if case .bool(true) = b.evaluate(row) { return .bool(true) }
                return .bool(false)
            }
            if op == "or" {
                if case .bool(true) = a.evaluate(row) { return .bool(true) }
                if case .bool(true) = b.evaluate(row) { return .bool(true) }
                return .bool(false)
            }
            return RunFilter.apply(op, a.evaluate(row), b.evaluate(row))
        }
    }

    /// A comparison of two values of one kind; nil when `op` is no comparison.
    static func compare<T: Comparable>(_ op: String, _ a: T, _ b: T) -> Value? {
        switch op {
        case "eq": .bool(a == b)
        case "ne": .bool(a != b)
        case "lt": .bool(a < b)
        case "le": .bool(a <= b)
        case "gt": .bool(a > b)
        case "ge": .bool(a >= b)
        default: nil
        }
    }

    static func apply(_ op: String, _ x: Value, _ y: Value) -> Value {
        switch (x, y) {
        case (.number(let a), .number(let b)):
            if let c = compare(op, a, b) { return c }
            switch op {
            case "add": return .number(a + b)
            case "sub": return .number(a - b)
            case "mul": return .number(a * b)
            case "div": return .number(a / b)
            case "mod": return .number(a.truncatingRemainder(dividingBy: b))
            case "pow": return .number(Foundation.pow(a, b))
            default: return .missing
            }
        case (.string(let a), .string(let b)):
            return compare(op, a, b) ?? (op == "add" ? .string(a + b) : .missing)
        case (.bool(let a), .bool(let b)):
            switch op {
            case "eq": return .bool(a == b)
            case "ne": return .bool(a != b)
            default: return .missing
            }
        case (.missing, _), (_, .missing):
            // `x == none` asks whether x is missing; any other comparison with a missing value is false.
            return op == "eq" ? .bool(x == y) : op == "ne" ? .bool(x != y) : .missing
        default:
            // Different kinds: never equal.
            return op == "ne" ? .bool(true) : op == "eq" ? .bool(false) : .missing
        }
    }
}

/// A token of a filter: its text, kind and offset (in characters).
struct FilterToken {
    enum Kind { case number, string, name, symbol }
    var kind: Kind
    var text: String
    var offset: Int
}

/// Precedence climbing over `ExprSyntax`'s table (without `|>` and `>>`, which filters
/// have no use for).
struct FilterParser {
    var tokens: [FilterToken]
    var index = 0

    var peek: FilterToken? { index < tokens.count ? tokens[index] : nil }

    static let infix: [String: ExprSyntax.Infix] = Dictionary(
        ExprSyntax.infixOperators.filter { $0.name != "pipe" && $0.name != "compose" }.map { ($0.symbol, $0) },
        uniquingKeysWith: { a, _ in a })

    static func tokenize(_ text: String) throws(UIError) -> [FilterToken] {
        let chars = Array(text)
        var out: [FilterToken] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c.isWhitespace { i += 1; continue }
            let start = i
            if c.isNumber || (c == "." && i + 1 < chars.count && chars[i + 1].isNumber) {
                while i < chars.count, chars[i].isNumber || chars[i] == "." || chars[i] == "_" { i += 1 }
                if i < chars.count, chars[i] == "e" || chars[i] == "E" {
                    var j = i + 1
                    if j < chars.count, chars[j] == "+" || chars[j] == "-" { j += 1 }
                    if j < chars.count, chars[j].isNumber {
                        i = j
                        while i < chars.count, chars[i].isNumber { i += 1 }
                    }
                }
                out.append(FilterToken(kind: .number, text: String(chars[start..<i]).replacingOccurrences(of: "_", with: ""), offset: start))
            } else if c == "\"" || c == "'" {
                var s = ""
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count { s.append(chars[i + 1]); i += 2; continue }
                    if chars[i] == c { closed = true; i += 1; break }
                    s.append(chars[i]); i += 1
                }
                guard closed else { throw UIError(400, "filter: unterminated string starting at character \(start + 1)") }
                out.append(FilterToken(kind: .string, text: s, offset: start))
            } else if c.isLetter || c == "_" || c == "$" {
                i += 1
                while i < chars.count, chars[i].isLetter || chars[i].isNumber || chars[i] == "_" || chars[i] == "." { i += 1 }
                var name = String(chars[start..<i])
                if name.hasPrefix("$") { name.removeFirst() }
                guard !name.isEmpty else { throw UIError(400, "filter: expected a column name after '$' at character \(start + 1)") }
                out.append(FilterToken(kind: .name, text: name, offset: start))
            } else {
                let two = i + 1 < chars.count ? String(chars[i...i + 1]) : ""
                if ["==", "!=", "<=", ">="].contains(two) {
                    out.append(FilterToken(kind: .symbol, text: two, offset: start)); i += 2
                } else if "<>+-*/%^()".contains(c) {
                    out.append(FilterToken(kind: .symbol, text: String(c), offset: start)); i += 1
                } else {
                    throw UIError(400, "filter: unexpected '\(c)' at character \(start + 1)")
                }
            }
        }
        return out
    }

    /// The infix operator a token spells (`and`, `or` as words; symbols as written).
    func infixOperator(_ t: FilterToken) -> ExprSyntax.Infix? {
        switch t.kind {
        case .symbol, .name: FilterParser.infix[t.text]
        default: nil
        }
    }

    /// expression -> unary (infix-op expression)*, climbing by binding power.
    mutating func expression(_ minimum: Int) throws(UIError) -> RunFilter {
        var left = try unary()
        while let t = peek, let op = infixOperator(t), op.precedence > minimum {
            index += 1
            let next = op.associativity == .right ? op.precedence - 1 : op.precedence
            let right = try expression(next)
            if op.associativity == .none, let t2 = peek, let op2 = infixOperator(t2), op2.precedence == op.precedence {
                throw UIError(400, "filter: '\(op.symbol)' and '\(op2.symbol)' cannot be chained (character \(t2.offset + 1)); use and")
            }
            left = .infix(op.name, left, right)
        }
        return left
    }

    /// unary -> "not" unary | "-" unary | primary
    mutating func unary() throws(UIError) -> RunFilter {
        guard let t = peek else { throw UIError(400, "filter: unexpected end; expected a value or a column") }
        if t.kind == .name, t.text == "not" {
            index += 1
            return .prefix("not", try expression(ExprSyntax.not.operandPrecedence - 1))
        }
        if t.kind == .symbol, t.text == "-" {
            index += 1
            return .prefix("neg", try expression(ExprSyntax.negation.operandPrecedence - 1))
        }
        return try primary()
    }

    /// primary -> number | string | true | false | none | name | "(" expression ")"
    mutating func primary() throws(UIError) -> RunFilter {
        guard let t = peek else { throw UIError(400, "filter: unexpected end; expected a value or a column") }
        index += 1
        switch t.kind {
        case .number:
            guard let d = Double(t.text) else { throw UIError(400, "filter: '\(t.text)' is not a number (character \(t.offset + 1))") }
            return .number(d)
        case .string: return .string(t.text)
        case .name:
            switch t.text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            case "none": return .none
            case "and", "or": throw UIError(400, "filter: expected a value before '\(t.text)' at character \(t.offset + 1)")
            default: return .column(t.text)
            }
        case .symbol:
            if t.text == "(" {
                let e = try expression(0)
                guard let close = peek, close.kind == .symbol, close.text == ")" else {
                    throw UIError(400, "filter: expected ')' to close '(' at character \(t.offset + 1)")
                }
                index += 1
                return e
            }
            throw UIError(400, "filter: expected a value or a column at character \(t.offset + 1), got '\(t.text)'")
        }
    }
}
