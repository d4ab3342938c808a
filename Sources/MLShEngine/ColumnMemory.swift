import Foundation
import CMalloc

/// The process's policy for large column buffers.
///
/// A derived column of 10M floats is an 80 MB buffer, usually short-lived. By default
/// glibc maps every block over 32 MB afresh and unmaps it on free, so each new column
/// pays the kernel's page faults and zeroing — more than the expression itself costs
/// (`a*b+c` over 10M rows: ~8 ms of faults, ~6 ms of arithmetic). Under this policy large
/// blocks come from one heap and a freed column's pages are reused by the next one, the
/// way jemalloc (Polars) keeps dirty pages: one arena (so a buffer freed by any thread is
/// reusable by all; small blocks still go through each thread's cache) and no per-block
/// mappings. A background check every few seconds hands free pages back to the system
/// (`malloc_trim`) once more than `retainedBytes` have been freed since the last time, so
/// a session that dropped a large table does not keep its memory. glibc only (elsewhere
/// the defaults stay); `MLSH_MALLOC=system` in the environment leaves glibc's defaults
/// alone too.
public enum ColumnMemory {
    /// Free memory kept for reuse: an eighth of the memory this process may use (physical
    /// memory, or the cgroup's limit when lower), at most 2 GiB.
    public static let retainedBytes: Int = {
        let available = min(Int(clamping: ProcessInfo.processInfo.physicalMemory), cgroupLimit() ?? .max)
        return max(64 << 20, min(available / 8, 2 << 30))
    }()

    /// The memory limit of this process's cgroup (v2 `memory.max`, v1
    /// `memory.limit_in_bytes`), nil when there is none.
    static func cgroupLimit() -> Int? {
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0 else { continue }
            return bytes
        }
        return nil
    }

    /// `MLSH_MALLOC` as the process started: `system` opts out of the policy.
    private static let setting: String? = getenv("MLSH_MALLOC").map { String(cString: $0) }

    /// An `MLSH_MALLOC` value other than `system`: ignored (the policy applies), so the
    /// command line says so.
    public static var ignoredSetting: String? { setting == "system" ? nil : setting }

    /// Whether the policy is in effect (glibc took it and `MLSH_MALLOC` did not opt out).
    public static var isActive: Bool { trimTimer != nil }

    /// Applies the policy. Call once, first thing in `main`, before other threads start
    /// (threads that already have an arena keep it). Repeated calls do nothing.
    public static func configure() {
        _ = trimTimer
    }

    /// The trim check's timer, alive for the process's lifetime; nil when the policy is off.
    nonisolated(unsafe) private static let trimTimer: DispatchSourceTimer? = {
        if setting == "system" { return nil }
        guard mlsh_malloc_keep_freed(Int32(clamping: retainedBytes)) == 1 else { return nil }
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "mlsh.memory", qos: .utility))
        timer.schedule(deadline: .now() + .seconds(5), repeating: .seconds(5), leeway: .seconds(1))
        timer.setEventHandler { releaseExcess() }
        timer.resume()
        return timer
    }()

    /// Free bytes the allocator holds (free chunks in its heap, resident or not).
    static var freeHeapBytes: Int { mlsh_malloc_free_bytes() }

    /// Whether a block of `bytes` from the allocator gets a mapping of its own, unmapped
    /// on free (glibc's default for large blocks), rather than heap pages a later block
    /// reuses; nil where the allocator is not glibc.
    public static func mapsBlock(ofSize bytes: Int) -> Bool? {
        guard let p = malloc(bytes) else { return nil }
        defer { free(p) }
        let mapped = mlsh_malloc_is_mapped(p)
        return mapped < 0 ? nil : mapped == 1
    }

    /// The fewest free bytes seen since the last trim. glibc keeps counting the chunks a
    /// trim handed back as free, so the excess is measured from here, not from zero.
    nonisolated(unsafe) private static var floor = 0

    /// Returns free pages to the system when more than `retainedBytes` were freed since
    /// the last trim (called by the timer's queue only).
    static func releaseExcess() {
        let free = freeHeapBytes
        floor = min(floor, free)
        guard free - floor > retainedBytes else { return }
        mlsh_malloc_trim()
        floor = freeHeapBytes
    }
}
