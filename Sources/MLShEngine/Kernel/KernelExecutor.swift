import Foundation
import MLShCommon

/// One instruction of a block program: operands are slot numbers (-1 when unused).
struct KInstr: Sendable, Equatable {
    var op: KOp
    var dst: Int32
    var a: Int32 = -1, b: Int32 = -1, c: Int32 = -1, d: Int32 = -1
    /// Immediate (round's digits; the comparison of `cmpSelF`).
    var imm: Int64 = 0
    /// A unary float op applied to each result before it is stored (`KNode.post`).
    var post: KOp? = nil
    /// Index into the bound auxiliary tables (string tables, group values), or -1.
    var aux: Int32 = -1
    /// The source expression this instruction computes, for error messages.
    var note: String = ""
}

/// A table an aux-using op reads at run time (string look-ups, per-group values).
struct KAuxTable {
    var base: UnsafeRawPointer?
    var count: Int
}

/// Where a slot's block lives while executing.
enum KExecSlot {
    /// Worker-private block register `k`.
    case register(Int)
    /// A block-sized buffer shared by all workers (constants, broadcast scalars).
    case fixed(UnsafeMutableRawPointer)
    /// A full-length array (input column, output, group ids): base + row · elementSize.
    case strided(UnsafeMutableRawPointer?, Int)
}


/// The unary ops that run as another op's epilogue (`KInstr.post`), as types so each
/// fused loop is specialised for its pair.
protocol KEpilogue { static func apply(_ x: Double) -> Double }
enum KSqrtEpilogue: KEpilogue { @inline(__always) static func apply(_ x: Double) -> Double { KLoop.sqrt(x) } }
enum KAbsEpilogue: KEpilogue {
    @inline(__always) static func apply(_ x: Double) -> Double { Double(bitPattern: x.bitPattern & 0x7fff_ffff_ffff_ffff) }
}
enum KNegEpilogue: KEpilogue { @inline(__always) static func apply(_ x: Double) -> Double { -x } }
/// The plain op: its result as computed.
enum KNoEpilogue: KEpilogue { @inline(__always) static func apply(_ x: Double) -> Double { x } }

/// The block executor: one hot loop over fixed-size blocks, one `switch` per op per block.
enum KernelExecutor {
    /// Rows per block. 4096 rows make a block register 32 KiB, so a typical program's few
    /// registers stay in Zen 4's 1 MiB L2 (the hottest in L1) while per-block dispatch is
    /// amortised over 4096 elements. Measured with KernelBench (10M rows, minimum process
    /// CPU ms of both workers over 7 runs, on the shared 2-core machine; wall times were
    /// too noisy to rank): 1024, 2048, 4096, 8192 and 16384 rows came within ~10 % of
    /// each other on every benchmark expression, 4096–8192 lowest (e.g. `a*b+c` 18.8–21.0
    /// ms CPU, `sum(a*b)` 8.6–10.4 vs 11.6–12.3 at 1024–2048); 4096 also keeps the
    /// registers of deep programs (≈ 10) inside L2.
    static let blockSize = 4096

    /// Row count below which one worker is used (thread hand-off costs more than it saves).
    static let parallelThreshold = 1 << 16

    /// The cores the process may use.
    static let cores = Processors.usable

    /// Chunks per core for dynamic balancing.
    static let chunksPerCore = 8

    /// The row ranges the workers take: block-aligned chunks, several per core, handed out
    /// dynamically by `concurrentPerform`, so a worker the OS deschedules (the machine is
    /// shared) leaves its chunks to the other instead of holding up the run. Reductions
    /// keep one accumulator set per chunk; with many groups that state is large, so then
    /// there is one chunk per core.
    static func partition(rows: Int, groups: Int = 1) -> [Range<Int>] {
        guard rows >= parallelThreshold, cores > 1 else { return [0..<rows] }
        let blocks = (rows + blockSize - 1) / blockSize
        let chunks = max(1, groups > 1024 ? cores : min(chunksPerCore * cores, blocks / 4))
        let per = (blocks + chunks - 1) / chunks
        return stride(from: 0, to: blocks, by: per).map { b in (b * blockSize)..<min(rows, (b + per) * blockSize) }
    }

    /// Runs `instrs` over `rows` rows. `perBlock(worker, start, count, slots)` is called
    /// after each block (reduction sinks). Returns the note of an instruction that overflowed.
    static func execute(instrs: [KInstr], slots: [KExecSlot], registers: Int, rows: Int, groups: Int = 1,
                        aux: [KAuxTable],
                        perBlock: ((Int, Int, Int, UnsafeMutablePointer<UnsafeMutableRawPointer>) -> Void)? = nil) -> String? {
        let job = KExecJob(instrs: instrs, slots: slots, registers: registers, ranges: partition(rows: rows, groups: groups),
                           aux: aux, perBlock: perBlock)
        if job.ranges.count == 1 { job.run(0) } else {
            DispatchQueue.concurrentPerform(iterations: job.ranges.count) { w in job.run(w) }
        }
        return job.failures.compactMap { $0 }.first
    }

    /// One run's shared state; worker `w` writes only `failures[w]` and its own rows.
    final class KExecJob: @unchecked Sendable {
        let instrs: [KInstr]
        let slots: [KExecSlot]
        let registers: Int
        let ranges: [Range<Int>]
        let aux: [KAuxTable]
        let perBlock: ((Int, Int, Int, UnsafeMutablePointer<UnsafeMutableRawPointer>) -> Void)?
        let failures: UnsafeMutableBufferPointer<String?>
        /// Register files, reused by the chunks that run one after another on a thread.
        let lock = NSLock()
        var pool: [UnsafeMutableRawPointer] = []

        init(instrs: [KInstr], slots: [KExecSlot], registers: Int, ranges: [Range<Int>], aux: [KAuxTable],
             perBlock: ((Int, Int, Int, UnsafeMutablePointer<UnsafeMutableRawPointer>) -> Void)?) {
            self.instrs = instrs; self.slots = slots; self.registers = registers; self.ranges = ranges
            self.aux = aux; self.perBlock = perBlock
            failures = .allocate(capacity: ranges.count)
            failures.initialize(repeating: nil)
        }
        deinit {
            failures.deinitialize(); failures.deallocate()
            for p in pool { p.deallocate() }
        }

        func run(_ w: Int) {
            lock.lock()
            let regs = pool.popLast() ?? UnsafeMutableRawPointer.allocate(byteCount: max(1, registers) * blockSize * 8, alignment: 64)
            lock.unlock()
            failures[w] = KernelExecutor.runWorker(instrs: instrs, slots: slots, regMemory: regs,
                                                   range: ranges[w], worker: w, aux: aux, perBlock: perBlock)
            lock.lock(); pool.append(regs); lock.unlock()
        }
    }

    fileprivate static func runWorker(instrs: [KInstr], slots: [KExecSlot], regMemory: UnsafeMutableRawPointer, range: Range<Int>,
                                  worker: Int, aux: [KAuxTable],
                                  perBlock: ((Int, Int, Int, UnsafeMutablePointer<UnsafeMutableRawPointer>) -> Void)?) -> String? {
        let regBytes = blockSize * 8
        let table = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: max(1, slots.count))
        defer { table.deallocate() }
        // Strided slots are re-pointed per block; the others are fixed for the whole run.
        var strided: [(Int, UnsafeMutableRawPointer, Int)] = []
        for (s, slot) in slots.enumerated() {
            switch slot {
            case .register(let k): table[s] = regMemory + k * regBytes
            case .fixed(let p): table[s] = p
            case .strided(let base, let size):
                table[s] = regMemory   // placeholder until the first block
                if let base { strided.append((s, base, size)) }
            }
        }
        return instrs.withUnsafeBufferPointer { ins -> String? in
            aux.withUnsafeBufferPointer { auxp -> String? in
                var start = range.lowerBound
                while start < range.upperBound {
                    let n = min(blockSize, range.upperBound - start)
                    for (s, base, size) in strided { table[s] = base + start * size }
                    for k in 0..<ins.count where apply(ins[k], table, n, auxp) {
                        return ins[k].note
                    }
                    perBlock?(worker, start, n, table)
                    start += n
                }
                return nil
            }
        }
    }

    /// A float arithmetic op (`KOp.takesEpilogue`) with its unary epilogue, if any.
    @inline(__always) static func arithmetic(_ ins: KInstr, _ t: UnsafeMutablePointer<UnsafeMutableRawPointer>, _ n: Int) {
        switch ins.post {
        case nil: epilogueLoop(ins, t, n, KNoEpilogue.self)
        case .sqrtF: epilogueLoop(ins, t, n, KSqrtEpilogue.self)
        case .absF: epilogueLoop(ins, t, n, KAbsEpilogue.self)
        case .negF: epilogueLoop(ins, t, n, KNegEpilogue.self)
        default: break   // validation admits no other epilogue
        }
    }

    /// A float arithmetic op with its unary epilogue `G`, in one loop per pair (each
    /// specialised and vectorised: `G.apply` is a static function, inlined; a closure
    /// parameter captured by the loop's closure would be called per element).
    @inline(__always) static func epilogueLoop<G: KEpilogue>(_ ins: KInstr, _ t: UnsafeMutablePointer<UnsafeMutableRawPointer>,
                                                             _ n: Int, _: G.Type) {
        @inline(__always) func f(_ s: Int32) -> UnsafeMutablePointer<Double> { t[Int(s)].assumingMemoryBound(to: Double.self) }
        let d = f(ins.dst)
        switch ins.op {
        case .addF: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply($0 + $1) }
        case .subF: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply($0 - $1) }
        case .mulF: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply($0 * $1) }
        case .divF: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply($0 / $1) }
        case .min2F: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply(KLoop.min2($0, $1)) }
        case .max2F: KLoop.map2(n, d, f(ins.a), f(ins.b)) { G.apply(KLoop.max2($0, $1)) }
        case .fmaF: KLoop.map3(n, d, f(ins.a), f(ins.b), f(ins.c)) { G.apply($2.addingProduct($0, $1)) }
        case .subDivF: KLoop.map3(n, d, f(ins.a), f(ins.b), f(ins.c)) { G.apply(($0 - $1) / $2) }
        default: break   // validation admits only these (`KOp.takesEpilogue`)
        }
    }

    /// Executes one instruction over `n` rows. Returns true on int overflow.
    static func apply(_ ins: KInstr, _ t: UnsafeMutablePointer<UnsafeMutableRawPointer>, _ n: Int,
                      _ aux: UnsafeBufferPointer<KAuxTable>) -> Bool {
        @inline(__always) func f(_ s: Int32) -> UnsafeMutablePointer<Double> { t[Int(s)].assumingMemoryBound(to: Double.self) }
        @inline(__always) func i(_ s: Int32) -> UnsafeMutablePointer<Int64> { t[Int(s)].assumingMemoryBound(to: Int64.self) }
        @inline(__always) func b(_ s: Int32) -> UnsafeMutablePointer<UInt8> { t[Int(s)].assumingMemoryBound(to: UInt8.self) }
        @inline(__always) func c(_ s: Int32) -> UnsafeMutablePointer<Int32> { t[Int(s)].assumingMemoryBound(to: Int32.self) }
        let d = ins.dst, x = ins.a, y = ins.b, z = ins.c
        switch ins.op {
        case .addF, .subF, .mulF, .divF, .min2F, .max2F, .fmaF, .subDivF: arithmetic(ins, t, n)
        case .modF: let o = f(d), p = f(x), q = f(y); for k in 0..<n { o[k] = KLoop.modF(p[k], q[k]) }
        case .powF: let o = f(d), p = f(x), q = f(y); for k in 0..<n { o[k] = Foundation.pow(p[k], q[k]) }
        case .cmpSelF:
            // Branch-free like selF, with the comparison in the same loop.
            let o = f(d), p = f(x), q = f(y), u = f(z), v = f(ins.d)
            @inline(__always) func select(_ test: (Double, Double) -> Bool) {
                for k in 0..<n {
                    o[k] = Double(bitPattern: KLoop.blend(test(p[k], q[k]) ? 1 : 0, u[k].bitPattern, v[k].bitPattern))
                }
            }
            switch KOp(rawValue: Int(ins.imm)) {
            case .eqF: select(==)
            case .neF: select(!=)
            case .ltF: select(<)
            case .leF: select(<=)
            case .gtF: select(>)
            case .geF: select(>=)
            default: break   // validation admits only these
            }
        case .negF: KLoop.map1(n, f(d), f(x)) { -$0 }
        case .absF: KLoop.map1(n, f(d), f(x)) { Double(bitPattern: $0.bitPattern & 0x7fff_ffff_ffff_ffff) }
        case .sqrtF: KLoop.map1(n, f(d), f(x), KLoop.sqrt)
        case .expF: KLoop.map1(n, f(d), f(x), KernelMath.exp)
        case .logF: KLoop.map1(n, f(d), f(x), KernelMath.log)
        case .log1pF: KLoop.map1(n, f(d), f(x), KernelMath.log1p)
        case .log2F: let o = f(d), p = f(x); for k in 0..<n { o[k] = Foundation.log2(p[k]) }
        case .log10F: let o = f(d), p = f(x); for k in 0..<n { o[k] = Foundation.log10(p[k]) }
        case .sinF: let o = f(d), p = f(x); for k in 0..<n { o[k] = Foundation.sin(p[k]) }
        case .cosF: let o = f(d), p = f(x); for k in 0..<n { o[k] = Foundation.cos(p[k]) }
        case .tanF: let o = f(d), p = f(x); for k in 0..<n { o[k] = Foundation.tan(p[k]) }
        case .floorF: KLoop.map1(n, f(d), f(x)) { $0.rounded(.down) }
        case .ceilF: KLoop.map1(n, f(d), f(x)) { $0.rounded(.up) }
        case .roundF: let o = f(d), p = f(x), g = ins.imm; for k in 0..<n { o[k] = KLoop.round(p[k], digits: g) }
        case .signF: KLoop.map1(n, f(d), f(x), KLoop.sign)

        case .addI:
            let o = i(d), p = i(x), q = i(y); var ov = false
            for k in 0..<n { let (r, v) = p[k].addingReportingOverflow(q[k]); o[k] = r; ov = ov || v }
            return ov
        case .subI:
            let o = i(d), p = i(x), q = i(y); var ov = false
            for k in 0..<n { let (r, v) = p[k].subtractingReportingOverflow(q[k]); o[k] = r; ov = ov || v }
            return ov
        case .mulI:
            let o = i(d), p = i(x), q = i(y); var ov = false
            for k in 0..<n { let (r, v) = p[k].multipliedReportingOverflow(by: q[k]); o[k] = r; ov = ov || v }
            return ov
        case .modI: let o = i(d), p = i(x), q = i(y); for k in 0..<n { o[k] = KLoop.modI(p[k], q[k]) }
        case .powI:
            let o = i(d), p = i(x), q = i(y); var ov = false
            for k in 0..<n { let (r, v) = KLoop.powI(p[k], q[k]); o[k] = r; ov = ov || v }
            return ov
        case .min2I: let o = i(d), p = i(x), q = i(y); for k in 0..<n { o[k] = Swift.min(p[k], q[k]) }
        case .max2I: let o = i(d), p = i(x), q = i(y); for k in 0..<n { o[k] = Swift.max(p[k], q[k]) }
        case .negI:
            let o = i(d), p = i(x); var ov = false
            for k in 0..<n { let (r, v) = Int64(0).subtractingReportingOverflow(p[k]); o[k] = r; ov = ov || v }
            return ov
        case .absI:
            let o = i(d), p = i(x); var ov = false
            for k in 0..<n { let v = p[k]; ov = ov || v == .min; o[k] = v < 0 ? 0 &- v : v }
            return ov
        case .signI: let o = i(d), p = i(x); for k in 0..<n { o[k] = p[k].signum() }

        case .eqF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] == q[k] ? 1 : 0 }
        case .neF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] != q[k] ? 1 : 0 }
        case .ltF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] < q[k] ? 1 : 0 }
        case .leF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] <= q[k] ? 1 : 0 }
        case .gtF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] > q[k] ? 1 : 0 }
        case .geF: let o = b(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k] >= q[k] ? 1 : 0 }
        case .eqI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] == q[k] ? 1 : 0 }
        case .neI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] != q[k] ? 1 : 0 }
        case .ltI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] < q[k] ? 1 : 0 }
        case .leI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] <= q[k] ? 1 : 0 }
        case .gtI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] > q[k] ? 1 : 0 }
        case .geI: let o = b(d), p = i(x), q = i(y); for k in 0..<n { o[k] = p[k] >= q[k] ? 1 : 0 }

        case .notB: let o = b(d), p = b(x); for k in 0..<n { o[k] = p[k] ^ 1 }
        case .andB: let o = b(d), p = b(x), q = b(y); for k in 0..<n { o[k] = p[k] & q[k] }
        case .orB: let o = b(d), p = b(x), q = b(y); for k in 0..<n { o[k] = p[k] | q[k] }

        case .selF:
            // Branch-free: both sides are loaded and blended by a bit mask (a conditional
            // load would compile to a per-element pointer select).
            let o = f(d), m = b(x), p = f(y), q = f(z)
            for k in 0..<n { o[k] = Double(bitPattern: KLoop.blend(m[k], p[k].bitPattern, q[k].bitPattern)) }
        case .selI:
            let o = i(d), m = b(x), p = i(y), q = i(z)
            for k in 0..<n { o[k] = Int64(bitPattern: KLoop.blend(m[k], UInt64(bitPattern: p[k]), UInt64(bitPattern: q[k]))) }
        case .selB: let o = b(d), m = b(x), p = b(y), q = b(z); for k in 0..<n { let w = 0 &- m[k]; o[k] = (p[k] & w) | (q[k] & ~w) }

        case .castFI: let o = f(d), p = i(x); for k in 0..<n { o[k] = Double(p[k]) }
        case .castFB: let o = f(d), p = b(x); for k in 0..<n { o[k] = Double(p[k]) }
        case .castIB: let o = i(d), p = b(x); for k in 0..<n { o[k] = Int64(p[k]) }
        case .castIF:
            let o = i(d), p = f(x)
            for k in 0..<n { let v = p[k]; o[k] = kernelIsInt64Representable(v) ? Int64(v) : 0 }
        case .validIF: let o = b(d), p = f(x); for k in 0..<n { o[k] = kernelIsInt64Representable(p[k]) ? 1 : 0 }
        case .castBF: let o = b(d), p = f(x); for k in 0..<n { o[k] = p[k] != 0 ? 1 : 0 }
        case .castBI: let o = b(d), p = i(x); for k in 0..<n { o[k] = p[k] != 0 ? 1 : 0 }

        case .isnanF: let o = b(d), p = f(x); for k in 0..<n { o[k] = p[k] != p[k] ? 1 : 0 }
        case .isnanC: let o = b(d), p = c(x); for k in 0..<n { o[k] = p[k] < 0 ? 1 : 0 }
        case .nanMaskF: let o = f(d), p = f(x), m = b(y); for k in 0..<n { o[k] = Double(bitPattern: KLoop.blend(m[k], p[k].bitPattern, Double.nan.bitPattern)) }
        case .zeroMaskI: let o = i(d), p = i(x), m = b(y); for k in 0..<n { o[k] = p[k] & (0 &- Int64(m[k])) }
        case .fillnanF: let o = f(d), p = f(x), q = f(y); for k in 0..<n { o[k] = p[k].isNaN ? q[k] : p[k] }
        case .nonzeroI: let o = b(d), p = i(x); for k in 0..<n { o[k] = p[k] != 0 ? 1 : 0 }

        case .lutBC:
            // Entry 0 is the missing code's value; codes outside the dictionary read as missing.
            let o = b(d), p = c(x), tab = aux[Int(ins.aux)], lut = tab.base?.assumingMemoryBound(to: UInt8.self)
            guard let lut else { for k in 0..<n { o[k] = 0 }; return false }
            let m = UInt32(tab.count)
            for k in 0..<n { let e = UInt32(bitPattern: p[k] &+ 1); o[k] = lut[Int(e < m ? e : 0)] }
        case .lutIC:
            let o = i(d), p = c(x), tab = aux[Int(ins.aux)], lut = tab.base?.assumingMemoryBound(to: Int64.self)
            guard let lut else { for k in 0..<n { o[k] = -1 }; return false }
            let m = UInt32(tab.count)
            for k in 0..<n { let e = UInt32(bitPattern: p[k] &+ 1); o[k] = lut[Int(e < m ? e : 0)] }
        case .lutFC:
            let o = f(d), p = c(x), tab = aux[Int(ins.aux)], lut = tab.base?.assumingMemoryBound(to: Double.self)
            guard let lut else { for k in 0..<n { o[k] = .nan }; return false }
            let m = UInt32(tab.count)
            for k in 0..<n { let e = UInt32(bitPattern: p[k] &+ 1); o[k] = lut[Int(e < m ? e : 0)] }

        // Group ids are checked against the group count when the program is bound.
        case .gatherF:
            let o = f(d), g = c(x), v = aux[Int(ins.aux)].base?.assumingMemoryBound(to: Double.self)
            if let v { for k in 0..<n { o[k] = v[Int(g[k])] } }
        case .gatherI:
            let o = i(d), g = c(x), v = aux[Int(ins.aux)].base?.assumingMemoryBound(to: Int64.self)
            if let v { for k in 0..<n { o[k] = v[Int(g[k])] } }
        case .gatherB:
            let o = b(d), g = c(x), v = aux[Int(ins.aux)].base?.assumingMemoryBound(to: UInt8.self)
            if let v { for k in 0..<n { o[k] = v[Int(g[k])] } }

        case .copyF: f(d).update(from: f(x), count: n)
        case .copyI: i(d).update(from: i(x), count: n)
        case .copyB: b(d).update(from: b(x), count: n)
        case .copyC: c(d).update(from: c(x), count: n)
        case .lutCC:
            let o = c(d), p = c(x), tab = aux[Int(ins.aux)], lut = tab.base?.assumingMemoryBound(to: Int32.self)
            guard let lut else { for k in 0..<n { o[k] = -1 }; return false }
            let m = UInt32(tab.count)
            for k in 0..<n { let e = UInt32(bitPattern: p[k] &+ 1); o[k] = lut[Int(e < m ? e : 0)] }
        case .selC:
            let o = c(d), m = b(x), p = c(y), q = c(z)
            for k in 0..<n { let w = 0 &- Int32(m[k]); o[k] = (p[k] & w) | (q[k] & ~w) }
        case .fillnanC: let o = c(d), p = c(x), q = c(y); for k in 0..<n { o[k] = p[k] < 0 ? q[k] : p[k] }
        case .eqC: let o = b(d), p = c(x), q = c(y); for k in 0..<n { o[k] = p[k] == q[k] && p[k] >= 0 && q[k] >= 0 ? 1 : 0 }
        case .neC: let o = b(d), p = c(x), q = c(y); for k in 0..<n { o[k] = p[k] == q[k] && p[k] >= 0 && q[k] >= 0 ? 0 : 1 }
        }
        return false
    }
}

/// Whether `v` converts to Int64 without trapping (finite, within range).
@inline(__always) func kernelIsInt64Representable(_ v: Double) -> Bool {
    v >= -9223372036854775808.0 && v < 9223372036854775808.0
}
