import Foundation
import MLShCommon
import MLShEngine
import MLShModels
import MLShStore

/// A deployment's logged traffic over time, in equal spans of time from its first logged
/// row (or refusal) to its last: requests, refusals and latency per span, and for each
/// version that answered, per span, the drift of each input feature against the version's
/// training sample, the share of anomalous rows, and live quality on the rows whose labels
/// were fed back — the figures a server reports for its recent window, here for its whole
/// log. Work stays bounded however long the log: one pass reads five numbers per row,
/// and drift and anomalies score an evenly spaced sample of at most `sampleRows` rows per
/// span and version (the server's own drift window), live quality the newest
/// `labeledLimit` labeled rows.
public struct DeploymentTimeline: Sendable {
    /// Spans of time the log is cut into.
    public static let bucketCount = 30
    /// Rows per span and version that drift and anomalies score: the size of a server's
    /// drift window, so the page's scores read like those `status` reports.
    public static let sampleRows = 1_000
    /// Labeled rows read for live quality, newest first.
    public static let labeledLimit = 100_000

    /// One span of time.
    public struct Bucket: Sendable {
        /// Unix time the span starts at (spans are `width` seconds long).
        public var start: Double
        public var requests = 0
        /// Refused requests (any status).
        public var errors = 0
        public var p50: Double?
        public var p99: Double?
    }

    /// One input feature's drift in each span.
    public struct FeatureDrift: Sendable {
        public var feature: String
        public var method: DriftMethod
        public var threshold: Double
        /// One score per span; NaN where the version answered no row in it.
        public var scores: [Double]

        /// How far the feature drifted at most, in units of its threshold (above 1: drifted
        /// in some span): a distance over its threshold, a p-value's logarithm over its
        /// threshold's. Orders features by drift whatever their test.
        public var strength: Double {
            scores.filter { !$0.isNaN }.map { s in
                method.isPValue ? log(max(s, 1e-300)) / log(threshold) : s / threshold
            }.max() ?? 0
        }
    }

    /// What one served version did in each span.
    public struct Version: Sendable {
        /// `name@N`.
        public var label: String
        /// Rows it answered per span, and how many of them drift and anomalies scored.
        public var rows: [Int]
        public var sampled: [Int]
        /// Each input feature's drift (empty without a training sample), strongest first.
        public var drift: [FeatureDrift] = []
        /// The share of sampled rows the anomaly detector flags per span (NaN: none
        /// sampled); nil without a training sample with numeric features.
        public var anomalies: [Double]?
        /// Labeled rows per span, and each live-quality figure per span (NaN where none).
        public var labeled: [Int]
        public var quality: [(name: String, values: [Double])] = []
        /// Why drift, anomalies or quality could not be computed, when one could not.
        public var notes: [String] = []
    }

    public var buckets: [Bucket] = []
    /// Seconds per span.
    public var width: Double = 0
    /// Answered rows, rows shadow models scored, refused requests.
    public var requests = 0
    public var shadowRows = 0
    public var errors = 0
    /// Latency percentiles over every answered row.
    public var p50: Double?
    public var p99: Double?
    /// Rows answered per version (the traffic split as served), in order of first answer.
    public var traffic: [(version: String, requests: Int)] = []
    /// Refusals by HTTP status, most frequent first.
    public var errorsByStatus: [(status: Int, count: Int)] = []
    public var versions: [Version] = []

    public init() {}

    /// The timeline of deployment `id` as logged in `store`.
    public static func read(_ store: Store, deployment id: Int64) throws(StoreError) -> DeploymentTimeline {
        var out = DeploymentTimeline()
        let times = try store.requestTimes(deployment: id)
        let errorTimes = try store.requestErrorTimes(deployment: id)
        out.requests = times.at.count
        out.shadowRows = times.shadowRows
        out.errors = errorTimes.count
        var perVersion = [Int](repeating: 0, count: times.versions.count)
        for v in times.version { perVersion[Int(v)] += 1 }
        out.traffic = zip(times.versions, perVersion).map { ($0, $1) }
        var byStatus: [Int: Int] = [:]
        for e in errorTimes { byStatus[e.status, default: 0] += 1 }
        out.errorsByStatus = byStatus.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) }

        // The spans: from the first to the last time logged, answered or refused.
        let stamps = times.at.filter(\.isFinite) + errorTimes.map(\.at).filter(\.isFinite)
        guard let first = stamps.min(), let last = stamps.max() else { return out }
        let count = bucketCount
        let width = max((last - first) / Double(count), 1e-3)
        out.width = width
        func bucket(_ at: Double) -> Int { min(max(Int((at - first) / width), 0), count - 1) }
        out.buckets = (0..<count).map { Bucket(start: first + Double($0) * width) }
        var latencies = [[Double]](repeating: [], count: count)
        // Row positions per version and span, in log order.
        var rowsAt = [[[Int]]](repeating: [[Int]](repeating: [], count: count), count: times.versions.count)
        for (k, at) in times.at.enumerated() where at.isFinite {
            let b = bucket(at)
            latencies[b].append(times.latencyMs[k])
            rowsAt[Int(times.version[k])][b].append(k)
        }
        var sortedSpans: [[Double]] = []
        for b in 0..<count {
            let s = latencies[b].filter { !$0.isNaN }.sorted()
            out.buckets[b].requests = latencies[b].count
            out.buckets[b].p50 = percentile(s, 0.5)
            out.buckets[b].p99 = percentile(s, 0.99)
            sortedSpans.append(s)
        }
        // The spans' sorted runs one after the other: the standard library's merge sort
        // finds the runs and merges them, far cheaper than sorting every latency afresh.
        let sortedLatencies = sortedSpans.flatMap { $0 }.sorted()
        out.p50 = percentile(sortedLatencies, 0.5)
        out.p99 = percentile(sortedLatencies, 0.99)
        for e in errorTimes where e.at.isFinite { out.buckets[bucket(e.at)].errors += 1 }

        let registered = try store.versions()
        let labeled = try store.labeledRequests(deployment: id, limit: labeledLimit)
        for (v, label) in times.versions.enumerated() {
            var version = Version(label: label, rows: rowsAt[v].map(\.count), sampled: [Int](repeating: 0, count: count),
                                  labeled: [Int](repeating: 0, count: count))
            guard let record = registered.first(where: { $0.label == label }),
                  let model = try? store.model(record.artifact) else {
                version.notes.append("\(label) is no longer in the registry: drift, anomalies and live quality need its model")
                out.versions.append(version)
                continue
            }
            // Drift and anomalies, on a sample of each span's rows.
            if let reference = LoggedInputs.trainingSample(model) {
                let samples = rowsAt[v].map { evenlySpaced($0, at: sampleRows) }
                version.sampled = samples.map(\.count)
                let texts = try store.requestInputs(rowids: samples.flatMap { $0.map { times.rowids[$0] } })
                var tables: [Table?] = []
                var offset = 0
                for s in samples {
                    tables.append(s.isEmpty ? nil : LoggedInputs.table(Array(texts[offset..<(offset + s.count)]), features: model.features))
                    offset += s.count
                }
                version.drift = drift(DriftReference(reference), tables)
                version.anomalies = AnomalyDetector(reference: reference).map { detector in
                    tables.map { t in t.flatMap { detector.share($0) } ?? .nan }
                }
                if version.anomalies == nil { version.notes.append("no anomaly scores: the training sample has no numeric feature") }
            } else {
                version.notes.append("no drift or anomaly scores: \(label)'s model file keeps no training sample")
            }
            // Live quality, on the labeled rows of each span.
            let mine = labeled.filter { $0.version == label && $0.at.isFinite }
            var perSpan = [[LabeledRow]](repeating: [], count: count)
            for l in mine { perSpan[bucket(l.at)].append(l.row) }
            version.labeled = perSpan.map(\.count)
            var figures: [(name: String, values: [Double])] = []
            for (b, rows) in perSpan.enumerated() where !rows.isEmpty {
                let predicted = rows.map { (try? JSONParser.parse($0.prediction)) ?? .null }
                let actual = rows.map { (try? JSONParser.parse($0.label)) ?? .null }
                let scores = rows.compactMap(\.score)
                for (name, value) in QualityFigures.of(model, actual: actual, predicted: predicted,
                                                       positiveProbability: scores.count == rows.count ? scores : nil) {
                    if let i = figures.firstIndex(where: { $0.name == name }) { figures[i].values[b] = value } else {
                        var values = [Double](repeating: .nan, count: count)
                        values[b] = value
                        figures.append((name, values))
                    }
                }
            }
            version.quality = figures
            out.versions.append(version)
        }
        return out
    }

    /// Each feature's scores per span (tables nil where the span has no rows), strongest
    /// drift first.
    static func drift(_ reference: DriftReference, _ tables: [Table?]) -> [FeatureDrift] {
        var features: [FeatureDrift] = []
        for (b, t) in tables.enumerated() {
            guard let t, let scores = try? reference.score(t, parallel: false) else { continue }
            for s in scores {
                if let i = features.firstIndex(where: { $0.feature == s.feature }) { features[i].scores[b] = s.score } else {
                    var values = [Double](repeating: .nan, count: tables.count)
                    values[b] = s.score
                    features.append(FeatureDrift(feature: s.feature, method: s.method, threshold: s.threshold, scores: values))
                }
            }
        }
        let strengths = features.map(\.strength)
        return features.indices.sorted { strengths[$0] > strengths[$1] || (strengths[$0] == strengths[$1] && $0 < $1) }.map { features[$0] }
    }

    /// At most `limit` of `items`, evenly spaced, in order.
    static func evenlySpaced(_ items: [Int], at limit: Int) -> [Int] {
        guard items.count > limit, limit > 0 else { return items }
        return (0..<limit).map { items[$0 * items.count / limit] }
    }

    /// The nearest-rank percentile of sorted values; nil for none.
    public static func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }
}
