/// The compiler's passes after type resolution, each a small named function over the SSA
/// list. `KernelProgram.compile` runs them in order (the pipeline is listed there).
struct KCompileOptions: Sendable, Equatable {
    var foldConstants = true
    var eliminateCommonSubexpressions = true
    /// Fuse `a*b + c` into one FMA (one rounding instead of two).
    var fuseMultiplyAdd = true
    /// Fuse `(a - b) / c` into one pass (same roundings): standardising and min-max
    /// scaling stream their column once instead of twice through the block.
    var fuseSubtractDivide = true
    /// Fuse `if_else(a < b, c, d)` (any float comparison) into one pass: no mask block.
    var fuseCompareSelect = true
    /// Fuse `sqrt`, `abs` and `-` of a float arithmetic result into that op's loop.
    var fuseEpilogues = true
}

enum KPasses {
    // MARK: constant folding

    /// Pass 2: evaluates ops whose arguments are all constants, using the executor's own
    /// kernel on a one-row block (so folding cannot change semantics), and keeps the
    /// result only when provably safe (Lua `validop`): no NaN input, a finite non-(-0.0)
    /// float result, no int overflow, and no run-time tables.
    static func foldConstants(_ nodes: inout [KNode]) {
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: 4 * 8, alignment: 64)
        defer { scratch.deallocate() }
        let table = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: 4)
        defer { table.deallocate() }
        for s in 0..<4 { table[s] = scratch + s * 8 }
        for j in nodes.indices {
            guard let op = nodes[j].op, !op.usesAux, !nodes[j].args.isEmpty, nodes[j].args.count <= 3, nodes[j].post == nil,
                  nodes[j].args.allSatisfy({ nodes[$0].isConstant }) else { continue }
            var safe = true
            for (s, a) in nodes[j].args.enumerated() {
                let bits = nodes[a].constantBits ?? 0
                let p = table[s + 1]
                switch nodes[a].type {
                case .f:
                    let v = Double(bitPattern: bits)
                    if v.isNaN { safe = false }
                    p.storeBytes(of: v, as: Double.self)
                case .i: p.storeBytes(of: Int64(bitPattern: bits), as: Int64.self)
                case .b: p.storeBytes(of: UInt8(truncatingIfNeeded: bits), as: UInt8.self)
                case .c: p.storeBytes(of: Int32(truncatingIfNeeded: Int64(bitPattern: bits)), as: Int32.self)
                }
            }
            guard safe else { continue }
            let args = nodes[j].args
            let ins = KInstr(op: op, dst: 0, a: args.count > 0 ? 1 : -1, b: args.count > 1 ? 2 : -1,
                             c: args.count > 2 ? 3 : -1, imm: nodes[j].imm)
            let overflow = [KAuxTable]().withUnsafeBufferPointer { KernelExecutor.apply(ins, table, 1, $0) }
            if overflow { continue }
            let bits: UInt64
            switch nodes[j].type {
            case .f:
                let v = table[0].load(as: Double.self)
                guard v.isFinite, !(v == 0 && v.sign == .minus) else { continue }
                bits = v.bitPattern
            case .i: bits = UInt64(bitPattern: table[0].load(as: Int64.self))
            case .b: bits = table[0].load(as: UInt8.self) != 0 ? 1 : 0
            case .c: continue
            }
            nodes[j] = KNode(kind: .constant(bits), type: nodes[j].type)
        }
    }

    // MARK: common subexpressions

    /// Pass 3: hash-conses nodes with equal op, type, arguments, immediate and table, so
    /// `$a*$a + $a*$a` computes `$a*$a` once. Returns the new list; `roots` are remapped.
    static func eliminateCommonSubexpressions(_ nodes: [KNode], roots: inout [Int]) -> [KNode] {
        var out: [KNode] = []
        var seen: [KNodeKey: Int] = [:]
        var map = [Int](repeating: -1, count: nodes.count)
        for (j, n) in nodes.enumerated() {
            var m = n
            m.args = n.args.map { map[$0] }
            if let k = seen[m.cseKey] { map[j] = k; continue }
            out.append(m); map[j] = out.count - 1; seen[m.cseKey] = out.count - 1
        }
        roots = roots.map { map[$0] }
        return out
    }

    // MARK: multiply-add fusion

    /// Pass 4: rewrites `add(mul(a, b), c)` into `fma(a, b, c)` when the product has no
    /// other use (the product then dies in the next pass).
    static func fuseMultiplyAdd(_ nodes: inout [KNode], roots: [Int]) {
        var uses = useCounts(nodes, roots: roots)
        for j in nodes.indices where nodes[j].op == .addF {
            let x = nodes[j].args[0], y = nodes[j].args[1]
            for (m, other) in [(x, y), (y, x)] where nodes[m].op == .mulF && uses[m] == 1 {
                nodes[j] = KNode(kind: .op(.fmaF), type: .f, args: [nodes[m].args[0], nodes[m].args[1], other], note: nodes[j].note)
                uses[m] = 0
                break
            }
        }
    }

    /// Pass 4b: rewrites `div(sub(a, b), c)` into `subDiv(a, b, c)` when the difference has
    /// no other use. Bit for bit the same result: both steps still round.
    static func fuseSubtractDivide(_ nodes: inout [KNode], roots: [Int]) {
        var uses = useCounts(nodes, roots: roots)
        for j in nodes.indices where nodes[j].op == .divF {
            let d = nodes[j].args[0]
            guard nodes[d].op == .subF, uses[d] == 1 else { continue }
            nodes[j] = KNode(kind: .op(.subDivF), type: .f, args: [nodes[d].args[0], nodes[d].args[1], nodes[j].args[1]],
                             note: nodes[j].note)
            uses[d] = 0
        }
    }

    /// Pass 4c: rewrites `if_else(cmp(a, b), c, d)` with a float comparison into
    /// `cmpSel(a, b, c, d)` when the mask has no other use: the same values, selected in the
    /// comparison's own loop instead of through a mask block.
    static func fuseCompareSelect(_ nodes: inout [KNode], roots: [Int]) {
        var uses = useCounts(nodes, roots: roots)
        for j in nodes.indices where nodes[j].op == .selF {
            let m = nodes[j].args[0]
            guard let cmp = nodes[m].op, cmp.isFloatComparison, uses[m] == 1 else { continue }
            nodes[j] = KNode(kind: .op(.cmpSelF), type: .f, args: nodes[m].args + nodes[j].args.dropFirst(), imm: Int64(cmp.rawValue),
                             note: nodes[j].note)
            uses[m] = 0
        }
    }

    /// Pass 4d: folds `sqrt`, `abs` or `-` of a float arithmetic result that has no other
    /// use into that op as its epilogue, so the value is stored once, finished. Each step
    /// still rounds as unfused (bit for bit the same).
    static func fuseEpilogues(_ nodes: inout [KNode], roots: [Int]) {
        var uses = useCounts(nodes, roots: roots)
        for j in nodes.indices {
            guard let post = nodes[j].op, post.isEpilogue else { continue }
            let p = nodes[j].args[0]
            guard let producer = nodes[p].op, producer.takesEpilogue, nodes[p].post == nil, uses[p] == 1 else { continue }
            var fused = nodes[p]
            fused.post = post
            fused.note = nodes[j].note
            nodes[j] = fused
            uses[p] = 0
        }
    }

    static func useCounts(_ nodes: [KNode], roots: [Int]) -> [Int] {
        var uses = [Int](repeating: 0, count: nodes.count)
        for n in nodes { for a in n.args { uses[a] += 1 } }
        for r in roots { uses[r] += 1 }
        return uses
    }

    // MARK: dead code

    /// Pass 5: drops nodes the roots do not need.
    static func eliminateDeadCode(_ nodes: [KNode], roots: inout [Int]) -> [KNode] {
        var live = [Bool](repeating: false, count: nodes.count)
        for r in roots { live[r] = true }
        for j in nodes.indices.reversed() where live[j] { for a in nodes[j].args { live[a] = true } }
        var out: [KNode] = []
        var map = [Int](repeating: -1, count: nodes.count)
        for (j, n) in nodes.enumerated() where live[j] {
            var m = n; m.args = n.args.map { map[$0] }
            out.append(m); map[j] = out.count - 1
        }
        roots = roots.map { map[$0] }
        return out
    }

    // MARK: register allocation

    struct Allocation {
        var instrs: [KInstr] = []
        var slots: [KSlot] = []
        var registerCount = 0
        /// The slots holding the roots after the last instruction.
        var rootSlots: [Int] = []
    }

    /// Pass 6: assigns each op node a block register by linear scan, freeing a register
    /// after its last use so later ops reuse it. In column mode the roots
    /// write straight into the output (value, then validity); in sink mode they stay in
    /// registers for the reduction to read.
    static func allocateRegisters(_ nodes: [KNode], roots: [Int], toOutput: Bool, aux: [KAux]) -> Allocation {
        var alloc = Allocation()
        var slotIndex: [KSlot: Int] = [:]
        func slot(_ s: KSlot) -> Int {
            if let k = slotIndex[s] { return k }
            alloc.slots.append(s); slotIndex[s] = alloc.slots.count - 1; return alloc.slots.count - 1
        }
        var lastUse = [Int](repeating: -1, count: nodes.count)
        for (j, n) in nodes.enumerated() { for a in n.args { lastUse[a] = j } }
        for r in roots { lastUse[r] = Int.max }
        var nodeSlot = [Int](repeating: -1, count: nodes.count)
        var free: [Int] = []
        var isRegister = [Int: Int]()   // slot → register number
        for (j, n) in nodes.enumerated() {
            switch n.kind {
            case .column(let name): nodeSlot[j] = slot(.column(name, n.type))
            case .validity(let name): nodeSlot[j] = slot(.validity(name))
            case .constant(let bits): nodeSlot[j] = slot(.constant(n.type, bits))
            case .param(let k): nodeSlot[j] = slot(.param(k, n.type))
            case .paramValidity(let k): nodeSlot[j] = slot(.paramValidity(k, .b))
            case .op(let op):
                if toOutput, let which = roots.firstIndex(of: j) {
                    nodeSlot[j] = slot(which == 0 ? .output(n.type) : .outputValidity)
                } else {
                    let r: Int
                    if let f = free.popLast() { r = f } else { r = alloc.registerCount; alloc.registerCount += 1 }
                    nodeSlot[j] = slot(.register(r)); isRegister[nodeSlot[j]] = r
                }
                // Operands dying here are freed only after the destination is chosen, so
                // a destination never aliases an operand (keeps the loops vectorized).
                for a in Set(n.args) where lastUse[a] == j {
                    if let r = isRegister[nodeSlot[a]] { free.append(r) }
                }
                let s = n.args.map { Int32(nodeSlot[$0]) }
                alloc.instrs.append(KInstr(op: op, dst: Int32(nodeSlot[j]), a: s.count > 0 ? s[0] : -1,
                                           b: s.count > 1 ? s[1] : -1, c: s.count > 2 ? s[2] : -1,
                                           d: s.count > 3 ? s[3] : -1, imm: n.imm, post: n.post, aux: Int32(n.aux),
                                           note: n.note))
            }
        }
        alloc.rootSlots = roots.map { nodeSlot[$0] }
        return alloc
    }

    // MARK: validation

    /// Pass 7: checks the program before it may run (numexpr `check_program`): operand
    /// counts and types match the opcode table, registers are written before read,
    /// inputs are never written, tables exist, and each output is written exactly once.
    static func validate(_ a: Allocation, auxCount: Int, toOutput: Bool, hasValidity: Bool) throws(EngineError) {
        func fail(_ m: String) -> EngineError { .invalidArgument("internal error: invalid kernel program: " + m) }
        var regType: [Int: KType] = [:]
        var outputsWritten = 0, validityWritten = 0
        func typeOf(_ s: Int32) throws(EngineError) -> KType {
            guard s >= 0, Int(s) < a.slots.count else { throw fail("slot \(s) out of range") }
            switch a.slots[Int(s)] {
            case .register(let r):
                guard let t = regType[r] else { throw fail("r\(r) read before written") }
                return t
            case .column(_, let t), .constant(let t, _), .param(_, let t): return t
            case .validity, .paramValidity: return .b
            case .output, .outputValidity: throw fail("reads an output")
            }
        }
        for (k, ins) in a.instrs.enumerated() {
            let spec = ins.op.spec
            let slots = [ins.a, ins.b, ins.c, ins.d]
            let operands = Array(slots.prefix(spec.args.count))
            guard operands.allSatisfy({ $0 >= 0 }), slots.dropFirst(spec.args.count).allSatisfy({ $0 == -1 }) else {
                throw fail("\(k): \(spec.name) takes \(spec.args.count) operands, in its first slots")
            }
            if let post = ins.post, !(post.isEpilogue && ins.op.takesEpilogue) {
                throw fail("\(k): \(spec.name) cannot end with \(post.spec.name)")
            }
            if ins.op == .cmpSelF, !(KOp(rawValue: Int(ins.imm))?.isFloatComparison ?? false) {
                throw fail("\(k): \(spec.name) has no float comparison (imm \(ins.imm))")
            }
            for (o, t) in zip(operands, spec.args) {
                let actual = try typeOf(o)
                guard actual == t else { throw fail("\(k): \(spec.name) operand is \(actual.letter), expected \(t.letter)") }
            }
            guard ins.op.usesAux == (ins.aux >= 0), ins.aux < auxCount else { throw fail("\(k): bad table index \(ins.aux)") }
            guard ins.dst >= 0, Int(ins.dst) < a.slots.count else { throw fail("\(k): bad destination") }
            switch a.slots[Int(ins.dst)] {
            case .register(let r): regType[r] = spec.result
            case .output(let t):
                guard t == spec.result else { throw fail("\(k): output type") }
                outputsWritten += 1
            case .outputValidity:
                guard spec.result == .b else { throw fail("\(k): validity type") }
                validityWritten += 1
            default: throw fail("\(k): writes an input slot")
            }
        }
        if toOutput {
            guard outputsWritten == 1, validityWritten == (hasValidity ? 1 : 0) else { throw fail("outputs written \(outputsWritten)/\(validityWritten)") }
        } else {
            for s in a.rootSlots { _ = try typeOf(Int32(s)) }
        }
    }
}
