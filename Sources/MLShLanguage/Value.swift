/// A value of the language. All values are immutable.
public enum Value: @unchecked Sendable {
    case none
    case bool(Bool)
    case int(Int64)
    case float(Double)
    case string(String)
    case list([Value])
    case record(Record)
    case function(Function)
    /// A column expression (`$a * 2`): compiled by a table verb, not evaluated at once.
    case expr(ColumnExpr)
    /// A value owned by a domain library (table, model, run, ...).
    case object(any DomainObject)

    /// The type name shown by `type(x)` and in messages.
    public var typeName: String {
        switch self {
        case .none: "none"
        case .bool: "bool"
        case .int: "int"
        case .float: "float"
        case .string: "string"
        case .list: "list"
        case .record: "record"
        case .function: "function"
        case .expr: "expr"
        case .object(let o): o.typeName
        }
    }

    /// The number as a Double, for ints and floats.
    public var number: Double? {
        switch self {
        case .int(let i): Double(i)
        case .float(let d): d
        default: nil
        }
    }
}

/// An ordered record of named values.
public struct Record: Sendable {
    /// Keys in order; unique.
    public private(set) var keys: [String]
    /// Values, parallel to `keys`.
    public private(set) var values: [Value]

    /// An empty record.
    public init() { keys = []; values = [] }
    /// A record from ordered pairs; a repeated key keeps its first place and last value.
    public init(_ pairs: [(String, Value)]) {
        keys = []; values = []
        for (k, v) in pairs { self[k] = v }
    }

    /// The value of a key, or nil.
    public subscript(key: String) -> Value? {
        get { keys.firstIndex(of: key).map { values[$0] } }
        set {
            if let i = keys.firstIndex(of: key) {
                if let newValue { values[i] = newValue } else { keys.remove(at: i); values.remove(at: i) }
            } else if let newValue { keys.append(key); values.append(newValue) }
        }
    }

    /// Key-value pairs in order.
    public var pairs: [(String, Value)] { Array(zip(keys, values)) }
}

/// Which operand of a binary operator a domain value is.
public enum OperandSide: Sendable {
    /// `self op other`.
    case left
    /// `other op self`.
    case right
}

/// A value owned by a domain library. The language displays it, reads its members,
/// indexes it and compares it; operators and element-wise functions on it are the
/// value's own (`binary`, `unary`, `apply`), so a new domain type brings its operators.
public protocol DomainObject: AnyObject, Sendable {
    /// The type name (`table`, `model`, ...).
    var typeName: String { get }
    /// The display at the prompt (may span lines).
    func render() -> String
    /// A one-line form, used inside lists and records.
    var summary: String { get }
    /// `x.name`; nil when there is no such member.
    func member(_ name: String) throws(MLShError) -> Value?
    /// Member names, for completion and "did you mean".
    var memberNames: [String] { get }
    /// `x[key]`; nil when indexing is not supported.
    func element(_ key: Value) throws(MLShError) -> Value?
    /// `len(x)`, when it has a length.
    var length: Int? { get }
    /// Structural equality with another domain value.
    func isEqual(to other: any DomainObject) -> Bool
    /// The value displayed with up to `rows` rows (`show(x, rows=n)`); nil when it has no rows.
    func showing(rows: Int) -> (any DomainObject)?
    /// The items `for` loops over, when it is iterable.
    func iterate() -> [Value]?
    /// `self op other` (`side == .left`) or `other op self` (`.right`); nil when the
    /// operator does not apply to these operands (the other operand is asked next).
    func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value?
    /// `-self` or `not self`; nil when not supported.
    func unary(_ op: UnaryOp) throws(MLShError) -> Value?
    /// An element-wise function or reduction (`sqrt`, `mean`, ...) of `arguments`, among
    /// which this value is; nil when it does not apply to them.
    func apply(_ function: String, _ arguments: [Value]) throws(MLShError) -> Value?
}

extension DomainObject {
    public var summary: String { "<\(typeName)>" }
    public func member(_ name: String) throws(MLShError) -> Value? { nil }
    public var memberNames: [String] { [] }
    public func element(_ key: Value) throws(MLShError) -> Value? { nil }
    public var length: Int? { nil }
    public func isEqual(to other: any DomainObject) -> Bool { self === other }
    public func showing(rows: Int) -> (any DomainObject)? { nil }
    public func iterate() -> [Value]? { nil }
    public func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value? { nil }
    public func unary(_ op: UnaryOp) throws(MLShError) -> Value? { nil }
    public func apply(_ function: String, _ arguments: [Value]) throws(MLShError) -> Value? { nil }
}

/// A domain value usable with `with EXPR { ... }` (a run).
public protocol ContextObject: DomainObject {
    /// Called before the block runs.
    func enter() throws(MLShError)
    /// Called after the block, with its error if it failed.
    func exit(error: MLShError?) throws(MLShError)
}

func isPlainName(_ s: String) -> Bool {
    guard let f = s.unicodeScalars.first, f == "_" || (f.isASCII && f.properties.isAlphabetic) else { return false }
    return s.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }
        && Keyword(rawValue: s) == nil
}

extension Value {
    /// The value as the prompt shows it.
    public func display() -> String {
        switch self {
        case .object(let o): return o.render()
        default: return inline()
        }
    }

    /// The one-line form used inside lists and records.
    public func inline() -> String {
        switch self {
        case .none: return "none"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .float(let d): return formatFloat(d)
        case .string(let s): return quoteString(s)
        case .list(let xs): return "[" + xs.map { $0.inline() }.joined(separator: ", ") + "]"
        case .record(let r):
            return "{" + r.pairs.map { (isPlainName($0.0) ? $0.0 : quoteString($0.0)) + ": " + $0.1.inline() }
                .joined(separator: ", ") + "}"
        case .function(let f): return f.signatureText
        case .expr(let e): return e.text
        case .object(let o): return o.summary
        }
    }

    /// The text `print` writes: strings raw, everything else as displayed.
    public func printed() -> String {
        if case .string(let s) = self { return s }
        return display()
    }

    /// The text of a value made into a string (`str`, `join_text`, `"{x}"`). A column
    /// expression is refused: its text is not its values, and inside a verb the result
    /// would be one constant string in every row.
    public func text(in context: String) throws(MLShError) -> String {
        if case .expr(let e) = self {
            throw MLShError.type("\(context) of the column expression \(e.text) would be its text, not its values; "
                                 + "inside a verb use cast(\(e.text), \"string\") for a string column")
        }
        return printed()
    }
}

/// Structural equality of two values; ints and floats compare by number.
public func valuesEqual(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.none, .none): return true
    case (.bool(let x), .bool(let y)): return x == y
    case (.int(let x), .int(let y)): return x == y
    case (.float(let x), .float(let y)): return x == y
    case (.int(let x), .float(let y)): return Double(x) == y && y.magnitude < 9.3e18 && Int64(y) == x
    case (.float(let x), .int(let y)): return valuesEqual(.int(y), .float(x))
    case (.string(let x), .string(let y)): return x == y
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { valuesEqual($0, $1) }
    case (.record(let x), .record(let y)):
        return x.keys == y.keys && zip(x.values, y.values).allSatisfy { valuesEqual($0, $1) }
    case (.function(let x), .function(let y)): return x === y
    case (.expr(let x), .expr(let y)): return x == y
    case (.object(let x), .object(let y)): return x.isEqual(to: y)
    default: return false
    }
}
