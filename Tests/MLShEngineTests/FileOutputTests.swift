import Foundation
import MLShEngine
import Testing
import TestSupport

/// `FileOutput.write`: atomic onto the resolved target, streams written in place, never
/// a link, device or FIFO replaced.
@Suite struct FileOutputTests {
    func fileType(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & S_IFMT : 0
    }

    func read(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "<unreadable>" }

    @Test func aLinkStaysALinkAndItsTargetIsWritten() throws {
        let dir = try temporaryFolder("out")
        try "old".write(toFile: dir + "/target.csv", atomically: false, encoding: .utf8)
        chmod(dir + "/target.csv", 0o640)
        symlink("target.csv", dir + "/link.csv")
        symlink(dir + "/link.csv", dir + "/link2.csv")   // a link to a link, absolute
        try FileOutput.write("new\n", to: dir + "/link2.csv")
        #expect(fileType(dir + "/link.csv") == S_IFLNK && fileType(dir + "/link2.csv") == S_IFLNK)
        #expect(read(dir + "/target.csv") == "new\n")
        var st = stat()
        stat(dir + "/target.csv", &st)
        #expect(st.st_mode & 0o777 == 0o640, "the file keeps its permissions")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["link.csv", "link2.csv", "target.csv"],
                "no temporary file is left")
    }

    @Test func aHardLinkedFileIsRewrittenInPlaceForEveryName() throws {
        let dir = try temporaryFolder("out")
        try "old old old".write(toFile: dir + "/a.csv", atomically: false, encoding: .utf8)
        #expect(link(dir + "/a.csv", dir + "/b.csv") == 0)
        try FileOutput.write("new\n", to: dir + "/a.csv")
        #expect(read(dir + "/a.csv") == "new\n" && read(dir + "/b.csv") == "new\n")
    }

    @Test func aDanglingLinkCreatesTheFileItNames() throws {
        let dir = try temporaryFolder("out")
        symlink("made.txt", dir + "/dangling")
        try FileOutput.write("x", to: dir + "/dangling")
        #expect(fileType(dir + "/dangling") == S_IFLNK && read(dir + "/made.txt") == "x")
    }

    @Test func aFIFOIsWrittenInPlace() async throws {
        let dir = try temporaryFolder("out")
        let fifo = dir + "/pipe"
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = Task.detached { () -> String in
            let fd = open(fifo, O_RDONLY)
            guard fd >= 0 else { return "<failed>" }
            defer { close(fd) }
            var out: [UInt8] = [], buf = [UInt8](repeating: 0, count: 256)
            while case let n = Glibc.read(fd, &buf, buf.count), n > 0 { out += buf[0..<n] }
            return String(decoding: out, as: UTF8.self)
        }
        try FileOutput.write("through the pipe\n", to: fifo)
        #expect(await reader.value == "through the pipe\n")
        #expect(fileType(fifo) == S_IFIFO)
    }

    @Test func standardStreamsAndDescriptorsAreWrittenNotReplaced() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        try FileOutput.write("via /dev/fd\n", to: "/dev/fd/\(fds[1])")
        close(fds[1])
        var buf = [UInt8](repeating: 0, count: 64)
        let n = Glibc.read(fds[0], &buf, 64)
        #expect(n > 0 && String(decoding: buf[0..<max(0, n)], as: UTF8.self) == "via /dev/fd\n")
        try FileOutput.write("discarded", to: "/dev/null")
        #expect(fileType("/dev/null") == S_IFCHR)
        #expect(fileType("/dev/stdout") == S_IFLNK)
    }

    @Test func aDirectoryOrSocketIsRefused() throws {
        let dir = try temporaryFolder("out")
        #expect(throws: EngineError.io(path: dir, message: "is a directory, not a file")) {
            try FileOutput.write("x", to: dir)
        }
        let sock = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(sock) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = dir + "/s.sock"
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(sock, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(throws: EngineError.self) { try FileOutput.write("x", to: path) }
        #expect(fileType(path) == S_IFSOCK)
    }

    @Test func aFailedWriteLeavesTheOldFileAndNoTemporary() throws {
        let dir = try temporaryFolder("out")
        try "keep".write(toFile: dir + "/f", atomically: false, encoding: .utf8)
        #expect(throws: EngineError.self) { try FileOutput.write("x", to: dir + "/missing/f") }
        #expect(read(dir + "/f") == "keep")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["f"])
    }
}
