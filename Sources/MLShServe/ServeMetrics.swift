import Foundation
import Prometheus

/// The server's Prometheus metrics: requests by model and status, a latency histogram per
/// model, the request log's health, per served model and feature drift scores of the
/// recent requests against the model's training sample (recomputed at most every
/// `driftInterval` seconds, when scraped), and per served model its live quality on the
/// rows whose labels were fed back.
public final class ServeMetrics: @unchecked Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let lock = NSLock()
    private struct CounterKey: Hashable { var model: String; var status: Int }
    private var counters: [CounterKey: Counter] = [:]
    private var histograms: [String: DurationHistogram] = [:]
    private let logged: Gauge
    private let dropped: Gauge
    private var served: [ServedModel]
    private var models: [ServedModel] { lock.lock(); defer { lock.unlock() }; return served }
    private var driftComputed: Double = 0
    private var driftGauges: [String: Gauge] = [:]
    /// Seconds between drift computations.
    public let driftInterval: Double = 30

    static let buckets: [Duration] = [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                                      .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                      .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1)]

    init(routes: [ServedModel], shadow: ServedModel?) {
        served = routes + (shadow.map { [$0] } ?? [])
        logged = registry.makeGauge(name: "mlsh_request_log_rows", help: "Predicted rows written to the store's request log")
        dropped = registry.makeGauge(name: "mlsh_request_log_dropped_rows",
                                     help: "Predicted rows not logged (queue full under overload, or a store write failed)")
    }

    /// Adds the versions a server switched to (by alias or canary) to those reported.
    func serving(_ versions: [ServedModel]) {
        lock.lock()
        for v in versions where !served.contains(where: { $0.label == v.label }) { served.append(v) }
        lock.unlock()
    }

    /// Counts one answer; `seconds` is its latency when it was a prediction.
    func answered(_ model: String, status: Int, seconds: Double?) {
        let key = CounterKey(model: model, status: status)
        lock.lock()
        let counter: Counter
        if let c = counters[key] { counter = c } else {
            counter = registry.makeCounter(name: "mlsh_requests_total", labels: [("model", model), ("status", String(status))],
                                           help: "Requests answered, by served model version and HTTP status")
            counters[key] = counter
        }
        var histogram: DurationHistogram?
        if seconds != nil {
            if let h = histograms[model] { histogram = h } else {
                let h = registry.makeDurationHistogram(name: "mlsh_request_duration_seconds", labels: [("model", model)],
                                                       buckets: ServeMetrics.buckets,
                                                       help: "Time from request to answer for predictions")
                histograms[model] = h
                histogram = h
            }
        }
        lock.unlock()
        counter.increment()
        if let seconds, let histogram { histogram.recordNanoseconds(Int64(seconds * 1e9)) }
    }

    /// The Prometheus text exposition, with drift scores refreshed when stale.
    func exposition(monitor: RequestMonitor, quality: [(String, LiveQuality)] = [], signals: (name: String, AlertSignals)? = nil) -> [UInt8] {
        let snap = monitor.snapshot()
        logged.set(Double(snap.logged))
        dropped.set(Double(snap.dropped))
        refreshDrift(monitor)
        // Versions' drift and anomaly shares as the signals computed them (the shadow's here).
        let versions = signals?.1.versions ?? [:]
        for m in models {
            guard let share = versions[m.label].map({ $0.anomalyShare }) ?? m.anomalyShare(monitor) else { continue }
            gauge("mlsh_anomaly_share", [("model", m.label)],
                  "Share of the recent requests' rows an isolation forest fitted on the training sample flags as anomalous").set(share)
        }
        for (model, q) in quality {
            gauge("mlsh_labeled_rows", [("model", model)], "Answered rows whose true label was fed back (of the latest \(LiveQuality.window))")
                .set(Double(q.labeled))
            for (metric, value) in q.metrics {
                gauge("mlsh_live_quality", [("model", model), ("metric", metric)],
                      "Quality of the served version on its latest labeled rows (rmse, mae, r2; accuracy, f1, auc)").set(value)
            }
        }
        if let (name, sig) = signals {
            for (signal, value) in sig.values {
                gauge("mlsh_signal", [("model_name", name), ("signal", signal)],
                      "The signals alerts are evaluated over (what `mlsh alerts --prometheus` rules read)").set(value)
            }
            for m in models {
                for d in (versions[m.label].map { $0.drift } ?? driftScores(m, monitor: monitor)) ?? [] {
                    gauge("mlsh_feature_drifted", [("model_name", name), ("model", m.label), ("feature", d.feature)],
                          "1 when the feature's recent requests drifted from the training sample").set(d.drifted ? 1.0 : 0.0)
                }
            }
        }
        return registry.emitToBuffer()
    }

    private var gauges: [String: Gauge] = [:]

    /// A gauge by name and labels, made on first use.
    private func gauge(_ name: String, _ labels: [(String, String)], _ help: String) -> Gauge {
        let key = name + labels.map { "\u{0}" + $0.0 + "=" + $0.1 }.joined()
        lock.lock()
        defer { lock.unlock() }
        if let g = gauges[key] { return g }
        let g = registry.makeGauge(name: name, labels: labels, help: help)
        gauges[key] = g
        return g
    }

    private func refreshDrift(_ monitor: RequestMonitor) {
        let now = Date().timeIntervalSince1970
        lock.lock()
        let due = now - driftComputed >= driftInterval
        if due { driftComputed = now }
        lock.unlock()
        guard due else { return }
        for m in models {
            guard let scores = driftScores(m, monitor: monitor) else { continue }
            for s in scores {
                let key = m.label + "\u{0}" + s.feature
                lock.lock()
                let gauge: Gauge
                if let g = driftGauges[key] { gauge = g } else {
                    gauge = registry.makeGauge(name: "mlsh_drift_score", labels: [("model", m.label), ("feature", s.feature), ("method", s.method.rawValue)],
                                               help: "Drift of recent requests from the training sample (p-value for ks/chisquare, distance otherwise)")
                    driftGauges[key] = gauge
                }
                lock.unlock()
                gauge.set(s.score)
            }
        }
    }
}
