import MLShEngine
import Testing
@testable import MLShServe

@Suite struct DriftWindowTests {
    /// The window keeps the newest requests holding at least `driftWindow` rows, in order,
    /// across its compactions, and hands every table it lets go of back to the caller
    /// (who frees it outside the monitor's lock), oldest first.
    @Test func keepsTheNewestRowsAcrossCompactions() throws {
        let w = RequestMonitor.Window()
        let n = RequestMonitor.driftWindow
        func values(_ tables: [Table]) -> [Double] {
            tables.flatMap { t -> [Double] in
                guard case .float(let v) = t.columns[0].storage else { return [] }
                return v
            }
        }
        var left: [Table] = []
        for k in 0..<(3 * 4096 + 123) {
            var evicted: [Table] = []
            w.append(try Table(names: ["x"], columns: [Column(floats: [Double(k)])]), evicted: &evicted)
            #expect(evicted.count == (k >= n ? 1 : 0))
            left += evicted
            if k % 1000 == 999 || k == 3 * 4096 + 122 {
                #expect(values(w.current) == (k + 1 - n...k).map(Double.init), "after \(k + 1) requests")
                #expect(values(left) == (0..<(k + 1 - n)).map(Double.init))
            }
        }
        // After one-row requests, a two-row one: still the fewest newest tables reaching n rows.
        var evicted: [Table] = []
        w.append(try Table(names: ["x"], columns: [Column(floats: [-1, -2])]), evicted: &evicted)
        #expect(w.current.reduce(0) { $0 + $1.rowCount } == n)
        #expect(evicted.count == 2)
    }
}
