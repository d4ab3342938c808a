import Foundation

/// A new empty folder under the system's temporary directory, named after `label`; the
/// caller removes it (`defer { try? FileManager.default.removeItem(atPath: dir) }`).
public func temporaryFolder(_ label: String = "test") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Whether `a` is within `absolute` or `relative × |b|` of the reference `b` (both NaN
/// counts as equal): the one tolerance test for floating-point results.
public func isClose(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 0) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return abs(a - b) <= max(absolute, relative * abs(b))
}

/// A TCP port on 127.0.0.1 that nothing listens on (the kernel's choice, free when asked).
public func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            bind(fd, p, len) == 0 ? getsockname(fd, p, &len) : -1
        }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
