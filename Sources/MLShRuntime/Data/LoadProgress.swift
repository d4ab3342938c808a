import Foundation

/// The progress bar `load` draws on stderr while it reads a file over `threshold` bytes,
/// when stderr is a terminal: redrawn at most ten times a second from the parsing
/// threads, erased when the table is ready.
final class LoadProgress: @unchecked Sendable {
    static let threshold = 100_000_000

    private let name: String
    private let total: Int
    private let lock = NSLock()
    private var done = 0
    private var drawn = 0.0
    private var shown = false

    private init(name: String, total: Int) { self.name = name; self.total = total }

    /// A bar for reading `path`, nil when the file is small, unreadable, or stderr is not a terminal.
    static func start(path: String) -> LoadProgress? {
        var info = stat()
        // stat follows a link to the file it names.
        guard isatty(2) == 1, stat(path, &info) == 0, Int(info.st_size) >= threshold else { return nil }
        return LoadProgress(name: (path as NSString).lastPathComponent, total: Int(info.st_size))
    }

    /// Counts `bytes` more as read; redraws when a tenth of a second has passed.
    func add(_ bytes: Int) {
        lock.lock()
        defer { lock.unlock() }
        done += bytes
        let now = Date().timeIntervalSince1970
        guard now - drawn >= 0.1 else { return }
        drawn = now
        shown = true
        // One line, never wrapped (a wrapped line could not be erased): the bar narrows to the terminal.
        var size = winsize()
        let columns = ioctl(2, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 80
        let text = LoadProgress.line(name: name, done: done, total: total, columns: columns)
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8))
    }

    /// Erases the bar.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
    }

    /// The line for a terminal `columns` wide: shorter than it (the bar narrower, then the
    /// name and the bar left out).
    static func line(name: String, done: Int, total: Int, columns: Int) -> String {
        let full = line(name: name, done: done, total: total)
        let fixed = full.count - 24   // all but the bar
        if fixed + 8 < columns { return line(name: name, done: done, total: total, width: min(24, columns - 1 - fixed)) }
        let short = line(name: "", done: done, total: total, width: 0)
            .replacingOccurrences(of: "load   [] ", with: "load ")
        return String(short.prefix(max(0, columns - 1)))
    }

    /// `load big.csv  [##########··········]  50%  133/266 MB`.
    static func line(name: String, done: Int, total: Int, width: Int = 24) -> String {
        let share = total > 0 ? min(1, max(0, Double(done) / Double(total))) : 1
        let filled = Int((share * Double(width)).rounded(.down))
        let bar = String(repeating: "#", count: filled) + String(repeating: "·", count: width - filled)
        let percent = Int((share * 100).rounded(.down))
        return "load \(name)  [\(bar)] \(String(repeating: " ", count: percent < 10 ? 2 : percent < 100 ? 1 : 0))\(percent)%  "
            + "\(min(done, total) / 1_000_000)/\(total / 1_000_000) MB"
    }
}
