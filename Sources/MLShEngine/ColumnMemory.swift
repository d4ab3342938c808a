import Foundation
#if canImport(CMalloc)
import CMalloc
#endif

/// The process's policy for large column buffers.
///
/// A derived column of 10M floats is an 80 MB buffer, usually short-lived. By default
/// glibc maps every block over 32 MB afresh and unmaps it on free, so each new column
/// pays the kernel's page faults and zeroing — more than the expression itself costs
/// (`a*b+c` over 10M rows: ~8 ms of faults, ~6 ms of arithmetic). Under this policy large
/// blocks come from one heap and a freed column's pages are reused by the next one, the
/// way jemalloc (Polars) keeps dirty pages: one arena (so a buffer freed by any thread is
/// reusable by all; small blocks still go through each thread's cache), no per-block
/// mappings, and free memory kept up to `retainedBytes`. Above that, a background check
/// every few seconds hands free pages back to the system (`malloc_trim`), so a session
/// that dropped a large table does not keep its memory. `MLSH_MALLOC=system` in the
/// environment leaves glibc's defaults alone.
public enum ColumnMemory {
    /// Free heap memory kept for reuse: an eighth of physical memory, at most 2 GiB.
    public static let retainedBytes: Int = {
        let physical = Int(ProcessInfo.processInfo.physicalMemory)
        return max(64 << 20, min(physical / 8, 2 << 30))
    }()

    /// Applies the policy. Call once, first thing in `main`, before other threads start
    /// (threads that already have an arena keep it). Repeated calls do nothing.
    public static func configure() {
        _ = configured
    }

    /// The trim check's timer, kept alive for the process's lifetime (nil off glibc).
    nonisolated(unsafe) private static let configured: DispatchSourceTimer? = {
        #if canImport(CMalloc)
        if let v = getenv("MLSH_MALLOC"), String(cString: v) == "system" { return nil }
        _ = mallopt(M_ARENA_MAX, 1)
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, Int32(clamping: retainedBytes))
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "mlsh.memory", qos: .utility))
        timer.schedule(deadline: .now() + .seconds(5), repeating: .seconds(5), leeway: .seconds(1))
        timer.setEventHandler { releaseExcess() }
        timer.resume()
        return timer
        #else
        return nil
        #endif
    }()

    /// Free bytes the allocator holds (free chunks in its heap, not returned to the system).
    public static var freeHeapBytes: Int {
        #if canImport(CMalloc)
        return Int(mallinfo2().fordblks)
        #else
        return 0
        #endif
    }

    /// Returns free pages to the system when more than `retainedBytes` are held.
    public static func releaseExcess() {
        #if canImport(CMalloc)
        if freeHeapBytes > retainedBytes { _ = malloc_trim(0) }
        #endif
    }
}
