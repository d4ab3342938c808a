/// How mls operators are spelled and how tightly they bind, and how an expression tree
/// is written back as source text: the one table the parser, the language's column
/// expressions (`ColumnExpr`) and the engine's IR (`KExpr`) all derive from.
public enum ExprSyntax {
    /// How operands of one binding power group.
    public enum Associativity: Sendable { case left, right, none }

    /// An infix operator: its operation name (`add`), spelling (`+`) and binding power
    /// (higher binds tighter).
    public struct Infix: Sendable {
        public let name: String
        public let symbol: String
        public let precedence: Int
        public let associativity: Associativity
    }

    /// A prefix operator: the operand is parsed (and rendered) at `operandPrecedence`.
    public struct Prefix: Sendable {
        public let name: String
        /// The text written before the operand (`-`, `not `).
        public let symbol: String
        public let precedence: Int
        public let operandPrecedence: Int
    }

    /// Every infix operator, loosest first. `|>` and `>>` are the language's own; the rest
    /// are element-wise operations on columns too.
    public static let infixOperators: [Infix] = [
        Infix(name: "pipe", symbol: "|>", precedence: 1, associativity: .left),
        Infix(name: "compose", symbol: ">>", precedence: 2, associativity: .left),
        Infix(name: "or", symbol: "or", precedence: 3, associativity: .left),
        Infix(name: "and", symbol: "and", precedence: 4, associativity: .left),
        // 5: prefix `not`
        Infix(name: "eq", symbol: "==", precedence: 6, associativity: .none),
        Infix(name: "ne", symbol: "!=", precedence: 6, associativity: .none),
        Infix(name: "lt", symbol: "<", precedence: 6, associativity: .none),
        Infix(name: "le", symbol: "<=", precedence: 6, associativity: .none),
        Infix(name: "gt", symbol: ">", precedence: 6, associativity: .none),
        Infix(name: "ge", symbol: ">=", precedence: 6, associativity: .none),
        Infix(name: "add", symbol: "+", precedence: 7, associativity: .left),
        Infix(name: "sub", symbol: "-", precedence: 7, associativity: .left),
        Infix(name: "mul", symbol: "*", precedence: 8, associativity: .left),
        Infix(name: "div", symbol: "/", precedence: 8, associativity: .left),
        Infix(name: "mod", symbol: "%", precedence: 8, associativity: .left),
        // 9: prefix `-`
        Infix(name: "pow", symbol: "^", precedence: 10, associativity: .right),
    ]

    /// The prefix operators. `-x ^ 2` is `-(x ^ 2)`; `not a == b` is `not (a == b)`.
    public static let prefixOperators = [not, negation]
    /// `not a`: looser than comparisons.
    public static let not = Prefix(name: "not", symbol: "not ", precedence: 5, operandPrecedence: 6)
    /// `-a`: tighter than `*`, looser than `^`.
    public static let negation = Prefix(name: "neg", symbol: "-", precedence: 9, operandPrecedence: 10)

    static let infixByName = Dictionary(uniqueKeysWithValues: infixOperators.map { ($0.name, $0) })
    static let prefixByName = Dictionary(uniqueKeysWithValues: prefixOperators.map { ($0.name, $0) })

    /// The infix operator of an operation name (`add` → `+`), or nil.
    public static func infix(_ name: String) -> Infix? { infixByName[name] }
    /// The prefix operator of an operation name (`neg` → `-`), or nil.
    public static func prefix(_ name: String) -> Prefix? { prefixByName[name] }

    // MARK: writing trees back as text

    /// One node of a tree as the renderer sees it.
    public enum Part<Tree> {
        /// Text written as is (a literal or a column reference).
        case leaf(String)
        /// An operation: infix or prefix when its name and arity say so, else `name(args)`.
        case call(String, [Tree])
    }

    /// The tree as mls source, with exactly the parentheses its precedences need, so it
    /// parses back to the same tree.
    public static func render<Tree>(_ tree: Tree, _ part: (Tree) -> Part<Tree>) -> String {
        render(tree, part, outer: 0)
    }

    static func render<Tree>(_ tree: Tree, _ part: (Tree) -> Part<Tree>, outer: Int) -> String {
        switch part(tree) {
        case .leaf(let text):
            // A negative literal reads as a negation: `(-3) ^ 2`, not `-3 ^ 2`.
            return text.hasPrefix("-") && outer > negation.precedence ? "(" + text + ")" : text
        case .call(let name, let args):
            if args.count == 2, let op = infix(name) {
                let p = op.precedence
                let left = render(args[0], part, outer: op.associativity == .left ? p : p + 1)
                let right = render(args[1], part, outer: op.associativity == .right ? p : p + 1)
                let s = left + " " + op.symbol + " " + right
                return p < outer ? "(" + s + ")" : s
            }
            if args.count == 1, let op = prefix(name) {
                let s = op.symbol + render(args[0], part, outer: op.operandPrecedence)
                return op.precedence < outer ? "(" + s + ")" : s
            }
            return name + "(" + args.map { render($0, part, outer: 0) }.joined(separator: ", ") + ")"
        }
    }

    /// A column reference: `$name` for a plain name, `` $`odd name` `` otherwise, and
    /// `col("...")` for a name a backquote cannot hold.
    public static func column(_ name: String) -> String {
        let plain = name.first.map { $0 == "_" || ($0.isASCII && $0.isLetter) } ?? false
            && name.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
        if plain { return "$" + name }
        if !name.isEmpty && !name.contains("`") && !name.contains(where: \.isNewline) { return "$`" + name + "`" }
        return "col(" + string(name) + ")"
    }

    /// The shortest text that reads back to the same Double (`0.1`, `3.0`, `1e-07`, `nan`).
    public static func float(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        return d.description
    }

    /// A string as a literal: quoted, with escapes (`{` and `}` too: mls strings interpolate).
    public static func string(_ s: String) -> String {
        var out = "\""
        for ch in s.unicodeScalars {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "{": out += "\\{"
            case "}": out += "\\}"
            default:
                if ch.value < 32 || ch.value == 127 { out += "\\u{\(String(ch.value, radix: 16))}" }
                else { out.unicodeScalars.append(ch) }
            }
        }
        return out + "\""
    }
}
