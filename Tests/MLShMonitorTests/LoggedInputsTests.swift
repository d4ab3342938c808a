import MLShEngine
import Testing
@testable import MLShMonitor

/// Logged inputs (JSON objects' texts) back into a table of the model's features.
struct LoggedInputsTests {
    @Test func rowsBecomeTypedColumnsAndOddCellsAreMissing() throws {
        let features: [(name: String, dtype: DType)] = [("x", .float), ("n", .int), ("s", .string), ("b", .bool)]
        let t = try #require(LoggedInputs.table([
            #"{"x": 1.5, "n": 2, "s": "a", "b": true, "extra": 9}"#,
            #"{"x": "oops", "n": 2.5, "b": null}"#,
            "not json",
            #"{"n": -3, "s": "<b>"}"#,
        ], features: features))
        #expect(t.names == ["x", "n", "s", "b"] && t.rowCount == 4)
        #expect(t.columns[0].isMissing(1) && t.columns[0].isMissing(2) && !t.columns[0].isMissing(0))
        #expect(t.columns[1].isMissing(1) && !t.columns[1].isMissing(3))
        #expect(t.columns[2].isMissing(1) && !t.columns[2].isMissing(3))
        #expect(t.columns[3].isMissing(1) && !t.columns[3].isMissing(0))
        guard case .int(let n, _) = t.columns[1].storage, case .float(let x) = t.columns[0].storage else { Issue.record("types"); return }
        #expect(n[3] == -3 && x[0] == 1.5)
    }

    @Test func spansSampleEvenly() {
        #expect(DeploymentTimeline.evenlySpaced(Array(0..<10), at: 20) == Array(0..<10))
        #expect(DeploymentTimeline.evenlySpaced(Array(0..<10), at: 5) == [0, 2, 4, 6, 8])
        #expect(DeploymentTimeline.percentile([1, 2, 3, 4], 0.5) == 2 && DeploymentTimeline.percentile([], 0.5) == nil)
    }
}
