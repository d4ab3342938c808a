import Foundation
import MLShCommon
import MLShEngine
import MLShMonitor
import MLShStore

/// What a server with a store does besides answering, every `watchInterval` seconds on a
/// thread of its own: follows its aliases and canaries (`RouteFollower`), evaluates its
/// alerts (`AlertEngine`), and drives retraining (`RetrainDriver`). On a PostgreSQL store
/// it also wakes as soon as the registry changes (the store's notifications), so servers
/// follow an alias moved anywhere without waiting for the interval.
final class ServerWatch: @unchecked Sendable {
    let follower: RouteFollower
    let alerts: AlertEngine
    let retrains: RetrainDriver
    private let interval: Double
    private let lock = NSCondition()
    private var stopped = false
    private var woken = false
    private var listener: PostgresListener?

    init(follower: RouteFollower, alerts: AlertEngine, retrains: RetrainDriver, interval: Double) {
        self.follower = follower; self.alerts = alerts; self.retrains = retrains; self.interval = interval
        alerts.onFiring = { [weak retrains] rule in retrains?.alertFired(rule) }
    }

    func start(store: Store) {
        let listening = store.registryChanges { [weak self] in self?.wake() }
        lock.lock()
        listener = listening
        lock.unlock()
        let t = Thread { [weak self] in
            // Below the event loops: the watch's bursts (drift, anomaly scores, store reads)
            // wait for answers, not the other way round.
            if let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self"),
               let tid = link.split(separator: "/").last.flatMap({ id_t($0) }) {
                setpriority(__priority_which_t(PRIO_PROCESS.rawValue), tid, 10)   // this thread's nice value
            }
            while let self, !self.isStopped {
                let now = Date().timeIntervalSince1970
                self.follower.tick()
                self.alerts.tick(now: now)
                self.retrains.tick(now: now)
                self.rest()
            }
        }
        t.name = "mlsh-watch"
        t.start()
    }

    /// Waits for the interval, or less when woken or stopped.
    private func rest() {
        lock.lock()
        defer { lock.unlock() }
        let until = Date(timeIntervalSinceNow: interval)
        while !woken && !stopped && lock.wait(until: until) {}
        woken = false
    }

    /// Ends the current rest early (the registry changed).
    func wake() {
        lock.lock()
        woken = true
        lock.signal()
        lock.unlock()
    }

    var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    func stop() {
        lock.lock()
        stopped = true
        lock.signal()
        let listening = listener
        listener = nil
        lock.unlock()
        listening?.stop()
    }
}

/// Keeps a server's routes on the store. A route started as `name@alias` (or
/// `name@latest`) switches to the version the alias names when it moves; a retraining
/// attempt in canary for `name@promote` gets its `canary` share of that route's traffic.
/// A switch installs a new `PredictionService` beside the old: requests in flight finish
/// on the version they started with, none is dropped.
final class RouteFollower: @unchecked Sendable {
    private let configured: [Route]
    private let store: Store
    private let bound: BoundAddress
    /// Versions loaded, by label (a version comes back when a canary is rolled back).
    private var loaded: [String: ServedModel] = [:]
    /// The last reason the server did not follow, reported once.
    private(set) var lastError: String?
    /// The version each followed alias was last seen to name.
    private var served: [String: String] = [:]

    init(configured: [Route], store: Store, bound: BoundAddress) {
        self.configured = configured; self.store = store; self.bound = bound
        for r in configured { loaded[r.model.label] = r.model }
    }

    /// A version, loaded once.
    func model(_ name: String, _ version: Int64) -> ServedModel? {
        let label = "\(name)@\(version)"
        if let m = loaded[label] { return m }
        do {
            let m = try ServedModel.load(try store.resolve(label), from: store)
            loaded[label] = m
            return m
        } catch {
            report("cannot load \(label): \(error.message)")
            return nil
        }
    }

    /// Says on stderr (the server's log) why the server does not follow, once per reason.
    private func report(_ message: String) {
        guard message != lastError else { return }
        lastError = message
        FileHandle.standardError.write(Data("mlsh serve: \(message)\n".utf8))
    }

    /// The routes the store says to serve now.
    func plan() -> [Route] {
        let names = Array(Set(configured.map(\.model.name))).sorted()
        let canaries = (try? store.canaries(models: names)) ?? []
        var out: [Route] = []
        for r in configured {
            var route = r
            // A route follows its alias to a version reading the same inputs (its clients' requests).
            if let ref = r.follows, let v = try? store.resolve(ref), v.version != r.model.version || v.name != r.model.name,
               let m = model(v.name, v.version) {
                if m.schema.accepts(r.model.schema) { route.model = m } else {
                    report("\(ref) names \(m.label), which reads other inputs than \(r.model.label) (its clients would fail); still serving \(r.model.label): restart the server to serve it")
                }
            }
            // Each switch is said on stderr (the server's log).
            if let ref = r.follows, served[ref, default: r.model.label] != route.model.label {
                FileHandle.standardError.write(Data("mlsh serve: \(ref) names \(route.model.label): serving it\n".utf8))
            }
            if let ref = r.follows { served[ref] = route.model.label }
            if let c = canaries.first(where: { r.follows == "\($0.model)@\($0.promote)" && $0.champion == route.model.version }),
               let challenger = c.challenger, let m = model(c.model, challenger), m.schema.accepts(route.model.schema) {
                out.append(Route(route.model, weight: route.weight * (1 - c.canary), follows: route.follows))
                out.append(Route(m, weight: route.weight * c.canary))
            } else {
                out.append(route)
            }
        }
        return out
    }

    /// Installs the plan when it differs from what is served.
    func tick() {
        guard let current = bound.current else { return }
        let next = plan()
        let same = next.count == current.routes.count && zip(next, current.routes).allSatisfy {
            $0.model.label == $1.model.label && $0.weight == $1.weight
        }
        guard !same else { return }
        current.metrics.serving(next.map(\.model))
        bound.install(PredictionService(routes: next, shadow: current.shadow, configuration: current.configuration,
                                        monitor: current.monitor, metrics: current.metrics, url: current.url,
                                        deployment: current.deployment))
    }
}

/// Retraining as a server drives it: an attempt starts when an alert named by the
/// model's policy fires or its schedule is due (one at a time per model, across servers);
/// the attempt's training and gate run in a child process (`mlsh retrain --attempt ID`);
/// a canary is decided once the challenger has `after` labeled answers: promoted (the
/// alias moves) when its live figures pass the gate against the champion's over the same
/// time, rolled back otherwise.
final class RetrainDriver: @unchecked Sendable {
    private let store: Store
    private let current: @Sendable () -> PredictionService
    private let follower: RouteFollower
    private let executable: String?
    private let started = Date().timeIntervalSince1970

    init(store: Store, service: @escaping @Sendable () -> PredictionService, follower: RouteFollower, executable: String?) {
        self.store = store; self.current = service; self.follower = follower; self.executable = executable
    }

    private var models: [String] { Array(Set(current().routes.map(\.model.name))).sorted() }

    /// An alert fired: starts an attempt for the model whose policy waits for it.
    func alertFired(_ rule: AlertRuleRecord) {
        guard let policy = (try? store.retrainPolicies(model: rule.model))?.first, policy.onAlert == rule.name else { return }
        // Every server of the model sees the alert fire: one attempt per firing, not one per server.
        let trigger = "alert \(rule.name)", now = Date().timeIntervalSince1970
        if let last = (try? store.retrains(model: rule.model))?.last(where: { $0.trigger == trigger }),
           now - last.started < max(60, rule.hold) { return }
        launch(policy, trigger: trigger)
    }

    func tick(now: Double) {
        for name in models {
            guard let policy = (try? store.retrainPolicies(model: name))?.first, let every = policy.every else { continue }
            let previous = (try? store.retrains(model: name))?.last
            let last = previous.map { $0.ended ?? $0.started } ?? started
            if now - last >= every { launch(policy, trigger: "every \(durationText(every))") }
        }
        for c in (try? store.canaries(models: models)) ?? [] { decide(c, now: now) }
    }

    /// Records the attempt and starts its process.
    func launch(_ policy: RetrainPolicyRecord, trigger: String) {
        let record = RetrainRecord(model: policy.model, trigger: trigger, policy: policy, started: Date().timeIntervalSince1970)
        guard let (id, new) = try? store.beginRetrain(record), new else { return }
        guard let executable else {
            var failed = (try? store.retrain(id)) ?? record
            failed.decision = "failed"
            failed.error = "this server cannot run training scripts (it does not know the mlsh executable); run mlsh retrain \(policy.model) --now"
            failed.ended = Date().timeIntervalSince1970
            _ = try? store.updateRetrain(failed, from: ["running"])
            return
        }
        do {
            // The store goes by the environment (a PostgreSQL URL's password stays out of the
            // process list).
            let pid = try ChildProcess.spawn(executable, ["retrain", policy.model, "--attempt", String(id)],
                                             environment: ProcessInfo.processInfo.environment.merging(store.processEnvironment) { $1 })
            let store = store
            Thread.detachNewThread {
                let status = ChildProcess.wait(pid).status
                // A child that ended without deciding (killed, or it could not open the store).
                guard var left = try? store.retrain(id), left.decision == "running" else { return }
                left.decision = "failed"
                left.error = "the attempt's process (\(executable) retrain --attempt \(id)) ended with status \(status) before deciding"
                left.ended = Date().timeIntervalSince1970
                _ = try? store.updateRetrain(left, from: ["running"])
            }
        } catch {
            var failed = (try? store.retrain(id)) ?? record
            failed.decision = "failed"
            failed.error = error.description
            failed.ended = Date().timeIntervalSince1970
            _ = try? store.updateRetrain(failed, from: ["running"])
        }
    }

    /// Decides a canary once the challenger has `after` labeled answers since it started.
    func decide(_ c: RetrainRecord, now: Double) {
        guard let since = c.canaryStarted, let challenger = c.challenger, let champion = c.champion,
              let challengerModel = follower.model(c.model, challenger), let championModel = follower.model(c.model, champion),
              let rows = try? store.labeledRows(name: c.model, version: challenger, since: since, limit: max(c.after, LiveQuality.window)),
              rows.count >= c.after, let gate = AlertExpr.gate(c.gateTree) else { return }
        let live = LiveQuality.of(challengerModel, rows: rows).metrics
        let championRows = (try? store.labeledRows(name: c.model, version: champion, since: since, limit: LiveQuality.window)) ?? []
        // The champion's figures over the same time; its holdout figures when it got no labels then.
        let championLive = championRows.isEmpty ? QualityFigures.parse(c.championFigures)
                                                : LiveQuality.of(championModel, rows: championRows).metrics
        var decided = c
        decided.canaryFigures = JSONWriter.text(.object([
            ("challenger", .object(live.map { ($0.0, .number($0.1)) })), ("champion", .object(championLive.map { ($0.0, .number($0.1)) })),
            ("labeled", .number(Double(rows.count))),
        ]))
        decided.ended = now
        if gate.passes(challenger: live, champion: championLive) {
            _ = try? store.promoteRetrain(decided)
        } else {
            decided.decision = "rolled_back"
            decided.error = "its live figures failed the gate: \(c.gate)"
            _ = try? store.updateRetrain(decided, from: ["canary"])
        }
    }
}

/// `86400` seconds as `24h`, `90` as `90s`.
public func durationText(_ s: Double) -> String {
    for (u, k) in [("d", 86400.0), ("h", 3600), ("m", 60)] where s >= k && (s / k).rounded() == s / k {
        return "\(Int(s / k))\(u)"
    }
    return s == s.rounded() && s.magnitude < 1e15 ? "\(Int(s))s" : "\(s)s"
}
