import Foundation

/// How many threads parallel work uses: one policy for the kernel executor, the data
/// verbs and the estimators.
public enum Processors {
    /// The cores this process may use: the active processors, fewer when its cgroup's CPU
    /// quota allows fewer (Foundation's `activeProcessorCount`), at least 1. Read once: Foundation reads the cgroup files on every call (~30 µs).
    public static let usable = max(1, ProcessInfo.processInfo.activeProcessorCount)
}
