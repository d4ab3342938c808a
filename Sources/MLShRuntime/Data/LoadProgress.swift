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
        guard isatty(2) == 1,
              let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber,
              size.intValue >= threshold else { return nil }
        return LoadProgress(name: (path as NSString).lastPathComponent, total: size.intValue)
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
        FileHandle.standardError.write(Data(("\r" + LoadProgress.line(name: name, done: done, total: total)).utf8))
    }

    /// Erases the bar.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if shown { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        shown = false
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
