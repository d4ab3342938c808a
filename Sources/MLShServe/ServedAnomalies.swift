import MLShMonitor

extension ServedModel {
    /// The anomaly share of the rows this version answered recently (the monitor's window);
    /// nil without a training sample or answers.
    func anomalyShare(_ monitor: RequestMonitor) -> Double? {
        guard let detector = anomalyDetector, let window = monitor.window(label) else { return nil }
        return detector.share(window)
    }
}
