import MLShCommon

/// A library of builtins, registered into an interpreter in one place (the runtime's
/// registration list), like Lua's `linit.c`.
public protocol Library {
    /// Adds the library's builtins to the interpreter; the order libraries register in
    /// does not matter (see `Interpreter.register` and `Interpreter.wrap`).
    func register(into interpreter: Interpreter)
}

/// What a builtin's first argument must be for that overload of its name to be chosen.
public struct ArgumentType: Sendable {
    /// The name listed when no overload takes a call's first argument (`list`, `table`).
    public let name: String
    let test: @Sendable (Value) -> Bool

    /// A type named `name` whose values pass `test`.
    public init(_ name: String, _ test: @escaping @Sendable (Value) -> Bool) {
        self.name = name; self.test = test
    }

    /// A domain value that passes `test` (`.object("table") { $0 is TableValue }`).
    public static func object(_ name: String, _ test: @escaping @Sendable (any DomainObject) -> Bool) -> ArgumentType {
        ArgumentType(name) { v in if case .object(let o) = v { test(o) } else { false } }
    }

    /// What `CoreLibrary.items` reads: a list, a string or an iterable domain value (a range, a column).
    public static let items = ArgumentType("list") { v in
        switch v {
        case .list, .string: true
        case .object(let o): o.iterate() != nil
        default: false
        }
    }
}

/// A function implemented in Swift.
public final class Builtin: @unchecked Sendable {
    /// The name it is called by.
    public let name: String
    /// Parameters, each `name` or `name=default-text`; a trailing `...` means more
    /// positional arguments are collected, and `**` that any named argument is accepted.
    public let params: [String]
    /// One-line summary for `:help`.
    public let summary: String
    /// A short example for `:help`.
    public let example: String
    /// The group `:help` lists it under.
    public let category: String
    /// The type of first argument this overload takes; nil for any.
    public let first: ArgumentType?
    let names: [String]
    /// How many parameters take positional arguments: those before `...` (the rest
    /// are named-only, like Python's keyword-only parameters).
    let positionalCount: Int
    let required: Int
    let variadic: Bool
    let openNamed: Bool
    let body: (Arguments, Interpreter) throws(MLShError) -> Value

    /// Declares a builtin. Parameters without `=` are required and come first; `first`
    /// makes it the overload of its name for that type of first argument.
    public init(_ name: String, _ params: [String], first: ArgumentType? = nil, category: String, summary: String,
                example: String, _ body: @escaping (Arguments, Interpreter) throws(MLShError) -> Value) {
        self.name = name; self.params = params; self.summary = summary; self.example = example
        self.category = category; self.first = first; self.body = body
        var names: [String] = [], required = 0, variadic = false, open = false
        var positional: Int?
        for p in params {
            if p == "..." { variadic = true; positional = names.count; continue }
            if p == "**" { open = true; continue }
            if let eq = p.firstIndex(of: "=") { names.append(String(p[..<eq])) }
            else { names.append(p); required += 1 }
        }
        self.names = names; self.required = required; self.variadic = variadic; self.openNamed = open
        self.positionalCount = positional ?? names.count
    }

    /// `name(a, b=1, ...)` as shown in help and completion.
    public var signature: String { "\(name)(\(params.joined(separator: ", ")))" }

    /// Binds the arguments and runs the body.
    public func call(_ positional: [Value], named: [(String, Value)] = [], _ interp: Interpreter) throws(MLShError) -> Value {
        try body(try bind(positional, named), interp)
    }

    /// Runs the body on arguments already bound to this builtin's parameters.
    public func run(_ arguments: Arguments, _ interp: Interpreter) throws(MLShError) -> Value {
        try body(arguments, interp)
    }

    /// This builtin with the same signature, type and help, its calls going through
    /// `around`, which gets the bound arguments and this builtin to continue with.
    public func wrapped(_ around: @escaping (Arguments, Interpreter, Builtin) throws(MLShError) -> Value) -> Builtin {
        Builtin(name, params, first: first, category: category, summary: summary, example: example) { a, interp throws(MLShError) in
            try around(a, interp, self)
        }
    }

    /// The overload of one name's `overloads` whose first-argument type takes this call's
    /// first argument (given by position or by its parameter name), else the untyped one.
    static func select(_ overloads: [Builtin], _ positional: [Value], _ named: [(String, Value)]) throws(MLShError) -> Builtin {
        if overloads.count == 1, let only = overloads.first { return only }
        var untyped: Builtin?
        var firstValue: Value?
        for b in overloads {
            guard let type = b.first else { untyped = b; continue }
            let v = positional.first ?? b.names.first.flatMap { n in named.first { $0.0 == n }?.1 }
            if let v {
                if type.test(v) { return b }
                firstValue = firstValue ?? v
            }
        }
        if let untyped { return untyped }
        let name = overloads.first?.name ?? "function"
        let types = overloads.compactMap { b in b.first.map { t in (t.name.first.map("aeiou".contains) == true ? "an " : "a ") + t.name } }
        let accepted = types.dropLast().joined(separator: ", ") + (types.count > 1 ? " or " : "") + (types.last ?? "")
        var signatures: [String] = []
        for b in overloads where !signatures.contains(b.signature) { signatures.append(b.signature) }
        let usage = signatures.joined(separator: " or ")
        guard let firstValue else {
            throw MLShError.type("\(name) needs a first argument, \(accepted); usage: \(usage)")
        }
        throw MLShError.type("\(name): the first argument must be \(accepted), got \(firstValue.typeName) \(firstValue.inline()); usage: \(usage)")
    }

    /// Binds call arguments to parameters, or explains what is wrong.
    func bind(_ positional: [Value], _ named: [(String, Value)]) throws(MLShError) -> Arguments {
        var slots = [Value?](repeating: nil, count: names.count)
        var extra: [Value] = []
        for (i, v) in positional.enumerated() {
            if i < positionalCount { slots[i] = v }
            else if variadic { extra.append(v) }
            else if openNamed {
                // `agg(count($x))`: the reductions, options and columns it takes are named.
                throw MLShError.type("\(name) takes \(positionalCount) argument\(positionalCount == 1 ? "" : "s") by position (got \(positional.count)); "
                                     + "name the others, like n = count($x); usage: \(signature)").about(.position(i))
            } else {
                throw MLShError.type("\(name) takes at most \(positionalCount) argument\(positionalCount == 1 ? "" : "s") (got \(positional.count)); usage: \(signature)")
                    .about(.position(i))
            }
        }
        var open: [(String, Value)] = []
        for (k, v) in named {
            if let i = names.firstIndex(of: k) {
                guard slots[i] == nil else {
                    throw MLShError.type("argument '\(k)' of \(name) given twice")
                }
                slots[i] = v
            } else if openNamed {
                guard !open.contains(where: { $0.0 == k }) else {
                    throw MLShError.type("argument '\(k)' of \(name) given twice")
                }
                open.append((k, v))
            } else {
                let accepted = names.isEmpty ? "none" : names.joined(separator: ", ")
                var m = "unknown argument '\(k)' for \(name) (accepted: \(accepted))"
                if let s = closestName(to: k, in: names, keepingALetter: true) { m += "; did you mean '\(s)'?" }
                throw MLShError.type(m).about(.named(k))
            }
        }
        for i in 0..<required where slots[i] == nil {
            throw MLShError.type("\(name) needs argument '\(names[i])'; usage: \(signature)")
        }
        return Arguments(function: name, names: names, slots: slots, extra: extra, named: open)
    }
}

/// The arguments of one builtin call, bound to parameter names.
public struct Arguments {
    /// The builtin's name, for messages.
    public let function: String
    let names: [String]
    let slots: [Value?]
    /// Positional arguments beyond the declared parameters (with `...`).
    public let extra: [Value]
    /// Named arguments beyond the declared parameters (with `**`), in order.
    public let named: [(String, Value)]

    /// The value given for a parameter, or nil.
    public subscript(_ name: String) -> Value? {
        guard let i = names.firstIndex(of: name) else { return nil }
        if case .none? = slots[i] { return nil }
        return slots[i]
    }

    /// The declared-parameter values followed by the extra positional ones, dropping absent ones.
    public var allPositional: [Value] { slots.compactMap { $0 } + extra }

    /// These arguments with the parameter `name` given `value` (a wrapper changing what it passes on).
    public func with(_ name: String, _ value: Value) -> Arguments {
        guard let i = names.firstIndex(of: name) else { return self }
        var slots = self.slots
        slots[i] = value
        return Arguments(function: function, names: names, slots: slots, extra: extra, named: named)
    }

    func typeError(_ name: String, _ expected: String, _ got: Value) -> MLShError {
        MLShError.type("\(function): '\(name)' must be \(expected), got \(got.typeName) \(got.inline())")
    }

    /// A required value.
    public func value(_ name: String) throws(MLShError) -> Value {
        guard let i = names.firstIndex(of: name), let v = slots[i] else { throw MLShError.type("\(function) needs argument '\(name)'") }
        return v
    }
    /// A number (int or float) as Double, or the default.
    public func double(_ name: String, _ def: Double? = nil) throws(MLShError) -> Double {
        guard let v = self[name] else {
            if let def { return def }
            throw MLShError.type("\(function) needs argument '\(name)'")
        }
        guard let d = v.number else { throw typeError(name, "a number", v) }
        return d
    }
    /// An int, or the default. Floats with an integral value are accepted (`1e6`).
    public func int(_ name: String, _ def: Int? = nil) throws(MLShError) -> Int {
        guard let v = self[name] else {
            if let def { return def }
            throw MLShError.type("\(function) needs argument '\(name)'")
        }
        switch v {
        case .int(let i): return Int(i)
        case .float(let d) where d == d.rounded() && d.magnitude < 9e18: return Int(d)
        default: throw typeError(name, "an integer", v)
        }
    }
    /// A string, or the default.
    public func string(_ name: String, _ def: String? = nil) throws(MLShError) -> String {
        guard let v = self[name] else {
            if let def { return def }
            throw MLShError.type("\(function) needs argument '\(name)'")
        }
        guard case .string(let s) = v else { throw typeError(name, "a string", v) }
        return s
    }
    /// A bool, or the default.
    public func bool(_ name: String, _ def: Bool? = nil) throws(MLShError) -> Bool {
        guard let v = self[name] else {
            if let def { return def }
            throw MLShError.type("\(function) needs argument '\(name)'")
        }
        guard case .bool(let b) = v else { throw typeError(name, "true or false", v) }
        return b
    }
}
