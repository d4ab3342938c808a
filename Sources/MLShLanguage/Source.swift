/// A piece of source text: a script file, a prompt line or a notebook cell.
public final class SourceFile: Sendable {
    /// The name shown in diagnostics (a path, or `<prompt>`).
    public let name: String
    /// The raw bytes (UTF-8 once validated by the lexer).
    public let bytes: [UInt8]
    /// Byte offset of the start of each line.
    let lineStarts: [Int]

    /// Wraps source bytes under a display name.
    public init(name: String, bytes: [UInt8]) {
        self.name = name
        self.bytes = bytes
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// Wraps source text under a display name.
    public convenience init(name: String, text: String) {
        self.init(name: name, bytes: Array(text.utf8))
    }

    /// 1-based line and column (in characters) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        let off = min(max(0, offset), bytes.count)
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= off { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        let prefix = bytes[start..<off]
        let col = String(decoding: prefix, as: UTF8.self).count + 1
        return (lo + 1, col)
    }

    /// The text of a 1-based line, without its line break.
    public func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: bytes[start..<max(start, end)], as: UTF8.self)
    }

    /// The text of a span.
    public func text(_ span: Span) -> String {
        let lo = min(max(0, span.start), bytes.count), hi = min(max(lo, span.end), bytes.count)
        return String(decoding: bytes[lo..<hi], as: UTF8.self)
    }
}

/// A byte range in a source file.
public struct Span: Sendable, Hashable {
    /// The file the range belongs to.
    public let file: SourceFile
    /// First byte offset.
    public let start: Int
    /// One past the last byte offset.
    public let end: Int

    /// A span over `start..<end` of `file`.
    public init(file: SourceFile, start: Int, end: Int) {
        self.file = file; self.start = start; self.end = max(start, end)
    }

    /// The smallest span covering both.
    public func to(_ other: Span) -> Span {
        Span(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    public static func == (a: Span, b: Span) -> Bool {
        a.file === b.file && a.start == b.start && a.end == b.end
    }
    public func hash(into h: inout Hasher) { h.combine(start); h.combine(end) }
}
