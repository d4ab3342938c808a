// The column-expression kernel, in reading order:
//   KExpr.swift                 the IR the runtime lowers `$` expressions to
//   KernelOpcode.swift          the opcode table (data): typed signatures and semantics
//   KernelLowering.swift        pass 1, type resolution with explicit casts
//   KernelPasses.swift          folding, CSE, fusion (multiply-add, subtract-divide,
//                               compare-select, epilogues), dead code, registers, validation
//   KernelProgram.swift         the pipeline and the listing (this file)
//   KernelProgram+Run.swift     binding a program to a table and running it
//   KernelExecutor.swift        the block loop on every usable core, one switch per op per block
//   KernelLoops.swift, KernelMath.swift   the per-op loops and the vectorizable exp/log
//   KernelReduction*.swift      reductions as a fused first pass, per table or per group
//   KernelAggregate.swift       one value per group; evaluateScalar

/// A compiled column expression: a validated block program plus the reductions it
/// broadcasts. Compile once, run over any table with the same column types.
public struct KernelProgram: Sendable {
    /// The expression this program computes.
    public private(set) var expression: KExpr
    /// The type of the column `run` returns.
    public var resultType: DType { formatsStrings ? .string : resultKType.dtype }

    let resultKType: KType
    /// Whether the result has a validity mask (int/bool results that can be missing).
    let hasValidity: Bool
    let instrs: [KInstr]
    let slots: [KSlot]
    let registerCount: Int
    let rootSlots: [Int]
    let reductions: [KReductionPlan]
    let aux: [KAux]
    /// A bare string column is returned as is (its dictionary cannot go through blocks).
    let passthroughColumn: String?
    /// String literals used as values: the first entries of the program dictionary.
    let literals: [String]
    /// The referenced columns' types and validity presence the program was compiled for.
    let schema: [KColumnSignature]
    let options: KCompileOptions
    let toOutput: Bool
    /// A top-level `cast(x, "string")` of a number: the block program computes x and
    /// `run` formats the values (a string dictionary cannot be built block by block).
    var formatsStrings = false

    /// Compiles `e` against `table`'s column types: unknown columns and type errors are
    /// reported here, before any row is touched.
    public static func compile(_ e: KExpr, for table: Table) throws(EngineError) -> KernelProgram {
        try kernelCheckDepth(e)
        return try compile(e, for: table, options: KCompileOptions(), toOutput: true)
    }

    /// The pipeline: resolve types → fold constants → eliminate common subexpressions →
    /// fuse multiply-adds, subtract-divides, compare-selects and epilogues → eliminate dead code → allocate registers → validate.
    static func compile(_ e: KExpr, for table: Table, options: KCompileOptions, toOutput: Bool) throws(EngineError) -> KernelProgram {
        if toOutput, case .call("cast", let args) = e, args.count == 2, case .string("string") = args[1] {
            var inner = try compile(args[0], for: table, options: options, toOutput: true)
            if inner.resultKType != .c {
                inner.expression = e; inner.formatsStrings = true
                return inner
            }
        }
        var lowering = KLowering(table: table)
        let value = try lowering.lower(e)
        var nodes = lowering.nodes
        var roots = [value.node] + (value.valid.map { [$0] } ?? [])
        if options.foldConstants { KPasses.foldConstants(&nodes) }
        if options.eliminateCommonSubexpressions { nodes = KPasses.eliminateCommonSubexpressions(nodes, roots: &roots) }
        if options.fuseMultiplyAdd { KPasses.fuseMultiplyAdd(&nodes, roots: roots) }
        if options.fuseSubtractDivide { KPasses.fuseSubtractDivide(&nodes, roots: roots) }
        if options.fuseCompareSelect { KPasses.fuseCompareSelect(&nodes, roots: roots) }
        if options.fuseEpilogues { KPasses.fuseEpilogues(&nodes, roots: roots) }
        nodes = KPasses.eliminateDeadCode(nodes, roots: &roots)
        var passthrough: String? = nil
        if value.type == .c, case .column(let name) = nodes[roots[0]].kind { passthrough = name }
        if toOutput && passthrough == nil { kernelAddOutputCopies(&nodes, &roots) }
        let alloc = KPasses.allocateRegisters(nodes, roots: roots, toOutput: toOutput && passthrough == nil, aux: lowering.aux)
        if passthrough == nil {
            try KPasses.validate(alloc, auxCount: lowering.aux.count, toOutput: toOutput, hasValidity: roots.count > 1)
        }
        return KernelProgram(expression: e, resultKType: value.type, hasValidity: roots.count > 1,
                             instrs: alloc.instrs, slots: alloc.slots, registerCount: alloc.registerCount,
                             rootSlots: alloc.rootSlots, reductions: lowering.reductions, aux: lowering.aux,
                             passthroughColumn: passthrough, literals: lowering.literals,
                             schema: kernelSignature(of: e, in: table),
                             options: options, toOutput: toOutput)
    }

    /// A listing of the program: reductions, slots and one line per instruction with its
    /// typed opcode name and semantics (for `explain_kernel`).
    public func disassembly() -> String {
        var lines = ["kernel \(expression)", "  result \(resultType.rawValue)\(hasValidity ? " (with validity)" : ""), "
                     + "\(KernelExecutor.blockSize)-row blocks, \(registerCount) register\(registerCount == 1 ? "" : "s"), "
                     + "\(instrs.count) instruction\(instrs.count == 1 ? "" : "s")"]
        if let passthroughColumn { lines.append("  passes column $\(passthroughColumn) through"); return lines.joined(separator: "\n") }
        for (k, r) in reductions.enumerated() {
            lines.append("  p\(k) = \(r.expr)   (first pass\(r.resultType == .i ? ", int" : ""), broadcast)")
        }
        for (k, a) in aux.enumerated() { lines.append("  t\(k) = \(kernelAuxText(a))") }
        for (k, ins) in instrs.enumerated() {
            let spec = ins.op.spec
            var operands = [ins.a, ins.b, ins.c, ins.d].filter { $0 >= 0 }.map { slotText(Int($0)) }
            if ins.op == .roundF { operands.append("digits=\(ins.imm)") }
            if ins.op == .cmpSelF, let cmp = KOp(rawValue: Int(ins.imm)) { operands.append("cmp=\(cmp.spec.call)") }
            if ins.aux >= 0 { operands.append("t\(ins.aux)") }
            let full = spec.name + (ins.post.map { "+" + $0.spec.call } ?? "")
            let name = full.padding(toLength: max(full.count, 11), withPad: " ", startingAt: 0)
            let text = "  \(String(k).kernelLeftPad(3)): \(name) \(slotText(Int(ins.dst))) <- \(operands.joined(separator: ", "))"
            let semantics = ins.post.map { spec.semantics + ", then \($0.spec.call) (fused)" } ?? spec.semantics
            lines.append(text.padding(toLength: max(text.count, 48), withPad: " ", startingAt: 0) + " ; " + semantics)
        }
        if !toOutput { lines.append("  result in " + rootSlots.map { slots[$0].listing }.joined(separator: ", ")) }
        if formatsStrings { lines.append("  then formats the \(resultKType.dtype.rawValue) values as strings") }
        return lines.joined(separator: "\n")
    }
}

extension KernelProgram {
    /// A slot's listing; string literal codes show as the literal.
    func slotText(_ s: Int) -> String {
        if case .constant(.c, let bits) = slots[s] {
            let k = Int(Int64(bitPattern: bits))
            return k >= 0 && k < literals.count ? "\"\(literals[k])\"" : "#missing"
        }
        return slots[s].listing
    }
}

extension String {
    func kernelLeftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}

func kernelAuxText(_ a: KAux) -> String {
    switch a {
    case .stringPredicate(let c, let op, let lit): return "per code of $\(c): value \(op) \"\(lit)\""
    case .stringRank(let c, let union): return "per code of $\(c): rank among " + union.map { "$" + $0 }.joined(separator: ", ")
    case .stringNumber(let c): return "per code of $\(c): parsed number"
    case .stringRemap(let c): return "per code of $\(c): code in the program dictionary"
    case .stringFunction(let f, let c?): return "per code of $\(c): code of \(f.text("value")) in the program dictionary"
    case .stringFunction(let f, nil): return "per code of the program dictionary so far: code of \(f.text("value"))"
    }
}

/// In column mode a root that is an input, or that another node still reads, is copied
/// into the output by an explicit copy op.
func kernelAddOutputCopies(_ nodes: inout [KNode], _ roots: inout [Int]) {
    let uses = KPasses.useCounts(nodes, roots: [])
    for (w, r) in roots.enumerated() where nodes[r].op == nil || uses[r] > 0 || (w == 1 && r == roots[0]) {
        let t = nodes[r].type
        let copy: KOp = t == .f ? .copyF : t == .i ? .copyI : t == .b ? .copyB : .copyC
        nodes.append(KNode(kind: .op(copy), type: t, args: [r]))
        roots[w] = nodes.count - 1
    }
}

/// A referenced column's compile-time shape.
struct KColumnSignature: Sendable, Equatable {
    let name: String
    let dtype: DType
    let hasValidity: Bool
}

func kernelColumnNames(_ e: KExpr, into out: inout [String]) {
    switch e {
    case .column(let n): if !out.contains(n) { out.append(n) }
    case .call(_, let args): for a in args { kernelColumnNames(a, into: &out) }
    case .reduce(_, let a, let extra): kernelColumnNames(a, into: &out); for x in extra { kernelColumnNames(x, into: &out) }
    default: break
    }
}

func kernelSignature(of e: KExpr, in table: Table) -> [KColumnSignature] {
    var names: [String] = []
    kernelColumnNames(e, into: &names)
    return names.compactMap { n in
        guard let i = table.index(of: n) else { return nil }
        let c = table.columns[i]
        let v: Bool
        switch c.storage {
        case .int(_, let m), .bool(_, let m): v = m != nil
        default: v = false
        }
        return KColumnSignature(name: n, dtype: c.dtype, hasValidity: v)
    }
}
