import Foundation
import Testing
import TestSupport

/// Deriving a column allocates that column, not a full-size temporary per operator: the
/// peak memory of `mlsh` deriving a fourteen-operator expression over 2M rows is within half
/// a column of deriving `$x0 + 1`. The control — six derives in a row, each keeping its
/// column — shows the measurement sees whole columns.
@Suite struct DeriveMemoryTests {
    /// Peak resident kilobytes of `mlsh -e code` (from the child's rusage).
    func peakKB(_ code: String) throws -> Int {
        let pid = try spawnProgram(mlshBinary, ["-e", code], environment: ProcessInfo.processInfo.environment)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
        #expect(status == 0, "mlsh -e exited with status \(status)")
        return usage.ru_maxrss
    }

    @Test func oneOutputColumnNoTemporaries() throws {
        let rows = 2_000_000
        let columnKB = rows * 8 / 1024
        let setup = "let t = synth(\"regression\", rows=\(rows), features=1, seed=1) |> select($x0)\n"
        let simple = try peakKB(setup + "len(derive(t, y = $x0 + 1))")
        let fused = try peakKB(setup + "len(derive(t, y = ((($x0 * $x0 + 1) * ($x0 - 2) + sqrt(abs($x0))) / (1 + $x0 * $x0) - exp(-$x0)) * 3 + $x0))")
        let chained = try peakKB(setup + "len(t |> derive(a = $x0 * $x0) |> derive(b = $a + 1) |> derive(c = $x0 - 2) "
                                 + "|> derive(d = $b * $c) |> derive(e = sqrt(abs($x0))) |> derive(f = $d + $e))")
        #expect(fused - simple < columnKB / 2, "peak \(fused) KB vs \(simple) KB for one operator; a column is \(columnKB) KB")
        #expect(chained - simple > 2 * columnKB, "six kept columns: peak \(chained) KB vs \(simple) KB")
    }
}
