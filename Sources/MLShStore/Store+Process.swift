import Foundation

/// The process a run is recorded for: its host, pid and the pid's identity (the pid
/// namespace and the process's start time, from `/proc`), so a pid reused by another
/// process, in another container or after a restart is not taken for the run's.
public enum RunProcess {
    /// This machine's host name.
    public static let host: String = {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "" }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// This process's pid.
    public static var pid: Int64 { Int64(getpid()) }

    /// `<pid namespace> <start time>` of a process, nil where `/proc` does not say.
    public static func identity(_ pid: Int64) -> String? {
        guard let ns = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/ns/pid"),
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name (which may hold spaces): state is field 3, start time 22.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19 else { return nil }
        return ns + " " + fields[19]
    }

    /// Whether the process recorded as `pid` with `identity` may still be running: false
    /// only when it is certainly gone (no such pid in this pid namespace, a zombie, or the
    /// pid is now another process's).
    static func gone(pid: Int64, identity: String?) -> Bool {
        guard pid > 0, pid <= Int64(Int32.max) else { return false }
        let mine = self.identity(Int64(getpid()))
        // A run recorded from another pid namespace (another container) cannot be judged here.
        if let identity, let mine, identity.split(separator: " ").first != mine.split(separator: " ").first { return false }
        if identity != nil && mine == nil { return false }
        if kill(pid_t(pid), 0) != 0 && errno == ESRCH { return true }
        guard let identity, let now = self.identity(pid) else { return false }
        // Ended but not yet reaped by its parent (a zombie, state Z) is gone too.
        if now == identity, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].split(separator: " ").first == "Z" { return true }
        return now != identity
    }
}

extension Store {
    /// Marks `killed` the runs still `running` whose process, on this host, is gone (killed
    /// with SIGKILL, crashed, or the machine restarted); their end is their last logged point.
    public func reapRuns() throws(StoreError) {
        let host = RunProcess.host
        let gone = try goneProcesses("SELECT id, pid, pid_start FROM runs WHERE status = 'running' AND host = ? AND pid IS NOT NULL")
        guard !gone.isEmpty else { return }
        try Store.guarded("marking runs killed") {
            try db.write { db in
                for (id, pid) in gone {
                    try db.execute(sql: """
                        UPDATE runs SET status = 'killed', error = ?,
                          ended = COALESCE((SELECT MAX(at) FROM metrics WHERE run = ? AND at > runs.started), started)
                        WHERE id = ? AND status = 'running'
                        """, arguments: ["its process (pid \(pid) on \(host)) ended while the run was open", id, id])
                }
            }
        }
    }

    /// The rows (`id`, `pid`, `pid_start`) that `sql` selects for this host whose process
    /// is certainly gone: their ids and pids.
    func goneProcesses(_ sql: String) throws(StoreError) -> [(id: Int64, pid: Int64)] {
        let running = try Store.guarded("reading running processes") {
            try db.read { db in try db.fetchAll(sql: sql, arguments: [RunProcess.host]) }
        }
        return running.compactMap { r -> (Int64, Int64)? in
            let id: Int64 = r["id"], pid: Int64 = r["pid"]
            return RunProcess.gone(pid: pid, identity: r["pid_start"]) ? (id, pid) : nil
        }
    }

    /// Marks a running run `killed` (by a signal: `reason` says which), unless it already ended.
    public func killRun(_ id: Int64, reason: String) throws(StoreError) {
        try Store.guarded("ending run \(id)") {
            try db.write { db in
                try db.execute(sql: "UPDATE runs SET status = 'killed', error = ?, ended = ? WHERE id = ? AND status = 'running'",
                               arguments: [reason, Date().timeIntervalSince1970, id])
            }
        }
    }
}
