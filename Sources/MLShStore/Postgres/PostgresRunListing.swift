import NIOCore
import PostgresNIO

extension PostgresStoreSQL {
    /// Every run of an experiment (of every experiment when nil), oldest first, as
    /// `Store.runRecords` reads them on SQLite. Listing 10,000 runs reads some 40,000 rows,
    /// so the five queries are sent at once and each one's rows are read while the next
    /// ones arrive; child rows come sorted by run and recorded order.
    func runRecords(experiment: Int64?) throws(StoreError) -> [RunRecord] {
        let values: [SQLValue] = experiment.map { [.int($0)] } ?? []
        let children = experiment == nil ? "" : "WHERE run IN (SELECT id FROM runs WHERE experiment = $1)"
        let sent = [
            """
            SELECT runs.id, experiments.name, runs.name, runs.status, runs.error, runs.started, runs.ended,
                   runs.script, runs.script_hash, runs.mlsh_version, runs.parent
            FROM runs JOIN experiments ON experiments.id = runs.experiment
            \(experiment == nil ? "" : "WHERE runs.experiment = $1") ORDER BY runs.id
            """,
            "SELECT run, name, value FROM latest_metrics \(children) ORDER BY run, first",
            "SELECT run, name, kind, value FROM params \(children) ORDER BY run, rowid",
            "SELECT run, fingerprint, kind, source FROM datasets \(children) ORDER BY run, rowid",
            "SELECT run, name, value FROM tags \(children) ORDER BY run, rowid",
        ].map { session.send($0, values) }

        let recent = RecentTexts()
        var out: [RunRecord] = []
        let rows = try session.answer(sent[0]).rows
        out.reserveCapacity(rows.count)
        for row in rows {
            var c = Cells(row, recent)
            let id = try c.int(), experiment = try c.text(), name = try c.optionalText(), status = try c.text()
            let error = try c.optionalText(), started = try c.double() ?? .nan, ended = try c.double()
            let script = try c.optionalText(), scriptHash = try c.optionalText(), version = try c.optionalText()
            out.append(RunRecord(id: id, experiment: experiment, name: name, status: status, error: error, parent: try c.optionalInt(),
                                 started: started, ended: ended, script: script, scriptHash: scriptHash, mlshVersion: version,
                                 params: [], metrics: [], datasets: [], tags: []))
        }
        // Runs and their child rows both come sorted by run id: one walk files each child.
        func file(_ sent: EventLoopFuture<PostgresQueryResult>,
                  _ add: (inout RunRecord, inout Cells) throws(StoreError) -> Void) throws(StoreError) {
            let recent = RecentTexts()
            var i = 0
            for row in try session.answer(sent).rows {
                var c = Cells(row, recent)
                let run = try c.int()
                while i < out.count && out[i].id < run { i += 1 }
                guard i < out.count && out[i].id == run else { continue }
                try add(&out[i], &c)
            }
        }
        try file(sent[1]) { r, c throws(StoreError) in r.metrics.append((try c.text(), try c.double() ?? .nan)) }
        try file(sent[2]) { r, c throws(StoreError) in
            r.params.append((try c.text(), ParamValue(kind: try c.text(), text: try c.text())))
        }
        try file(sent[3]) { r, c throws(StoreError) in
            let fingerprint = try c.text(), kind = try c.text()
            r.datasets.append(Store.datasetLabel(kind: kind, source: try c.optionalText(), fingerprint: fingerprint))
        }
        try file(sent[4]) { r, c throws(StoreError) in r.tags.append((try c.text(), try c.text())) }
        return out
    }
}

/// A row's cells read in column order as the store's types (NULL text as "", a NULL
/// integer as 0, as `StoreRow` reads them). Long texts equal to the same column's in the
/// previous row (a sweep's runs share their script and its hash) share its string.
private struct Cells {
    var cells: PostgresRow.Iterator
    let recent: RecentTexts

    init(_ row: PostgresRow, _ recent: RecentTexts) { cells = row.makeIterator(); self.recent = recent }

    private mutating func next() -> PostgresCell? { cells.next() }

    mutating func optionalInt() throws(StoreError) -> Int64? {
        guard let cell = next(), let bytes = cell.bytes else { return nil }
        if cell.format == .binary, cell.dataType == .int8, bytes.readableBytes == 8 {
            return bytes.getInteger(at: bytes.readerIndex, as: Int64.self)
        }
        return Int64(sqlValue: try Self.value(cell))
    }

    mutating func int() throws(StoreError) -> Int64 { try optionalInt() ?? 0 }

    mutating func double() throws(StoreError) -> Double? {
        guard let cell = next(), let bytes = cell.bytes else { return nil }
        if cell.format == .binary, cell.dataType == .float8, bytes.readableBytes == 8,
           let bits = bytes.getInteger(at: bytes.readerIndex, as: UInt64.self) {
            return Double(bitPattern: bits)
        }
        return Double(sqlValue: try Self.value(cell))
    }

    mutating func optionalText() throws(StoreError) -> String? {
        guard let cell = next(), let bytes = cell.bytes else { return nil }
        guard cell.format == .binary, cell.dataType == .text || cell.dataType == .varchar else {
            return String(sqlValue: try Self.value(cell))
        }
        if bytes.readableBytes <= 15 { return bytes.getString(at: bytes.readerIndex, length: bytes.readableBytes) }
        let column = cell.columnIndex
        if column < recent.texts.count, let (seen, text) = recent.texts[column], seen == bytes { return text }
        guard let text = bytes.getString(at: bytes.readerIndex, length: bytes.readableBytes) else { return nil }
        while recent.texts.count <= column { recent.texts.append(nil) }
        recent.texts[column] = (bytes, text)
        return text
    }

    mutating func text() throws(StoreError) -> String { try optionalText() ?? "" }

    private static func value(_ cell: PostgresCell) throws(StoreError) -> SQLValue {
        do { return try PostgresStoreSQL.value(cell) } catch { throw StoreError.wrapping(error) }
    }
}

/// Per column, the last long text read and its bytes.
private final class RecentTexts {
    var texts: [(ByteBuffer, String)?] = []
}
