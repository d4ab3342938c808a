import Testing
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import MLShEngine

/// Timing harness, run only when `MLSH_CSV_BENCH` names a CSV file:
///   MLSH_CSV_BENCH=/tmp/big.csv swift test -c release -Xswiftc -enable-testing --filter CSVSpeed
@Suite struct CSVSpeedTests {
    @Test func readSpeed() throws {
        guard let path = getenvString("MLSH_CSV_BENCH") else { return }
        var times: [Double] = []
        var rows = 0
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            let t = try CSV.read(path: path)
            let t1 = DispatchTime.now().uptimeNanoseconds
            rows = t.rowCount
            times.append(Double(t1 - t0) / 1e9)
        }
        let bytes = try dataReadFile(path).count
        times.sort()
        let med = times[times.count / 2]
        print("CSV.read \(path): \(rows) rows, median \(med) s, \(Double(bytes) / med / 1e6) MB/s, all \(times)")
    }
}

func getenvString(_ name: String) -> String? {
    guard let p = getenv(name) else { return nil }
    return String(cString: p)
}

/// Timing of the other data operations on 1M rows, run only when `MLSH_DATA_BENCH` is set
/// (release build, as above, with `--filter DataSpeed`).
@Suite struct DataSpeedTests {
    func time<T>(_ what: String, _ body: () throws -> T) rethrows -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        let v = try body()
        let t1 = DispatchTime.now().uptimeNanoseconds
        print("\(what): \(Double(t1 - t0) / 1e6) ms")
        return v
    }

    @Test func operations() throws {
        guard getenvString("MLSH_DATA_BENCH") != nil else { return }
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
    }
}
