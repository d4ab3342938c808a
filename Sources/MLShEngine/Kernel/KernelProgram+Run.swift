import Foundation

/// Running a program: evaluate its reductions, bind slots to the table's buffers, run the
/// block executor on every usable core, and wrap the preallocated output as a column.
extension KernelProgram {
    /// Runs the program over `table` (per group when `groups` is given, for the
    /// reductions it broadcasts) and returns a column of `table.rowCount` values.
    public func run(on table: Table, groups: Grouping? = nil) throws(EngineError) -> Column {
        guard toOutput else { throw EngineError.invalidArgument("internal error: a reduction argument program cannot be run as a column") }
        if kernelSignature(of: expression, in: table) != schema {
            return try KernelProgram.compile(expression, for: table, options: options, toOutput: true).run(on: table, groups: groups)
        }
        if formatsStrings {
            var numbers = self
            numbers.formatsStrings = false
            return kernelFormatStrings(try numbers.run(on: table, groups: groups))
        }
        // Groups matter only to reductions; without any, skip checking the ids.
        let g = reductions.isEmpty ? nil : try KGroups(groups, rows: table.rowCount)
        if let name = passthroughColumn { return try table.column(name) }
        let reduced = try evaluateReductions(table, g, KReductionCache())
        let n = table.rowCount
        var failure: EngineError? = nil
        switch resultKType {
        case .f:
            let out: [Double] = kernelNewArray(n) { p in failure = execute(table, g, reduced, output: p, validity: nil) }
            if let failure { throw failure }
            return Column(floats: out)
        case .i:
            var valid: [Bool]? = nil
            let out: [Int64] = kernelNewArray(n) { p in
                if hasValidity {
                    valid = kernelNewArray(n) { m in failure = execute(table, g, reduced, output: p, validity: m) }
                } else {
                    failure = execute(table, g, reduced, output: p, validity: nil)
                }
            }
            if let failure { throw failure }
            return Column(ints: out, validity: valid)
        case .b:
            var valid: [Bool]? = nil
            let out: [Bool] = kernelNewArray(n) { p in
                if hasValidity {
                    valid = kernelNewArray(n) { m in failure = execute(table, g, reduced, output: p, validity: m) }
                } else {
                    failure = execute(table, g, reduced, output: p, validity: nil)
                }
            }
            if let failure { throw failure }
            return Column(bools: out, validity: valid)
        case .c:
            let union = kernelStringUnion(literals, aux, table)
            let out: [Int32] = kernelNewArray(n) { p in failure = execute(table, g, reduced, output: p, validity: nil, union: union) }
            if let failure { throw failure }
            return Column(.string(codes: out, dictionary: union.dictionary))
        }
    }

    /// The first pass: every reduction this program broadcasts, in order.
    func evaluateReductions(_ table: Table, _ g: KGroups?, _ cache: KReductionCache) throws(EngineError) -> [KReduced] {
        var out: [KReduced] = []
        for r in reductions { out.append(try r.evaluate(table, g, cache)) }
        return out
    }

    /// Binds the slots and runs the block program. `output`/`validity` receive the result
    /// in column mode; `sink` sees each finished block in sink mode. `union` is the
    /// program dictionary when the caller has built it already.
    func execute(_ table: Table, _ g: KGroups?, _ reduced: [KReduced],
                 output: UnsafeMutableRawPointer?, validity: UnsafeMutableRawPointer?, stateGroups: Int = 1,
                 union: KStringUnion? = nil,
                 sink: ((Int, Int, Int, UnsafeMutablePointer<UnsafeMutableRawPointer>) -> Void)? = nil) -> EngineError? {
        let rows = table.rowCount
        if rows == 0 { return nil }
        var arrays: [KInputArray] = []
        var inputOf: [Int: Int] = [:]
        for (s, slot) in slots.enumerated() {
            switch slot {
            case .column(let name, _):
                guard let i = table.index(of: name) else { return .unknownColumn(name, table: table.label, suggestion: nil) }
                switch table.columns[i].storage {
                case .float(let v): arrays.append(.f(v))
                case .int(let v, _): arrays.append(.i(v))
                case .bool(let v, _): arrays.append(.b(v))
                case .string(let c, _): arrays.append(.c(c))
                }
                inputOf[s] = arrays.count - 1
            case .validity(let name):
                guard let i = table.index(of: name) else { return .unknownColumn(name, table: table.label, suggestion: nil) }
                switch table.columns[i].storage {
                case .int(_, let m?), .bool(_, let m?):
                    // Columns do not check their mask's length; the kernel reads it unchecked.
                    guard m.count == rows else {
                        return .lengthMismatch(column: name, expected: rows, actual: m.count)
                    }
                    arrays.append(.b(m))
                default: return .invalidArgument("internal error: column $\(name) has no validity mask")
                }
                inputOf[s] = arrays.count - 1
            default: break
            }
        }
        let grouped = g != nil && slots.contains { if case .param = $0 { return true }; if case .paramValidity = $0 { return true }; return false }
        if grouped, let g { arrays.append(.c(g.ids)) }
        var auxTables: [KAuxTable] = []
        let arena = KArena()
        let union = union ?? kernelStringUnion(literals, aux, table)
        for (k, a) in aux.enumerated() {
            guard let t = kernelBuildAux(a, at: k, table, union, arena) else { return .invalidArgument("internal error: cannot bind \(kernelAuxText(a))") }
            auxTables.append(t)
        }
        return kernelWithInputs(arrays) { ptrs -> EngineError? in
            var exec: [KExecSlot] = []
            var prologue: [KInstr] = []
            var registers = registerCount
            let idsSlot = Int32(slots.count)
            for (s, slot) in slots.enumerated() {
                switch slot {
                case .register(let k): exec.append(.register(k))
                case .column(_, let t): exec.append(.strided(inputOf[s].flatMap { ptrs[$0] }, t.size))
                case .validity: exec.append(.strided(inputOf[s].flatMap { ptrs[$0] }, 1))
                case .constant(let t, let bits): exec.append(.fixed(arena.filled(t, bits)))
                case .output(let t): exec.append(.strided(output, t.size))
                case .outputValidity: exec.append(.strided(validity, 1))
                case .param(let k, let type), .paramValidity(let k, let type):
                    guard k < reduced.count else { return .invalidArgument("internal error: unbound reduction slot") }
                    let values = arena.groupValues(reduced[k], validity: slot.isParamValidity)
                    if grouped {
                        exec.append(.register(registers)); registers += 1
                        auxTables.append(values)
                        let op: KOp = type == .f ? .gatherF : type == .i ? .gatherI : .gatherB
                        prologue.append(KInstr(op: op, dst: Int32(s), a: idsSlot, aux: Int32(auxTables.count - 1)))
                    } else {
                        exec.append(.fixed(arena.filled(type, values.base.map { kernelFirstBits(type, $0) } ?? 0)))
                    }
                }
            }
            if grouped { exec.append(.strided(ptrs.last ?? nil, 4)) }
            let note = withExtendedLifetime(arena) {
                KernelExecutor.execute(instrs: prologue + instrs, slots: exec, registers: registers, rows: rows, groups: stateGroups,
                                       aux: auxTables, perBlock: sink)
            }
            return note.map { .invalidArgument("integer overflow in \($0)") }
        }
    }
}

/// Numbers as strings (`cast(x, "string")`): floats as Swift prints them ("1.5", "3.0",
/// "inf"), ints in decimal, bools as `true`/`false`; NaN and missing stay missing.
func kernelFormatStrings(_ c: Column) -> Column {
    switch c.storage {
    case .float(let v): return Column(strings: v.map { $0.isNaN ? nil : "\($0)" })
    case .int(let v, let m): return Column(strings: v.indices.map { (m?[$0] ?? true) ? "\(v[$0])" : nil })
    case .bool(let v, let m): return Column(strings: v.indices.map { (m?[$0] ?? true) ? (v[$0] ? "true" : "false") : nil })
    case .string: return c
    }
}

/// The first element's bits of a broadcast value table.
func kernelFirstBits(_ t: KType, _ p: UnsafeRawPointer) -> UInt64 {
    switch t {
    case .f: return p.load(as: Double.self).bitPattern
    case .i: return UInt64(bitPattern: p.load(as: Int64.self))
    case .b: return UInt64(p.load(as: UInt8.self))
    case .c: return UInt64(bitPattern: Int64(p.load(as: Int32.self)))
    }
}

/// An input buffer read in place.
enum KInputArray {
    case f([Double]), i([Int64]), b([Bool]), c([Int32])
}

/// Calls `body` with stable base addresses of all `arrays` (nil for empty ones).
func kernelWithInputs<R>(_ arrays: [KInputArray], _ body: ([UnsafeMutableRawPointer?]) -> R) -> R {
    func go(_ k: Int, _ acc: [UnsafeMutableRawPointer?]) -> R {
        if k == arrays.count { return body(acc) }
        switch arrays[k] {
        case .f(let a): return a.withUnsafeBytes { go(k + 1, acc + [UnsafeMutableRawPointer(mutating: $0.baseAddress)]) }
        case .i(let a): return a.withUnsafeBytes { go(k + 1, acc + [UnsafeMutableRawPointer(mutating: $0.baseAddress)]) }
        case .b(let a): return a.withUnsafeBytes { go(k + 1, acc + [UnsafeMutableRawPointer(mutating: $0.baseAddress)]) }
        case .c(let a): return a.withUnsafeBytes { go(k + 1, acc + [UnsafeMutableRawPointer(mutating: $0.baseAddress)]) }
        }
    }
    return go(0, [])
}

/// A new array of `count` elements that `fill` initialises through a raw pointer (the
/// block executor writes it in parallel, so its pages fault in on every core that writes). Large
/// outputs ask for transparent huge pages first: 512× fewer page faults.
func kernelNewArray<T: BitwiseCopyable>(_ count: Int, _ fill: (UnsafeMutableRawPointer?) -> Void) -> [T] {
    [T](unsafeUninitializedCapacity: count) { buf, initialized in
        let raw = UnsafeMutableRawPointer(buf.baseAddress)
        kernelAdviseHugePages(raw, count * MemoryLayout<T>.stride)
        if count > 0 { fill(raw) }
        initialized = count
    }
}

func kernelAdviseHugePages(_ p: UnsafeMutableRawPointer?, _ bytes: Int) {
    #if os(Linux)
    let huge = 2 << 20
    guard let p, bytes >= 2 * huge else { return }
    let start = (Int(bitPattern: p) + huge - 1) & ~(huge - 1)
    let end = (Int(bitPattern: p) + bytes) & ~(huge - 1)
    if end > start, let s = UnsafeMutableRawPointer(bitPattern: start) {
        _ = madvise(s, end - start, 14)   // MADV_HUGEPAGE
    }
    #endif
}

/// Owns the raw buffers of one run (constants, tables) and frees them after it.
final class KArena {
    private var blocks: [UnsafeMutableRawPointer] = []
    deinit { for b in blocks { b.deallocate() } }

    func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
        blocks.append(p); return p
    }

    /// A block-sized buffer holding one value in every row.
    func filled(_ t: KType, _ bits: UInt64) -> UnsafeMutableRawPointer {
        let n = KernelExecutor.blockSize
        let p = allocate(n * t.size)
        switch t {
        case .f: p.initializeMemory(as: Double.self, repeating: Double(bitPattern: bits), count: n)
        case .i: p.initializeMemory(as: Int64.self, repeating: Int64(bitPattern: bits), count: n)
        case .b: p.initializeMemory(as: UInt8.self, repeating: bits != 0 ? 1 : 0, count: n)
        case .c: p.initializeMemory(as: Int32.self, repeating: Int32(truncatingIfNeeded: Int64(bitPattern: bits)), count: n)
        }
        return p
    }

    /// Per-group values (or validity) of a reduction as a table for gathers.
    func groupValues(_ r: KReduced, validity: Bool) -> KAuxTable {
        switch r {
        case .f(let v):
            let p = allocate(v.count * 8)
            p.initializeMemory(as: Double.self, from: v, count: v.count)
            return KAuxTable(base: UnsafeRawPointer(p), count: v.count)
        case .i(let v, let m):
            if validity {
                let p = allocate(v.count)
                let bytes = m ?? [UInt8](repeating: 1, count: v.count)
                p.initializeMemory(as: UInt8.self, from: bytes, count: v.count)
                return KAuxTable(base: UnsafeRawPointer(p), count: v.count)
            }
            let p = allocate(v.count * 8)
            p.initializeMemory(as: Int64.self, from: v, count: v.count)
            return KAuxTable(base: UnsafeRawPointer(p), count: v.count)
        }
    }

    func table<T>(_ values: [T]) -> KAuxTable {
        let p = allocate(values.count * MemoryLayout<T>.stride)
        p.initializeMemory(as: T.self, from: values, count: values.count)
        return KAuxTable(base: UnsafeRawPointer(p), count: values.count)
    }
}

/// A string column's dictionary.
func kernelDictionary(_ table: Table, _ name: String) -> [String]? {
    guard let i = table.index(of: name), case .string(_, let d) = table.columns[i].storage else { return nil }
    return d
}

/// Builds aux table `k`, a string look-up table for `table`'s dictionaries (entry 0 is
/// the missing code).
func kernelBuildAux(_ a: KAux, at k: Int, _ table: Table, _ union: KStringUnion, _ arena: KArena) -> KAuxTable? {
    func dictionary(_ name: String) -> [String]? { kernelDictionary(table, name) }
    switch a {
    case .stringPredicate(let col, let op, let lit):
        guard let d = dictionary(col) else { return nil }
        return arena.table([UInt8(op == "ne" ? 1 : 0)] + d.map { kernelCompareStrings($0, op, lit) ? 1 : 0 })
    case .stringRank(let col, let union):
        guard let d = dictionary(col) else { return nil }
        var all = Set<String>()
        for u in union { guard let du = dictionary(u) else { return nil }; all.formUnion(du) }
        let sorted = all.sorted { kernelCompareStrings($0, "lt", $1) }
        var rank: [String: Int64] = [:]
        for (k, s) in sorted.enumerated() { rank[s] = Int64(k) }
        return arena.table([Int64(-1)] + d.map { rank[$0] ?? -1 })
    case .stringNumber(let col):
        guard let d = dictionary(col) else { return nil }
        return arena.table([Double.nan] + d.map { Double($0.trimmingCharacters(in: .whitespaces)) ?? .nan })
    case .stringRemap(let col):
        guard let d = dictionary(col) else { return nil }
        return arena.table([Int32(-1)] + d.map { union.index[$0] ?? -1 })
    case .stringFunction:
        return union.functionTables[k].map { arena.table($0) }
    }
}

/// The dictionary of a program's computed strings: its literals, then, in aux order, the
/// values of the string columns it remaps and the results of its string functions, each
/// once.
struct KStringUnion {
    var dictionary: [String] = []
    var index: [String: Int32] = [:]
    /// Per `.stringFunction` aux index: input code + 1 → result code (see `KAux`).
    var functionTables: [Int: [Int32]] = [:]

    @discardableResult
    mutating func add(_ s: String) -> Int32 {
        if let k = index[s] { return k }
        index[s] = Int32(dictionary.count); dictionary.append(s)
        return Int32(dictionary.count - 1)
    }
}

func kernelStringUnion(_ literals: [String], _ aux: [KAux], _ table: Table) -> KStringUnion {
    var u = KStringUnion()
    for s in literals { u.add(s) }
    for (k, a) in aux.enumerated() {
        switch a {
        case .stringRemap(let col):
            for s in kernelDictionary(table, col) ?? [] { u.add(s) }
        case .stringFunction(let f, let col):
            var inputs = u.dictionary
            if let col {
                guard let d = kernelDictionary(table, col) else { continue }
                inputs = d
            }
            var codes: [Int32] = [-1]
            codes.reserveCapacity(inputs.count + 1)
            for s in inputs { codes.append(f.apply(s).map { u.add($0) } ?? -1) }
            u.functionTables[k] = codes
        default: continue
        }
    }
    return u
}
