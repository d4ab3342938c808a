import Foundation
import Synchronization

/// SIGINT and SIGTERM in a process with open runs: once a run is entered, each of the two
/// signals still at its default action gets a handler that wakes a watcher thread; the
/// watcher writes every session's buffered points, marks its open runs `killed` with the
/// signal, then ends the process by the same signal, as the default action would have.
/// (At the prompt Ctrl-C interrupts the evaluation instead, and the run ends `killed` too.)
enum RunSignals {
    private struct Watched: @unchecked Sendable { weak var session: StoreSession? }
    private static let sessions = Mutex<(installed: Bool, list: [Watched])>((false, []))
    /// The pipe's write end, for the handler (which may only make async-signal-safe calls).
    private static let wake = Atomic<Int32>(-1)

    /// Watches a session's runs, installing the handlers on first use.
    static func watch(_ session: StoreSession) {
        let install = sessions.withLock { s -> Bool in
            s.list.removeAll { $0.session == nil }
            if !s.list.contains(where: { $0.session === session }) { s.list.append(Watched(session: session)) }
            defer { s.installed = true }
            return !s.installed
        }
        if install { self.install() }
    }

    private static func install() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        wake.store(fds[1], ordering: .relaxed)
        let read = fds[0]
        Thread.detachNewThread {
            var byte: UInt8 = 0
            while true {
                let n = Foundation.read(read, &byte, 1)
                if n == 1 { end(by: Int32(byte)) }
                if n == 0 || (n < 0 && errno != EINTR) { return }
            }
        }
        for sig in [SIGINT, SIGTERM] {
            let previous = signal(sig) { sig in
                var byte = UInt8(truncatingIfNeeded: sig)
                _ = write(RunSignals.wake.load(ordering: .relaxed), &byte, 1)
            }
            // A handler someone else installed (the prompt's Ctrl-C) stays.
            if previous != nil { signal(sig, previous) }
        }
    }

    private static func end(by sig: Int32) {
        let reason = "killed by " + (sig == SIGINT ? "SIGINT" : "SIGTERM")
        for w in sessions.withLock({ $0.list }) { w.session?.killOpenRuns(reason) }
        signal(sig, SIG_DFL)
        raise(sig)
    }
}
