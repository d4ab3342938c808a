// Times compiled column expressions on generated 10M-row float columns: median of N runs
// after a warm-up, one line per expression: `name<TAB>median ms<TAB>min ms<TAB>min CPU ms<TAB>
// triad GB/s` (STREAM triad passes run between its runs), then `stream triad<TAB>median GB/s`
// over the whole run. Used by scripts/bench.d/engine.
//   KernelBench [rows] [runs] [name ...]
import Foundation
import MLShEngine

ColumnMemory.configure()   // as mlsh does
let args = CommandLine.arguments.dropFirst()
let rows = args.first.flatMap { Int($0) } ?? 10_000_000
let runs = args.dropFirst().first.flatMap { Int($0) } ?? 7
let only = Set(args.dropFirst(2))

/// SplitMix64 → standard normal (Box–Muller), seeded, so every run sees the same data.
struct Gen {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * Double.pi * v)
    }
}

func column(seed: UInt64) -> Column {
    var g = Gen(state: seed)
    return Column(floats: (0..<rows).map { _ in g.normal() })
}
let table = try Table(names: ["a", "b", "c"], columns: [column(seed: 1), column(seed: 2), column(seed: 3)], label: "bench")

let a = KExpr.column("a"), b = KExpr.column("b"), c = KExpr.column("c")
func call(_ n: String, _ x: KExpr...) -> KExpr { .call(n, x) }

/// 1000 groups, assigned round-robin, for the grouped diagnostics.
let groups = Grouping(ids: (0..<rows).map { Int32($0 % 1000) }, count: 1000)

let cases: [(String, KExpr, Bool)] = [
    ("a*b+c", call("add", call("mul", a, b), c), false),
    ("sqrt(a*a+b*b)", call("sqrt", call("add", call("mul", a, a), call("mul", b, b))), false),
    ("exp(-0.5*a*a)/sqrt(2*pi)", call("div", call("exp", call("mul", call("mul", .float(-0.5), a), a)),
                                        call("sqrt", call("mul", .float(2), .float(Double.pi)))), false),
    ("where(a>0,a,0)*b", call("mul", call("if_else", call("gt", a, .float(0)), a, .float(0)), b), false),
    ("log1p(abs(a))+c", call("add", call("log1p", call("abs", a)), c), false),
    ("(a-mean(a))/std(a)", call("div", call("sub", a, .reduce("mean", a, [])), .reduce("std", a, [])), false),
    ("sum(a*b)", .reduce("sum", call("mul", a, b), []), true),
    ("filter a>0 and b<1", call("and", call("gt", a, .float(0)), call("lt", b, .float(1))), false),
    // Diagnostics (not in the suite's table): the output-bound floor, one transcendental, the
    // read-bound reductions.
    ("a+1", call("add", a, .float(1)), false),
    ("exp(a)", call("exp", a), false),
    ("log1p(a)", call("log1p", call("abs", a)), false),
    ("sum(a)", .reduce("sum", a, []), true),
    ("std(a)", .reduce("std", a, []), true),
    ("grouped (a-mean(a))/std(a)", call("div", call("sub", a, .reduce("mean", a, [])), .reduce("std", a, [])), false),
    ("grouped sum(a*b)", .reduce("sum", call("mul", a, b), []), true),
]

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }
/// CPU time of the whole process (both workers), which a busy machine's descheduling does not inflate.
func cpu() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) * 1e3 + Double(t.tv_nsec) / 1e6
}

/// STREAM's triad `a = b + s·c` on every core (as the kernel runs) over preallocated arrays
/// of 20M doubles (STREAM's size; 3 × 8 bytes counted per element, as STREAM counts): the
/// bandwidth the memory-bound expressions are measured against. One pass runs after each
/// timed run of every expression, so each expression has its own figure, measured under
/// the same conditions as it (the machine is shared; its bandwidth drifts over a run).
final class StreamTriad {
    let n = 20_000_000
    let a: UnsafeMutableBufferPointer<Double>, b: UnsafeMutableBufferPointer<Double>, c: UnsafeMutableBufferPointer<Double>
    var all: [Double] = []
    init() {
        a = .allocate(capacity: n); b = .allocate(capacity: n); c = .allocate(capacity: n)
        a.initialize(repeating: 0); b.initialize(repeating: 1); c.initialize(repeating: 2)
    }
    /// One pass; returns GB/s (NaN if the arrays came out wrong). `record` adds it to `all`.
    func pass(record: Bool = true) -> Double {
        nonisolated(unsafe) let (pa, pb, pc, n) = (a.baseAddress!, b.baseAddress!, c.baseAddress!, n)
        let t0 = now()
        let parts = max(1, ProcessInfo.processInfo.activeProcessorCount)
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            for i in (part * n / parts)..<((part + 1) * n / parts) { pa[i] = pb[i].addingProduct(3, pc[i]) }
        }
        let gbs = a[n - 1] == 7 ? Double(3 * 8 * n) / ((now() - t0) / 1e3) / 1e9 : .nan
        if record { all.append(gbs) }
        return gbs
    }
}
let triad = StreamTriad()
_ = triad.pass(record: false)   // warm-up

for (name, e, scalar) in cases where only.isEmpty || only.contains(name) {
    let program = try KernelProgram.compile(e, for: table)
    var samples: [Double] = [], cpuSamples: [Double] = [], triads: [Double] = []
    var sink = 0.0
    for k in 0...runs {
        let t0 = now(), c0 = cpu()
        let g = name.hasPrefix("grouped") ? groups : nil
        if scalar {
            sink += Double(try KernelAggregate.aggregate(e, on: table, groups: g).count)
        } else {
            let col = try program.run(on: table, groups: g)
            sink += Double(col.count)
        }
        let t = now() - t0
        if k > 0 { samples.append(t); cpuSamples.append(cpu() - c0) }   // the first run is the warm-up
        if k > 0 { triads.append(triad.pass()) }
    }
    samples.sort(); cpuSamples.sort(); triads.sort()
    // name, median, minimum, minimum CPU ms of both workers (the steadier figures for A/B
    // runs on a busy machine), median GB/s of the triad passes between its runs
    print([name, String(format: "%.2f", samples[samples.count / 2]), String(format: "%.2f", samples[0]),
           String(format: "%.2f", cpuSamples[0]), String(format: "%.2f", triads[triads.count / 2])]
        .joined(separator: "\t") + (sink == -1 ? "\t" : ""))
}

// Over every pass of the run.
triad.all.sort()
print("stream triad\t" + String(format: "%.2f", triad.all[triad.all.count / 2]))
