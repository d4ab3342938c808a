import Foundation
/// Renders tables and columns as aligned text for the prompt.
///
/// A table shows a header line of names, a line of dtypes, then the rows — all of them
/// when there are at most `maxRows`, else the first and last few around a `…` line —
/// and a footer `150 rows × 5 columns` (prefixed by `name: ` when given). Numbers are
/// right-aligned, strings and bools left-aligned, floats shortest (`3.0`, `1e-07`),
/// missing values `NA`. Columns beyond `maxColumns` are elided with a `…` column, long
/// cells cut with `…` at `maxCellWidth` characters; columns are two spaces apart.
public struct TableFormatter: Sendable {
    /// Rows shown before eliding the middle.
    public var maxRows: Int
    /// Columns shown before eliding the middle.
    public var maxColumns: Int
    /// Characters per cell before cutting.
    public var maxCellWidth: Int

    /// A formatter with the given limits.
    public init(maxRows: Int = 10, maxColumns: Int = 12, maxCellWidth: Int = 24) {
        self.maxRows = max(2, maxRows)
        self.maxColumns = max(2, maxColumns)
        self.maxCellWidth = max(4, maxCellWidth)
    }

    /// The table as aligned text.
    public func render(_ t: Table, name: String? = nil) -> String {
        let layout = self.layout(t, name: name)
        guard !layout.names.isEmpty else { return layout.footer }
        let blocks = layout.names.indices.map { k in
            (cells: [layout.names[k], layout.dtypes[k]] + layout.rows.map { $0[k] }, right: layout.rightAligned[k])
        }
        let widths = blocks.map { $0.cells.map(\.count).max() ?? 0 }
        var lines: [String] = []
        for line in 0..<(layout.rows.count + 2) {
            var s = ""
            for (k, b) in blocks.enumerated() {
                if k > 0 { s += "  " }
                let text = b.cells[line]
                let pad = String(repeating: " ", count: widths[k] - text.count)
                s += b.right ? pad + text : text + pad
            }
            lines.append(dataTrimTrailing(s))
        }
        lines.append(layout.footer)
        return lines.joined(separator: "\n")
    }

    /// The cells `render` lays out, for other renderers (a notebook's HTML table).
    public func layout(_ t: Table, name: String? = nil) -> TableLayout {
        let rows = t.rowCount, ncols = t.columns.count
        let footer = (name.map { "\($0): " } ?? "") + "\(rows) row\(rows == 1 ? "" : "s") × \(ncols) column\(ncols == 1 ? "" : "s")"
        // Which rows and columns to show; nil marks the elision.
        var rowIdx: [Int?] = []
        if rows <= maxRows { rowIdx = (0..<rows).map { $0 } } else {
            let h = (maxRows + 1) / 2, tl = maxRows / 2
            rowIdx = (0..<h).map { $0 } + [nil] + ((rows - tl)..<rows).map { $0 }
        }
        var colIdx: [Int?] = []
        if ncols <= maxColumns { colIdx = (0..<ncols).map { $0 } } else {
            let h = (maxColumns + 1) / 2, tl = maxColumns / 2
            colIdx = (0..<h).map { $0 } + [nil] + ((ncols - tl)..<ncols).map { $0 }
        }
        var layout = TableLayout(names: [], dtypes: [], rightAligned: [],
                                 rows: rowIdx.map { _ in [] }, elidedRow: rowIdx.firstIndex(of: nil), footer: footer)
        for ci in colIdx {
            guard let ci else {
                layout.names.append("…"); layout.dtypes.append(""); layout.rightAligned.append(false)
                for r in rowIdx.indices { layout.rows[r].append("…") }
                continue
            }
            let c = t.columns[ci]
            layout.names.append(cut(t.names[ci])); layout.dtypes.append(c.dtype.rawValue)
            layout.rightAligned.append(c.dtype == .int || c.dtype == .float)
            for (r, i) in rowIdx.enumerated() { layout.rows[r].append(i.map { cell(c, $0) } ?? "…") }
        }
        return layout
    }

    /// The column as `name: dtype[count]` and a line of its first (and last) values.
    public func render(_ c: Column, name: String) -> String {
        let n = c.count
        var shown: [String] = []
        func one(_ i: Int) -> String {
            let v = c.value(at: i)
            if case .string(let s) = v { return "\"" + cut(s) + "\"" }
            return cell(c, i)
        }
        if n <= maxRows { shown = (0..<n).map(one) } else {
            shown = (0..<((maxRows + 1) / 2)).map(one) + ["…"] + ((n - maxRows / 2)..<n).map(one)
        }
        return "\(name): \(c.dtype.rawValue)[\(n)]\n[" + shown.joined(separator: ", ") + "]"
    }

    /// A float as a table shows it: the shortest form when it is short, else six
    /// significant digits (`0.967279`, `1.23457e+08`), as pandas displays them.
    func displayFloat(_ d: Double) -> String {
        let full = dataFormatFloat(d)
        guard d.isFinite, full.count > 10 else { return full }
        let a = Swift.abs(d)
        if a >= 1e-4 && a < 1e15 {
            let digits = max(1, 5 - Int(log10(a).rounded(.down)))
            var t = String(format: "%.\(digits)f", d)
            if t.contains(".") {
                while t.hasSuffix("0") { t.removeLast() }
                if t.hasSuffix(".") { t += "0" }
            }
            return t
        }
        return String(format: "%.6g", d)
    }

    /// One cell's text.
    func cell(_ c: Column, _ i: Int) -> String {
        switch c.value(at: i) {
        case .missing: return "NA"
        case .float(let d): return displayFloat(d)
        case .int(let v): return String(v)
        case .bool(let b): return b ? "true" : "false"
        case .string(let s): return cut(s)
        }
    }

    /// Text cut to `maxCellWidth` characters, with control characters shown escaped.
    func cut(_ s: String) -> String {
        var t = ""
        for ch in s {
            switch ch {
            case "\n": t += "\\n"
            case "\r": t += "\\r"
            case "\t": t += "\\t"
            case "\r\n": t += "\\r\\n"
            default: t.append(ch)
            }
        }
        return t.count > maxCellWidth ? String(t.prefix(maxCellWidth - 1)) + "…" : t
    }
}

func dataTrimTrailing(_ s: String) -> String {
    var t = Substring(s)
    while t.last == " " { t = t.dropLast() }
    return String(t)
}

/// The shown part of a table: column names and dtypes, the shown rows as text (the
/// elided middle as a row of `…`), and the footer with the full shape.
public struct TableLayout: Sendable, Equatable {
    /// Shown column names (an elided middle is the column `…`).
    public var names: [String]
    /// Each shown column's dtype (empty for `…`).
    public var dtypes: [String]
    /// Whether each column holds numbers (shown right-aligned).
    public var rightAligned: [Bool]
    /// The shown rows, each one cell per shown column.
    public var rows: [[String]]
    /// The index in `rows` of the `…` row standing for elided rows, if any.
    public var elidedRow: Int?
    /// `name: 150 rows × 5 columns`.
    public var footer: String

    /// A layout from its parts (for tables that are not engine tables, like metrics).
    public init(names: [String], dtypes: [String], rightAligned: [Bool], rows: [[String]], elidedRow: Int? = nil, footer: String) {
        self.names = names; self.dtypes = dtypes; self.rightAligned = rightAligned
        self.rows = rows; self.elidedRow = elidedRow; self.footer = footer
    }
}
