import Foundation
import MLShCommon

extension Plot {
    /// A confusion heat map: `counts[actual][predicted]` over `classes` (rows: actual,
    /// columns: predicted). A ragged or empty matrix gives a plot that says "no data".
    public static func confusion(classes: [String], counts: [[Double]], title: String) -> Plot {
        let square = counts.count == classes.count && counts.allSatisfy { $0.count == classes.count }
        return Plot(kind: .heatmap, title: title, xLabel: "predicted", yLabel: "actual",
                    categories: square ? classes : [], values: square ? counts.flatMap { $0 } : [])
    }

    /// Count of row `r`, column `c` of a heat map.
    func cell(_ r: Int, _ c: Int) -> Double {
        let i = r * categories.count + c
        return i < values.count && values[i].isFinite ? values[i] : 0
    }

    /// The largest count (at least 1, so shading never divides by zero).
    var largestCell: Double { max(1, values.filter { $0.isFinite }.max() ?? 1) }

    /// A colour from white to dark blue for a share `t` in 0...1 (matplotlib's "Blues").
    static func blues(_ t: Double) -> String {
        let stops: [(Double, Double, Double)] = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]
        let x = min(1, max(0, t.isFinite ? t : 0)) * Double(stops.count - 1)
        let i = min(stops.count - 2, Int(x)), u = x - Double(i)
        let a = stops[i], b = stops[i + 1]
        func mix(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * u).rounded()) }
        return String(format: "#%02x%02x%02x", mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }

    /// A label cut to `n` characters with an ellipsis.
    static func cut(_ s: String, _ n: Int) -> String {
        s.count <= n ? s : String(s.prefix(max(1, n - 1))) + "…"
    }

    /// The grid, labels and counts of a heat map, inside an `<svg>` whose header is written.
    func heatmapSVG(w: Double, h: Double) -> String {
        let k = categories.count
        let longest = Double(min(16, categories.map(\.count).max() ?? 1))
        let left = 36 + 7 * longest, top = 40.0, bottom = 52.0, right = 20.0
        let size = max(4, min((w - left - right) / Double(k), (h - top - bottom) / Double(k)))
        let gw = size * Double(k)
        let x0 = left + max(0, (w - left - right - gw) / 2)
        let most = largestCell
        let chars = max(1, Int(size / 7))
        var out = "<g class=\"cells\" stroke=\"white\" stroke-width=\"1\">\n"
        for r in 0..<k {
            for c in 0..<k {
                let v = cell(r, c), t = v / most
                let x = x0 + Double(c) * size, y = top + Double(r) * size
                out += "<rect class=\"cell\" x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(size))\" height=\"\(f(size))\" fill=\"\(Plot.blues(t))\"/>"
                if size >= 14 {
                    out += "<text class=\"count\" x=\"\(f(x + size / 2))\" y=\"\(f(y + size / 2 + 4))\" text-anchor=\"middle\" stroke=\"none\" fill=\"\(t > 0.5 ? "white" : "#222")\">\(Plot.short(v))</text>"
                }
                out += "\n"
            }
        }
        out += "</g>\n<g class=\"ticks\" fill=\"#333\">\n"
        for (i, label) in categories.enumerated() {
            let mid = Double(i) * size + size / 2
            out += "<text class=\"tick\" x=\"\(f(x0 - 6))\" y=\"\(f(top + mid + 4))\" text-anchor=\"end\">\(escapeXML(Plot.cut(label, 16)))</text>\n"
            out += "<text class=\"tick\" x=\"\(f(x0 + mid))\" y=\"\(f(top + gw + 16))\" text-anchor=\"middle\">\(escapeXML(Plot.cut(label, chars)))</text>\n"
        }
        out += "</g>\n"
        out += "<text class=\"xlabel\" x=\"\(f(x0 + gw / 2))\" y=\"\(f(top + gw + 36))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
        // The axis name just left of the longest row label.
        let ly = top + gw / 2, lx = max(16, x0 - 7 * longest - 18)
        out += "<text class=\"ylabel\" x=\"\(f(lx))\" y=\"\(f(ly))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(lx)) \(f(ly)))\">\(escapeXML(yLabel))</text>\n"
        return out
    }

    /// The heat map as a text grid: one row per actual class, one column per predicted
    /// class, each cell a shade (darker for more) and the count.
    func heatmapTerminal(width: Int, color: Bool) -> String {
        let k = categories.count
        let corner = "\(yLabel) \\ \(xLabel)"
        let labelWidth = max(corner.count, min(16, categories.map(\.count).max() ?? 1))
        let digits = (0..<k).flatMap { r in (0..<k).map { Plot.short(cell(r, $0)).count } }.max() ?? 1
        let widest = categories.map(\.count).max() ?? 1
        let room = (width - labelWidth) / max(1, k) - 2
        let cw = max(digits + 2, min(widest, room))
        let shades: [Character] = ["░", "▒", "▓", "█"]
        let most = largestCell
        func pad(_ s: String, _ n: Int, right: Bool) -> String {
            let fill = String(repeating: " ", count: max(0, n - s.count))
            return right ? fill + s : s + fill
        }
        var lines = [String(title.prefix(width))]
        var header = pad(corner, labelWidth, right: false)
        for c in categories { header += "  " + pad(Plot.cut(c, cw), cw, right: true) }
        lines.append(header)
        for (r, label) in categories.enumerated() {
            var line = pad(Plot.cut(label, labelWidth), labelWidth, right: false)
            for c in 0..<k {
                let v = cell(r, c)
                let shade: String
                if v <= 0 { shade = "·" } else {
                    let level = min(shades.count - 1, Int(v / most * Double(shades.count - 1) + 0.5))
                    shade = ANSI.paint(String(shades[level]), 0, color)
                }
                let count = Plot.short(v)
                line += "  " + String(repeating: " ", count: max(0, cw - count.count - 2)) + shade + " " + count
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
