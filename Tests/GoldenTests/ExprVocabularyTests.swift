import MLShCommon
import MLShEngine
import MLShLanguage
import Testing
@testable import MLShRuntime

/// The language's column expressions (`ColumnExpr`) and the engine's IR (`KExpr`) speak
/// one vocabulary: the same text for the same tree, text that parses back to the tree,
/// and function names the engine exports and the language offers.
@Suite struct ExprVocabularyTests {
    /// A seeded generator of expression trees.
    struct Trees {
        var rng: SeededRandom
        init(seed: UInt64) { rng = SeededRandom(seed: seed) }
        mutating func next(_ n: Int) -> Int { rng.nextInt(below: n) }
        mutating func pick<T>(_ xs: [T]) -> T { xs[next(xs.count)] }

        static let columns = ["a", "b_2", "x y", "naïve"]
        /// Constants (no bools: `true or $x` is `true` at once, as the language says).
        static let constants: [ColumnExpr] = [
            .int(0), .int(7), .int(-3), .float(0.5), .float(-2.25), .float(1e-7), .float(3.0), .float(.infinity),
            .string("q\"uote{}"), .missing,
        ]
        static let binary = ExprSyntax.infixOperators.map(\.name).filter { $0 != "pipe" && $0 != "compose" }
        /// Functions of the language with their arity, as the engine lowers them.
        static let functions: [(String, Int)] = [
            ("abs", 1), ("sign", 1), ("floor", 1), ("ceil", 1), ("round", 2), ("sqrt", 1), ("exp", 1), ("log", 1),
            ("log1p", 1), ("log2", 1), ("log10", 1), ("sin", 1), ("cos", 1), ("tan", 1), ("clip", 3), ("is_nan", 1),
            ("fill_nan", 2), ("if_else", 3),
        ]

        /// A tree with a column in every call, so that evaluating its text builds the same
        /// tree (a call of constants alone would be computed at once).
        mutating func tree(_ depth: Int) -> ColumnExpr {
            if depth == 0 || next(4) == 0 { return .column(pick(Trees.columns)) }
            let side = { (t: inout Trees) -> ColumnExpr in
                t.next(3) == 0 ? t.pick(Trees.constants) : t.tree(depth - 1)
            }
            switch next(6) {
            case 0, 1, 2:
                let op = pick(Trees.binary)
                var args = [tree(depth - 1), side(&self)]
                if next(2) == 0 { args.reverse() }
                return .call(op, args)
            case 3: return .call(pick(["neg", "not"]), [tree(depth - 1)])
            case 4:
                let (name, arity) = pick(Trees.functions)
                var args = [tree(depth - 1)]
                // round's digits are a whole number, not an expression.
                if name == "round" { args.append(.int(Int64(next(5)) - 2)) }
                else { for _ in 1..<max(arity, 1) { args.append(side(&self)) } }
                return .call(name, args)
            default:
                return .call(pick(KExpr.reductionFunctions.filter { $0 != "quantile" }), [tree(depth - 1)])
            }
        }
    }

    @Test func randomTreesReadTheSameBothWaysAndParseBack() throws {
        var gen = Trees(seed: 17)
        let interp = Runtime.makeInterpreter()
        interp.output = { _ in }
        for i in 0..<2_000 {
            var e = gen.tree(5)
            while case .column = e { e = gen.tree(5) }
            let text = e.text
            let lowered = try ExprLowering.lower(e)
            #expect(lowered.description == text, "ColumnExpr and KExpr disagree on \(e)")
            // The text is mls: evaluated, it builds a tree that renders and lowers alike.
            do throws(MLShError) {
                try interp.run(SourceFile(name: "vocab.mls", text: "let e\(i) = " + text))
            } catch {
                Issue.record("\(text) does not parse back: \(error.render())"); continue
            }
            guard case .expr(let back)? = interp.lookup("e\(i)") else {
                Issue.record("\(text) evaluated to \(interp.lookup("e\(i)")?.typeName ?? "nothing")"); continue
            }
            #expect(back.text == text, "\(text) read back as \(back.text)")
            #expect(try ExprLowering.lower(back).description == back.text)
        }
    }

    @Test func precedenceNeedsNoMoreParenthesesThanItHas() throws {
        let a = ColumnExpr.column("a"), b = ColumnExpr.column("b"), c = ColumnExpr.column("c")
        let cases: [(ColumnExpr, String)] = [
            (.call("mul", [.call("add", [a, b]), c]), "($a + $b) * $c"),
            (.call("add", [a, .call("mul", [b, c])]), "$a + $b * $c"),
            (.call("sub", [a, .call("sub", [b, c])]), "$a - ($b - $c)"),
            (.call("pow", [.call("pow", [a, b]), c]), "($a ^ $b) ^ $c"),
            (.call("pow", [a, .call("pow", [b, c])]), "$a ^ $b ^ $c"),
            (.call("neg", [.call("pow", [a, b])]), "-$a ^ $b"),
            (.call("pow", [.call("neg", [a]), b]), "(-$a) ^ $b"),
            (.call("pow", [.int(-3), a]), "(-3) ^ $a"),
            (.call("eq", [.call("eq", [a, b]), c]), "($a == $b) == $c"),
            (.call("not", [.call("and", [a, b])]), "not ($a and $b)"),
            (.call("not", [.call("lt", [a, b])]), "not $a < $b"),
            (.call("mean", [.call("add", [a, .column("x y")])]), "mean($a + $`x y`)"),
            (.call("col", [.string("back`tick")]), "col(\"back`tick\")"),
        ]
        for (e, text) in cases {
            #expect(e.text == text)
            #expect(try ExprLowering.lower(e).description == text)
        }
    }

    @Test func theLanguageOffersEveryEngineFunction() throws {
        let interp = Runtime.makeInterpreter()
        // cast is reached through int(), float(), bool() and str().
        let spelledOtherwise: Set = ["cast"]
        for name in KExpr.elementwiseFunctions + KExpr.reductionFunctions where !spelledOtherwise.contains(name) {
            #expect(interp.lookup(name) != nil, "the engine's \(name) has no builtin")
        }
        // Every reduction the language lifts onto columns is one the engine computes.
        for name in ExprLowering.reductions { #expect(KExpr.reductionFunctions.contains(name)) }
    }
}
