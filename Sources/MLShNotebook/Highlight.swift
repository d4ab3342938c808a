import MLShCommon
import MLShLanguage
import MLShRuntime

/// Light syntax colouring of mls source for notebook pages: comments, strings, numbers,
/// keywords, `$columns` and called names get a `<span class="...">`; everything is
/// escaped. It scans characters, not tokens, so source that does not lex still shows.
enum Highlight {
    static let keywords = Set(Keyword.allCases.map(\.rawValue))

    static func html(_ source: String) -> String {
        let c = Array(source)
        var out = ""
        var i = 0
        func span(_ cls: String, _ from: Int, _ to: Int) {
            out += "<span class=\"\(cls)\">\(escapeXML(String(c[from..<to])))</span>"
        }
        func isName(_ ch: Character) -> Bool { ch == "_" || (ch.isASCII && (ch.isLetter || ch.isNumber)) }
        while i < c.count {
            let ch = c[i]
            if ch == "#" {
                var j = i
                while j < c.count && c[j] != "\n" { j += 1 }
                span("com", i, j); i = j; continue
            }
            if ch == "\"" || (ch == "r" && i + 1 < c.count && c[i + 1] == "\"" && (i == 0 || !isName(c[i - 1]))) {
                let raw = ch == "r"
                var j = i + (raw ? 2 : 1)
                while j < c.count && c[j] != "\"" && c[j] != "\n" {
                    j += (!raw && c[j] == "\\") ? 2 : 1
                }
                j = min(c.count, j + 1)
                span("str", i, j); i = j; continue
            }
            if ch == "$" {
                var j = i + 1
                if j < c.count && c[j] == "`" {
                    j += 1
                    while j < c.count && c[j] != "`" && c[j] != "\n" { j += 1 }
                    j = min(c.count, j + 1)
                } else {
                    while j < c.count && isName(c[j]) { j += 1 }
                }
                span("col", i, j); i = j; continue
            }
            if ch.isASCII && ch.isNumber && (i == 0 || !isName(c[i - 1])) {
                var j = i
                while j < c.count && (isName(c[j]) || c[j] == "." ||
                                      ((c[j] == "+" || c[j] == "-") && (c[j - 1] == "e" || c[j - 1] == "E"))) { j += 1 }
                span("num", i, j); i = j; continue
            }
            if isName(ch) {
                var j = i
                while j < c.count && isName(c[j]) { j += 1 }
                let word = String(c[i..<j])
                if keywords.contains(word) { span("kw", i, j) }
                else if j < c.count && c[j] == "(" { span("fn", i, j) }
                else { out += escapeXML(word) }
                i = j; continue
            }
            if (ch == "|" || ch == ">") && i + 1 < c.count && c[i + 1] == ">" {
                span("op", i, i + 2); i += 2; continue
            }
            out += escapeXML(String(ch))
            i += 1
        }
        return out
    }
}
