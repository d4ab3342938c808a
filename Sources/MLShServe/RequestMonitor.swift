import Foundation
import MLShCommon
import MLShEngine
import MLShStore
import Synchronization

/// Everything a server observes about its answers: the request log (written to the store
/// by a background thread in batches — the request path only appends to a bounded queue,
/// and under overload entries are dropped and counted rather than waited for), request
/// counts and latencies for `status`, and a window of recent inputs per model for drift.
public final class RequestMonitor: @unchecked Sendable {
    /// Rows queued by default before new ones are dropped.
    public static let queueCapacity = 200_000
    /// Rows this monitor queues before it drops new ones.
    let capacity: Int
    /// Recent latencies kept for the p50/p99 of `status`.
    static let latencyWindow = 10_000
    /// Recent input rows kept per model for drift.
    public static let driftWindow = 1_000

    struct Entry {
        var model: ServedModel
        var input: Table
        var predictions: [JSON]
        var latencyMs: Double
        var at: Double
        var shadow: Bool
        /// The number of the request's first row (`issue`); the rows follow in order.
        var firstID: Int64 = 0
        /// A two-class classifier's probability of the positive class per row.
        var scores: [Double]? = nil
    }

    /// What the writer logs of one answer. Numeric inputs and predictions are copied into
    /// `values` on the request path, so the writer reads plain memory of its own instead
    /// of the tables and JSON the event loops made (touching those costs the writer a
    /// cross-core reference count per column and cell); other inputs keep their table.
    struct Queued {
        /// The answering model's place in `loggedModels`.
        var model: Int
        var rows: Int
        /// The inputs row by row (NaN: missing), then one prediction per row when
        /// `numericPredictions`; nothing when `table` holds the inputs.
        var values: [Double]
        /// The predictions are the last `rows` of `values`.
        var numericPredictions: Bool
        var table: Table?
        var predictions: [JSON]
        var latencyMs: Double
        var at: Double
        var shadow: Bool
        var firstID: Int64
        /// The positive class's probability per row; empty when the model gives none.
        var scores: [Double]

        init(_ e: Entry, model: Int) {
            self.model = model
            let n = e.input.rowCount
            rows = n
            latencyMs = e.latencyMs; at = e.at; shadow = e.shadow; firstID = e.firstID
            scores = e.scores?.count == n ? e.scores ?? [] : []
            let numeric = e.predictions.count == n && e.predictions.allSatisfy { if case .number = $0 { true } else { false } }
            // The writer names and types the values after the model's schema: the table must
            // follow it.
            guard e.input.names == e.model.schema.names,
                  zip(e.input.columns, e.model.schema.columns).allSatisfy({ $0.dtype == $1.dtype }),
                  var v = Queued.numbers(e.input, extra: numeric ? n : 0) else {
                values = []; numericPredictions = false; table = e.input; predictions = e.predictions
                return
            }
            numericPredictions = numeric
            table = nil
            if numeric {
                v.withUnsafeMutableBufferPointer { out in
                    for (r, p) in e.predictions.enumerated() { if case .number(let d) = p { out[out.count - n + r] = d } }
                }
                predictions = []
            } else {
                predictions = e.predictions
            }
            values = v
        }

        /// The table's cells row by row as numbers, with `extra` more places at the end;
        /// nil unless every column is float, or int of at most 2^53 in magnitude.
        static func numbers(_ t: Table, extra: Int) -> [Double]? {
            let n = t.rowCount, p = t.columns.count
            for c in t.columns {
                switch c.storage {
                case .float: continue
                case .int(let v, _): guard v.allSatisfy({ $0.magnitude <= 1 << 53 }) else { return nil }
                default: return nil
                }
            }
            return [Double](unsafeUninitializedCapacity: n * p + extra) { out, count in
                for (j, c) in t.columns.enumerated() {
                    switch c.storage {
                    case .float(let v):
                        for r in 0..<n { out[r * p + j] = v[r] }
                    case .int(let v, let valid):
                        for r in 0..<n { out[r * p + j] = valid.map { $0[r] } ?? true ? Double(v[r]) : .nan }
                    default: break
                    }
                }
                for k in (n * p)..<(n * p + extra) { out[k] = .nan }
                count = n * p + extra
            }
        }
    }

    /// The models answers were logged for (`Queued.model`), in order of first answer.
    private var loggedModels: [ServedModel] = []
    private var loggedModelIndex: [ObjectIdentifier: Int] = [:]

    private let lock = NSLock()
    private let wake = NSCondition()
    private var queue: [Queued] = []
    private var queuedRows = 0
    private var stopping = false
    private var writer: Thread?
    let store: Store?
    /// The deployment id rows are logged under (nil: no store, nothing is logged).
    public let deployment: Int64?

    /// The prefix of this server's request ids: its deployment's id in the store, else
    /// `local` (ids are then only this server's).
    public var idPrefix: String { deployment.map(String.init) ?? "local" }
    /// The last request number given out; numbers start at 1.
    private let issuedIDs = Atomic<Int64>(0)
    /// Numbers `rows` answered rows at once; returns the first number.
    func issue(_ rows: Int) -> Int64 {
        issuedIDs.add(Int64(rows), ordering: .relaxed).newValue - Int64(rows) + 1
    }
    /// How many request numbers were given out.
    public var issued: Int64 { issuedIDs.load(ordering: .relaxed) }

    /// Answers written straight from an event loop (`InlinePredictionHandler`).
    let inlineAnswers = Atomic<Int>(0)
    var answeredInline: Int { inlineAnswers.load(ordering: .relaxed) }
    private(set) var dropped = 0
    private(set) var written = 0
    private(set) var lastWriteError: String?
    private var counts: [String: [Int: Int]] = [:]
    private var latencies: [Double] = []
    private var latencyNext = 0
    private var windows: [String: Window] = [:]

    /// The most recent input tables of one model holding at least `driftWindow` rows
    /// (older tables are dropped once the newer ones alone reach it). Mutated in place
    /// under the monitor's lock: the request path does constant work per table.
    final class Window {
        private var tables: [Table] = []
        private var start = 0
        private var rows = 0

        /// Adds `t`; the tables it pushes out of the window go to `evicted`, for the caller
        /// to free once it has let go of the monitor's lock.
        func append(_ t: Table, evicted: inout [Table]) {
            tables.append(t)
            rows += t.rowCount
            while tables.count - start > 1, rows - tables[start].rowCount >= RequestMonitor.driftWindow {
                rows -= tables[start].rowCount
                evicted.append(tables[start])
                tables[start] = .empty
                start += 1
            }
            // Compact now and then: moves the live tables (≈ driftWindow of them at most)
            // and drops placeholders that own nothing.
            if start >= 4096, start * 2 >= tables.count {
                tables.removeFirst(start)
                start = 0
            }
        }

        var current: [Table] { Array(tables[start...]) }
    }

    public init(store: Store?, deployment: Int64?, capacity: Int = RequestMonitor.queueCapacity) {
        self.store = store
        self.deployment = deployment
        self.capacity = capacity
        guard store != nil, deployment != nil else { return }
        let t = Thread { [weak self] in self?.writeLoop() }
        t.name = "mlsh-request-log"
        writer = t
        t.start()
    }

    /// Records one answered request and counts it as a 200 (a shadow scoring is logged,
    /// not counted). Called on the request path: one short lock section of constant work,
    /// no I/O. The tables leaving the drift window are freed by the writer with its next
    /// batch (without a writer, or with one far behind, here after the lock is let go).
    func record(_ e: Entry) {
        var evicted: [Table] = []
        // Copied before taking the lock; its model's place is settled under it.
        let queued = store != nil && deployment != nil ? Queued(e, model: -1) : nil
        lock.lock()
        if !e.shadow {
            counts[e.model.label, default: [:]][200, default: 0] += 1
            if latencies.count < RequestMonitor.latencyWindow { latencies.append(e.latencyMs) } else {
                latencies[latencyNext] = e.latencyMs
                latencyNext = (latencyNext + 1) % RequestMonitor.latencyWindow
            }
            let w: Window
            if let existing = windows[e.model.label] { w = existing } else { w = Window(); windows[e.model.label] = w }
            // The writer frees them off the request path, unless it is behind.
            if writer != nil, retiredRows < RequestMonitor.maxRetiredRows {
                let before = retired.count
                w.append(e.input, evicted: &retired)
                for k in before..<retired.count { retiredRows += retired[k].rowCount }
            } else {
                w.append(e.input, evicted: &evicted)
            }
        }
        var wakeWriter = false
        if writer != nil {
            if queuedRows + e.input.rowCount <= capacity, var q = queued {
                let id = ObjectIdentifier(e.model)
                if let known = loggedModelIndex[id] { q.model = known } else {
                    q.model = loggedModels.count
                    loggedModels.append(e.model)
                    loggedModelIndex[id] = q.model
                }
                queue.append(q)
                queuedRows += e.input.rowCount
                wakeWriter = queuedRows >= 512 && !wakePending
                if wakeWriter { wakePending = true }
            } else {
                dropped += e.input.rowCount
            }
        }
        lock.unlock()
        if wakeWriter { signalWriter() }
    }
    /// Tables that left the drift windows, for the writer to free with its next batch
    /// (holding up to `maxRetiredRows` rows; past that the request path frees them itself,
    /// so a writer held up by a busy store never holds much memory).
    private var retired: [Table] = []
    private var retiredRows = 0
    static let maxRetiredRows = 16_384
    /// The writer has been signalled and has not yet taken the queue (under `lock`): one
    /// signal per batch, not one per request.
    private var wakePending = false
    /// A signal the writer has not yet seen (under `wake`): none is lost while it writes.
    private var woken = false

    private func signalWriter() {
        wake.lock(); woken = true; wake.signal(); wake.unlock()
    }

    /// Shadow scorings running at once; more are skipped (and counted as dropped rows)
    /// so a slow shadow model cannot pile up work behind the answered traffic.
    static let maxShadowsInFlight = 64
    private var shadowsInFlight = 0

    /// Claims a slot for scoring `rows` with the shadow model; false (counted) when full.
    func beginShadow(rows: Int) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard shadowsInFlight < RequestMonitor.maxShadowsInFlight else { dropped += rows; return false }
        shadowsInFlight += 1
        return true
    }

    func endShadow() {
        lock.lock(); shadowsInFlight -= 1; lock.unlock()
    }

    /// Refused requests the writer logs (`request_errors`) at most per batch; more are
    /// dropped and counted, as answered rows are past `capacity`.
    static let errorCapacity = 10_000
    private var errorQueue: [RequestErrorRecord] = []

    /// Counts a refusal by model label (or "-" before a model was chosen) and status, and
    /// queues it for the request log: one short lock section, no I/O (the writer logs it
    /// with its next batch).
    func refused(_ label: String, _ e: ServeError, route: String) {
        let row = store != nil ? deployment.map {
            RequestErrorRecord(deployment: $0, at: Date().timeIntervalSince1970, status: e.status, route: route,
                               model: label == "-" ? nil : label, code: e.code, reason: e.message)
        } : nil
        lock.lock()
        counts[label, default: [:]][e.status, default: 0] += 1
        if let row, writer != nil {
            if errorQueue.count < RequestMonitor.errorCapacity { errorQueue.append(row) } else { dropped += 1 }
        }
        lock.unlock()
    }

    /// The recent inputs a model answered (at most `driftWindow` rows, newest last).
    public func window(_ label: String) -> Table? {
        lock.lock()
        let w = windows[label]?.current ?? []
        lock.unlock()
        guard !w.isEmpty else { return nil }
        return try? Table.concat(w)
    }

    /// Counts and latency quantiles since the server started.
    public struct Snapshot: Sendable {
        public var requests: Int
        public var byStatus: [Int: Int]
        public var byModel: [String: Int]
        public var p50: Double
        public var p99: Double
        public var logged: Int
        public var dropped: Int
        public var lastWriteError: String?
    }

    public func snapshot() -> Snapshot {
        lock.lock()
        let c = counts, l = latencies, d = dropped, w = written, err = lastWriteError
        lock.unlock()
        var byStatus: [Int: Int] = [:], byModel: [String: Int] = [:]
        for (label, statuses) in c {
            for (s, n) in statuses { byStatus[s, default: 0] += n; if label != "-" { byModel[label, default: 0] += n } }
        }
        let sorted = l.sorted()
        func q(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
        }
        return Snapshot(requests: byStatus.values.reduce(0, +), byStatus: byStatus, byModel: byModel,
                        p50: q(0.5), p99: q(0.99), logged: w, dropped: d, lastWriteError: err)
    }

    /// Writes whatever is queued and stops the writer (the server is shutting down).
    public func close() {
        lock.lock()
        stopping = true
        let t = writer
        lock.unlock()
        guard t != nil else { return }
        signalWriter()
        while true {
            lock.lock()
            let done = writer == nil
            lock.unlock()
            if done { return }
            usleep(2_000)
        }
    }

    /// Waits until everything queued so far is in the store (tests, `requests(d)`).
    public func flush() {
        while true {
            lock.lock()
            let empty = queue.isEmpty && errorQueue.isEmpty && !writing
            let hasWriter = writer != nil
            lock.unlock()
            if empty || !hasWriter { return }
            signalWriter()
            usleep(1_000)
        }
    }

    private var writing = false

    /// The writer's nice value: answering comes first. On a busy machine the scheduler
    /// gives the request threads the CPU and the writer its share in between (its batches
    /// otherwise land as bursts beside the answers and lengthen the tail of latency); should
    /// it fall behind, the bounded queue drops and counts rows, as for a slow disk. The
    /// request path never waits on the store the writer holds: it only appends to the queue.
    static let writerNice: Int32 = 10
    /// The writer pauses this long every `writerPauseRows` rows: its work reaches the CPU
    /// in slices of about 0.1 ms, so it never holds a core the answering threads wait for
    /// (whole batches at once lengthened the tail of latency by 1-2 ms on a 2-core
    /// machine). At ~5 µs a row it still writes tens of thousands of rows a second.
    static let writerPauseRows = 16
    static let writerPauseMicroseconds: UInt32 = 50
    /// The writer thread's nice value once running (nil before it has started).
    var writerPriority: Int32? { lock.lock(); defer { lock.unlock() }; return writerNiceValue }
    private var writerNiceValue: Int32?

    private func writeLoop() {
        #if os(Linux)
        // Linux keeps a nice value per thread: `who` 0 is this thread alone. Never raised
        // back above a process already started at a lower priority.
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        errno = 0
        let inherited = getpriority(which, 0)
        if errno == 0 { setpriority(which, 0, max(inherited, RequestMonitor.writerNice)) }
        errno = 0
        let nice = getpriority(which, 0)
        lock.lock(); writerNiceValue = errno == 0 ? nice : nil; lock.unlock()
        #endif
        var batch: [Queued] = []
        var errors: [RequestErrorRecord] = []
        var retiring: [Table] = []
        var models: [LoggedModel] = []
        while true {
            wake.lock()
            if !woken { _ = wake.wait(until: Date(timeIntervalSinceNow: 0.2)) }
            woken = false
            wake.unlock()
            // The queue and the emptied last batch trade places: O(1) under the lock.
            lock.lock()
            swap(&queue, &batch)
            swap(&errorQueue, &errors)
            swap(&retired, &retiring)
            let newModels = loggedModels.count > models.count ? Array(loggedModels[models.count...]) : []
            retiredRows = 0
            queuedRows = 0
            wakePending = false
            writing = !batch.isEmpty || !errors.isEmpty
            let stop = stopping
            lock.unlock()
            models += newModels.map(LoggedModel.init)
            if !batch.isEmpty {
                write(batch, models)
                // Kept for the next swap, unless a burst made it large.
                batch.removeAll(keepingCapacity: batch.count <= 16_384)
            }
            if !errors.isEmpty {
                writeErrors(errors)
                errors.removeAll(keepingCapacity: true)
            }
            retiring.removeAll(keepingCapacity: retiring.count <= 16_384)
            lock.lock()
            writing = false
            if stop && queue.isEmpty && errorQueue.isEmpty {
                writer = nil
                swap(&retired, &retiring)   // freed below, after the lock
                retiredRows = 0
                lock.unlock()
                retiring.removeAll()
                return
            }
            lock.unlock()
        }
    }

    /// A logged model as the writer keeps it: its name, version and column keys, copied
    /// once on the writer's thread.
    struct LoggedModel {
        let name: String
        let version: Int64
        let rowWriter: RowWriter
        /// Int columns (written without a fraction) by schema position.
        let integer: [Bool]

        init(_ m: ServedModel) {
            name = String(decoding: Array(m.name.utf8), as: UTF8.self)
            version = m.version
            rowWriter = RowWriter(m.schema.names)
            integer = m.schema.columns.map { $0.dtype == .int }
        }
    }

    private func write(_ batch: [Queued], _ models: [LoggedModel]) {
        guard let store, let deployment else { return }
        var log = RequestLogBatch()
        var w = JSONWriter(capacity: batch.count * 160)
        log.rows.reserveCapacity(batch.count)
        var tableWriter = RowWriter([])
        for q in batch {
            guard q.model >= 0, q.model < models.count else { continue }
            let m = models[q.model]
            for r in 0..<q.rows {
                let start = w.bytes.count
                if let t = q.table {
                    if t.names != tableWriter.names { tableWriter = RowWriter(t.names) }
                    tableWriter.write(t, r, into: &w)
                } else {
                    m.rowWriter.write(numbers: q.values, row: r, integer: m.integer, into: &w)
                }
                let mid = w.bytes.count
                if q.numericPredictions, q.values.count >= q.rows { w.number(q.values[q.values.count - q.rows + r]) } else if r < q.predictions.count {
                    w.write(q.predictions[r])
                } else { w.raw("null") }
                log.rows.append(.init(deployment: deployment, name: m.name, version: m.version, at: q.at,
                                      latencyMs: q.latencyMs, shadow: q.shadow, inputs: start..<mid, prediction: mid..<w.bytes.count,
                                      rid: q.firstID + Int64(r), score: r < q.scores.count ? q.scores[r] : .nan))
            }
        }
        log.text = w.bytes
        do {
            try store.logRequests(log, pause: (RequestMonitor.writerPauseRows, { usleep(RequestMonitor.writerPauseMicroseconds) }))
            lock.lock(); written += log.rows.count; lock.unlock()
        } catch {
            lock.lock(); dropped += log.rows.count; lastWriteError = error.message; lock.unlock()
        }
    }

    private func writeErrors(_ rows: [RequestErrorRecord]) {
        guard let store else { return }
        do { try store.logRequestErrors(rows) } catch {
            lock.lock(); dropped += rows.count; lastWriteError = error.message; lock.unlock()
        }
    }

    /// Row `r` of a table as a JSON object of its columns.
    public static func writeRow(_ t: Table, _ r: Int, into w: inout JSONWriter) {
        RowWriter(t.names).write(t, r, into: &w)
    }

    /// Each row of a table as a JSON object of its columns.
    public static func rowObjects(_ t: Table) -> [String] {
        (0..<t.rowCount).map { r in
            var w = JSONWriter(capacity: 64)
            writeRow(t, r, into: &w)
            return String(decoding: w.bytes, as: UTF8.self)
        }
    }
}

/// Writes rows of tables with given column names as JSON objects; each name's key text
/// (with the `{` or `,` before it) is made once, not once per row.
struct RowWriter {
    let names: [String]
    private let keys: [[UInt8]]

    init(_ names: [String]) {
        self.names = names
        keys = names.enumerated().map { k, name in
            var w = JSONWriter(capacity: name.utf8.count + 4)
            w.raw(k == 0 ? "{" : ",")
            w.string(name)
            w.raw(":")
            return w.bytes
        }
    }

    /// Row `r` of inputs stored row by row in `values` (NaN: missing), `integer` telling
    /// which columns are int.
    func write(numbers values: [Double], row r: Int, integer: [Bool], into w: inout JSONWriter) {
        guard !keys.isEmpty else { w.raw("{}"); return }
        values.withUnsafeBufferPointer { v in
            let base = r * keys.count
            for (j, key) in keys.enumerated() {
                w.raw(key)
                let d = base + j < v.count ? v[base + j] : .nan
                if j < integer.count, integer[j], !d.isNaN { w.integer(Int64(d)) } else { w.number(d) }
            }
        }
        w.raw("}")
    }

    /// Row `r` of `t`, whose names are `names`.
    func write(_ t: Table, _ r: Int, into w: inout JSONWriter) {
        guard !keys.isEmpty else { w.raw("{}"); return }
        for (key, col) in zip(keys, t.columns) {
            w.raw(key)
            switch col.storage {
            case .float(let v): w.number(v[r])
            case .int(let v, let valid):
                if let valid, !valid[r] { w.raw("null") } else { w.integer(v[r]) }
            case .bool(let v, let valid):
                if let valid, !valid[r] { w.raw("null") } else { w.raw(v[r] ? "true" : "false") }
            case .string(let codes, let dict):
                let c = Int(codes[r])
                if c >= 0 && c < dict.count { w.string(dict[c]) } else { w.raw("null") }
            }
        }
        w.raw("}")
    }
}
