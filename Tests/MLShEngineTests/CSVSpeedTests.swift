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
