import Foundation
import Testing
@testable import MLShEngine

/// The memory policy: a large column's buffer, once freed, stays in the heap for the next
/// large column, so a derive over millions of rows does not pay for fresh pages (see
/// `ColumnMemory`). Without the policy glibc unmaps it at once.
///
/// On the main thread: `mlsh` applies the policy before any other thread starts, so every
/// thread shares glibc's main arena; in this test process other threads already have their
/// own arenas, and only the main thread is sure to use the main one.
@Suite struct ColumnMemoryTests {
    @MainActor
    @Test func aFreedColumnBufferStaysForTheNextDerive() throws {
        ColumnMemory.configure()
        guard ColumnMemory.isActive else { return }   // MLSH_MALLOC=system, or not glibc
        let rows = 5_000_000   // 40 MB per column: over glibc's largest mapping threshold
        let t = try Table(names: ["a"], columns: [Column(floats: (0..<rows).map(Double.init))], label: "t")
        let program = try KernelProgram.compile(.call("mul", [.column("a"), .float(2)]), for: t)
        var sample: [Double] = []
        var before = 0
        do {
            let c = try program.run(on: t)
            if case .float(let v) = c.storage { sample = [v[0], v[rows - 1]] }
            before = ColumnMemory.freeHeapBytes
        }
        // Checked right around the free (other tests allocate concurrently).
        let gained = ColumnMemory.freeHeapBytes - before
        // Nearly all of it: a small allocation elsewhere may take a few KB from the chunk
        // meanwhile (seen in CI: 3 KB short). Without the policy the gain is ~0.
        #expect(gained >= rows * 8 * 9 / 10, "freeing a \(rows * 8)-byte column added \(gained) free bytes to the heap")
        #expect(sample == [0, Double(rows - 1) * 2])
    }
}
