// Times the engine's data operations in release mode, without the language in front:
//   DataBench csv PATH   CSV.read(path:) 5 times: `CSV.read PATH: ROWS rows, median S s, MB/s`
//   DataBench ops        synth, sort, group, fingerprint, describe, split, reductions and
//                        CSV encoding on 1M rows, one `what: ms` line each
//   DataBench snapshot ROWS COLS [NPYDIR] [RUNS]
//                        writes and reads a ROWS×COLS float table as a snapshot file through
//                        a Store in a temporary folder, RUNS times (5): `snapshot write: ms`,
//                        `snapshot read: ms` (medians), the first read (whose pages are new to
//                        the process), `snapshot size: bytes`; the columns
//                        are NPYDIR/x0.npy ... when given, else uniform with 1% NaN
// scripts/bench.d/csv uses the first when mlsh itself cannot be timed.
import Dispatch
import Foundation
import MLShEngine
import MLShStore

ColumnMemory.configure()   // as mlsh does

func seconds<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let t0 = DispatchTime.now().uptimeNanoseconds
    let v = try body()
    return (v, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
}

func time<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
    let (v, s) = try seconds(body)
    print("\(what): \(s * 1e3) ms")
    return v
}

let args = Array(CommandLine.arguments.dropFirst())
do {
    switch args.first {
    case "csv" where args.count == 2:
        let path = args[1]
        var times: [Double] = [], rows = 0
        for _ in 0..<5 {
            let (t, s) = try seconds { try CSV.read(path: path) }
            rows = t.rowCount; times.append(s)
        }
        times.sort()
        let median = times[times.count / 2]
        let bytes = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0
        print("CSV.read \(path): \(rows) rows, median \(median) s, \(bytes / median / 1e6) MB/s, all \(times)")
    case "ops" where args.count == 1:
        let t = try time("synth blobs 1M×10") { try synth("blobs", rows: 1_000_000, features: 10, seed: 0) }
        _ = try time("synth regression 1M×10") { try synth("regression", rows: 1_000_000, features: 10, seed: 0) }
        _ = try time("sort 1M by float") { try t.sorted(by: [("x0", false)]) }
        _ = try time("sort 1M by string, float") { try t.sorted(by: [("y", false), ("x1", true)]) }
        _ = try time("group 1M by string") { try t.grouping(by: ["y"]) }
        _ = time("fingerprint 1M×11") { t.fingerprint() }
        _ = time("describe 1M×11") { t.describe() }
        _ = try time("split 1M stratified") { try t.split(fraction: 0.8, seed: 0, stratify: "y") }
        let x = try t.column("x0")
        _ = try time("sum 1M") { try Reductions.sum(x) }
        _ = try time("std 1M") { try Reductions.std(x) }
        _ = try time("median 1M") { try Reductions.median(x) }
        _ = time("encode 1M×11 CSV") { CSV.encode(t) }
    case "snapshot" where (3...5).contains(args.count):
        guard let rows = Int(args[1]), let cols = Int(args[2]), rows >= 0, cols > 0 else { throw BenchError("bad ROWS or COLS") }
        let runs = args.count == 5 ? max(1, Int(args[4]) ?? 5) : 5
        // Released before the last read, as the numpy case deletes its arrays before its read.
        var source: Table? = try snapshotTable(rows: rows, cols: cols, npy: args.count >= 4 && !args[3].isEmpty ? args[3] : nil)
        let folder = NSTemporaryDirectory() + "databench-snapshot-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try Store(folder: folder)
        var writes: [Double] = [], reads: [Double] = [], readCPU: [Double] = [], size = 0
        for run in 0..<runs {
            try? FileManager.default.removeItem(atPath: folder + "/artifacts")
            try FileManager.default.createDirectory(atPath: folder + "/artifacts", withIntermediateDirectories: true)
            guard let t = source else { break }
            let (put, w) = try seconds { try store.putTable(t) }
            if run == runs - 1 { source = nil }
            _ = consume t
            let cpu0 = cpuSeconds()
            let (back, r) = try seconds { try store.table(put.hash, label: nil) }
            readCPU.append((cpuSeconds() - cpu0) * 1e3)
            guard back.rowCount == rows else { throw BenchError("read back \(back.rowCount) rows") }
            writes.append(w * 1e3); reads.append(r * 1e3); size = put.bytes
        }
        print("snapshot write: \(writes.sorted()[runs / 2]) ms")
        print("snapshot read: \(reads.sorted()[runs / 2]) ms")
        print("snapshot read (first, into fresh memory): \(reads[0]) ms")
        print("snapshot read CPU time (user + system, all threads): \(readCPU.sorted()[runs / 2]) ms")
        print("snapshot size: \(size) bytes")
    default:
        FileHandle.standardError.write(Data("usage: DataBench csv PATH | DataBench ops | DataBench snapshot ROWS COLS [NPYDIR] [RUNS]\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("DataBench: \(error)\n".utf8))
    exit(1)
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A ROWS×COLS float table: the columns of NPYDIR/x0.npy ... (float64 `.npy` files), or
/// uniform values with 1% NaN.
func snapshotTable(rows: Int, cols: Int, npy: String?) throws -> Table {
    var columns: [Column] = []
    var rng = SeededRandom(seed: 0)
    for c in 0..<cols {
        if let npy {
            guard let data = FileManager.default.contents(atPath: "\(npy)/x\(c).npy"), data.count > 12 else {
                throw BenchError("cannot read \(npy)/x\(c).npy")
            }
            let bytes = [UInt8](data)
            let major = bytes[6]
            let headerEnd = major == 1 ? 10 + Int(bytes[8]) + Int(bytes[9]) << 8
                : 12 + Int(bytes[8]) + Int(bytes[9]) << 8 + Int(bytes[10]) << 16 + Int(bytes[11]) << 24
            guard bytes.count - headerEnd == rows * 8 else { throw BenchError("x\(c).npy does not hold \(rows) float64 values") }
            let v = [Double](unsafeUninitializedCapacity: rows) { buf, n in
                bytes.withUnsafeBytes { raw in
                    UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[headerEnd...]))
                }
                n = rows
            }
            columns.append(Column(floats: v))
        } else {
            columns.append(Column(floats: (0..<rows).map { _ in rng.nextDouble() < 0.01 ? .nan : rng.nextDouble() }))
        }
    }
    return try Table(names: (0..<cols).map { "x\($0)" }, columns: columns)
}

/// User plus system CPU seconds of this process so far, every thread counted.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}
