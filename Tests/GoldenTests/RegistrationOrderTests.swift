import Foundation
import MLShLanguage
@testable import MLShRuntime
import Testing
import TestSupport

/// The order libraries register in does not matter: every order gives the same builtins,
/// help and script results.
@Suite struct RegistrationOrderTests {
    /// Every ordering of `xs`.
    static func permutations<T>(_ xs: [T]) -> [[T]] {
        guard xs.count > 1 else { return [xs] }
        return xs.indices.flatMap { i in
            var rest = xs
            let x = rest.remove(at: i)
            return permutations(rest).map { [x] + $0 }
        }
    }

    /// Orders of `Runtime.libraries()`, as index lists.
    static let allOrders = permutations(Array(Runtime.libraries().indices))

    /// Reversed (every library before those it adds to) and rotated by two (the store
    /// first, the data and models libraries last).
    static let someOrders: [[Int]] = {
        let n = Runtime.libraries().count
        return [Array((0..<n).reversed()), (0..<n).map { ($0 + 2) % n }]
    }()

    static func interpreter(_ order: [Int], params: [String: Value] = [:]) -> Interpreter {
        let libraries = Runtime.libraries()
        return Runtime.makeInterpreter(libraries: order.map { libraries[$0] }, params: params)
    }

    /// Each builtin's overloads: signature, first-argument type, category and summary.
    static func registry(_ interp: Interpreter) -> [String] {
        interp.builtins.keys.sorted().flatMap { name in
            (interp.builtins[name] ?? []).map { "\($0.signature) [\($0.first?.name ?? "any")] \($0.category): \($0.summary)" }
        }
    }

    /// The scripts run in every order: `dispatch.mls` uses what libraries add to one
    /// another (operators on columns, `>>`, plot `+`, the `filter` and `save` overloads,
    /// the store's wrappers of `fit`, `split`, `log` and `predict`).
    static let crossLibraryScripts = ["language/dispatch.mls", "plots/error_overlay_kinds.mls", "data/error_save_format.mls"]
        .flatMap { name in GoldenScript.all(in: GoldenTests.folder).filter { $0.path.hasSuffix("/" + name) } }

    @Test func theCrossLibraryScriptsAreFound() {
        #expect(Self.crossLibraryScripts.count == 3)
    }

    @Test func everyOrderRegistersTheSameBuiltins() {
        let expected = Self.registry(Runtime.makeInterpreter())
        let help = Help.text(nil, interpreter: Runtime.makeInterpreter())
        #expect(Self.allOrders.count == 120)
        for order in Self.allOrders {
            let interp = Self.interpreter(order)
            #expect(Self.registry(interp) == expected, "order \(order)")
            #expect(Help.text(nil, interpreter: interp) == help, "order \(order)")
        }
    }

    /// No two domain libraries register a builtin for the same name and first-argument
    /// type, so neither can replace the other's; the one core builtin a library replaces
    /// is `log` (the store's, which keeps the logarithm of one number).
    @Test func librariesNeverClaimTheSameOverload() {
        var owner: [String: Int] = [:]
        let core = Set(Self.registry(Interpreter()))
        let coreNames = Set(Interpreter().builtins.keys)
        var replaced: Set<String> = []
        for library in Runtime.libraries() {
            let interp = Interpreter(libraries: [library])
            for name in coreNames where !(interp.builtins[name] ?? []).contains(where: { b in
                core.contains("\(b.signature) [\(b.first?.name ?? "any")] \(b.category): \(b.summary)")
            }) { replaced.insert(name) }
        }
        #expect(replaced == ["log"])
        for (i, library) in Runtime.libraries().enumerated() {
            let interp = Interpreter(libraries: [library])
            for name in interp.builtins.keys {
                for b in interp.builtins[name] ?? [] {
                    let key = "\(name) [\(b.first?.name ?? "any")]"
                    if core.contains("\(b.signature) [\(b.first?.name ?? "any")] \(b.category): \(b.summary)") { continue }
                    #expect(owner[key] == nil || owner[key] == i, "\(key) is registered by libraries \(owner[key] ?? -1) and \(i)")
                    owner[key] = i
                }
            }
        }
    }

    @Test func filterAndSaveAreOverloads() {
        let interp = Runtime.makeInterpreter()
        #expect(interp.builtins["filter"]?.map(\.signature) == ["filter(items, f)", "filter(t, condition)"])
        #expect(interp.builtins["save"]?.map(\.signature) == ["save(value, path)", "save(value, path, compression=none)"])
        let help = Help.text("filter", interpreter: interp)
        #expect(help.contains("filter(items, f)\n  The items of a list for which f is true."), "\(help)")
        #expect(help.contains("filter(t, condition)\n  Keeps the rows where"), "\(help)")
        let save = Help.text("save", interpreter: interp)
        #expect(save.contains("Writes a plot to SVG") && save.contains("Writes a table to CSV"), "\(save)")
        let (out, error) = Self.run("filter(3, fn(x) => true)")
        #expect(out.isEmpty)
        #expect(error?.firstLine == "type error: filter: the first argument must be a list or a table, got int 3; usage: filter(items, f) or filter(t, condition)")
        let (_, saveError) = Self.run("save(ridge(), \"m.csv\")")
        #expect(saveError?.firstLine.hasPrefix("type error: save: the first argument must be a plot or a table, got model spec") == true,
                "\(saveError?.firstLine ?? "")")
    }

    /// Runs source as a script in a temporary folder.
    static func run(_ source: String) -> (output: [String], error: ScriptFailure?) {
        guard let dir = try? temporaryFolder("order") else { return ([], nil) }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard (try? source.write(toFile: dir + "/t.mls", atomically: true, encoding: .utf8)) != nil,
              let script = GoldenScript.all(in: dir).first else { return ([], nil) }
        return script.run()
    }

    /// Runs a script with the libraries in each order; what differed from its expectations.
    static func failures(_ script: GoldenScript, _ orders: [[Int]]) -> [String] {
        guard let (expected, expectedError) = try? script.expectations() else { return ["cannot read \(script)"] }
        var out: [String] = []
        for order in orders {
            let (output, error) = script.run(makeInterpreter: { RegistrationOrderTests.interpreter(order, params: $0) })
            if output != expected { out.append("output of \(script) in order \(order): \(output)") }
            if let expectedError {
                if error?.firstLine != expectedError.text || error?.line != expectedError.line {
                    out.append("error of \(script) in order \(order): \(error?.rendered ?? "none")")
                }
            } else if let error {
                out.append("\(script) failed in order \(order): \(error.rendered)")
            }
        }
        return out
    }

    @Test(arguments: crossLibraryScripts)
    func scriptInEveryOrder(_ script: GoldenScript) async {
        let failures = await GoldenTests.offPool { Self.failures(script, Self.allOrders) }
        #expect(failures.isEmpty, "\(failures.prefix(3).joined(separator: "\n"))")
    }

    @Test(arguments: GoldenScript.all(in: GoldenTests.folder))
    func scriptInSomeOrders(_ script: GoldenScript) async {
        let failures = await GoldenTests.offPool { Self.failures(script, Self.someOrders) }
        #expect(failures.isEmpty, "\(failures.prefix(3).joined(separator: "\n"))")
    }
}
