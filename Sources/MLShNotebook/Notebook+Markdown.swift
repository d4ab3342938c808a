import Foundation
import MLShEngine

/// A rendered notebook as GitHub-flavoured Markdown: text cells as they are (raw HTML
/// escaped), code in fenced blocks, outputs as fenced text and pipe tables, plots as SVG
/// files in a folder beside the document, linked by relative path.
struct NotebookMarkdown {
    /// The folder for plot files, relative to the document (`out_files`).
    let assets: String
    /// The plot files to write: relative path and SVG text.
    private(set) var files: [(path: String, svg: String)] = []

    init(assets: String) { self.assets = assets }

    mutating func document(title: String, results: [CellResult]) -> String {
        var parts: [String] = []
        for r in results {
            switch r.status {
            case .markdown:
                parts.append(NotebookMarkdown.escapeRawHTML(r.cell.text))
            case .ran, .failed, .notRun:
                var block = NotebookMarkdown.fenced(r.cell.text, info: "mls")
                if r.status == .notRun { block += "\n\n*not run: an earlier cell failed (--keep-going runs every cell)*" }
                for o in r.outputs { block += "\n\n" + output(o) }
                parts.append(block)
            }
        }
        return parts.joined(separator: "\n\n") + "\n"
    }

    mutating func output(_ o: CellOutput) -> String {
        switch o {
        case .text(let s), .rich(.text(let s)):
            return NotebookMarkdown.fenced(s, info: "text")
        case .error(let s):
            return "**error**\n\n" + NotebookMarkdown.fenced(s, info: "text")
        case .rich(.table(let t, let caption)):
            return (caption.map { "*\(NotebookMarkdown.cell($0))*\n\n" } ?? "") + NotebookMarkdown.table(t)
        case .rich(.plot(let svg, let title, _)):
            let name = "plot-\(files.count + 1).svg"
            let path = assets + "/" + name
            files.append((path, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg))
            let link = path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? path
            return "![\(NotebookMarkdown.cell(title))](\(link))"
        }
    }

    /// A fenced block whose fence is longer than any backtick run inside.
    static func fenced(_ text: String, info: String) -> String {
        var longest = 0, current = 0
        for ch in text {
            current = ch == "`" ? current + 1 : 0
            longest = max(longest, current)
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return "\(fence)\(info)\n\(text)\n\(fence)"
    }

    /// A pipe table: names as the header, dtypes as an italic first row, then the rows.
    static func table(_ t: TableLayout) -> String {
        guard !t.names.isEmpty else { return "*\(cell(t.footer))*" }
        var lines = ["| " + t.names.map(cell).joined(separator: " | ") + " |"]
        lines.append("|" + t.rightAligned.map { $0 ? " ---: |" : " --- |" }.joined())
        if t.dtypes.contains(where: { !$0.isEmpty }) {
            lines.append("| " + t.dtypes.map { $0.isEmpty ? "" : "*\(cell($0))*" }.joined(separator: " | ") + " |")
        }
        for row in t.rows { lines.append("| " + row.map(cell).joined(separator: " | ") + " |") }
        var out = lines.joined(separator: "\n")
        if !t.footer.isEmpty { out += "\n\n*\(cell(t.footer))*" }
        return out
    }

    /// Text made literal inside a table cell or emphasis: Markdown's special characters
    /// and the pipe backslash-escaped.
    static func cell(_ s: String) -> String {
        var out = ""
        for ch in s {
            if "\\|*_`[]<>#".contains(ch) { out.append("\\") }
            out.append(ch)
        }
        return out
    }

    /// Markdown with every `<` outside code spans and fenced blocks written `&lt;`, so raw
    /// HTML (a `<script>`) shows as text wherever the document is viewed.
    static func escapeRawHTML(_ text: String) -> String {
        var out: [String] = []
        var fence: String?
        for line in text.components(separatedBy: "\n") {
            // Fences by GFM's rules (the viewer's), so no line is kept raw that a viewer
            // would read as HTML.
            if let f = fence {
                out.append(line)
                if Markdown.closes(line, f) { fence = nil }
                continue
            }
            if let marks = Markdown.fence(line) { fence = marks; out.append(line); continue }
            // A code span (a backtick run closed by a run of the same length) stays as it is.
            let c = Array(line)
            var escaped = "", i = 0
            while i < c.count {
                if c[i] == "`" {
                    let n = Markdown.run(c, i, c.count, "`")
                    if let close = Markdown.findRun(c, i + n, c.count, "`", n) {
                        escaped += String(c[i..<(close + n)])
                        i = close + n
                    } else {
                        escaped += String(repeating: "`", count: n)
                        i += n
                    }
                    continue
                }
                escaped += c[i] == "<" ? "&lt;" : String(c[i])
                i += 1
            }
            out.append(escaped)
        }
        return out.joined(separator: "\n")
    }
}
