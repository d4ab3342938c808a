import MLShCommon
import Testing
@testable import MLShLanguage

/// The parser alone: the tree each precedence level builds, and recovery after errors.
@Suite struct ParserTests {
    /// The program's statements as S-expressions, and the errors' messages.
    func parse(_ text: String) throws -> (trees: [String], errors: [String]) {
        let file = SourceFile(name: "t.mls", text: text)
        var p = Parser(file: file, tokens: try Lexer.tokenize(file))
        let nodes = p.parseProgram()
        return (nodes.map(sexpr), p.errors.map(\.message))
    }

    /// One expression statement's tree.
    func tree(_ text: String) throws -> String {
        let (trees, errors) = try parse(text)
        #expect(errors.isEmpty, "\(text): \(errors)")
        return trees.first ?? ""
    }

    func sexpr(_ n: Node) -> String {
        switch n.kind {
        case .intLit(let i): return String(i)
        case .floatLit(let d): return String(d)
        case .boolLit(let b): return String(b)
        case .noneLit: return "none"
        case .stringLit(let s): return quoteString(s)
        case .columnRef(let c): return "$" + c
        case .name(let n): return n
        case .unary(let op, let x): return "(\(unaryName("\(op)")) \(sexpr(x)))"
        case .binary(let op, let a, let b): return "(\(op.rawValue) \(sexpr(a)) \(sexpr(b)))"
        case .call(let f, let args):
            return "(call \(sexpr(f))" + args.map { " " + ($0.name.map { $0 + "=" } ?? "") + sexpr($0.value) }.joined() + ")"
        case .index(let a, let i): return "(index \(sexpr(a)) \(sexpr(i)))"
        case .field(let a, let f): return "(. \(sexpr(a)) \(f))"
        case .list(let xs): return "[" + xs.map(sexpr).joined(separator: " ") + "]"
        case .letBind(let p, let v): return "(let \(p.names.map(\.0).joined(separator: ",")) \(sexpr(v)))"
        case .exprStmt(let e, _): return sexpr(e)
        default: return "<\(n.span.file.text(n.span))>"
        }
    }

    func unaryName(_ op: String) -> String { op == "-" || op == "neg" || op == "negate" ? "neg" : op }

    @Test func everyPrecedenceLevelFromLoosestToTightest() throws {
        // |> then >> then or, and, not, comparisons, + -, * / %, unary -, ^, postfix.
        #expect(try tree("a |> f(b) >> g") == "(call (>> (call f b) g) a)")
        #expect(try tree("a >> b or c") == "(>> a (or b c))")
        #expect(try tree("a or b and c") == "(or a (and b c))")
        #expect(try tree("a and not b == c") == "(and a (not (== b c)))")
        #expect(try tree("not a and b") == "(and (not a) b)")
        #expect(try tree("a == b + c") == "(== a (+ b c))")
        #expect(try tree("a + b * c - d") == "(- (+ a (* b c)) d)")
        #expect(try tree("a * b / c % d") == "(% (/ (* a b) c) d)")
        #expect(try tree("-a * b") == "(* (neg a) b)")
        #expect(try tree("-a ^ b") == "(neg (^ a b))")
        #expect(try tree("a ^ b ^ c") == "(^ a (^ b c))")
        #expect(try tree("a ^ -b") == "(^ a (neg b))")
        #expect(try tree("-f(x).y[0] ^ 2") == "(neg (^ (index (. (call f x) y) 0) 2))")
        #expect(try tree("(a + b) * c") == "(* (+ a b) c)")
        #expect(try tree("-3") == "-3")
        #expect(try tree("$x * 2 >= mean($x)") == "(>= (* $x 2) (call mean $x))")
        #expect(try tree("f(a, k=1 + 2)") == "(call f a k=(+ 1 2))")
    }

    @Test func operatorsChainAsTheirAssociativitySays() throws {
        #expect(try tree("a - b - c") == "(- (- a b) c)")
        #expect(try tree("a |> f |> g") == "(call g (call f a))")
        #expect(try tree("a >> b >> c") == "(>> (>> a b) c)")
        let (_, errors) = try parse("a < b < c")
        #expect(errors == ["comparisons do not chain: write 'a < b and b < c'"])
    }

    @Test func theTableDrivesTheParser() throws {
        // Every binary operator's spelling and binding power come from ExprSyntax.
        for op in [BinaryOp.add, .sub, .mul, .div, .mod, .pow, .eq, .ne, .lt, .le, .gt, .ge, .and, .or, .compose] {
            let syntax = try #require(ExprSyntax.infix(op.opName))
            #expect(syntax.symbol == op.rawValue, "\(op)")
        }
    }

    @Test func oneMistakeOneDiagnosticThenTheNextStatement() throws {
        let (trees, errors) = try parse("let a = 1 +* 2\nlet b = 2\nlet c = )\nlet d = f(1,\n 2) + 3")
        #expect(errors == ["expected an expression, found '*'", "expected an expression, found ')'"])
        #expect(trees == ["(let b 2)", "(let d (+ (call f 1 2) 3))"])
        let (more, errs) = try parse("f(1 2)\nlet e = 5")
        #expect(errs == ["expected ')' to close the arguments, found number"])
        #expect(more == ["(let e 5)"])
        let (_, incomplete) = try parse("let x = [1, 2")
        #expect(incomplete == ["'[' is never closed: expected ']' to close the list"])
    }
}
