import Foundation

/// A webhook receiver on loopback: a listening socket answering each POST with `status`
/// (500 for the first `failFirst` ones) and keeping the bodies.
public final class WebhookReceiver: @unchecked Sendable {
    public let port: Int
    private let fd: Int32
    private let lock = NSLock()
    private var received: [String] = []
    private var failures: Int

    public init(failFirst: Int = 0) throws {
        failures = failFirst
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } } == 0
        guard ok, listen(fd, 16) == 0 else { throw SetupFailure("the webhook receiver cannot listen on 127.0.0.1") }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        self.fd = fd
        let t = Thread { [self] in serve() }
        t.start()
    }

    public var bodies: [String] { lock.lock(); defer { lock.unlock() }; return received }

    private func serve() {
        while true {
            let c = accept(fd, nil, nil)
            guard c >= 0 else { return }
            var data: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            // Reads the head, then Content-Length bytes of body.
            while true {
                let n = read(c, &buffer, buffer.count)
                if n <= 0 { break }
                data += buffer[0..<n]
                let text = String(decoding: data, as: UTF8.self)
                guard let split = text.range(of: "\r\n\r\n") else { continue }
                let head = text[..<split.lowerBound].lowercased()
                let length = head.components(separatedBy: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                let body = String(text[split.upperBound...])
                guard body.utf8.count >= length else { continue }
                lock.lock()
                let fail = failures > 0
                if fail { failures -= 1 } else { received.append(body) }
                lock.unlock()
                let answer = fail ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                  : "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                _ = answer.withCString { write(c, $0, strlen($0)) }
                break
            }
            close(c)
        }
    }

    public func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }
}


/// A test's setup that could not be done (a port, a process), and why.
public struct SetupFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs blocking code (sockets, sleeps) on a thread of its own: a test must not block the
/// Swift concurrency pool, which servers in the test process run on.
public func onOwnThread(_ body: @escaping @Sendable () throws -> Void) async throws {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
        let t = Thread {
            do { try body(); c.resume() } catch { c.resume(throwing: error) }
        }
        t.stackSize = 4 << 20
        t.start()
    }
}
