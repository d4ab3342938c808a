import MLShEngine
import MLShMonitor

/// Drift of the rows a model answered recently (the monitor's window) against its
/// training sample; nil when the model has no sample or nothing was answered yet. Scored
/// on the calling thread: the event loops' cores are not lent to Dispatch's workers.
func driftScores(_ m: ServedModel, monitor: RequestMonitor) -> [DriftScore]? {
    guard let reference = m.driftReference, let window = monitor.window(m.label) else { return nil }
    return try? reference.score(window, parallel: false)
}
