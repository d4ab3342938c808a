/// A node of the syntax tree with its source span.
public final class Node: Sendable {
    /// What the node is.
    public let kind: NodeKind
    /// Where it is.
    public let span: Span
    init(_ kind: NodeKind, _ span: Span) { self.kind = kind; self.span = span }
}

/// Binary operators, by their language spelling.
public enum BinaryOp: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "^"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case and, or, compose = ">>"

    /// The name of the element-wise operation in column expressions.
    public var opName: String {
        switch self {
        case .add: "add"; case .sub: "sub"; case .mul: "mul"; case .div: "div"; case .mod: "mod"
        case .pow: "pow"; case .eq: "eq"; case .ne: "ne"; case .lt: "lt"; case .le: "le"
        case .gt: "gt"; case .ge: "ge"; case .and: "and"; case .or: "or"; case .compose: "compose"
        }
    }
}

/// A function parameter, with an optional default.
public struct Param: Sendable {
    public let name: String
    public let defaultValue: Node?
    public let span: Span
}

/// A call argument: positional (`name == nil`) or named.
public struct Argument: Sendable {
    public let name: String?
    public let value: Node
    public let nameSpan: Span?
}

/// A binding pattern of `let`.
public indirect enum Pattern: Sendable {
    case name(String, Span)
    case list([Pattern], Span)
    case record([(key: String, binding: Pattern)], Span)

    /// The names the pattern binds, in order.
    public var boundNames: [String] { names.map(\.0) }

    /// The names the pattern binds, in order, with where.
    var names: [(String, Span)] {
        switch self {
        case .name(let n, let s): return [(n, s)]
        case .list(let ps, _): return ps.flatMap { $0.names }
        case .record(let ps, _): return ps.flatMap { $0.binding.names }
        }
    }
}

/// Part of an interpolated string.
public enum TemplatePart: Sendable {
    case text(String)
    case code(Node)
}

/// Every form of the language.
public indirect enum NodeKind: Sendable {
    // Expressions
    case intLit(Int64)
    case floatLit(Double)
    case boolLit(Bool)
    case noneLit
    case stringLit(String)
    case template([TemplatePart])
    case columnRef(String)
    case name(String)
    case list([Node])
    case record([(key: String, value: Node)])
    case unary(UnaryOp, Node)
    case binary(BinaryOp, Node, Node)
    case call(Node, [Argument])
    case index(Node, Node)
    case field(Node, String)
    case function(name: String?, params: [Param], body: Node)
    case ifElse(cond: Node, then: Node, else: Node?)
    case block([Node])
    // Statements
    case letBind(Pattern, Node)
    case assign(String, Node)
    case forLoop(Pattern, Node, body: Node)
    case whileLoop(Node, body: Node)
    case returnStmt(Node?)
    case breakStmt
    case continueStmt
    case with(Node, body: Node)
    case assertStmt(Node, message: Node?)
    case importStmt(String)
    /// An expression statement; `quiet` when it ended with `;` (not displayed).
    case exprStmt(Node, quiet: Bool)
}

extension Node {
    /// The expression nodes directly inside this one, in source order.
    public var children: [Node] {
        switch kind {
        case .intLit, .floatLit, .boolLit, .noneLit, .stringLit, .columnRef, .name,
             .breakStmt, .continueStmt, .importStmt:
            return []
        case .template(let parts):
            return parts.compactMap { if case .code(let n) = $0 { return n }; return nil }
        case .list(let xs), .block(let xs): return xs
        case .record(let kv): return kv.map(\.value)
        case .unary(_, let n), .field(let n, _), .letBind(_, let n), .assign(_, let n),
             .exprStmt(let n, _):
            return [n]
        case .binary(_, let a, let b), .index(let a, let b): return [a, b]
        case .call(let f, let args): return [f] + args.map(\.value)
        case .function(_, let params, let body): return params.compactMap(\.defaultValue) + [body]
        case .ifElse(let c, let t, let e): return [c, t] + (e.map { [$0] } ?? [])
        case .forLoop(_, let s, let body): return [s, body]
        case .whileLoop(let c, let body), .with(let c, let body): return [c, body]
        case .returnStmt(let n): return n.map { [$0] } ?? []
        case .assertStmt(let c, let m): return [c] + (m.map { [$0] } ?? [])
        }
    }
}
