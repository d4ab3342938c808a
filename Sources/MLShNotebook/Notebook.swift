import Foundation

/// A script read as a notebook, in Jupytext's "percent" format: a line `# %%` starts a
/// code cell, `# %% [markdown]` (or `[md]`) a markdown cell whose lines are `# text`
/// comments. Text before the first marker is a code cell of its own; a script with no
/// markers is one code cell. Cells keep their line numbers in the script.
public struct Notebook: Sendable, Equatable {
    /// One cell: its kind and its lines (markdown cells without their `# `), trimmed of
    /// blank lines at both ends.
    public struct Cell: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case code, markdown }
        public var kind: Kind
        public var lines: [String]
        /// The 1-based line in the script of `lines[0]`.
        public var firstLine: Int

        /// The cell's text, lines joined.
        public var text: String { lines.joined(separator: "\n") }
    }

    /// The cells in order; cells with nothing in them are left out.
    public var cells: [Cell]

    /// Splits a script's text into cells.
    public init(text: String) {
        var cells: [Cell] = []
        var kind = Cell.Kind.code
        var lines: [String] = []
        var first = 1
        func close() {
            var body = lines, start = first
            while let l = body.first, l.trimmingCharacters(in: .whitespaces).isEmpty { body.removeFirst(); start += 1 }
            while let l = body.last, l.trimmingCharacters(in: .whitespaces).isEmpty { body.removeLast() }
            if !body.isEmpty { cells.append(Cell(kind: kind, lines: body, firstLine: start)) }
        }
        var all = text.components(separatedBy: "\n")
        if all.last == "" { all.removeLast() }
        for (i, raw) in all.enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
            if let marked = Notebook.marker(line) {
                close()
                kind = marked; lines = []; first = i + 2
                continue
            }
            lines.append(kind == .markdown ? Notebook.uncomment(line) : line)
        }
        close()
        self.cells = cells
    }

    /// The kind of cell a marker line starts (`# %%`, `#%% title`, `# %% [markdown]`),
    /// or nil for any other line.
    static func marker(_ line: String) -> Cell.Kind? {
        guard line.hasPrefix("#") else { return nil }
        let rest = line.dropFirst().drop { $0 == " " }
        guard rest.hasPrefix("%%") else { return nil }
        let after = rest.dropFirst(2)
        guard after.isEmpty || after.first == " " || after.first == "\t" else { return nil }
        return after.contains("[markdown]") || after.contains("[md]") ? .markdown : .code
    }

    /// A markdown cell's line without its comment sign: `# text` → `text`, `#` → ``.
    static func uncomment(_ line: String) -> String {
        guard line.hasPrefix("#") else { return line }
        let rest = line.dropFirst()
        return String(rest.hasPrefix(" ") ? rest.dropFirst() : rest)
    }
}
