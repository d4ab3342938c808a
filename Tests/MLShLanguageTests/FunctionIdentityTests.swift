import MLShLanguage
import Testing

/// What a stage's key reads of a function: its normalised source and the values of the
/// names it reads from outside itself.
@Suite struct FunctionIdentityTests {
    func function(_ source: String, _ name: String = "f") throws -> (Function, Interpreter) {
        let interp = Interpreter()
        try interp.run(SourceFile(name: "t.mls", text: source))
        guard case .function(let f)? = interp.lookup(name) else {
            Issue.record("\(name) is not a function")
            throw MLShError(.name, "no function")
        }
        return (f, interp)
    }

    @Test func sourceIgnoresSpacingAndComments() throws {
        let (a, _) = try function("let f = fn(x) => x + 1   # add one")
        let (b, _) = try function("let f = fn( x )=>\n    x+1")
        let (c, _) = try function("let f = fn(x) => x + 2")
        #expect(a.normalizedSource == "fn ( x ) => x + 1")
        #expect(b.normalizedSource == a.normalizedSource)
        #expect(c.normalizedSource != a.normalizedSource)
        // Line breaks between statements are kept (once); strings keep their spaces.
        let (d, _) = try function("let f = fn() {\n\n  let a = \"a  b\"  # c\n  a\n}")
        #expect(d.normalizedSource == "fn ( ) { let a = \"a  b\" \n a }")
        #expect(Interpreter().lookup("len").map { v -> Bool in if case .function(let f) = v { return f.isBuiltin && f.normalizedSource == nil }; return false } == true)
    }

    @Test func capturedValuesAreTheOutsideNamesItReads() throws {
        let (f, _) = try function("""
            let k = 3
            let unused = 4
            fn helper(y) { y * k }
            let f = fn(x) { let local = x + 1; helper(local) + k }
            """)
        #expect(f.capturedValues.map(\.name) == ["helper", "k"])
        #expect(f.capturedValues.last.map { $0.value.inline() } == "3")
        // Locals of the calls a function was made in, at any depth, and globals read in a nested function.
        let (g, interp) = try function("""
            let base = 10
            fn outer(a) {
              let b = a * 2
              fn() { let inner = fn() => a + b + base; inner() }
            }
            let g = outer(1)
            """, "g")
        let captured = Dictionary(uniqueKeysWithValues: g.capturedValues.map { ($0.name, $0.value.inline()) })
        #expect(captured == ["a": "1", "b": "2", "base": "10"])
        #expect(try interp.call(.function(g), []).inline() == "13")
        // Params and locals are not captured; a builtin is (by name).
        let (h, _) = try function("let h = fn(x) { let y = len([x]); y }", "h")
        #expect(h.capturedValues.map(\.name) == ["len"])
        #expect(h.requiredParameters == ["x"])
    }
}
