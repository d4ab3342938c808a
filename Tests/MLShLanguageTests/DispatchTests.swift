import MLShLanguage
import Testing

/// A domain value defined outside the language, as a library would: an amount of money
/// with its own operators (from either side), negation and `abs`.
final class Money: DomainObject {
    let cents: Int64
    init(_ cents: Int64) { self.cents = cents }

    var typeName: String { "money" }
    func render() -> String { "$\(cents)" }
    var summary: String { render() }
    func isEqual(to other: any DomainObject) -> Bool { (other as? Money)?.cents == cents }

    func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value? {
        switch (op, other) {
        case (.add, .object(let o as Money)): return .object(Money(cents + o.cents))
        case (.mul, .int(let k)): return .object(Money(cents * k))
        case (.sub, .int(let k)): return .object(Money(side == .left ? cents - k : k - cents))
        case (.add, .string): throw MLShError.value("money is not added to text")
        default: return nil
        }
    }

    func unary(_ op: UnaryOp) throws(MLShError) -> Value? { op == .neg ? .object(Money(-cents)) : nil }

    func apply(_ function: String, _ arguments: [Value]) throws(MLShError) -> Value? {
        function == "abs" ? .object(Money(Swift.abs(cents))) : nil
    }
}

/// `money(cents)` and `size(x)`: of a list (the core's items) or of money.
struct MoneyLibrary: Library {
    static let money = ArgumentType.object("money") { $0 is Money }

    func register(into interp: Interpreter) {
        interp.register(Builtin("money", ["cents"], category: "money", summary: "An amount.", example: "money(5)") { a, _ throws(MLShError) in
            .object(Money(Int64(try a.int("cents"))))
        })
        interp.register(Builtin("size", ["m"], first: MoneyLibrary.money, category: "money", summary: "Cents.", example: "size(money(5))") { a, _ throws(MLShError) in
            guard case .object(let m as Money) = try a.value("m") else { return .none }
            return .int(m.cents)
        })
    }
}

/// `size(xs)` of a list.
struct ListSizeLibrary: Library {
    func register(into interp: Interpreter) {
        interp.register(Builtin("size", ["xs"], first: .items, category: "collections", summary: "Items.", example: "size([1])") { a, _ throws(MLShError) in
            .int(Int64(try CoreLibrary.items(try a.value("xs"), "size").count))
        })
    }
}

/// Operators and functions dispatch through the value; builtins overload by the type of
/// their first argument; error kinds are typed.
@Suite struct DispatchTests {
    /// The output lines of `source`, or its error's first line.
    func run(_ source: String, _ libraries: [Library] = [MoneyLibrary(), ListSizeLibrary()]) -> [String] {
        let interp = Interpreter(libraries: libraries)
        var out: [String] = []
        interp.output = { out.append($0) }
        do throws(MLShError) {
            try interp.run(SourceFile(name: "t.mls", text: source))
        } catch { out.append(error.render().split(separator: "\n").first.map(String.init) ?? "") }
        return out
    }

    @Test func aDomainValueAppliesOperatorsFromEitherSide() {
        #expect(run("money(5) * 3") == ["$15"])
        #expect(run("3 * money(5)") == ["$15"])
        #expect(run("money(10) - 3") == ["$7"])
        #expect(run("10 - money(3)") == ["$7"])
        #expect(run("money(1) + money(2)") == ["$3"])
        #expect(run("money(1) + \"x\"") == ["value error: money is not added to text"])
        #expect(run("money(1) / 2") == ["type error: cannot apply '/' to money and int"])
        #expect(run("money(1) >> money(2)") == ["type error: '>>' composes transforms and models, not money and money"])
        #expect(run("money(1) == money(1)") == ["type error: cannot apply '==' to money and money"])
    }

    @Test func unaryOperatorsAreTypedAndReachTheValue() {
        #expect(UnaryOp(rawValue: "-") == .neg && UnaryOp(rawValue: "not") == .not)
        #expect(UnaryOp.neg.opName == "neg" && UnaryOp.not.opName == "not")
        let (nodes, errors) = parse(SourceFile(name: "t.mls", text: "-x\nnot y"))
        #expect(errors.isEmpty)
        let ops: [UnaryOp] = nodes.compactMap { n in
            guard case .exprStmt(let e, _) = n.kind, case .unary(let op, _) = e.kind else { return nil }
            return op
        }
        #expect(ops == [.neg, .not])
        #expect(run("-money(4)") == ["$-4"])
        #expect(run("not money(4)") == ["type error: 'not' needs a bool, got money"])
        #expect(run("-true") == ["type error: cannot negate bool"])
        #expect(run("-$x") == ["-$x"])
        #expect(run("not $b") == ["not $b"])
    }

    @Test func elementWiseFunctionsReachTheValue() {
        #expect(run("abs(money(-4))") == ["$4"])
        #expect(run("sqrt(money(4))") == ["type error: sqrt does not apply to money"])
    }

    @Test func overloadsAreChosenByTheFirstArgumentInAnyRegistrationOrder() {
        let source = "print(size([1, 2, 3]), size(money(7)), size(xs=[1]), size(m=money(2)), size(range(4)))"
        #expect(run(source, [MoneyLibrary(), ListSizeLibrary()]) == ["3 7 1 2 4"])
        #expect(run(source, [ListSizeLibrary(), MoneyLibrary()]) == ["3 7 1 2 4"])
        let interp = Interpreter(libraries: [ListSizeLibrary(), MoneyLibrary()])
        #expect(interp.builtins["size"]?.map(\.signature) == ["size(xs)", "size(m)"])
        #expect(interp.lookup("size")?.inline() == "<builtin size(xs) | size(m)>")
    }

    @Test func aCallNoOverloadTakesNamesTheAcceptedTypes() {
        #expect(run("size(3)") == ["type error: size: the first argument must be a list or a money, got int 3; usage: size(xs) or size(m)"])
        #expect(run("size()") == ["type error: size needs a first argument, a list or a money; usage: size(xs) or size(m)"])
        // A name with one overload calls it whatever the argument, as before overloads.
        #expect(run("print(size(3))", [MoneyLibrary()]) == ["none"])
    }

    @Test func anUntypedOverloadTakesWhatNoTypedOneDoes() {
        struct Fallback: Library {
            func register(into interp: Interpreter) {
                interp.register(Builtin("size", ["x"], category: "t", summary: "", example: "") { _, _ throws(MLShError) in .string("other") })
            }
        }
        for libs: [Library] in [[Fallback(), MoneyLibrary(), ListSizeLibrary()], [ListSizeLibrary(), MoneyLibrary(), Fallback()]] {
            #expect(run("print(size(3), size([1]), size(money(2)))", libs) == ["other 1 2"])
        }
    }

    @Test func aWrapperCoversOverloadsRegisteredBeforeAndAfterIt() {
        struct Counting: Library {
            func register(into interp: Interpreter) {
                interp.wrap("size") { b in
                    b.wrapped { a, interp, next throws(MLShError) in
                        guard case .int(let n) = try next.run(a, interp) else { return .none }
                        return .int(n * 100)
                    }
                }
            }
        }
        let source = "print(size([1, 2]), size(money(3)))"
        #expect(run(source, [Counting(), MoneyLibrary(), ListSizeLibrary()]) == ["200 300"])
        #expect(run(source, [MoneyLibrary(), Counting(), ListSizeLibrary()]) == ["200 300"])
        #expect(run(source, [MoneyLibrary(), ListSizeLibrary(), Counting()]) == ["200 300"])
    }

    @Test func errorKindsRenderTheirText() {
        let texts = ErrorKind.allCases.map(\.rawValue)
        #expect(texts == ["error", "syntax error", "type error", "value error", "name error", "key error", "index error",
                          "import error", "recursion error", "overflow error", "interrupted", "assertion failed",
                          "expectation failed", "data error", "io error", "model error", "store error", "serve error",
                          "usage error"])
        for kind in ErrorKind.allCases {
            #expect(MLShError(kind, "m").render() == kind.rawValue + ": m")
            #expect("\(kind)" == kind.rawValue)
        }
        #expect(MLShError.type("m").kind == .type && MLShError.value("m").kind == .value)
    }

    @Test func tryPassesAnInterruptionOn() {
        struct Stopping: Library {
            func register(into interp: Interpreter) {
                interp.register(Builtin("stop", [], category: "t", summary: "", example: "") { _, _ throws(MLShError) in
                    throw MLShError(.interrupted, "evaluation stopped by Ctrl-C")
                })
                interp.register(Builtin("fail", [], category: "t", summary: "", example: "") { _, _ throws(MLShError) in
                    throw MLShError(.data, "bad")
                })
            }
        }
        #expect(run("print(try(fn() => fail()).error)", [Stopping()]) == ["bad"])
        #expect(run("print(try(fn() => stop()).error)", [Stopping()]) == ["interrupted: evaluation stopped by Ctrl-C"])
    }
}
