import MLShEngine

/// Drift of the requests a model answered recently against its training sample.
func driftScores(_ m: ServedModel, monitor: RequestMonitor) -> [(feature: String, method: String, score: Double, drifted: Bool)]? {
    nil // wired to Drift.swift when it lands
}
