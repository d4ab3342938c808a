import Foundation
import MLShCommon
import MLShRuntime

/// A small Markdown → HTML renderer for notebook text cells: ATX headings, paragraphs,
/// emphasis, inline code, fenced code blocks, links, bullet and numbered lists (nested by
/// indentation), block quotes, rules and GitHub-style pipe tables.
///
/// Why not a library (JohnSundell/Ink is on the mirror): a notebook's text must never
/// inject markup into the page, so every character of the source is escaped and raw HTML
/// (`<script>`, `<img onerror=...>`) shows as text. Ink passes raw HTML through, and
/// escaping its input first would also mangle `<` inside code spans. A renderer that
/// escapes as it goes is about as long as the glue around a library would be, and links
/// are limited to http, https, mailto and relative targets (no `javascript:`).
public enum Markdown {
    /// The HTML for a Markdown text.
    public static func html(_ text: String) -> String {
        var lines = text.components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        return blocks(lines.map(expandTabs))
    }

    static func expandTabs(_ s: String) -> String { s.replacingOccurrences(of: "\t", with: "    ") }

    static func indent(_ s: String) -> Int { s.prefix { $0 == " " }.count }

    static func isBlank(_ s: String) -> Bool { s.allSatisfy { $0 == " " } }

    /// `(ordered, content column)` when the line starts a list item (`- x`, `* x`, `1. x`).
    static func listMarker(_ s: String) -> (ordered: Bool, start: Int, content: Int)? {
        let lead = indent(s)
        let rest = s.dropFirst(lead)
        guard let c = rest.first else { return nil }
        if "-*+".contains(c) {
            let after = rest.dropFirst()
            guard after.first == " " else { return nil }
            // `---` and `* * *` are rules, not items.
            if isRule(s) { return nil }
            return (false, 1, lead + 1 + indent(String(after)))
        }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let after = rest.dropFirst(digits.count)
        guard let d = after.first, d == "." || d == ")", after.dropFirst().first == " " else { return nil }
        return (true, Int(digits) ?? 1, lead + digits.count + 1 + indent(String(after.dropFirst())))
    }

    static func isRule(_ s: String) -> Bool {
        let t = s.filter { $0 != " " }
        guard t.count >= 3, indent(s) < 4, let c = t.first, "-*_".contains(c) else { return false }
        return t.allSatisfy { $0 == c }
    }

    /// An opening code fence's marks (GFM: under 4 spaces of indent, 3+ backticks or
    /// tildes; a backtick fence's info string holds no backtick).
    static func fence(_ s: String) -> String? {
        let t = s.dropFirst(indent(s))
        for mark in ["```", "~~~"] where t.hasPrefix(mark) && indent(s) < 4 {
            let c = mark.first ?? "`"
            let marks = String(t.prefix { $0 == c })
            if c == "`", t.dropFirst(marks.count).contains("`") { return nil }
            return marks
        }
        return nil
    }

    /// Whether a line closes a fence opened with `marks`: the same character, at least as
    /// many, under 4 spaces of indent, nothing after but spaces.
    static func closes(_ s: String, _ marks: String) -> Bool {
        guard indent(s) < 4, let c = marks.first else { return false }
        let t = s.dropFirst(indent(s))
        let run = t.prefix { $0 == c }
        return run.count >= marks.count && t.dropFirst(run.count).allSatisfy { $0 == " " }
    }

    static func heading(_ s: String) -> (Int, String)? {
        guard indent(s) < 4 else { return nil }
        let t = s.dropFirst(indent(s))
        let level = t.prefix { $0 == "#" }.count
        guard (1...6).contains(level) else { return nil }
        let rest = t.dropFirst(level)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var text = rest.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("#") { text.removeLast() }
        return (level, text.trimmingCharacters(in: .whitespaces))
    }

    static func isTableSeparator(_ s: String) -> Bool {
        let cells = tableCells(s)
        return !cells.isEmpty && s.contains("-") && cells.allSatisfy { c in
            let t = c.trimmingCharacters(in: .whitespaces)
            return !t.isEmpty && t.allSatisfy { $0 == "-" || $0 == ":" } && t.contains("-")
        }
    }

    /// The cells of a pipe-table row (outer pipes optional; `\|` is a literal pipe).
    static func tableCells(_ s: String) -> [String] {
        var t = s.trimmingCharacters(in: .whitespaces)
        if t.hasPrefix("|") { t.removeFirst() }
        if t.hasSuffix("|") && !t.hasSuffix("\\|") { t.removeLast() }
        var cells: [String] = [], current = "", escaped = false
        for ch in t {
            if escaped { current.append(ch == "|" ? "|" : "\\" + String(ch)); escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "|" { cells.append(current); current = ""; continue }
            current.append(ch)
        }
        if escaped { current.append("\\") }
        cells.append(current)
        return cells
    }

    /// Whether a line starts a block other than a paragraph (so it ends a paragraph).
    static func startsBlock(_ s: String) -> Bool {
        heading(s) != nil || fence(s) != nil || isRule(s) || listMarker(s) != nil
            || s.dropFirst(indent(s)).hasPrefix(">")
    }

    // MARK: blocks

    /// Nesting deeper than this (quotes, lists, emphasis, link labels) renders as plain
    /// escaped text: the renderer recurses once per level and must not exhaust the stack.
    static let maxDepth = 48

    static func blocks(_ lines: [String], depth: Int = 0) -> String {
        guard depth <= maxDepth else { return "<p>\(esc(lines.joined(separator: "\n")))</p>\n" }
        var out = ""
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if isBlank(line) { i += 1; continue }
            if let marks = fence(line) {
                let info = line.dropFirst(indent(line) + marks.count).trimmingCharacters(in: .whitespaces)
                var body: [String] = []
                i += 1
                while i < lines.count, !closes(lines[i], marks) { body.append(lines[i]); i += 1 }
                i += 1
                let language = info.split(separator: " ").first.map { " class=\"language-\(esc(String($0)))\"" } ?? ""
                out += "<pre><code\(language)>\(esc(body.joined(separator: "\n")))</code></pre>\n"
                continue
            }
            if let (level, text) = heading(line) {
                out += "<h\(level)>\(inline(text))</h\(level)>\n"
                i += 1; continue
            }
            if isRule(line) { out += "<hr>\n"; i += 1; continue }
            if line.dropFirst(indent(line)).hasPrefix(">") {
                var quoted: [String] = []
                while i < lines.count, lines[i].dropFirst(indent(lines[i])).hasPrefix(">") {
                    var t = lines[i].dropFirst(indent(lines[i]) + 1)
                    if t.first == " " { t = t.dropFirst() }
                    quoted.append(String(t)); i += 1
                }
                out += "<blockquote>\n\(blocks(quoted, depth: depth + 1))</blockquote>\n"
                continue
            }
            if let marker = listMarker(line) {
                out += list(lines, &i, marker.ordered, marker.start, depth: depth + 1)
                continue
            }
            if line.contains("|"), i + 1 < lines.count, isTableSeparator(lines[i + 1]) {
                out += table(lines, &i)
                continue
            }
            var para: [String] = [line]
            i += 1
            while i < lines.count, !isBlank(lines[i]), !startsBlock(lines[i]) { para.append(lines[i]); i += 1 }
            out += "<p>\(inlineLines(para))</p>\n"
        }
        return out
    }

    /// A list starting at `lines[i]`: items at the first item's indentation; lines
    /// indented deeper (and blank lines between them) belong to the item above.
    static func list(_ lines: [String], _ i: inout Int, _ ordered: Bool, _ start: Int, depth: Int) -> String {
        let base = indent(lines[i])
        var items: [[String]] = []
        var loose = false
        while i < lines.count {
            let line = lines[i]
            if let m = listMarker(line), indent(line) == base, m.ordered == ordered {
                items.append([String(line.dropFirst(m.content))])
                i += 1
                continue
            }
            if isBlank(line) {
                // A blank line continues the list only if an indented line or another item follows.
                var j = i
                while j < lines.count, isBlank(lines[j]) { j += 1 }
                guard j < lines.count, indent(lines[j]) > base || (listMarker(lines[j]).map { _ in indent(lines[j]) == base } ?? false) else { break }
                if listMarker(lines[j]) != nil && indent(lines[j]) == base { loose = true }
                items[items.count - 1].append("")
                i += 1
                continue
            }
            if indent(line) > base || !startsBlock(line) {
                // A deeper line, or a lazy continuation of the item's paragraph.
                let cut = min(indent(line), base + 2)
                items[items.count - 1].append(String(line.dropFirst(cut)))
                i += 1
                continue
            }
            break
        }
        let tag = ordered ? "ol" : "ul"
        var out = ordered && start != 1 ? "<ol start=\"\(start)\">\n" : "<\(tag)>\n"
        for item in items {
            let body = blocks(item, depth: depth + 1)
            // A tight item holding one paragraph shows without the <p>.
            if !loose, body.hasPrefix("<p>"), let end = body.range(of: "</p>\n") {
                out += "<li>" + body[body.index(body.startIndex, offsetBy: 3)..<end.lowerBound] + body[end.upperBound...] + "</li>\n"
            } else {
                out += "<li>\(body)</li>\n"
            }
        }
        return out + "</\(tag)>\n"
    }

    static func table(_ lines: [String], _ i: inout Int) -> String {
        let header = tableCells(lines[i])
        let aligns: [String] = tableCells(lines[i + 1]).map { c in
            let t = c.trimmingCharacters(in: .whitespaces)
            switch (t.hasPrefix(":"), t.hasSuffix(":")) {
            case (true, true): return " style=\"text-align:center\""
            case (false, true): return " style=\"text-align:right\""
            case (true, false): return " style=\"text-align:left\""
            default: return ""
            }
        }
        func align(_ k: Int) -> String { k < aligns.count ? aligns[k] : "" }
        var out = "<table class=\"md\">\n<thead><tr>"
        for (k, c) in header.enumerated() { out += "<th\(align(k))>\(inline(c.trimmingCharacters(in: .whitespaces)))</th>" }
        out += "</tr></thead>\n<tbody>\n"
        i += 2
        while i < lines.count, !isBlank(lines[i]), lines[i].contains("|") {
            let cells = tableCells(lines[i])
            out += "<tr>"
            for k in 0..<header.count {
                let c = k < cells.count ? cells[k].trimmingCharacters(in: .whitespaces) : ""
                out += "<td\(align(k))>\(inline(c))</td>"
            }
            out += "</tr>\n"
            i += 1
        }
        return out + "</tbody>\n</table>\n"
    }

    // MARK: inline

    static func esc(_ s: String) -> String { escapeXML(s) }

    /// A paragraph's lines: a line ending in two spaces or `\` breaks the line.
    static func inlineLines(_ lines: [String]) -> String {
        var out = ""
        for (k, raw) in lines.enumerated() {
            var line = String(raw.drop { $0 == " " })
            var hard = false
            if k < lines.count - 1 {
                if line.hasSuffix("  ") { hard = true }
                else if line.hasSuffix("\\") { hard = true; line.removeLast() }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += inline(line) + (k < lines.count - 1 ? (hard ? "<br>\n" : "\n") : "")
        }
        return out
    }

    /// Emphasis, code spans, links and escapes in one line of text; everything else escaped.
    static func inline(_ text: String) -> String {
        let chars = Array(text)
        return inline(chars, 0, chars.count)
    }

    static func inline(_ c: [Character], _ from: Int, _ to: Int, depth: Int = 0) -> String {
        guard depth <= maxDepth else { return esc(String(c[from..<to])) }
        var out = ""
        var i = from
        while i < to {
            let ch = c[i]
            if ch == "\\", i + 1 < to, c[i + 1].isPunctuation || c[i + 1].isSymbol {
                out += esc(String(c[i + 1])); i += 2; continue
            }
            if ch == "`" {
                let n = run(c, i, to, "`")
                if let close = findRun(c, i + n, to, "`", n) {
                    var code = String(c[(i + n)..<close])
                    if code.count > 2, code.hasPrefix(" "), code.hasSuffix(" ") { code = String(code.dropFirst().dropLast()) }
                    out += "<code>\(esc(code))</code>"
                    i = close + n
                } else {
                    out += String(repeating: "`", count: n); i += n
                }
                continue
            }
            if ch == "[" || (ch == "!" && i + 1 < to && c[i + 1] == "["), let link = link(c, ch == "!" ? i + 1 : i, to) {
                let label = inline(c, link.text.lowerBound, link.text.upperBound, depth: depth + 1)
                if let url = safeURL(link.url) {
                    out += "<a href=\"\(esc(url))\">\(label)</a>"
                } else {
                    out += label
                }
                i = link.end
                continue
            }
            if ch == "<", let end = c[i..<to].firstIndex(of: ">") {
                let inner = String(c[(i + 1)..<end])
                if !inner.contains(" "), let url = safeURL(inner), url.contains(":") {
                    out += "<a href=\"\(esc(url))\">\(esc(inner))</a>"
                    i = end + 1
                    continue
                }
            }
            if ch == "*" || ch == "_" {
                let n = min(3, run(c, i, to, ch))
                if canOpen(c, i, n, to, ch), let close = findEmphasisClose(c, i + n, to, ch, n) {
                    let inner = inline(c, i + n, close, depth: depth + 1)
                    switch n {
                    case 1: out += "<em>\(inner)</em>"
                    case 2: out += "<strong>\(inner)</strong>"
                    default: out += "<strong><em>\(inner)</em></strong>"
                    }
                    i = close + n
                } else {
                    let all = run(c, i, to, ch)
                    out += String(repeating: ch, count: all); i += all
                }
                continue
            }
            out += esc(String(ch))
            i += 1
        }
        return out
    }

    /// How many `ch` in a row start at `i`.
    static func run(_ c: [Character], _ i: Int, _ to: Int, _ ch: Character) -> Int {
        var j = i
        while j < to && c[j] == ch { j += 1 }
        return j - i
    }

    /// The start of the next run of exactly `n` `ch` at or after `from`.
    static func findRun(_ c: [Character], _ from: Int, _ to: Int, _ ch: Character, _ n: Int) -> Int? {
        var j = from
        while j < to {
            if c[j] == ch {
                let r = run(c, j, to, ch)
                if r == n { return j }
                j += r
            } else { j += 1 }
        }
        return nil
    }

    /// A delimiter run opens emphasis when text follows it, and (for `_`) when it does
    /// not stand inside a word, so `snake_case_names` stay as they are.
    static func canOpen(_ c: [Character], _ i: Int, _ n: Int, _ to: Int, _ ch: Character) -> Bool {
        guard i + n < to, !c[i + n].isWhitespace else { return false }
        if ch == "_", i > 0, c[i - 1].isLetter || c[i - 1].isNumber { return false }
        return true
    }

    /// The closing run for emphasis opened with `n` `ch`, skipping code spans.
    static func findEmphasisClose(_ c: [Character], _ from: Int, _ to: Int, _ ch: Character, _ n: Int) -> Int? {
        var j = from
        while j < to {
            if c[j] == "`" {
                let r = run(c, j, to, "`")
                j = (findRun(c, j + r, to, "`", r).map { $0 + r }) ?? (j + r)
                continue
            }
            if c[j] == "\\" { j += 2; continue }
            if c[j] == ch {
                let r = run(c, j, to, ch)
                let after = j + r < to ? c[j + r] : " "
                let closes = j > from && !c[j - 1].isWhitespace && r >= n
                    && (ch == "*" || !(after.isLetter || after.isNumber))
                if closes { return j + (r - n) }
                j += r
                continue
            }
            j += 1
        }
        return nil
    }

    /// `[text](url)` starting at `i` (the `[`): the text's range, the url, and the index after `)`.
    static func link(_ c: [Character], _ i: Int, _ to: Int) -> (text: Range<Int>, url: String, end: Int)? {
        var depth = 0, j = i
        while j < to {
            if c[j] == "\\" { j += 2; continue }
            if c[j] == "[" { depth += 1 }
            if c[j] == "]" { depth -= 1; if depth == 0 { break } }
            j += 1
        }
        guard j + 1 < to, c[j + 1] == "(" else { return nil }
        // The destination ends at the `)` that balances its `(`.
        var close = j + 2, open = 0
        while close < to, c[close] != ")" || open > 0 {
            if c[close] == "(" { open += 1 } else if c[close] == ")" { open -= 1 }
            close += 1
        }
        guard close < to else { return nil }
        let target = String(c[(j + 2)..<close]).trimmingCharacters(in: .whitespaces)
        let url = target.split(separator: " ", maxSplits: 1).first.map(String.init) ?? ""
        return ((i + 1)..<j, url.hasPrefix("<") && url.hasSuffix(">") ? String(url.dropFirst().dropLast()) : url, close + 1)
    }

    /// The URL when it is safe to link: http, https, mailto, or no scheme at all.
    static func safeURL(_ url: String) -> String? {
        guard !url.isEmpty, !url.contains(where: { $0.isWhitespace || $0 == "\"" }) else { return nil }
        let lower = url.lowercased()
        if let colon = lower.firstIndex(of: ":") {
            let scheme = lower[..<colon]
            // A colon after a path or query character is not a scheme.
            if scheme.contains(where: { "/?#".contains($0) }) { return url }
            return ["http", "https", "mailto"].contains(String(scheme)) ? url : nil
        }
        return url
    }
}
