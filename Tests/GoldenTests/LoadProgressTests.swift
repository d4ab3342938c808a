import Foundation
import Testing
import TestSupport
@testable import MLShRuntime

/// `load`'s progress bar: drawn on a terminal for a file over 100 MB and erased when the
/// table is ready; never in a pipe.
@Suite struct LoadProgressTests {
    @Test func lineShowsShareAndMegabytes() {
        #expect(LoadProgress.line(name: "big.csv", done: 0, total: 266_000_000, width: 10)
                == "load big.csv  [··········]   0%  0/266 MB")
        #expect(LoadProgress.line(name: "big.csv", done: 133_000_000, total: 266_000_000, width: 10)
                == "load big.csv  [#####·····]  50%  133/266 MB")
        // More bytes than the file (a chunk parsed twice) stays at 100 %.
        #expect(LoadProgress.line(name: "big.csv", done: 300_000_000, total: 266_000_000, width: 10)
                == "load big.csv  [##########] 100%  266/266 MB")
    }

    /// On a narrow terminal the line stays shorter than the terminal (a wrapped line could
    /// not be erased): the bar narrows, then goes.
    @Test func lineFitsTheTerminal() {
        for columns in [20, 40, 50, 60, 80, 200] {
            let text = LoadProgress.line(name: "big.csv", done: 50_000_000, total: 132_000_000, columns: columns)
            #expect(text.count < columns, "\(columns): \(text)")
            #expect(text.contains("37%"), "\(columns): \(text)")
        }
        #expect(LoadProgress.line(name: "big.csv", done: 50_000_000, total: 132_000_000, columns: 80)
                == LoadProgress.line(name: "big.csv", done: 50_000_000, total: 132_000_000))
    }

    /// A 110 MB CSV loaded by the real binary under a terminal (`script` gives it one) and
    /// through a pipe.
    @Test func barOnATerminalOnly() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-progress-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/big.csv"
        let line = Data("123456789,0.123456789012345,abcdefghijklmnopqrstuvwxyz,0.5\n".utf8)
        var block = Data()
        for _ in 0..<20_000 { block.append(line) }
        FileManager.default.createFile(atPath: path, contents: Data("a,b,c,d\n".utf8))
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try file.seekToEnd()
        while try file.offset() < UInt64(LoadProgress.threshold + 10_000_000) { file.write(block) }
        try file.close()
        let code = #"print(len(load("big.csv")))"#
        let piped = try runProgram("/bin/sh", ["-c", "cd \(dir) && \(mlshBinary) -e '\(code)'"])
        #expect(piped.code == 0 && !piped.err.contains("load big.csv"), "\(piped.err)")
        let tty = try runProgram("/usr/bin/script", ["-qec", "cd \(dir) && \(mlshBinary) -e '\(code)'", "/dev/null"])
        #expect(tty.code == 0, "\(tty.out)")
        #expect(tty.out.contains("load big.csv  ["), "\(tty.out.suffix(400))")
        #expect(tty.out.contains("\r\u{1B}[K"), "the bar is erased")
    }
}
