import Foundation
import Testing
@testable import MLShEngine

/// The memory policy: a large column's buffer comes from the heap, so once freed it is
/// reused by the next large column instead of being unmapped and faulted in afresh (see
/// `ColumnMemory`; `scripts/bench engine` measures the pages a derive touches).
///
/// The allocator's mapping decision is checked per block: free-byte counts move with every
/// concurrent test in this process and proved flaky. (With glibc's defaults the same
/// 40 MB block reports a mapping of its own: checked with a C driver of the shim.)
@Suite struct ColumnMemoryTests {
    @Test func aColumnSizedBlockComesFromTheHeap() throws {
        ColumnMemory.configure()
        guard ColumnMemory.isActive else { return }   // MLSH_MALLOC=system, or not glibc
        let bytes = 5_000_000 * 8   // over glibc's largest mapping threshold (32 MB)
        #expect(ColumnMemory.mapsBlock(ofSize: bytes) == false)
        // A derived column of that size runs as usual under the policy.
        let rows = 5_000_000
        let t = try Table(names: ["a"], columns: [Column(floats: (0..<rows).map(Double.init))], label: "t")
        let c = try KernelProgram.compile(.call("mul", [.column("a"), .float(2)]), for: t).run(on: t)
        guard case .float(let v) = c.storage else { Issue.record("not a float column"); return }
        #expect(v.count == rows && v[0] == 0 && v[rows - 1] == Double(rows - 1) * 2)
    }
}
