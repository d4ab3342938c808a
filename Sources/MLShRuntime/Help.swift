import Foundation
import MLShCommon
import MLShLanguage
import MLShModels

/// The text of `:help` and `:help NAME`.
public enum Help {
    /// The overview, or one builtin's signature, summary and example (each overload's).
    public static func text(_ name: String?, interpreter: Interpreter) -> String {
        guard let name, !name.isEmpty else { return overview(interpreter) }
        if let overloads = interpreter.builtins[name] {
            return overloads.map { "\($0.signature)\n  \($0.summary)\n" + settingsHelp(name) + "  example: \($0.example)" }
                .joined(separator: "\n")
        }
        if let k = Keyword(rawValue: name) { return keywordHelp[k] ?? "\(name) is a keyword" }
        if let c = commands.first(where: { $0.0 == name || $0.0 == ":" + name }) { return "\(c.0)  \(c.1)" }
        var m = "no help for '\(name)'"
        if let s = closestName(to: name, in: Array(interpreter.builtins.keys), keepingALetter: true) { m += " (did you mean '\(s)'?)" }
        return m
    }

    /// An estimator's or transform's settings, one line each: key, values, default and help
    /// (from its descriptor); empty for other names.
    static func settingsHelp(_ name: String) -> String {
        guard let settings = ModelSpec.descriptor(named: name)?.settings ?? TransformSpec.descriptor(named: name)?.settings,
              !settings.isEmpty else { return "" }
        let width = settings.map(\.key.count).max() ?? 0
        return settings.map { s in
            "    \(s.key.padding(toLength: width, withPad: " ", startingAt: 0))  \(s.valuesText), default \(s.defaultValue): \(s.help)\n"
        }.joined()
    }

    static let commands: [(String, String)] = [
        (":help [name]", "this overview, or one builtin's signature and example"),
        (":vars", "the names you have defined and their values"),
        (":time EXPR", "evaluate EXPR and print how long it took"),
        (":load FILE", "run a .mls script in this session"),
        (":reset", "forget every name you defined"),
        (":quit", "leave (also Ctrl-D)"),
    ]

    static let keywordHelp: [Keyword: String] = [
        .let: "let NAME = EXPR  binds a name; let [a, b] = list and let {x, y} = record destructure",
        .fn: "fn name(a, b=1) => EXPR  or  fn name(a) { ... }  defines a function; fn(x) => x * 2 is a value",
        .if: "if COND { ... } else if COND { ... } else { ... }  is an expression",
        .for: "for x in LIST { ... }  loops; break and continue work inside",
        .while: "while COND { ... }  loops while COND is true",
        .with: "with run(exp, alpha=0.1) { ... }  enters a context and leaves it, also on error",
        .assert: "assert COND, \"message {x}\"  stops with the message when COND is false",
        .import: "import \"file.mls\"  runs another script's top level once, relative to this file",
        .return: "return EXPR  leaves the function with a value",
        .none: "none  no value; in a column expression a missing value of the column's type: if_else($age < 0, none, $age)",
    ]

    static func overview(_ interp: Interpreter) -> String {
        var byCategory: [String: Set<String>] = [:]
        for b in interp.builtins.values.joined() { byCategory[b.category, default: []].insert(b.name) }
        var out = "mlsh \(Runtime.version) — commands:\n"
        for (c, d) in commands { out += "  \(c.padding(toLength: 14, withPad: " ", startingAt: 0)) \(d)\n" }
        out += "\nbuiltins (`:help NAME` for one):\n"
        for cat in byCategory.keys.sorted() {
            let names = (byCategory[cat] ?? []).sorted().joined(separator: " ")
            out += "  \(cat.padding(toLength: 12, withPad: " ", startingAt: 0)) \(names)\n"
        }
        out += "\nkeywords: " + Keyword.allCases.map(\.rawValue).joined(separator: " ")
        return out
    }
}
