import Foundation
import MLShCommon

/// Text made safe for HTML element content and attribute values (every store string
/// passes through here before it reaches a page).
func h(_ s: String) -> String { escapeXML(s, [.xml10]) }

/// A path segment or query value, percent-encoded (everything but unreserved characters).
func urlPart(_ s: String) -> String {
    var out = ""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(b))
        default:
            let hex = Array("0123456789ABCDEF")
            out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
        }
    }
    return out
}

/// `?k=v&...` of the pairs (empty values left out), or "" when none remain.
func queryString(_ pairs: [(String, String)]) -> String {
    let kept = pairs.filter { !$0.1.isEmpty }
    return kept.isEmpty ? "" : "?" + kept.map { urlPart($0.0) + "=" + urlPart($0.1) }.joined(separator: "&")
}

/// Decodes `%XX` and (in query strings) `+` as a space; invalid escapes stay as written.
func percentDecoded(_ s: Substring, plusIsSpace: Bool) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(s.utf8.count)
    let u = Array(s.utf8)
    var i = 0
    func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
    while i < u.count {
        let c = u[i]
        if c == UInt8(ascii: "%"), i + 2 < u.count, let hi = hexValue(u[i + 1]), let lo = hexValue(u[i + 2]) {
            bytes.append(hi << 4 | lo)
            i += 3
        } else {
            bytes.append(plusIsSpace && c == UInt8(ascii: "+") ? UInt8(ascii: " ") : c)
            i += 1
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// The pairs of a query string (`a=1&b=x+y`), decoded, in order.
func parseQuery(_ query: String) -> [(String, String)] {
    query.split(separator: "&").compactMap { part -> (String, String)? in
        guard !part.isEmpty else { return nil }
        let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let key = percentDecoded(kv[0], plusIsSpace: true)
        return (key, kv.count > 1 ? percentDecoded(kv[1], plusIsSpace: true) : "")
    }
}

/// A number as the pages show it: integers without a fraction, others with up to 6
/// significant digits; NaN as "NaN".
func formatNumber(_ d: Double) -> String {
    if d.isNaN { return "NaN" }
    if d.isInfinite { return d < 0 ? "-inf" : "inf" }
    if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
    let s = String(format: "%.6g", d)
    return s
}

/// A Unix time as `2026-12-07 04:37:40` (UTC).
func formatTime(_ t: Double?) -> String {
    guard let t, t.isFinite, abs(t) < 1e12 else { return "" }
    var seconds = time_t(t)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
    return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
}

/// A duration in seconds as `1.2 s`, `3 min 4 s` or `2 h 5 min`.
func formatDuration(_ s: Double?) -> String {
    guard let s, s.isFinite, s >= 0, s < 1e12 else { return "" }
    if s < 60 { return String(format: "%.1f s", s) }
    if s < 3600 { return "\(Int(s) / 60) min \(Int(s) % 60) s" }
    return "\(Int(s) / 3600) h \(Int(s) % 3600 / 60) min"
}

/// A number as JSON (NaN and infinities as null, which JSON cannot hold).
func jsonNumber(_ d: Double) -> JSON { d.isFinite ? .number(d) : .null }

/// The page around a body: navigation, the style sheet (light and dark), no scripts.
enum Layout {
    static func page(title: String, body: String, jsonLink: String?) -> String {
        var out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        out += "<meta name=\"color-scheme\" content=\"light dark\"><link rel=\"icon\" href=\"data:,\">"
        out += "<title>\(h(title)) · mlsh</title><style>\(css)</style></head><body>"
        out += "<nav><a class=\"brand\" href=\"/\">mlsh</a> <a href=\"/experiments\">Experiments</a> <a href=\"/models\">Models</a> "
        out += "<a href=\"/deployments\">Deployments</a> <a href=\"/datasets\">Datasets</a>"
        if let jsonLink { out += "<a class=\"json\" href=\"\(h(jsonLink))\">JSON</a>" }
        out += "</nav><main>" + body + "</main></body></html>\n"
        return out
    }

    /// The style sheet: system colors by `prefers-color-scheme`; charts follow them.
    static let css = """
        :root{--bg:#fff;--fg:#1d1d1f;--muted:#6b6b70;--line:#d9d9de;--head:#f3f3f6;--link:#0b62c4;--hi:#fff6d6;--bad:#b3261e;--good:#1e7d32}
        @media (prefers-color-scheme: dark){:root{--bg:#17171a;--fg:#e8e8ec;--muted:#a0a0a8;--line:#3a3a40;--head:#222227;--link:#7fb4ff;--hi:#3a3420;--bad:#ff8a80;--good:#81c784}
        svg .background{fill:#17171a} svg text{fill:#e8e8ec} svg [stroke="#333"]{stroke:#bbb} svg [fill="#333"]{fill:#ccc} svg [stroke="#e5e5e5"]{stroke:#333}}
        body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;background:var(--bg);color:var(--fg)}
        nav{display:flex;gap:1.2em;align-items:center;padding:.6em 1.2em;border-bottom:1px solid var(--line);background:var(--head)}
        nav .brand{font-weight:700} nav .json{margin-left:auto;font-size:.9em}
        main{padding:1em 1.2em;max-width:1400px} a{color:var(--link);text-decoration:none} a:hover{text-decoration:underline}
        h1{font-size:1.4em;margin:.2em 0 .6em} h2{font-size:1.1em;margin:1.4em 0 .5em}
        table{border-collapse:collapse;margin:.4em 0} th,td{border:1px solid var(--line);padding:.25em .55em;text-align:left;vertical-align:top}
        th{background:var(--head);font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums}
        tr.differs td{background:var(--hi)} .muted{color:var(--muted)} .error{color:var(--bad)} .ok{color:var(--good)}
        .status-failed,.status-killed{color:var(--bad)} .status-finished{color:var(--good)}
        form.layout{display:flex;flex-wrap:wrap;gap:.6em;align-items:flex-end;margin:.4em 0 .8em}
        input[type=text]{min-width:28em;padding:.3em;background:var(--bg);color:var(--fg);border:1px solid var(--line)}
        button{padding:.3em .8em} details{margin:.3em 0} .charts{display:flex;flex-wrap:wrap;gap:1em}
        .charts svg{max-width:100%;height:auto;border:1px solid var(--line)} pre{background:var(--head);padding:.6em;overflow:auto;max-height:30em}
        .pager{margin:.6em 0} .pager a,.pager span{margin-right:1em} code{font-size:.95em}
        """
}
