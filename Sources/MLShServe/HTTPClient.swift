import Foundation

/// A minimal blocking HTTP/1.1 client over a loopback or LAN socket: what `send(d, t)`
/// and the real-socket tests use to talk to a server like any outside client would.
public enum HTTPClient {
    public struct Reply: Sendable {
        public var status: Int
        public var headers: [(String, String)]
        public var body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    public struct Failure: Error, Sendable { public var message: String }

    /// Sends one request (`Connection: close`) and reads the whole answer.
    public static func request(_ method: String, _ url: String, body: [UInt8] = [], headers: [(String, String)] = [],
                               timeout: Double = 30) throws(Failure) -> Reply {
        guard let u = URL(string: url), u.scheme == "http", let host = u.host else {
            throw Failure(message: "not an http:// URL: \(url)")
        }
        let port = u.port ?? 80
        // The path as written (percent-encoded), not `u.path`, which decodes it.
        let written = URLComponents(url: u, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? u.path
        let path = (written.isEmpty ? "/" : written) + (u.query.map { "?" + $0 } ?? "")
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let ai = info else {
            throw Failure(message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure(message: "cannot open a socket (errno \(errno))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            throw Failure(message: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try sendAll(fd, Array(head.utf8) + body)
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { break }
            guard n > 0 else {
                if errno == EINTR { continue }
                throw Failure(message: "reading the answer failed: \(String(cString: strerror(errno)))")
            }
            answer.append(contentsOf: chunk[0..<n])
        }
        return try parse(answer)
    }

    static func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws(Failure) {
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                Foundation.send(fd, raw.baseAddress.map { $0 + off }, raw.count - off, Int32(MSG_NOSIGNAL))
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(message: "sending the request failed: \(String(cString: strerror(errno)))") }
            off += n
        }
    }

    /// Status line, headers and body (plain or chunked) of a complete answer.
    static func parse(_ bytes: [UInt8]) throws(Failure) -> Reply {
        let sep: [UInt8] = [13, 10, 13, 10]
        var end = -1
        if bytes.count >= 4 {
            for i in 0...(bytes.count - 4) where bytes[i] == 13 && Array(bytes[i..<(i + 4)]) == sep { end = i; break }
        }
        guard end >= 0 else { throw Failure(message: "the server's answer has no complete header") }
        let lines = String(decoding: bytes[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = lines.first.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) }
        guard let status else { throw Failure(message: "the server's answer has no status line") }
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let c = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<c]), line[line.index(after: c)...].trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[(end + 4)...])
        if headers.contains(where: { $0.0.lowercased() == "transfer-encoding" && $0.1.lowercased().contains("chunked") }) {
            var out: [UInt8] = [], i = 0
            while i < body.count {
                var j = i
                while j + 1 < body.count, !(body[j] == 13 && body[j + 1] == 10) { j += 1 }
                let sizeText = String(decoding: body[i..<j], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size >= 0 else { break }
                if size == 0 { break }
                let start = j + 2
                guard start <= body.count, size <= body.count - start else { break }
                out.append(contentsOf: body[start..<(start + size)])
                i = start + size + 2
            }
            body = out
        }
        return Reply(status: status, headers: headers, body: body)
    }
}
