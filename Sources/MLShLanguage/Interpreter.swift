import Foundation
import MLShCommon
import Synchronization

/// A named top-level variable. Compiled code holds cells directly, so reading a global
/// costs no lookup.
final class Cell: @unchecked Sendable {
    let name: String
    var value: Value?
    /// Declared by the user (`let`, `fn`), as opposed to a builtin.
    var declared = false
    init(_ name: String) { self.name = name }
}

/// Local variables of one function call (or one top-level statement).
final class Frame: @unchecked Sendable {
    var slots: ContiguousArray<Value>
    let parent: Frame?
    init(size: Int, parent: Frame?) {
        slots = ContiguousArray(repeating: .none, count: size)
        self.parent = parent
    }
}

/// A user function or a builtin (with its overloads).
public final class Function: @unchecked Sendable {
    /// The name, when declared with `fn name(...)` or a builtin.
    public let name: String?
    /// Parameter names (of the first overload, for a builtin).
    public let paramNames: [String]
    let closure: Closure?
    /// A builtin's overloads, in the order they are tried; empty for a user function.
    let builtins: [Builtin]

    init(closure: Closure) {
        self.name = closure.name; self.paramNames = closure.params.map(\.name)
        self.closure = closure; self.builtins = []
    }
    init(builtins: [Builtin]) {
        self.name = builtins.first?.name; self.paramNames = builtins.first?.names ?? []
        self.closure = nil; self.builtins = builtins
    }

    /// `<fn(x)>`, `<fn name(x)>` or `<builtin name(x, y=1)>` (overloads joined by ` | `).
    public var signatureText: String {
        if !builtins.isEmpty { return "<builtin \(builtins.map(\.signature).joined(separator: " | "))>" }
        return "<fn\(name.map { " " + $0 } ?? "")(\(paramNames.joined(separator: ", ")))>"
    }
}

/// A compiled user function with its defining frame.
final class Closure: @unchecked Sendable {
    struct P { let name: String; let slot: Int; let defaultValue: Code? }
    let name: String?
    let params: [P]
    let frameSize: Int
    let body: Code
    let captured: Frame?
    /// The `fn` expression, for the function's source text.
    let span: Span?
    /// The names the body reads from outside the function, sorted, with where to read them.
    let freeReads: [(String, FreeRead)]
    init(name: String?, params: [P], frameSize: Int, body: @escaping Code, captured: Frame?,
         span: Span? = nil, freeReads: [(String, FreeRead)] = []) {
        self.name = name; self.params = params; self.frameSize = frameSize
        self.body = body; self.captured = captured
        self.span = span; self.freeReads = freeReads
    }
}

/// Where a function reads a name it does not declare: a global cell, or a local of an
/// enclosing call (`depth` frames up from the frame the function captured).
enum FreeRead {
    case global(Cell)
    case local(depth: Int, slot: Int)
}

extension Function {
    /// Whether this is a builtin (not a function written in mls).
    public var isBuiltin: Bool { closure == nil }

    /// The parameters of a user function that have no default.
    public var requiredParameters: [String] { closure?.params.filter { $0.defaultValue == nil }.map(\.name) ?? [] }

    /// A user function's source with comments removed and spacing normalised: its tokens
    /// as written, one space apart, a line break kept (once) where the source has one.
    /// Nil for a builtin.
    public var normalizedSource: String? {
        guard let c = closure, let span = c.span else { return nil }
        guard let tokens = try? Lexer.tokenize(span.file, start: span.start, end: span.end) else {
            return span.file.text(span)
        }
        // A line break separates statements only between two tokens that could each end
        // and begin one; after an operator, a comma or an opening bracket, and before a
        // closing one, it is layout.
        var parts: [String] = []
        var previous: TokenKind?
        for t in tokens {
            switch t.kind {
            case .eof: continue
            case .newline:
                if case .symbol(let s)? = previous, s != .rparen, s != .rbracket, s != .rbrace { continue }
                if case .keyword(let k)? = previous, [.and, .or, .not, .else].contains(k) { continue }
                if previous == nil || previous == .newline { continue }
                parts.append("\n")
            case .symbol(let s) where [.rparen, .rbracket, .rbrace].contains(s):
                if previous == .newline { parts.removeLast() }
                parts.append(span.file.text(t.span))
            default: parts.append(span.file.text(t.span))
            }
            previous = t.kind
        }
        if previous == .newline { parts.removeLast() }
        return parts.joined(separator: " ")
    }

    /// The values of the names a user function reads from outside itself (variables,
    /// other functions, builtins), by name; a name not bound yet is left out. Empty for a builtin.
    public var capturedValues: [(name: String, value: Value)] {
        guard let c = closure else { return [] }
        return c.freeReads.compactMap { name, read in
            switch read {
            case .global(let cell):
                return cell.value.map { (name, $0) }
            case .local(let depth, let slot):
                var frame = c.captured
                for _ in 0..<depth { frame = frame?.parent }
                guard let frame, slot < frame.slots.count else { return nil }
                return (name, frame.slots[slot])
            }
        }
    }
}

/// Non-error exits from evaluation travel as typed throws, with errors.
enum Signal: Error {
    case error(MLShError)
    case breakLoop
    case continueLoop
    case returnValue(Value)
}

typealias Code = (Frame) throws(Signal) -> Value

/// Set from a signal handler (Ctrl-C) to stop the running evaluation.
public enum Interrupt {
    static let flag = Atomic<Bool>(false)
    /// Requests that the running evaluation stop at its next loop step or call.
    public static func request() { flag.store(true, ordering: .relaxed) }
    /// Clears a pending request.
    public static func clear() { flag.store(false, ordering: .relaxed) }
    /// Whether an interrupt was requested and not yet cleared.
    public static var pending: Bool { flag.load(ordering: .relaxed) }
}

/// Evaluates mls source: holds the globals and the registered builtins. Operators on
/// domain values are the values' own (`DomainObject`).
public final class Interpreter: @unchecked Sendable {
    /// Nested calls deeper than this are an error (evaluation runs on a large stack).
    public static let maxCallDepth = 2_000

    var globals: [String: Cell] = [:]
    /// Builtins by name, each name's overloads in the order they are tried (typed ones by
    /// type name, then the untyped one), for calls, `:help` and completion.
    public private(set) var builtins: [String: [Builtin]] = [:]
    /// Wrappers by builtin name, applied to every overload of that name whenever registered.
    var wrappers: [String: [(Builtin) -> Builtin]] = [:]
    /// Where `print` and displays go.
    public var output: (String) -> Void = { s in
        FileHandle.standardOutput.write((s + "\n").data(using: .utf8) ?? Data())
    }
    /// Shows a top-level value (the prompt and `run` print it; notebooks capture it).
    public var display: ((Value) -> Void)?
    /// Values of `--param k=v` for `param(name, default)`.
    public var params: [String: Value] = [:]
    /// At the prompt `let` may rebind a top-level name; in scripts it is an error.
    public var allowRebinding = false
    /// Element-wise builtins that build column expressions when given one (`sqrt($x)`).
    public var elementwise: Set<String> = []
    /// The script being run (its path), for lineage; nil at the prompt.
    public private(set) var scriptPath: String?
    var imported: Set<String> = []
    var callDepth = 0

    /// An interpreter with the core library and the given domain libraries (in any order).
    public init(libraries: [Library] = []) {
        CoreLibrary().register(into: self)
        for lib in libraries { lib.register(into: self) }
    }

    /// Adds a builtin as an overload of its name. Overloads of one name take different
    /// types of first argument (`Builtin.first`), so the order they are registered in
    /// does not matter; one with the same type as an earlier one (or untyped, like it)
    /// replaces it: a library refining a core builtin (the store's `log`).
    public func register(_ b: Builtin) {
        let b = (wrappers[b.name] ?? []).reduce(b) { $1($0) }
        var overloads = builtins[b.name] ?? []
        overloads.removeAll { $0.first?.name == b.first?.name }
        overloads.append(b)
        overloads.sort { l, r in
            guard let lt = l.first?.name else { return false }
            guard let rt = r.first?.name else { return true }
            return lt < rt
        }
        install(b.name, overloads)
    }

    /// Wraps every overload of the builtin `name`, registered before or after this call,
    /// with `wrapper` (the store recording `fit`'s settings for the active run). Wrappers of
    /// one name apply in the order they were added.
    public func wrap(_ name: String, _ wrapper: @escaping (Builtin) -> Builtin) {
        wrappers[name, default: []].append(wrapper)
        if let overloads = builtins[name] { install(name, overloads.map(wrapper)) }
    }

    func install(_ name: String, _ overloads: [Builtin]) {
        builtins[name] = overloads
        let cell = globals[name] ?? Cell(name)
        cell.value = .function(Function(builtins: overloads))
        globals[name] = cell
    }

    /// Binds a top-level name (as `let` at the prompt would).
    public func define(_ name: String, _ value: Value) {
        let cell = globals[name] ?? Cell(name)
        cell.value = value; cell.declared = true
        globals[name] = cell
    }

    /// Binds a constant (`pi`): shadowable, not listed by `:vars`.
    public func defineConstant(_ name: String, _ value: Value) {
        let cell = globals[name] ?? Cell(name)
        cell.value = value
        globals[name] = cell
    }

    /// The value of a top-level name.
    public func lookup(_ name: String) -> Value? { globals[name]?.value }

    /// User-declared top-level names and their values, in name order.
    public var variables: [(String, Value)] {
        globals.values.filter { $0.declared }.compactMap { c in c.value.map { (c.name, $0) } }
            .sorted { $0.0 < $1.0 }
    }

    /// Every name in scope at top level (variables and builtins).
    public var names: [String] { globals.values.filter { $0.value != nil }.map(\.name).sorted() }

    func cell(_ name: String) -> Cell {
        if let c = globals[name] { return c }
        let c = Cell(name)
        globals[name] = c
        return c
    }

    /// Parses, compiles and runs a whole source; displays top-level values through
    /// `display`. Syntax errors are all reported before anything runs (first thrown,
    /// the rest in `otherErrors`).
    public func run(_ file: SourceFile, scriptPath: String? = nil) throws(MLShError) {
        let (stmts, errors) = parse(file)
        if let first = errors.first {
            var e = first
            if errors.count > 1 {
                e.message += errors.dropFirst().map { "\n\n" + $0.render() }.joined()
            }
            throw e
        }
        if let scriptPath, self.scriptPath == nil { self.scriptPath = scriptPath }
        try execute(stmts)
    }

    /// Names the script being run (for lineage and relative paths) before its statements
    /// are run one by one with `execute`.
    public func begin(scriptPath: String) {
        if self.scriptPath == nil { self.scriptPath = scriptPath }
    }

    /// Runs parsed top-level statements.
    public func execute(_ stmts: [Node]) throws(MLShError) {
        var compiled: [(Code, Int, Bool)] = []
        for s in stmts {
            let c = Compiler(interp: self)
            let code = try c.compileTopLevel(s)
            var shows = false
            if case .exprStmt(_, let quiet) = s.kind { shows = !quiet }
            compiled.append((code, c.frameSize, shows))
        }
        for (code, size, shows) in compiled {
            let frame = Frame(size: size, parent: nil)
            let v: Value
            do throws(Signal) { v = try code(frame) } catch { throw Interpreter.unwrap(error) }
            if shows, case .none = v {} else if shows { showValue(v) }
        }
    }

    func showValue(_ v: Value) {
        if let display { display(v) } else { output(v.display()) }
    }

    static func unwrap(_ s: Signal) -> MLShError {
        switch s {
        case .error(let e): return e
        case .breakLoop: return MLShError(.syntax, "'break' outside a loop")
        case .continueLoop: return MLShError(.syntax, "'continue' outside a loop")
        case .returnValue: return MLShError(.syntax, "'return' outside a function")
        }
    }

    /// Calls a function value with arguments.
    public func call(_ f: Value, _ args: [Value], named: [(String, Value)] = []) throws(MLShError) -> Value {
        do throws(Signal) { return try invoke(f, args, named) } catch { throw Interpreter.unwrap(error) }
    }

    func invoke(_ f: Value, _ args: [Value], _ named: [(String, Value)]) throws(Signal) -> Value {
        guard case .function(let fn) = f else {
            throw .error(MLShError.type("\(f.typeName) is not a function"))
        }
        if Interrupt.pending { throw .error(MLShError(.interrupted, "evaluation stopped by Ctrl-C")) }
        if !fn.builtins.isEmpty {
            do throws(MLShError) {
                return try Builtin.select(fn.builtins, args, named).call(args, named: named, self)
            } catch { throw .error(error) }
        }
        guard let c = fn.closure else { return .none }
        callDepth += 1
        defer { callDepth -= 1 }
        if callDepth > Interpreter.maxCallDepth {
            throw .error(MLShError(.recursion, "too many nested calls (more than \(Interpreter.maxCallDepth))"))
        }
        let frame = Frame(size: c.frameSize, parent: c.captured)
        let fname = c.name ?? "function"
        if args.count > c.params.count {
            throw .error(MLShError.type("\(fname) takes \(c.params.count) argument\(c.params.count == 1 ? "" : "s"), got \(args.count)"))
        }
        var given = [Bool](repeating: false, count: c.params.count)
        for (i, a) in args.enumerated() { frame.slots[c.params[i].slot] = a; given[i] = true }
        for (k, v) in named {
            guard let i = c.params.firstIndex(where: { $0.name == k }) else {
                var m = "unknown argument '\(k)' for \(fname) (accepted: \(c.params.map(\.name).joined(separator: ", ")))"
                if let s = closestName(to: k, in: c.params.map(\.name), keepingALetter: true) { m += "; did you mean '\(s)'?" }
                throw .error(MLShError.type(m))
            }
            if given[i] { throw .error(MLShError.type("argument '\(k)' of \(fname) given twice")) }
            frame.slots[c.params[i].slot] = v; given[i] = true
        }
        for (i, p) in c.params.enumerated() where !given[i] {
            guard let d = p.defaultValue else {
                throw .error(MLShError.type("\(fname) needs argument '\(p.name)'"))
            }
            frame.slots[p.slot] = try d(frame)
        }
        do throws(Signal) { return try c.body(frame) } catch {
            if case .returnValue(let v) = error { return v }
            throw error
        }
    }

    /// Runs another script's top level once (`import`), relative to `base`.
    func importFile(_ path: String, from base: SourceFile) throws(MLShError) {
        var full = path
        if !path.hasPrefix("/") {
            let dir = (base.name.hasPrefix("<") ? FileManager.default.currentDirectoryPath
                       : (base.name as NSString).deletingLastPathComponent)
            full = dir.isEmpty ? path : dir + "/" + path
        }
        full = (full as NSString).standardizingPath
        if imported.contains(full) { return }
        guard let data = FileManager.default.contents(atPath: full) else {
            throw MLShError(.`import`, "cannot read '\(path)' (looked for \(full))")
        }
        imported.insert(full)
        try run(SourceFile(name: full, bytes: Array(data)))
    }

    /// Runs `body` on a thread with a large stack, so deep (but bounded) recursion in
    /// the parser and evaluator never overflows; returns its result.
    public static func onLargeStack<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let job = LargeStackJob<T>(body)
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, 1 << 29)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(job).toOpaque()
        let rc = pthread_create(&thread, &attr, { raw in
            guard let raw else { return nil }
            Unmanaged<LargeStackTask>.fromOpaque(raw).takeRetainedValue().runJob()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<LargeStackJob<T>>.fromOpaque(context).release()
            return body()
        }
        pthread_join(thread, nil)
        return job.result ?? body()
    }
}

/// The work `onLargeStack` hands to its thread, and the result it leaves behind
/// (read only after the thread is joined).
class LargeStackTask: @unchecked Sendable {
    func runJob() {}
}

final class LargeStackJob<T>: LargeStackTask, @unchecked Sendable {
    let body: () -> T
    var result: T?
    init(_ body: @escaping () -> T) { self.body = body }
    override func runJob() { result = body() }
}

