import MLShCommon

/// A Pratt parser over the token stream: one parse function per grammar rule, operator
/// precedence in one table, panic-mode recovery at statement boundaries.
struct Parser {
    /// Nesting deeper than this is an error, not a stack overflow.
    static let maxDepth = 200
    /// Operators chained at one level (`a + a + ...`, `x.f.g...`) beyond this are an
    /// error: each one nests the tree a level deeper.
    static let maxChain = 10_000

    let file: SourceFile
    var tokens: [Token]
    var pos = 0
    var depth = 0
    /// Brackets opened and not yet closed in the current top-level statement.
    var openBrackets = 0
    var errors: [MLShError] = []

    init(file: SourceFile, tokens: [Token]) { self.file = file; self.tokens = tokens }

    /// The infix operator a token spells, with its binding power and associativity from
    /// the one operator table (`ExprSyntax`); `op` is nil for `|>`.
    static func infixInfo(_ k: TokenKind) -> (prec: Int, assoc: ExprSyntax.Associativity, op: BinaryOp?)? {
        let op: BinaryOp?
        switch k {
        case .symbol(.pipe): op = nil
        case .symbol(.compose): op = .compose
        case .keyword(.or): op = .or
        case .keyword(.and): op = .and
        case .symbol(.eq): op = .eq
        case .symbol(.ne): op = .ne
        case .symbol(.lt): op = .lt
        case .symbol(.le): op = .le
        case .symbol(.gt): op = .gt
        case .symbol(.ge): op = .ge
        case .symbol(.plus): op = .add
        case .symbol(.minus): op = .sub
        case .symbol(.star): op = .mul
        case .symbol(.slash): op = .div
        case .symbol(.percent): op = .mod
        case .symbol(.caret): op = .pow
        default: return nil
        }
        guard let syntax = ExprSyntax.infix(op?.opName ?? "pipe") else { return nil }
        return (syntax.precedence, syntax.associativity, op)
    }

    // MARK: helpers

    var current: Token { tokens[min(pos, tokens.count - 1)] }
    var kind: TokenKind { current.kind }

    mutating func advance() -> Token {
        let t = current
        if pos < tokens.count - 1 { pos += 1 }
        switch t.kind {
        case .symbol(.lparen), .symbol(.lbracket), .symbol(.lbrace): openBrackets += 1
        case .symbol(.rparen), .symbol(.rbracket), .symbol(.rbrace): openBrackets -= 1
        default: break
        }
        return t
    }

    func check(_ s: Symbol) -> Bool { kind == .symbol(s) }
    func check(_ k: Keyword) -> Bool { kind == .keyword(k) }

    mutating func match(_ s: Symbol) -> Bool {
        if check(s) { _ = advance(); return true }
        return false
    }

    mutating func skipNewlines() { while kind == .newline { _ = advance() } }

    func describe(_ k: TokenKind) -> String {
        switch k {
        case .identifier(let n): return "name '\(n)'"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .int, .float: return "number"
        case .string: return "string"
        case .column(let c): return "column $\(c)"
        case .symbol(let s): return "'\(s.rawValue)'"
        case .newline: return "end of line"
        case .eof: return "end of input"
        }
    }

    func error(_ message: String, at t: Token? = nil) -> MLShError {
        let tok = t ?? current
        return MLShError(.syntax, message, span: tok.span, incomplete: tok.kind == .eof)
    }

    /// Consumes `s` or fails with "expected 's' <context>, found ...".
    @discardableResult
    mutating func expect(_ s: Symbol, _ context: String) throws(MLShError) -> Token {
        if check(s) { return advance() }
        throw error("expected '\(s.rawValue)' \(context), found \(describe(kind))")
    }

    /// Consumes the closer of a bracket; at end of input, points at the opener instead.
    @discardableResult
    mutating func close(_ s: Symbol, opener: Token, _ what: String) throws(MLShError) -> Token {
        if check(s) { return advance() }
        if kind == .eof {
            throw MLShError(.syntax, "'\(opener.span.file.text(opener.span))' is never closed: expected '\(s.rawValue)' to close \(what)",
                            span: opener.span, incomplete: true)
        }
        throw error("expected '\(s.rawValue)' to close \(what), found \(describe(kind))")
    }

    mutating func identifier(_ context: String) throws(MLShError) -> (String, Span) {
        if case .identifier(let n) = kind { let t = advance(); return (n, t.span) }
        throw error("expected a name \(context), found \(describe(kind))")
    }

    mutating func enter() throws(MLShError) {
        depth += 1
        if depth > Parser.maxDepth {
            throw MLShError(.syntax, "nesting too deep (more than \(Parser.maxDepth) levels)", span: current.span)
        }
    }

    func node(_ k: NodeKind, _ s: Span) -> Node { Node(k, s) }

    // MARK: program and statements

    /// program -> { statement (NEWLINE | ';') }
    mutating func parseProgram() -> [Node] {
        var out: [Node] = []
        while true {
            while kind == .newline || check(.semicolon) { _ = advance() }
            if kind == .eof { break }
            openBrackets = 0
            depth = 0
            do {
                let stmt = try parseStatement(topLevel: true)
                out.append(stmt)
            } catch {
                errors.append(error)
                if error.incomplete { break }
                synchronize()
            }
        }
        return out
    }

    /// Skips to the end of the statement that failed: past the brackets it left open,
    /// then to the next newline or ';'.
    mutating func synchronize() {
        var open = max(0, openBrackets)
        while kind != .eof {
            switch kind {
            case .symbol(.lparen), .symbol(.lbracket), .symbol(.lbrace): open += 1
            case .symbol(.rparen), .symbol(.rbracket), .symbol(.rbrace): open -= 1
            case .newline, .symbol(.semicolon):
                if open <= 0 { _ = advance(); return }
            default: break
            }
            _ = advance()
        }
    }

    /// statement -> let | fn NAME | if | for | while | return | break | continue | with
    ///            | assert | import | NAME '=' expr | expr
    mutating func parseStatement(topLevel: Bool = false) throws(MLShError) -> Node {
        try enter(); defer { depth -= 1 }
        let start = current.span
        let stmt: Node
        switch kind {
        case .keyword(.let): stmt = try parseLet()
        case .keyword(.fn) where isNamedFunction():
            _ = advance()
            let (name, _) = try identifier("after 'fn'")
            let fnNode = try parseFunctionRest(name: name, start: start)
            stmt = node(.letBind(.name(name, fnNode.span), fnNode), fnNode.span)
        case .keyword(.for): stmt = try parseFor()
        case .keyword(.while):
            _ = advance()
            let cond = try parseExpression()
            let body = try parseBlock("after the while condition")
            stmt = node(.whileLoop(cond, body: body), start.to(body.span))
        case .keyword(.return):
            let t = advance()
            if isStatementEnd() { stmt = node(.returnStmt(nil), t.span) }
            else { let v = try parseExpression(); stmt = node(.returnStmt(v), t.span.to(v.span)) }
        case .keyword(.break): stmt = node(.breakStmt, advance().span)
        case .keyword(.continue): stmt = node(.continueStmt, advance().span)
        case .keyword(.with):
            _ = advance()
            let ctx = try parseExpression()
            let body = try parseBlock("after the with expression")
            stmt = node(.with(ctx, body: body), start.to(body.span))
        case .keyword(.assert):
            _ = advance()
            let cond = try parseExpression()
            var msg: Node?
            if match(.comma) { msg = try parseExpression() }
            stmt = node(.assertStmt(cond, message: msg), start.to(msg?.span ?? cond.span))
        case .keyword(.import):
            _ = advance()
            guard case .string(let parts) = kind else {
                throw error("expected a file path string after 'import', found \(describe(kind))")
            }
            let t = advance()
            var path = ""
            for p in parts {
                guard case .text(let s) = p else { throw error("import path cannot be interpolated", at: t) }
                path += s
            }
            stmt = node(.importStmt(path), start.to(t.span))
        case .identifier(let name) where tokens[min(pos + 1, tokens.count - 1)].kind == .symbol(.assign):
            _ = advance(); _ = advance()
            skipNewlines()
            let v = try parseExpression()
            stmt = node(.assign(name, v), start.to(v.span))
        default:
            let e = try parseExpression()
            if check(.assign) {
                throw error("cannot assign to this expression (only a name can be assigned: use 'let' for a new one)")
            }
            stmt = node(.exprStmt(e, quiet: check(.semicolon)), e.span)
        }
        guard isStatementEnd() else {
            throw error("expected end of line or ';' after statement, found \(describe(kind))")
        }
        return stmt
    }

    func isStatementEnd() -> Bool {
        switch kind {
        case .newline, .eof, .symbol(.semicolon), .symbol(.rbrace): return true
        default: return false
        }
    }

    func isNamedFunction() -> Bool {
        if case .identifier = tokens[min(pos + 1, tokens.count - 1)].kind { return true }
        return false
    }

    /// let -> 'let' pattern '=' expr
    mutating func parseLet() throws(MLShError) -> Node {
        let start = advance().span
        let pat = try parsePattern()
        try expect(.assign, "after the name in 'let'")
        skipNewlines()
        let v = try parseExpression()
        return node(.letBind(pat, v), start.to(v.span))
    }

    /// pattern -> NAME | '[' pattern {',' pattern} ']' | '{' NAME [':' pattern] {',' ...} '}'
    mutating func parsePattern() throws(MLShError) -> Pattern {
        try enter(); defer { depth -= 1 }
        let start = current.span
        if match(.lbracket) {
            var items: [Pattern] = []
            skipNewlines()
            while !check(.rbracket) {
                items.append(try parsePattern())
                skipNewlines()
                if !match(.comma) { break }
                skipNewlines()
            }
            let end = try expect(.rbracket, "to close the list pattern")
            return .list(items, start.to(end.span))
        }
        if match(.lbrace) {
            var items: [(key: String, binding: Pattern)] = []
            skipNewlines()
            while !check(.rbrace) {
                let key: String
                let keySpan: Span
                if case .string(let parts) = kind, parts.count <= 1, case .text(let s)? = parts.first ?? .text("") {
                    keySpan = advance().span; key = s
                } else { (key, keySpan) = try identifier("in the record pattern") }
                if match(.colon) { items.append((key, try parsePattern())) }
                else { items.append((key, .name(key, keySpan))) }
                skipNewlines()
                if !match(.comma) { break }
                skipNewlines()
            }
            let end = try expect(.rbrace, "to close the record pattern")
            return .record(items, start.to(end.span))
        }
        let (n, s) = try identifier("to bind (or a [list] / {record} pattern)")
        return .name(n, s)
    }

    /// for -> 'for' pattern 'in' expr block
    mutating func parseFor() throws(MLShError) -> Node {
        let start = advance().span
        let pat = try parsePattern()
        guard match2(.in) else { throw error("expected 'in' after the loop variable, found \(describe(kind))") }
        let seq = try parseExpression()
        let body = try parseBlock("after the for sequence")
        return node(.forLoop(pat, seq, body: body), start.to(body.span))
    }

    mutating func match2(_ k: Keyword) -> Bool {
        if check(k) { _ = advance(); return true }
        return false
    }

    /// block -> '{' { statement } '}'
    mutating func parseBlock(_ context: String) throws(MLShError) -> Node {
        try enter(); defer { depth -= 1 }
        let open = try expect(.lbrace, context)
        var stmts: [Node] = []
        while true {
            while kind == .newline || check(.semicolon) { _ = advance() }
            if check(.rbrace) || kind == .eof { break }
            stmts.append(try parseStatement())
        }
        let close = try close(.rbrace, opener: open, "the block")
        return node(.block(stmts), open.span.to(close.span))
    }

    // MARK: expressions

    /// expr -> binary expression at the lowest precedence (pipe)
    mutating func parseExpression(_ minPrec: Int = 1) throws(MLShError) -> Node {
        try enter(); defer { depth -= 1 }
        var left = try parsePrefix()
        var chain = 0
        while let info = Parser.infixInfo(kind), info.prec >= minPrec {
            chain += 1
            if chain > Parser.maxChain {
                throw error("expression too long: more than \(Parser.maxChain) operators in a row (split it with let)")
            }
            let opTok = advance()
            skipNewlines()
            let right = try parseExpression(info.assoc == .right ? info.prec : info.prec + 1)
            if let op = info.op {
                left = node(.binary(op, left, right), left.span.to(right.span))
            } else {
                left = pipe(left, into: right)
            }
            if info.assoc == .none, let next = Parser.infixInfo(kind), next.prec == info.prec {
                throw error("comparisons do not chain: write 'a < b and b < c'", at: current)
            }
            _ = opTok
        }
        return left
    }

    /// `a |> f(b, k=1)` is `f(a, b, k=1)`; `a |> f` is `f(a)`.
    func pipe(_ value: Node, into target: Node) -> Node {
        let arg = Argument(name: nil, value: value, nameSpan: nil)
        if case .call(let callee, let args) = target.kind {
            return node(.call(callee, [arg] + args), value.span.to(target.span))
        }
        return node(.call(target, [arg]), value.span.to(target.span))
    }

    /// prefix -> '-' expr(neg) | 'not' expr(not) | postfix
    mutating func parsePrefix() throws(MLShError) -> Node {
        if check(.minus) {
            let t = advance()
            let operand = try parseExpression(ExprSyntax.negation.operandPrecedence)
            if case .intLit(let v) = operand.kind { return node(.intLit(-v), t.span.to(operand.span)) }
            if case .floatLit(let v) = operand.kind { return node(.floatLit(-v), t.span.to(operand.span)) }
            return node(.unary(.neg, operand), t.span.to(operand.span))
        }
        if check(.not) {
            let t = advance()
            let operand = try parseExpression(ExprSyntax.not.operandPrecedence)
            return node(.unary(.not, operand), t.span.to(operand.span))
        }
        return try parsePostfix(try parsePrimary())
    }

    /// postfix -> primary { '(' args ')' | '[' expr ']' | '.' NAME }
    mutating func parsePostfix(_ base: Node) throws(MLShError) -> Node {
        var e = base
        var chain = 0
        while true {
            chain += 1
            if chain > Parser.maxChain {
                throw error("expression too long: more than \(Parser.maxChain) calls, indexes or fields in a row")
            }
            if check(.lparen) {
                let open = advance()
                let args = try parseArguments()
                let close = try close(.rparen, opener: open, "the arguments")
                e = node(.call(e, args), e.span.to(close.span))
            } else if check(.lbracket) {
                _ = advance(); skipNewlines()
                let i = try parseExpression()
                skipNewlines()
                let close = try expect(.rbracket, "after the index")
                e = node(.index(e, i), e.span.to(close.span))
            } else if check(.dot) {
                _ = advance()
                skipNewlines()
                let (name, s) = try identifier("after '.'")
                e = node(.field(e, name), e.span.to(s))
            } else { return e }
        }
    }

    /// args -> [ arg { ',' arg } [','] ] ; arg -> NAME '=' expr | expr
    mutating func parseArguments() throws(MLShError) -> [Argument] {
        var args: [Argument] = []
        var sawNamed = false
        skipNewlines()
        while !check(.rparen) && kind != .eof {
            if case .identifier(let n) = kind, tokens[min(pos + 1, tokens.count - 1)].kind == .symbol(.assign) {
                let nameTok = advance(); _ = advance(); skipNewlines()
                args.append(Argument(name: n, value: try parseExpression(), nameSpan: nameTok.span))
                sawNamed = true
            } else {
                let v = try parseExpression()
                if sawNamed { throw MLShError(.syntax, "positional argument after a named one", span: v.span) }
                args.append(Argument(name: nil, value: v, nameSpan: nil))
            }
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
        }
        return args
    }

    /// primary -> literal | NAME | COLUMN | '(' expr ')' | list | record | fn | if
    mutating func parsePrimary() throws(MLShError) -> Node {
        let t = current
        switch t.kind {
        case .int(let v): _ = advance(); return node(.intLit(v), t.span)
        case .float(let v): _ = advance(); return node(.floatLit(v), t.span)
        case .keyword(.true): _ = advance(); return node(.boolLit(true), t.span)
        case .keyword(.false): _ = advance(); return node(.boolLit(false), t.span)
        case .keyword(.none): _ = advance(); return node(.noneLit, t.span)
        case .string(let parts): _ = advance(); return try stringNode(parts, t.span)
        case .column(let c): _ = advance(); return node(.columnRef(c), t.span)
        case .identifier(let n): _ = advance(); return node(.name(n), t.span)
        case .symbol(.lparen):
            let open = advance(); skipNewlines()
            let e = try parseExpression()
            skipNewlines()
            try close(.rparen, opener: open, "'('")
            return e
        case .symbol(.lbracket):
            let open = advance()
            var items: [Node] = []
            skipNewlines()
            while !check(.rbracket) && kind != .eof {
                items.append(try parseExpression())
                skipNewlines()
                if !match(.comma) { break }
                skipNewlines()
            }
            let close = try close(.rbracket, opener: open, "the list")
            return node(.list(items), t.span.to(close.span))
        case .symbol(.lbrace): return try parseRecord()
        case .keyword(.fn):
            _ = advance()
            return try parseFunctionRest(name: nil, start: t.span)
        case .keyword(.if): return try parseIf()
        case .eof:
            throw error("expected an expression, found end of input")
        default:
            throw error("expected an expression, found \(describe(t.kind))")
        }
    }

    /// record -> '{' [ key ':' expr { ',' key ':' expr } ] '}' ; key -> NAME | STRING
    mutating func parseRecord() throws(MLShError) -> Node {
        let open = advance()
        var fields: [(key: String, value: Node)] = []
        skipNewlines()
        while !check(.rbrace) && kind != .eof {
            let key: String
            switch kind {
            case .identifier(let n): key = n; _ = advance()
            case .keyword(let k): key = k.rawValue; _ = advance()
            case .string(let parts):
                var s = ""
                for p in parts {
                    guard case .text(let x) = p else { throw error("a record key cannot be interpolated") }
                    s += x
                }
                key = s; _ = advance()
            default: throw error("expected a record key (a name or a string), found \(describe(kind))")
            }
            try expect(.colon, "after the record key")
            skipNewlines()
            fields.append((key, try parseExpression()))
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
        }
        let close = try close(.rbrace, opener: open, "the record")
        return node(.record(fields), open.span.to(close.span))
    }

    /// fn -> 'fn' [NAME] '(' params ')' ( '=>' expr | block )
    mutating func parseFunctionRest(name: String?, start: Span) throws(MLShError) -> Node {
        try expect(.lparen, "to start the parameter list")
        var params: [Param] = []
        var seen = Set<String>()
        skipNewlines()
        while !check(.rparen) && kind != .eof {
            let (n, s) = try identifier("for a parameter")
            guard seen.insert(n).inserted else { throw MLShError(.syntax, "duplicate parameter '\(n)'", span: s) }
            var def: Node?
            if match(.assign) { def = try parseExpression() }
            else if params.last?.defaultValue != nil {
                throw MLShError(.syntax, "parameter '\(n)' needs a default: it follows one that has one", span: s)
            }
            params.append(Param(name: n, defaultValue: def, span: s))
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
        }
        try expect(.rparen, "after the parameters")
        let body: Node
        if match(.arrow) {
            skipNewlines()
            body = try parseExpression()
        } else if check(.lbrace) {
            body = try parseBlock("")
        } else {
            throw error("expected '=>' or '{' after the parameters, found \(describe(kind))")
        }
        return node(.function(name: name, params: params, body: body), start.to(body.span))
    }

    /// if -> 'if' expr block [ 'else' ( if | block ) ]
    mutating func parseIf() throws(MLShError) -> Node {
        let start = advance().span
        let cond = try parseExpression()
        let then = try parseBlock("after the if condition")
        var elseNode: Node?
        // `else` may follow on the next line.
        var look = pos
        while tokens[min(look, tokens.count - 1)].kind == .newline { look += 1 }
        if tokens[min(look, tokens.count - 1)].kind == .keyword(.else) {
            while kind == .newline { _ = advance() }
            _ = advance()
            if check(.if) { elseNode = try parseIf() } else { elseNode = try parseBlock("after 'else'") }
        }
        return node(.ifElse(cond: cond, then: then, else: elseNode), start.to(elseNode?.span ?? then.span))
    }

    /// A string token's parts, with interpolations parsed as expressions.
    mutating func stringNode(_ parts: [StringPart], _ span: Span) throws(MLShError) -> Node {
        if parts.isEmpty { return node(.stringLit(""), span) }
        if parts.count == 1, case .text(let s) = parts[0] { return node(.stringLit(s), span) }
        var out: [TemplatePart] = []
        for p in parts {
            switch p {
            case .text(let s): out.append(.text(s))
            case .code(let s, let e):
                var toks = try Lexer.tokenize(file, start: s, end: e)
                toks.removeAll { $0.kind == .newline }
                var sub = Parser(file: file, tokens: toks)
                sub.depth = depth
                let expr = try sub.parseExpression()
                guard sub.kind == .eof else {
                    throw sub.error("expected '}' to end the interpolation, found \(sub.describe(sub.kind))")
                }
                out.append(.code(expr))
            }
        }
        return node(.template(out), span)
    }
}

/// Parses a whole source file into statements.
///
/// Returns every syntax error found (one per broken statement); the list is empty on
/// success. An error with `incomplete == true` means the input ended early.
public func parse(_ file: SourceFile) -> (statements: [Node], errors: [MLShError]) {
    let tokens: [Token]
    do { tokens = try Lexer.tokenize(file) } catch { return ([], [error]) }
    var p = Parser(file: file, tokens: tokens)
    let stmts = p.parseProgram()
    return (stmts, p.errors)
}
