import Foundation

/// A new empty folder under the system's temporary directory, named after `label`; the
/// caller removes it (`defer { try? FileManager.default.removeItem(atPath: dir) }`).
public func temporaryFolder(_ label: String = "test") throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlsh-\(label)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// Whether `a` is within `absolute` or `relative × |b|` of the reference `b` (both NaN
/// counts as equal): the one tolerance test for floating-point results.
public func isClose(_ a: Double, _ b: Double, relative: Double = 1e-9, absolute: Double = 0) -> Bool {
    if a.isNaN || b.isNaN { return a.isNaN && b.isNaN }
    if a == b { return true }
    return abs(a - b) <= max(absolute, relative * abs(b))
}
