import MLShCommon

/// Runs evaluation work that raises language errors, attaching `span` (the node being
/// evaluated) to an error that has no position yet.
@inline(__always)
func evaluating<T>(at span: Span, _ body: () throws(MLShError) -> T) throws(Signal) -> T {
    do { return try body() } catch { throw .error(error.located(at: span)) }
}

/// Compiles syntax trees into closures: names are resolved once, to a frame slot or a
/// global cell, so evaluation does no lookups by name.
final class Compiler {
    /// Compile-time view of one function's locals: block scopes mapping names to slots.
    final class Scope {
        var blocks: [[String: Int]] = [[:]]
        var size = 0
        let parent: Scope?
        let isTopLevel: Bool
        init(parent: Scope?, topLevel: Bool) { self.parent = parent; self.isTopLevel = topLevel }
        func declare(_ name: String) -> Int {
            let slot = size
            size += 1
            blocks[blocks.count - 1][name] = slot
            return slot
        }
        func find(_ name: String) -> Int? {
            for b in blocks.reversed() { if let s = b[name] { return s } }
            return nil
        }
    }

    let interp: Interpreter
    var scope: Scope
    var loopDepth = 0
    var functionDepth = 0
    /// The names each function being compiled reads from outside itself, innermost last.
    var freeReads: [[String: FreeRead]] = []

    init(interp: Interpreter) {
        self.interp = interp
        self.scope = Scope(parent: nil, topLevel: true)
    }

    var frameSize: Int { scope.size }

    func fail(_ message: String, _ span: Span, kind: ErrorKind = .syntax) -> MLShError {
        MLShError(kind, message, span: span)
    }

    /// True when declarations go to global cells (top level, outside any block).
    var atGlobalLevel: Bool { scope.isTopLevel && scope.blocks.count == 1 }

    func compileTopLevel(_ node: Node) throws(MLShError) -> Code { try compile(node) }

    // MARK: names

    enum Resolved { case local(depth: Int, slot: Int), global(Cell) }

    func resolve(_ name: String) -> Resolved {
        var s: Scope? = scope
        var depth = 0
        while let cur = s {
            if let slot = cur.find(name) { return .local(depth: depth, slot: slot) }
            s = cur.parent
            depth += 1
        }
        return .global(interp.cell(name))
    }

    static func unknownName(_ name: String, _ span: Span, _ interp: Interpreter, _ scope: Scope) -> MLShError {
        var m = "unknown name '\(name)'"
        var candidates = interp.names
        var s: Scope? = scope
        while let cur = s { for b in cur.blocks { candidates += b.keys }; s = cur.parent }
        if let best = closestName(to: name, in: candidates, keepingALetter: true) { m += " (did you mean '\(best)'?)" }
        return MLShError(.name, m, span: span)
    }

    func readName(_ name: String, _ span: Span) -> Code {
        let resolved = resolve(name)
        noteRead(name, resolved)
        switch resolved {
        case .local(0, let slot):
            return { f throws(Signal) in f.slots[slot] }
        case .local(let depth, let slot):
            return { f throws(Signal) in
                var fr = f
                for _ in 0..<depth { fr = fr.parent ?? fr }
                return fr.slots[slot]
            }
        case .global(let cell):
            let interp = self.interp, scope = self.scope
            return { _ throws(Signal) in
                if let v = cell.value { return v }
                throw .error(Compiler.unknownName(name, span, interp, scope))
            }
        }
    }

    func writeName(_ name: String, _ span: Span) throws(MLShError) -> (Frame, Value) -> Void {
        switch resolve(name) {
        case .local(let depth, let slot):
            return { f, v in
                var fr = f
                for _ in 0..<depth { fr = fr.parent ?? fr }
                fr.slots[slot] = v
            }
        case .global(let cell):
            return { _, v in cell.value = v }
        }
    }

    /// Declares the names of a pattern and returns the code that binds a value to them.
    func declare(_ pattern: Pattern) throws(MLShError) -> (Frame, Value) throws(Signal) -> Void {
        switch pattern {
        case .name(let n, let span):
            if atGlobalLevel {
                let cell = interp.cell(n)
                if cell.declared && !interp.allowRebinding {
                    throw fail("'\(n)' is already defined (use '\(n) = ...' to assign it)", span, kind: .name)
                }
                cell.declared = true
                return { _, v throws(Signal) in cell.value = v }
            }
            let slot = scope.declare(n)
            return { f, v throws(Signal) in f.slots[slot] = v }
        case .list(let items, let span):
            let binders = try items.map { p throws(MLShError) in try declare(p) }
            return { f, v throws(Signal) in
                let xs: [Value]
                switch v {
                case .list(let l): xs = l
                case .object(let o):
                    guard let l = o.iterate() else { fallthrough }
                    xs = l
                default:
                    throw .error(MLShError.type("cannot destructure \(v.typeName) into \(items.count) names: expected a list").located(at: span))
                }
                guard xs.count == binders.count else {
                    throw .error(MLShError.value("cannot destructure a list of \(xs.count) into \(binders.count) names").located(at: span))
                }
                for (b, x) in zip(binders, xs) { try b(f, x) }
            }
        case .record(let items, let span):
            let binders = try items.map { p throws(MLShError) in (p.key, try declare(p.binding)) }
            return { f, v throws(Signal) in
                for (key, b) in binders {
                    let x: Value?
                    switch v {
                    case .record(let r): x = r[key]
                    case .object(let o):
                        x = try evaluating(at: span) { () throws(MLShError) in try o.member(key) }
                    default:
                        throw .error(MLShError.type("cannot destructure \(v.typeName): expected a record").located(at: span))
                    }
                    guard let x else {
                        throw .error(MLShError.value("record has no field '\(key)'").located(at: span))
                    }
                    try b(f, x)
                }
            }
        }
    }

    // MARK: nodes

    func compile(_ node: Node) throws(MLShError) -> Code {
        let span = node.span
        switch node.kind {
        case .intLit(let v): let val = Value.int(v); return { _ throws(Signal) in val }
        case .floatLit(let v): let val = Value.float(v); return { _ throws(Signal) in val }
        case .boolLit(let v): let val = Value.bool(v); return { _ throws(Signal) in val }
        case .noneLit: return { _ throws(Signal) in .none }
        case .stringLit(let s): let val = Value.string(s); return { _ throws(Signal) in val }
        case .columnRef(let c): let val = Value.expr(.column(c)); return { _ throws(Signal) in val }
        case .template(let parts): return try compileTemplate(parts)
        case .name(let n): return readName(n, span)
        case .list(let items):
            let codes = try items.map { n throws(MLShError) in try compile(n) }
            return { f throws(Signal) in
                var out = [Value](); out.reserveCapacity(codes.count)
                for c in codes { out.append(try c(f)) }
                return .list(out)
            }
        case .record(let fields):
            let codes = try fields.map { p throws(MLShError) in (p.key, try compile(p.value)) }
            return { f throws(Signal) in
                var r = Record()
                for (k, c) in codes { r[k] = try c(f) }
                return .record(r)
            }
        case .unary(let op, let operand):
            let c = try compile(operand)
            return { f throws(Signal) in
                let v = try c(f)
                return try evaluating(at: span) { () throws(MLShError) in try Ops.unary(op, v) }
            }
        case .binary(let op, let l, let r): return try compileBinary(op, l, r, span)
        case .call(let callee, let args): return try compileCall(callee, args, span)
        case .index(let base, let idx):
            let b = try compile(base), i = try compile(idx)
            return { f throws(Signal) in
                let bv = try b(f), iv = try i(f)
                return try evaluating(at: span) { () throws(MLShError) in try Compiler.index(bv, iv) }
            }
        case .field(let base, let name):
            let b = try compile(base)
            return { f throws(Signal) in
                let bv = try b(f)
                return try evaluating(at: span) { () throws(MLShError) in try Compiler.field(bv, name) }
            }
        case .function(let name, let params, let body):
            return try compileFunction(name: name, params: params, body: body, span: span)
        case .ifElse(let cond, let then, let els):
            let c = try compile(cond), t = try compileBlockLike(then)
            let e = try els.map { n throws(MLShError) in try compileBlockLike(n) }
            let condSpan = cond.span
            return { f throws(Signal) in
                let v = try c(f)
                let b: Bool
                b = try evaluating(at: condSpan) { () throws(MLShError) in try Ops.truth(v, "the if condition") }
                if b { return try t(f) }
                return try e?(f) ?? .none
            }
        case .block: return try compileBlockLike(node)
        case .letBind(let pattern, let value):
            // A named function can call itself: declare before compiling the body.
            if case .name(let n, _) = pattern, case .function(let fname, _, _) = value.kind, fname == n {
                let bind = try declare(pattern)
                let v = try compile(value)
                return { f throws(Signal) in try bind(f, try v(f)); return .none }
            }
            let v = try compile(value)
            let bind = try declare(pattern)
            return { f throws(Signal) in try bind(f, try v(f)); return .none }
        case .assign(let name, let value):
            if case .global(let cell) = resolve(name), !cell.declared, cell.value == nil || interp.builtins[name] != nil {
                throw fail("cannot assign to '\(name)': it is not defined (use 'let \(name) = ...')", span, kind: .name)
            }
            let v = try compile(value)
            let w = try writeName(name, span)
            return { f throws(Signal) in w(f, try v(f)); return .none }
        case .forLoop(let pattern, let seq, let body): return try compileFor(pattern, seq, body, span)
        case .whileLoop(let cond, let body):
            let c = try compile(cond)
            loopDepth += 1
            let b = try compileBlockLike(body)
            loopDepth -= 1
            let condSpan = cond.span
            return { f throws(Signal) in
                while true {
                    if Interrupt.pending { throw .error(MLShError(.interrupted, "evaluation stopped by Ctrl-C", span: span)) }
                    let v = try c(f)
                    let go: Bool
                    go = try evaluating(at: condSpan) { () throws(MLShError) in try Ops.truth(v, "the while condition") }
                    if !go { break }
                    do throws(Signal) { _ = try b(f) } catch {
                        if case .breakLoop = error { break }
                        if case .continueLoop = error { continue }
                        throw error
                    }
                }
                return .none
            }
        case .returnStmt(let v):
            guard functionDepth > 0 else { throw fail("'return' outside a function", span) }
            let c = try v.map { n throws(MLShError) in try compile(n) }
            return { f throws(Signal) in throw .returnValue(try c?(f) ?? .none) }
        case .breakStmt:
            guard loopDepth > 0 else { throw fail("'break' outside a loop", span) }
            return { _ throws(Signal) in throw .breakLoop }
        case .continueStmt:
            guard loopDepth > 0 else { throw fail("'continue' outside a loop", span) }
            return { _ throws(Signal) in throw .continueLoop }
        case .with(let ctx, let body):
            let c = try compile(ctx), b = try compileBlockLike(body)
            let ctxSpan = ctx.span
            return { f throws(Signal) in
                let v = try c(f)
                guard case .object(let o) = v, let cm = o as? any ContextObject else {
                    throw .error(MLShError.type("'with' needs a context such as run(...), got \(v.typeName)").located(at: ctxSpan))
                }
                try evaluating(at: ctxSpan) { () throws(MLShError) in try cm.enter() }
                let result: Value
                do throws(Signal) { result = try b(f) } catch {
                    let err: MLShError
                    switch error {
                    case .error(let e): err = e
                    default: err = MLShError(.error, "block left early")
                    }
                    try evaluating(at: ctxSpan) { () throws(MLShError) in try cm.exit(error: err) }
                    throw error
                }
                try evaluating(at: ctxSpan) { () throws(MLShError) in try cm.exit(error: nil) }
                return result
            }
        case .assertStmt(let cond, let message):
            let c = try compile(cond)
            let m = try message.map { n throws(MLShError) in try compile(n) }
            let text = cond.span.file.text(cond.span)
            return { f throws(Signal) in
                let v = try c(f)
                let ok: Bool
                ok = try evaluating(at: cond.span) { () throws(MLShError) in try Ops.truth(v, "the assert condition") }
                if !ok {
                    var msg = text
                    if let m { msg = try m(f).printed() }
                    throw .error(MLShError(.assertion, msg, span: span))
                }
                return .none
            }
        case .importStmt(let path):
            let interp = self.interp
            return { _ throws(Signal) in
                try evaluating(at: span) { () throws(MLShError) in try interp.importFile(path, from: span.file) }
                return .none
            }
        case .exprStmt(let e, _): return try compile(e)
        }
    }

    func compileTemplate(_ parts: [TemplatePart]) throws(MLShError) -> Code {
        var codes: [Either] = []
        for p in parts {
            switch p {
            case .text(let s): codes.append(.text(s))
            case .code(let n): codes.append(.code(try compile(n), n.span))
            }
        }
        return { f throws(Signal) in
            var s = ""
            for c in codes {
                switch c {
                case .text(let t): s += t
                case .code(let code, let span):
                    let v = try code(f)
                    s += try evaluating(at: span) { () throws(MLShError) in try v.text(in: "a string template") }
                }
            }
            return .string(s)
        }
    }
    enum Either { case text(String), code(Code, Span) }

    func compileBinary(_ op: BinaryOp, _ l: Node, _ r: Node, _ span: Span) throws(MLShError) -> Code {
        let a = try compile(l), b = try compile(r)
        switch op {
        case .and, .or:
            // Short-circuit on bools; build an expression when the left side is one.
            let isAnd = op == .and
            return { f throws(Signal) in
                let x = try a(f)
                if case .bool(let bx) = x {
                    if isAnd && !bx { return .bool(false) }
                    if !isAnd && bx { return .bool(true) }
                    let y = try b(f)
                    if case .bool = y { return y }
                    return try evaluating(at: span) { () throws(MLShError) in try Ops.binary(op, x, y) }
                }
                let y = try b(f)
                return try evaluating(at: span) { () throws(MLShError) in try Ops.binary(op, x, y) }
            }
        case .add:
            return { f throws(Signal) in
                let x = try a(f), y = try b(f)
                if case .int(let i) = x, case .int(let j) = y {
                    let (s, o) = i.addingReportingOverflow(j)
                    if !o { return .int(s) }
                }
                return try evaluating(at: span) { () throws(MLShError) in try Ops.add(x, y) }
            }
        default:
            return { f throws(Signal) in
                let x = try a(f), y = try b(f)
                return try evaluating(at: span) { () throws(MLShError) in try Ops.binary(op, x, y) }
            }
        }
    }

    func compileCall(_ callee: Node, _ args: [Argument], _ span: Span) throws(MLShError) -> Code {
        let fn = try compile(callee)
        var positional: [Code] = []
        var named: [(String, Code)] = []
        var seen = Set<String>()
        for a in args {
            if let n = a.name {
                guard seen.insert(n).inserted else {
                    throw fail("argument '\(n)' given twice", a.nameSpan ?? a.value.span, kind: .type)
                }
                named.append((n, try compile(a.value)))
            } else { positional.append(try compile(a.value)) }
        }
        let interp = self.interp
        return { f throws(Signal) in
            let callee = try fn(f)
            var pos = [Value](); pos.reserveCapacity(positional.count)
            for c in positional { pos.append(try c(f)) }
            var nm: [(String, Value)] = []
            for (k, c) in named { nm.append((k, try c(f))) }
            do throws(Signal) { return try interp.invoke(callee, pos, nm) } catch {
                if case .error(let e) = error {
                    if e.span == nil, let c = e.culprit, let at = Compiler.columnReference(c, in: args) {
                        throw .error(e.located(at: at))
                    }
                    if e.span == nil, let r = e.argument, let at = Compiler.argumentSpan(r, in: args) {
                        throw .error(e.located(at: at))
                    }
                    throw .error(e.located(at: span))
                }
                throw error
            }
        }
    }

    /// The span of an argument of a call (a named one from its name to its value's end).
    static func argumentSpan(_ r: MLShError.ArgumentReference, in args: [Argument]) -> Span? {
        switch r {
        case .named(let name):
            guard let a = args.first(where: { $0.name == name }) else { return nil }
            return a.nameSpan.map { $0.to(a.value.span) } ?? a.value.span
        case .position(let i):
            let positional = args.filter { $0.name == nil }
            return positional.indices.contains(i) ? positional[i].value.span : nil
        }
    }

    /// The span of the first `$name` reference among call arguments (searched depth-first).
    static func columnReference(_ name: String, in args: [Argument]) -> Span? {
        func find(_ n: Node) -> Span? {
            if case .columnRef(let c) = n.kind, c == name { return n.span }
            for child in n.children { if let s = find(child) { return s } }
            return nil
        }
        for a in args { if let s = find(a.value) { return s } }
        return nil
    }

    /// Records a read of `name` as free in every function being compiled that it lies outside of.
    func noteRead(_ name: String, _ resolved: Resolved) {
        guard !freeReads.isEmpty else { return }
        let innermost = freeReads.count - 1
        for level in freeReads.indices {
            // `level` functions out from the innermost, a local at depth d is outside it when d > level.
            let out = innermost - level
            switch resolved {
            case .global(let cell): freeReads[level][name] = .global(cell)
            case .local(let depth, let slot) where depth > out: freeReads[level][name] = .local(depth: depth - out - 1, slot: slot)
            case .local: break
            }
        }
    }

    func compileFunction(name: String?, params: [Param], body: Node, span: Span) throws(MLShError) -> Code {
        let outer = scope
        let inner = Scope(parent: outer, topLevel: false)
        scope = inner
        let savedLoop = loopDepth
        loopDepth = 0
        functionDepth += 1
        freeReads.append([:])
        var frees: [String: FreeRead] = [:]
        defer { scope = outer; loopDepth = savedLoop; functionDepth -= 1 }
        var ps: [Closure.P] = []
        for p in params {
            let slot = inner.declare(p.name)
            let d = try p.defaultValue.map { n throws(MLShError) in try compile(n) }
            ps.append(Closure.P(name: p.name, slot: slot, defaultValue: d))
        }
        let b: Code
        do throws(MLShError) { b = try compileBlockLike(body) } catch { freeReads.removeLast(); throw error }
        frees = freeReads.removeLast()
        let size = inner.size
        let isTop = outer.isTopLevel && outer.blocks.count == 1
        let reads = frees.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return { f throws(Signal) in
            // A top-level function needs no frame: its free names are globals.
            let c = Closure(name: name, params: ps, frameSize: size, body: b, captured: isTop ? nil : f,
                            span: span, freeReads: reads)
            return .function(Function(closure: c))
        }
    }

    /// A block (new scope, value of its last expression) or a single expression.
    func compileBlockLike(_ node: Node) throws(MLShError) -> Code {
        guard case .block(let stmts) = node.kind else { return try compile(node) }
        scope.blocks.append([:])
        defer { scope.blocks.removeLast() }
        let codes = try stmts.map { n throws(MLShError) in try compile(n) }
        switch codes.count {
        case 0: return { _ throws(Signal) in .none }
        case 1: return codes[0]
        default:
            let last = codes[codes.count - 1]
            let rest = Array(codes.dropLast())
            return { f throws(Signal) in
                for c in rest { _ = try c(f) }
                return try last(f)
            }
        }
    }

    func compileFor(_ pattern: Pattern, _ seq: Node, _ body: Node, _ span: Span) throws(MLShError) -> Code {
        let s = try compile(seq)
        scope.blocks.append([:])
        defer { scope.blocks.removeLast() }
        // Loop variables are locals of the loop, even at top level.
        var bind: ((Frame, Value) throws(Signal) -> Void)?
        var directSlot: Int?
        if case .name(let n, _) = pattern { directSlot = scope.declare(n) } else { bind = try declare(pattern) }
        loopDepth += 1
        let b = try compileBlockLike(body)
        loopDepth -= 1
        let seqSpan = seq.span
        return { f throws(Signal) in
            let sv = try s(f)
            func step(_ v: Value) throws(Signal) -> Bool {
                if Interrupt.pending { throw .error(MLShError(.interrupted, "evaluation stopped by Ctrl-C", span: span)) }
                if let slot = directSlot { f.slots[slot] = v } else { try bind?(f, v) }
                do throws(Signal) { _ = try b(f) } catch {
                    if case .breakLoop = error { return false }
                    if case .continueLoop = error { return true }
                    throw error
                }
                return true
            }
            switch sv {
            case .list(let xs): for x in xs where !(try step(x)) { break }
            case .string(let str): for ch in str where !(try step(.string(String(ch)))) { break }
            case .record(let r): for k in r.keys where !(try step(.string(k))) { break }
            case .object(let o):
                if let r = o as? RangeValue {
                    var i = r.start
                    while r.step > 0 ? i < r.stop : i > r.stop {
                        if !(try step(.int(i))) { break }
                        i += r.step
                    }
                } else if let xs = o.iterate() {
                    for x in xs where !(try step(x)) { break }
                } else {
                    throw .error(MLShError.type("cannot loop over \(sv.typeName)").located(at: seqSpan))
                }
            default:
                throw .error(MLShError.type("cannot loop over \(sv.typeName)").located(at: seqSpan))
            }
            return .none
        }
    }

    // MARK: indexing and fields

    static func index(_ base: Value, _ key: Value) throws(MLShError) -> Value {
        switch (base, key) {
        case (.list(let xs), .int(let i)):
            let j = i < 0 ? Int64(xs.count) + i : i
            guard j >= 0, j < xs.count else {
                throw MLShError(.index, "index \(i) out of range for a list of \(xs.count)")
            }
            return xs[Int(j)]
        case (.string(let s), .int(let i)):
            let chars = Array(s)
            let j = i < 0 ? Int64(chars.count) + i : i
            guard j >= 0, j < chars.count else {
                throw MLShError(.index, "index \(i) out of range for a string of \(chars.count)")
            }
            return .string(String(chars[Int(j)]))
        case (.record(let r), .string(let k)):
            guard let v = r[k] else {
                var m = "record has no field '\(k)'"
                if let s = closestName(to: k, in: r.keys, keepingALetter: true) { m += " (did you mean '\(s)'?)" }
                throw MLShError(.key, m)
            }
            return v
        case (.object(let o), _):
            if let v = try o.element(key) { return v }
            throw MLShError.type("cannot index \(o.typeName) with \(key.typeName)")
        default:
            throw MLShError.type("cannot index \(base.typeName) with \(key.typeName)")
        }
    }

    static func field(_ base: Value, _ name: String) throws(MLShError) -> Value {
        switch base {
        case .record(let r):
            guard let v = r[name] else {
                var m = "record has no field '\(name)'"
                if let s = closestName(to: name, in: r.keys, keepingALetter: true) { m += " (did you mean '\(s)'?)" }
                throw MLShError(.key, m)
            }
            return v
        case .object(let o):
            if let v = try o.member(name) { return v }
            var m = "\(o.typeName) has no field '\(name)'"
            if let s = closestName(to: name, in: o.memberNames, keepingALetter: true) { m += " (did you mean '\(s)'?)" }
            else if !o.memberNames.isEmpty { m += " (it has: \(o.memberNames.joined(separator: ", ")))" }
            throw MLShError(.key, m)
        default:
            throw MLShError.type("\(base.typeName) has no fields (tried '.\(name)')")
        }
    }
}
