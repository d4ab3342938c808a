import Foundation
import MLShCommon
import MLShEngine
import MLShRuntime

/// A rendered notebook as one self-contained HTML page: inline CSS (light and dark),
/// inline SVG plots, no scripts, no network.
enum NotebookHTML {
    static func esc(_ s: String) -> String { escapeXML(s) }

    static func page(title: String, results: [CellResult]) -> String {
        let failed = results.filter { $0.status == .failed }.count
        let notRun = results.filter { $0.status == .notRun }.count
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="mlsh render">
            <title>\(esc(title))</title>
            <style>
            \(css)</style>
            </head>
            <body>
            <main>
            <header class="file">\(esc(title))</header>

            """
        for r in results { out += cell(r) }
        var summary = "\(results.filter { $0.cell.kind == .code }.count) code cells"
        if failed > 0 { summary += ", \(failed) failed" }
        if notRun > 0 { summary += ", \(notRun) not run" }
        out += "<footer class=\"summary\">\(esc(summary))</footer>\n</main>\n</body>\n</html>\n"
        return out
    }

    static func cell(_ r: CellResult) -> String {
        switch r.status {
        case .markdown:
            return "<section class=\"cell markdown\">\n\(Markdown.html(r.cell.text))</section>\n"
        case .ran, .failed, .notRun:
            let state = r.status == .failed ? " failed" : r.status == .notRun ? " not-run" : ""
            var out = "<section class=\"cell code\(state)\">\n"
            out += "<div class=\"source\"><span class=\"line\">line \(r.cell.firstLine)</span>"
            out += "<pre><code>\(Highlight.html(r.cell.text))</code></pre></div>\n"
            if r.status == .notRun {
                out += "<p class=\"note\">not run: an earlier cell failed (--keep-going runs every cell)</p>\n"
            }
            if !r.outputs.isEmpty {
                out += "<div class=\"outputs\">\n"
                for o in r.outputs { out += output(o) }
                out += "</div>\n"
            }
            return out + "</section>\n"
        }
    }

    static func output(_ o: CellOutput) -> String {
        switch o {
        case .text(let s): return "<pre class=\"text\">\(esc(s))</pre>\n"
        case .error(let s): return "<pre class=\"error\">\(esc(s))</pre>\n"
        case .rich(.text(let s)): return "<pre class=\"text\">\(esc(s))</pre>\n"
        case .rich(.plot(let svg, let title, _)):
            return "<figure class=\"plot\" aria-label=\"\(esc(title))\">\n\(svg)</figure>\n"
        case .rich(.table(let layout, let caption)): return table(layout, caption: caption)
        }
    }

    static func table(_ t: TableLayout, caption: String?) -> String {
        var out = "<div class=\"table\">\n"
        if let caption { out += "<p class=\"caption\">\(esc(caption))</p>\n" }
        out += "<table>\n<thead>\n<tr>"
        for n in t.names { out += "<th>\(esc(n))</th>" }
        out += "</tr>\n"
        if t.dtypes.contains(where: { !$0.isEmpty }) {
            out += "<tr class=\"dtype\">" + t.dtypes.map { "<th>\(esc($0))</th>" }.joined() + "</tr>\n"
        }
        out += "</thead>\n<tbody>\n"
        for (i, row) in t.rows.enumerated() {
            out += i == t.elidedRow ? "<tr class=\"elided\">" : "<tr>"
            for (k, v) in row.enumerated() {
                let num = k < t.rightAligned.count && t.rightAligned[k]
                out += num ? "<td class=\"num\">\(esc(v))</td>" : "<td>\(esc(v))</td>"
            }
            out += "</tr>\n"
        }
        out += "</tbody>\n</table>\n"
        if !t.footer.isEmpty { out += "<p class=\"shape\">\(esc(t.footer))</p>\n" }
        return out + "</div>\n"
    }

    static let css = """
        :root {
          color-scheme: light dark;
          --bg: #ffffff; --fg: #1f2328; --muted: #656d76; --border: #d0d7de;
          --code-bg: #f6f8fa; --out-bg: #ffffff; --accent: #0969da;
          --err-bg: #ffebe9; --err-fg: #82071e; --err-border: #ff8182;
          --kw: #cf222e; --str: #0a3069; --num: #0550ae; --com: #6e7781; --col: #8250df; --fn: #6639ba; --op: #cf222e;
          --plot-bg: #ffffff; --plot-fg: #333333; --grid: #e5e5e5;
        }
        @media (prefers-color-scheme: dark) {
          :root {
            --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --border: #30363d;
            --code-bg: #161b22; --out-bg: #0d1117; --accent: #4493f8;
            --err-bg: #2d1214; --err-fg: #ffa198; --err-border: #8e1519;
            --kw: #ff7b72; --str: #a5d6ff; --num: #79c0ff; --com: #8b949e; --col: #d2a8ff; --fn: #d2a8ff; --op: #ff7b72;
            --plot-bg: #0d1117; --plot-fg: #c9d1d9; --grid: #30363d;
          }
        }
        * { box-sizing: border-box; }
        body { margin: 0; background: var(--bg); color: var(--fg);
          font: 16px/1.55 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
        main { max-width: 960px; margin: 0 auto; padding: 24px 20px 48px; }
        header.file { color: var(--muted); font-size: 13px; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
          border-bottom: 1px solid var(--border); padding-bottom: 8px; margin-bottom: 16px; }
        footer.summary { color: var(--muted); font-size: 13px; border-top: 1px solid var(--border); margin-top: 32px; padding-top: 8px; }
        h1, h2, h3, h4, h5, h6 { line-height: 1.25; margin: 1.2em 0 0.5em; }
        h1 { font-size: 2em; border-bottom: 1px solid var(--border); padding-bottom: 0.3em; }
        h2 { font-size: 1.5em; border-bottom: 1px solid var(--border); padding-bottom: 0.3em; }
        a { color: var(--accent); }
        code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 13.5px; }
        :not(pre) > code { background: var(--code-bg); padding: 0.15em 0.35em; border-radius: 4px; }
        pre { margin: 0; overflow-x: auto; }
        blockquote { margin: 0.5em 0; padding: 0 1em; color: var(--muted); border-left: 4px solid var(--border); }
        hr { border: 0; border-top: 1px solid var(--border); }
        .cell { margin: 14px 0; }
        .cell.markdown > :first-child { margin-top: 0.6em; }
        .markdown pre { background: var(--code-bg); padding: 10px 12px; border-radius: 6px; }
        .source { position: relative; background: var(--code-bg); border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; }
        .cell.code { margin-top: 22px; }
        .source .line { position: absolute; top: -17px; right: 2px; font-size: 11px; color: var(--muted); }
        .outputs { border-left: 3px solid var(--border); margin: 6px 0 0 0; padding: 4px 0 4px 12px; }
        .outputs > * + * { margin-top: 8px; }
        pre.text { color: var(--fg); }
        pre.error { background: var(--err-bg); color: var(--err-fg); border: 1px solid var(--err-border); border-radius: 6px; padding: 10px 12px; }
        .failed .source { border-color: var(--err-border); }
        .not-run .source { opacity: 0.55; }
        p.note { color: var(--muted); font-size: 13px; margin: 4px 0; }
        .source .kw { color: var(--kw); } .source .str { color: var(--str); } .source .num { color: var(--num); }
        .source .com { color: var(--com); font-style: italic; } .source .col { color: var(--col); }
        .source .fn { color: var(--fn); } .source .op { color: var(--op); }
        .table { overflow-x: auto; }
        table { border-collapse: collapse; font-size: 13.5px; }
        .table table { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
        th, td { border: 1px solid var(--border); padding: 3px 9px; text-align: left; vertical-align: top; }
        th { background: var(--code-bg); }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr.dtype th { font-weight: normal; color: var(--muted); font-size: 11.5px; }
        tr.elided td { color: var(--muted); text-align: center; }
        p.shape, p.caption { color: var(--muted); font-size: 12.5px; margin: 4px 0; }
        figure.plot { margin: 0; }
        figure.plot svg { max-width: 100%; height: auto; display: block; }
        figure.plot svg .background { fill: var(--plot-bg); }
        figure.plot svg text:not(.count) { fill: var(--plot-fg); }
        figure.plot svg .axes, figure.plot svg .ticks line[stroke="#333"] { stroke: var(--plot-fg); }
        figure.plot svg .ticks line[stroke="#e5e5e5"] { stroke: var(--grid); }
        figure.plot svg g.series[stroke="white"], figure.plot svg g.cells { stroke: var(--plot-bg); }

        """
}
