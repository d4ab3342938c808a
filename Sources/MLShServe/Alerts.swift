import Foundation
import MLShCommon
import MLShEngine
import MLShMonitor
import MLShStore

/// An alert's condition as a server evaluates it: the tree of the mls expression the
/// language checked when the alert was written (`alert(...)`), kept as JSON in the store.
/// Evaluated as `value(_:)` says, the same way the Prometheus rules evaluate it.
public indirect enum AlertExpr: Sendable, Equatable {
    case number(Double)
    case signal(String)
    /// `drifted("bmi")`: 1 when that feature's recent requests drifted.
    case drifted(String)
    case not(AlertExpr)
    case negate(AlertExpr)
    /// `+ - * / and or == != < <= > >=`.
    case binary(String, AlertExpr, AlertExpr)

    /// The signals a condition may name (and `drifted("feature")`).
    public static let signals = ["drift_share", "anomaly_share", "error_rate", "p99_ms", "requests", "labeled",
                                 "rmse", "mae", "r2", "accuracy", "f1", "auc"]
    /// The binary operators a condition may use.
    public static let operators: Set<String> = ["+", "-", "*", "/", "and", "or", "==", "!=", "<", "<=", ">", ">="]

    public var json: JSON {
        switch self {
        case .number(let d): .object([("number", .number(d))])
        case .signal(let s): .object([("signal", .string(s))])
        case .drifted(let f): .object([("drifted", .string(f))])
        case .not(let e): .object([("not", e.json)])
        case .negate(let e): .object([("negate", e.json)])
        case .binary(let op, let a, let b): .object([("op", .string(op)), ("left", a.json), ("right", b.json)])
        }
    }

    /// The figures a retraining gate may name: the challenger's bare (`rmse`), the
    /// champion's as `champion.rmse`.
    public static let figures = ["rmse", "mae", "r2", "accuracy", "f1", "auc"]
    public static let gateNames = figures + figures.map { "champion." + $0 }

    /// A tree read back from the store; nil when it names something outside `names` (an
    /// alert's signals by default, `gateNames` for a gate).
    public init?(json: JSON, names: Set<String> = Set(AlertExpr.signals)) {
        if case .number(let d)? = json["number"] { self = .number(d); return }
        if let i = json["number"]?.double { self = .number(i); return }
        if case .string(let s)? = json["signal"], names.contains(s) { self = .signal(s); return }
        if case .string(let f)? = json["drifted"] { self = .drifted(f); return }
        if let e = json["not"].flatMap({ AlertExpr(json: $0, names: names) }) { self = .not(e); return }
        if let e = json["negate"].flatMap({ AlertExpr(json: $0, names: names) }) { self = .negate(e); return }
        if case .string(let op)? = json["op"], AlertExpr.operators.contains(op),
           let a = json["left"].flatMap({ AlertExpr(json: $0, names: names) }),
           let b = json["right"].flatMap({ AlertExpr(json: $0, names: names) }) {
            self = .binary(op, a, b); return
        }
        return nil
    }

    /// A gate stored as JSON text.
    public static func gate(_ text: String) -> AlertExpr? {
        (try? JSONParser.parse(text)).flatMap { AlertExpr(json: $0, names: Set(gateNames)) }
    }

    /// Whether a challenger with `challenger` figures passes the gate against a champion
    /// with `champion` figures (a figure either lacks is unknown: comparisons with it fail).
    public func passes(challenger: [(String, Double)], champion: [(String, Double)]) -> Bool {
        var s = AlertSignals()
        for (k, v) in challenger { s.values[k] = v }
        for (k, v) in champion { s.values["champion." + k] = v }
        return holds(s)
    }

    /// The value under `signals`, computed as the PromQL of `mlsh alerts --prometheus`
    /// computes it: an unknown signal is NaN (so comparisons with it are false), a feature
    /// not scored is not drifted, comparisons and `not` give 1 or 0, `and`/`or` take
    /// non-zero as true. A condition holds when its value is above 0.
    public func value(_ s: AlertSignals) -> Double {
        switch self {
        case .number(let d): return d
        case .signal(let name): return s.values[name] ?? .nan
        case .drifted(let f): return s.drifted.contains(f) ? 1 : 0
        case .not(let e): return e.value(s) == 0 ? 1 : 0
        case .negate(let e): return -e.value(s)
        case .binary(let op, let a, let b):
            let x = a.value(s), y = b.value(s)
            func truth(_ v: Double) -> Double { v != 0 ? 1 : 0 }
            switch op {
            case "and": return truth(x) * truth(y)
            case "or": return min(1, truth(x) + truth(y))
            case "+": return x + y
            case "-": return x - y
            case "*": return x * y
            case "/": return x / y
            case "==": return x == y ? 1 : 0
            case "!=": return x != y ? 1 : 0
            case "<": return x < y ? 1 : 0
            case "<=": return x <= y ? 1 : 0
            case ">": return x > y ? 1 : 0
            default: return x >= y ? 1 : 0
            }
        }
    }

    /// Whether the condition holds under `signals`.
    public func holds(_ s: AlertSignals) -> Bool { value(s) > 0 }

    /// The signals the condition names (`drifted` for any `drifted("feature")`).
    public var names: Set<String> {
        switch self {
        case .number: return []
        case .signal(let s): return [s]
        case .drifted: return ["drifted"]
        case .not(let e), .negate(let e): return e.names
        case .binary(_, let a, let b): return a.names.union(b.names)
        }
    }

    /// The first signal the condition names, whose value a transition reports.
    public var firstSignal: AlertExpr? {
        switch self {
        case .signal, .drifted: return self
        case .number: return nil
        case .not(let e), .negate(let e): return e.firstSignal
        case .binary(_, let a, let b): return a.firstSignal ?? b.firstSignal
        }
    }
}

/// What a server knows of itself when it evaluates its alerts.
public struct AlertSignals: Sendable {
    public var values: [String: Double] = [:]
    public var drifted: Set<String> = []
    /// What each served version's signals came from, by label (for `/metrics`).
    var versions: [String: (drift: [DriftScore]?, anomalyShare: Double?)] = [:]
}

extension PredictionService {
    /// The deployment's signals: the largest drift share (drifted features over features)
    /// and anomaly share among its versions, error answers (4xx, 5xx) over requests
    /// answered, p99 latency, requests answered (HTTP requests, of any number of rows),
    /// labeled rows, and the live quality of the version with the most traffic (`quality`
    /// when the caller has it).
    func alertSignals(quality known: [(String, LiveQuality)]? = nil, needed: Set<String>? = nil) -> AlertSignals {
        var s = AlertSignals()
        let snap = monitor.snapshot()
        let errors = snap.byStatus.filter { $0.key >= 400 }.values.reduce(0, +)
        s.values["requests"] = Double(snap.requests)
        s.values["error_rate"] = snap.requests > 0 ? Double(errors) / Double(snap.requests) : 0
        if snap.requests > 0 { s.values["p99_ms"] = snap.p99 }
        // Drift, anomaly scores and live quality cost CPU and a store read: computed only
        // when a condition names them (nil: all, as /metrics shows them).
        func wants(_ name: String) -> Bool { needed?.contains(name) ?? true }
        var driftShare: Double?, anomalyShare: Double?
        for r in routes {
            let scores = wants("drift_share") || wants("drifted") ? drift(r.model) : nil
            let anomaly = wants("anomaly_share") ? r.model.anomalyShare(monitor) : nil
            s.versions[r.model.label] = (scores, anomaly)
            if let scores, !scores.isEmpty {
                let drifted = scores.filter(\.drifted)
                for d in drifted { s.drifted.insert(d.feature) }
                driftShare = max(driftShare ?? 0, Double(drifted.count) / Double(scores.count))
            }
            if let a = anomaly { anomalyShare = max(anomalyShare ?? 0, a) }
        }
        s.values["drift_share"] = driftShare
        s.values["anomaly_share"] = anomalyShare
        let qualityNames = ["labeled"] + AlertExpr.figures
        guard known != nil || qualityNames.contains(where: wants) else { return s }
        let quality = known ?? liveQuality()
        s.values["labeled"] = Double(quality.reduce(0) { $0 + $1.1.labeled })
        let main = routes.max { $0.weight < $1.weight }?.model.label
        if let q = quality.first(where: { $0.0 == main })?.1 {
            for (k, v) in q.metrics where q.labeled > 0 { s.values[k] = v }
        }
        return s
    }
}

/// Evaluates a server's alerts at each tick of its watch (`ServerWatch`): an alert
/// fires once its condition has held for its `hold`, and resolves when it no longer holds;
/// each transition is stored and posted to the alert's `notify` URL in Alertmanager's
/// webhook format, retried with backoff on a queue of its own.
final class AlertEngine: @unchecked Sendable {
    struct State { var since: Double?; var firing = false; var startsAt = 0.0 }
    private let store: Store
    private var states: [String: State] = [:]
    private let lock = NSLock()
    private let notifier = DispatchQueue(label: "mlsh.alerts.notify", qos: .utility)
    /// Notifications that failed every attempt.
    private(set) var failedNotifications = 0
    private(set) var sentNotifications = 0

    /// Called with each alert that starts firing (the retraining driver starts attempts).
    var onFiring: (@Sendable (AlertRuleRecord) -> Void)?

    init(service: @escaping @Sendable () -> PredictionService, store: Store) {
        self.current = service; self.store = store
    }
    private let current: @Sendable () -> PredictionService
    private var service: PredictionService { current() }

    func tick(now: Double) {
        let service = service
        let names = Set(service.routes.map(\.model.name))
        var rules: [AlertRuleRecord] = []
        for n in names.sorted() { rules += (try? store.alertRules(model: n)) ?? [] }
        guard !rules.isEmpty else { return }
        let trees = rules.map { (try? JSONParser.parse($0.tree)).flatMap({ AlertExpr(json: $0) }) }
        let signals = service.alertSignals(needed: trees.reduce(into: Set<String>()) { $0.formUnion($1?.names ?? []) })
        for (rule, tree) in zip(rules, trees) {
            guard let tree else { continue }
            let holds = tree.holds(signals)
            let value = tree.firstSignal.map { $0.value(signals) }.flatMap { $0.isNaN ? nil : $0 }
            let key = rule.model + "\u{0}" + rule.name
            lock.lock()
            var st = states[key] ?? State()
            var transition: String?
            if holds {
                if st.since == nil { st.since = now }
                if !st.firing, let since = st.since, now - since >= rule.hold {
                    st.firing = true; st.startsAt = now; transition = "firing"
                }
            } else {
                st.since = nil
                if st.firing { st.firing = false; transition = "resolved" }
            }
            states[key] = st
            lock.unlock()
            guard let transition else { continue }
            try? store.recordAlertEvent(AlertEventRecord(model: rule.model, name: rule.name, status: transition, value: value,
                                                         at: now, deployment: service.deployment))
            if let url = rule.notify { notify(url, rule, transition, value: value, startsAt: st.startsAt, at: now) }
            if transition == "firing" { onFiring?(rule) }
        }
    }

    /// Posts one transition in Alertmanager's webhook format, retried up to five times
    /// (0.5, 1, 2, 4 s apart) on the notifier's queue.
    private func notify(_ url: String, _ rule: AlertRuleRecord, _ status: String, value: Double?, startsAt: Double, at: Double) {
        let labels: JSON = .object([("alertname", .string(rule.name)), ("model", .string(rule.model))])
        var annotations: [(String, JSON)] = [("condition", .string(rule.condition))]
        if let value { annotations.append(("value", .string(String(value)))) }
        let alert: JSON = .object([
            ("status", .string(status)), ("labels", labels), ("annotations", .object(annotations)),
            ("startsAt", .string(AlertEngine.rfc3339(startsAt))),
            ("endsAt", .string(status == "resolved" ? AlertEngine.rfc3339(at) : "0001-01-01T00:00:00Z")),
            ("generatorURL", .string(service.url + "/v1/status")),
            ("fingerprint", .string(String(AlertEngine.fingerprint(rule.model + "/" + rule.name).prefix(16)))),
        ])
        let body: JSON = .object([
            ("version", .string("4")), ("groupKey", .string("{}:{alertname=\"\(rule.name)\"}")), ("status", .string(status)),
            ("receiver", .string("mlsh")), ("groupLabels", .object([("alertname", .string(rule.name))])),
            ("commonLabels", labels), ("commonAnnotations", .object(annotations)), ("externalURL", .string(service.url)),
            ("alerts", .array([alert])),
        ])
        let bytes = Array(JSONWriter.text(body).utf8)
        notifier.async { [weak self] in
            var delay = 0.5
            for attempt in 1...5 {
                if let r = try? HTTPClient.request("POST", url, body: bytes, headers: [("Content-Type", "application/json")], timeout: 5),
                   (200..<300).contains(r.status) {
                    self?.count(sent: true)
                    return
                }
                if attempt < 5 { Thread.sleep(forTimeInterval: delay); delay *= 2 }
            }
            self?.count(sent: false)
        }
    }

    private func count(sent: Bool) {
        lock.lock()
        if sent { sentNotifications += 1 } else { failedNotifications += 1 }
        lock.unlock()
    }

    /// The hex SHA-256 of an alert's model and name (Alertmanager's `fingerprint`).
    static func fingerprint(_ text: String) -> String {
        var h = SHA256()
        h.update(Array(text.utf8))
        return h.hexDigest()
    }

    /// `2026-12-06T18:55:09Z` for a Unix time.
    static func rfc3339(_ t: Double) -> String {
        var seconds = time_t(t.rounded(.down))
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "" }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
