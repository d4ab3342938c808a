import Foundation
import Testing
@testable import MLShEngine

/// The memory policy: a large column freed is the next large column's buffer, so a derive
/// over millions of rows does not pay for fresh pages (see `ColumnMemory`).
@Suite struct ColumnMemoryTests {
    static func baseAddress(_ c: Column) -> Int {
        guard case .float(let v) = c.storage else { return 0 }
        return v.withUnsafeBufferPointer { Int(bitPattern: $0.baseAddress) }
    }

    @Test func aFreedColumnBufferIsReusedByTheNextDerive() throws {
        ColumnMemory.configure()
        let rows = 5_000_000   // 40 MB per column: over glibc's largest mapping threshold
        let t = try Table(names: ["a"], columns: [Column(floats: (0..<rows).map(Double.init))], label: "t")
        let program = try KernelProgram.compile(.call("mul", [.column("a"), .float(2)]), for: t)
        var first = 0, second = 0
        var sample: [Double] = []
        do {
            let c = try program.run(on: t)
            first = Self.baseAddress(c)
            if case .float(let v) = c.storage { sample = [v[0], v[rows - 1]] }
        }
        #expect(ColumnMemory.freeHeapBytes >= rows * 8)
        do {
            let c = try program.run(on: t)
            second = Self.baseAddress(c)
            if case .float(let v) = c.storage { #expect([v[0], v[rows - 1]] == sample) }
        }
        #expect(first != 0 && first == second)
        #expect(sample == [0, Double(rows - 1) * 2])
    }
}
