import NIOCore
import PostgresNIO

extension PostgresSession {
    /// Streams `data`, rows in `COPY`'s text format, into `table` inside the session's
    /// transaction (`COPY FROM STDIN` is async-only in PostgresNIO: see `onLoop`).
    func copy(into table: String, columns: [String], _ data: ByteBuffer) throws(StoreError) {
        let logger = self.logger
        try onLoop { connection in
            try await connection.copyFrom(table: table, columns: columns, format: .text(.init()), logger: logger) { writer in
                try await writer.write(data)
            }
        }
    }
}

/// Rows in `COPY`'s text format: fields separated by tabs, rows ended by newlines, `\N`
/// for NULL, and backslash, tab, newline and carriage return escaped in texts.
struct CopyRows {
    private(set) var buffer: ByteBuffer
    private var first = true

    init(capacity: Int) { buffer = ByteBufferAllocator().buffer(capacity: capacity) }

    private mutating func separate() {
        if !first { buffer.writeInteger(UInt8(ascii: "\t")) }
        first = false
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        first = true
    }

    mutating func null() {
        separate()
        buffer.writeStaticString("\\N")
    }

    mutating func int(_ v: Int64) {
        separate()
        buffer.writeString(String(v))
    }

    /// A double as its shortest exact decimal (`NaN` and the infinities as PostgreSQL spells them).
    mutating func double(_ v: Double) {
        separate()
        if v.isNaN {
            buffer.writeStaticString("NaN")
        } else if v.isInfinite {
            buffer.writeStaticString(v < 0 ? "-Infinity" : "Infinity")
        } else {
            buffer.writeString(v.description)
        }
    }

    mutating func text(_ s: String) {
        var s = s
        s.withUTF8 { text(bytes: $0) }
    }

    mutating func text(bytes: UnsafeBufferPointer<UInt8>) {
        separate()
        var start = 0
        for (i, b) in bytes.enumerated() {
            let escaped: UInt8
            switch b {
            case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
            case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
            case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
            case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
            default: continue
            }
            buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<i]))
            buffer.writeInteger(UInt8(ascii: "\\"))
            buffer.writeInteger(escaped)
            start = i + 1
        }
        buffer.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
    }
}

extension PostgresStoreSQL {
    /// The request log's columns, in the order `insertRequests` writes them.
    static let requestColumns = ["deployment", "name", "version", "at", "latency_ms", "inputs", "prediction", "shadow", "rid", "score"]

    /// Appends request-log rows, in order, with one `COPY`: their JSON texts go from the
    /// batch's bytes into the stream, escaped, without a string per row. `before` runs
    /// before each row is encoded, with its index in the batch.
    func insertRequests(_ rows: ArraySlice<RequestLogBatch.Row>, text: [UInt8], before: (Int) -> Void) throws {
        var out = CopyRows(capacity: rows.count * 192)
        text.withUnsafeBufferPointer { text in
            for (k, row) in zip(rows.indices, rows) {
                before(k)
                out.int(row.deployment)
                out.text(row.name)
                out.int(row.version)
                out.double(row.at)
                out.double(row.latencyMs)
                out.text(bytes: UnsafeBufferPointer(rebasing: text[row.inputs]))
                out.text(bytes: UnsafeBufferPointer(rebasing: text[row.prediction]))
                out.int(row.shadow ? 1 : 0)
                out.int(row.rid)
                if row.score.isNaN { out.null() } else { out.double(row.score) }
                out.endRow()
            }
        }
        try session.copy(into: "requests", columns: Self.requestColumns, out.buffer)
    }
}
