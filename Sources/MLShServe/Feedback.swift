import Foundation
import MLShCommon
import MLShStore
import NIOCore

/// Labels fed back for answered rows (`POST /v1/feedback`): what was stored and what was
/// not, row by row. A batch is never refused as a whole for some of its rows.
public struct FeedbackOutcome: Sendable, Equatable {
    /// Labels stored (a label given again for an id replaces the earlier one).
    public var accepted = 0
    /// Well-formed ids no server recorded in this store has answered.
    public var unknown: [String] = []
    /// Entries that are not `{"id": "...", "label": number|string|bool}`: their place and why.
    public var invalid: [(index: Int, error: String)] = []
    /// Ids given more than once in the batch (the last label is kept).
    public var duplicates = 0

    public static func == (a: FeedbackOutcome, b: FeedbackOutcome) -> Bool {
        a.accepted == b.accepted && a.unknown == b.unknown && a.duplicates == b.duplicates
            && a.invalid.map(\.index) == b.invalid.map(\.index) && a.invalid.map(\.error) == b.invalid.map(\.error)
    }

    public var json: JSON {
        .object([("accepted", JSON(Int64(accepted))), ("unknown", .array(unknown.map(JSON.string))),
                 ("invalid", .array(invalid.map { .object([("index", JSON(Int64($0.index))), ("error", .string($0.error))]) })),
                 ("duplicates", JSON(Int64(duplicates)))])
    }
}

/// A request id: `DEPLOYMENT-NUMBER` (what a server answers in `ids`).
public struct RequestID: Sendable, Hashable {
    public var deployment: Int64
    public var rid: Int64
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let d = Int64(parts[0]), let r = Int64(parts[1]), d >= 1, r >= 1 else { return nil }
        deployment = d; rid = r
    }
    public var text: String { "\(deployment)-\(rid)" }
}

public enum Feedback {
    /// Stores the labels of `entries` (each `{"id", "label"}`) for the rows they name;
    /// `issued` gives, for a running deployment, how many ids it has answered (its rows
    /// may not be logged yet).
    public static func store(_ entries: [JSON], in store: Store, issued: [Int64: Int64]) throws(StoreError) -> FeedbackOutcome {
        var outcome = FeedbackOutcome()
        var labels: [RequestID: String] = [:], order: [RequestID] = []
        for (i, entry) in entries.enumerated() {
            guard case .object = entry else { outcome.invalid.append((i, "an entry is an object {\"id\": ..., \"label\": ...}")); continue }
            guard case .string(let idText)? = entry["id"] else { outcome.invalid.append((i, "\"id\" must be a string such as \"3-17\"")); continue }
            guard let id = RequestID(idText) else { outcome.invalid.append((i, "\"\(idText)\" is not a request id (DEPLOYMENT-NUMBER, as the server answered)")); continue }
            let label: JSON
            switch entry["label"] {
            case .number(let d)? where d.isFinite: label = .number(d)
            case .integer?, .string?, .bool?: label = entry["label"] ?? .null
            case nil: outcome.invalid.append((i, "\"label\" is missing")); continue
            default: outcome.invalid.append((i, "\"label\" must be a number, a string or a bool")); continue
            }
            if labels[id] != nil { outcome.duplicates += 1 } else { order.append(id) }
            labels[id] = JSONWriter.text(label)
        }
        let known = try store.knownRequests(order.map { ($0.deployment, $0.rid) }, issued: issued)
        var rows: [(deployment: Int64, rid: Int64, label: String)] = []
        for (id, ok) in zip(order, known) {
            guard ok, let label = labels[id] else { outcome.unknown.append(id.text); continue }
            rows.append((id.deployment, id.rid, label))
        }
        try store.storeLabels(rows)
        outcome.accepted = rows.count
        return outcome
    }
}

extension PredictionService {
    /// `POST /v1/feedback` `{"labels": [{"id": "3-17", "label": 151.0}, ...]}`: stores the
    /// labels and answers what was stored and what was not (200 even when some rows were not).
    func feedback(_ body: ByteBuffer) -> Reply {
        guard let store = monitor.store, let deployment = monitor.deployment else {
            return failure(ServeError(503, "unavailable", "this server has no store to keep labels in"), label: "-", route: "/v1/feedback")
        }
        let parsed: JSON
        do { parsed = try body.withUnsafeReadableBytes { raw throws(JSONError) in try JSONParser.parse(raw) } } catch {
            return failure(ServeError(400, "bad_request", error.message), label: "-", route: "/v1/feedback")
        }
        guard case .array(let entries)? = parsed["labels"] else {
            return failure(ServeError(400, "bad_request", "the body is {\"labels\": [{\"id\": \"3-17\", \"label\": ...}, ...]}"), label: "-", route: "/v1/feedback")
        }
        do {
            let outcome = try Feedback.store(entries, in: store, issued: [deployment: monitor.issued])
            return json(200, outcome.json)
        } catch {
            return failure(ServeError(500, "store_error", error.message), label: "-", route: "/v1/feedback")
        }
    }
}
