// Times the engine's data operations in release mode, without the language in front:
//   DataBench csv PATH   CSV.read(path:) 5 times: `CSV.read PATH: ROWS rows, median S s, MB/s`
//   DataBench ops        synth, sort, group, fingerprint, describe, split, reductions and
//                        CSV encoding on 1M rows, one `what: ms` line each
// scripts/bench.d/csv uses the first when mlsh itself cannot be timed.
import Dispatch
import Foundation
import MLShEngine

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
    default:
        FileHandle.standardError.write(Data("usage: DataBench csv PATH | DataBench ops\n".utf8))
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("DataBench: \(error)\n".utf8))
    exit(1)
}
