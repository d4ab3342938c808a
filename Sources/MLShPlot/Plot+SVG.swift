import Foundation
import MLShCommon

extension Plot {
    /// A standalone SVG document of the plot, or the empty message as a small SVG text.
    public func svg(width: Int = 640, height: Int = 400) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svgElement(width: width, height: height)
    }

    /// The `<svg>` element alone (no XML declaration), to embed in an HTML page.
    public func svgElement(width: Int = 640, height: Int = 400) -> String {
        let w = Double(max(160, width)), h = Double(max(120, height))
        var out = ""
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">\n"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(Int(w))\" height=\"\(Int(h))\" fill=\"white\"/>\n"
        out += "<text class=\"title\" x=\"\(f(w / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">\(escapeXML(title))</text>\n"
        if let message = emptyMessage {
            out += "<text class=\"message\" x=\"\(f(w / 2))\" y=\"\(f(h / 2))\" text-anchor=\"middle\">\(escapeXML(message))</text>\n</svg>\n"
            return out
        }
        if kind == .heatmap { return out + heatmapSVG(w: w, h: h) + "</svg>\n" }
        let labelled = series.filter { $0.label != nil }
        let legend = kind == .roc ? !labelled.isEmpty : kind != .bar && labelled.count > 1
        let longest = Double(labelled.map { $0.label?.count ?? 0 }.max() ?? 0)
        let left = 64.0, right = legend ? min(w / 2, max(140, 40 + 7 * longest)) : 20.0, top = 40.0, bottom = 52.0
        let pw = w - left - right, ph = h - top - bottom
        let r = ranges()
        let yt = Plot.niceTicks(r.y.0, r.y.1)
        let ylo = yt.first ?? 0, yhi = yt.last ?? 1
        let ystep = yt.count > 1 ? yt[1] - yt[0] : 1
        let xt: [Double] = kind == .bar ? [] : Plot.niceTicks(r.x.0, r.x.1)
        let xlo = kind == .bar ? r.x.0 : (xt.first ?? 0), xhi = kind == .bar ? r.x.1 : (xt.last ?? 1)
        let xstep = xt.count > 1 ? xt[1] - xt[0] : 1
        func sx(_ v: Double) -> Double { left + (xhi > xlo ? (v - xlo) / (xhi - xlo) : 0.5) * pw }
        func sy(_ v: Double) -> Double { top + ph - (yhi > ylo ? (v - ylo) / (yhi - ylo) : 0.5) * ph }

        // Grid, axes and ticks.
        out += "<g class=\"ticks\" fill=\"#333\">\n"
        for t in yt {
            let y = sy(t)
            out += "<line x1=\"\(f(left - 4))\" y1=\"\(f(y))\" x2=\"\(f(left))\" y2=\"\(f(y))\" stroke=\"#333\"/>"
            out += "<line x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(left + pw))\" y2=\"\(f(y))\" stroke=\"#e5e5e5\"/>"
            out += "<text class=\"tick\" x=\"\(f(left - 7))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(escapeXML(Plot.tickLabel(t, step: ystep)))</text>\n"
        }
        for t in xt {
            let x = sx(t)
            out += "<line x1=\"\(f(x))\" y1=\"\(f(top + ph))\" x2=\"\(f(x))\" y2=\"\(f(top + ph + 4))\" stroke=\"#333\"/>"
            out += "<text class=\"tick\" x=\"\(f(x))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(escapeXML(Plot.tickLabel(t, step: xstep)))</text>\n"
        }
        if kind == .bar {
            for (i, c) in categories.enumerated() {
                out += "<text class=\"tick\" x=\"\(f(sx(Double(i) + 0.5)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\">\(escapeXML(c))</text>\n"
            }
        }
        out += "</g>\n"
        out += "<g class=\"axes\" stroke=\"#333\" stroke-width=\"1\">\n"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top + ph))\" x2=\"\(f(left + pw))\" y2=\"\(f(top + ph))\"/>\n"
        out += "<line x1=\"\(f(left))\" y1=\"\(f(top))\" x2=\"\(f(left))\" y2=\"\(f(top + ph))\"/>\n"
        out += "</g>\n"
        out += "<text class=\"xlabel\" x=\"\(f(left + pw / 2))\" y=\"\(f(h - 12))\" text-anchor=\"middle\">\(escapeXML(xLabel))</text>\n"
        out += "<text class=\"ylabel\" x=\"16\" y=\"\(f(top + ph / 2))\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(f(top + ph / 2)))\">\(escapeXML(yLabel))</text>\n"

        // Data.
        switch kind {
        case .bar:
            let base = sy(max(ylo, min(0, yhi)))
            for (i, v) in values.enumerated() where v.isFinite {
                let x0 = sx(Double(i) + 0.1), x1 = sx(Double(i) + 0.9), y = sy(v)
                out += "<rect class=\"bar\" x=\"\(f(x0))\" y=\"\(f(min(y, base)))\" width=\"\(f(x1 - x0))\" height=\"\(f(abs(base - y)))\" fill=\"\(Plot.palette[0])\"/>\n"
            }
        case .hist:
            let s = series.first ?? Series(x: [], y: [])
            out += "<g class=\"series\" fill=\"\(Plot.palette[0])\" stroke=\"white\" stroke-width=\"0.5\">\n"
            for (x, c) in zip(s.x, s.y) where c > 0 {
                let x0 = sx(x), x1 = sx(x + binWidth), y = sy(c)
                out += "<rect class=\"bar\" x=\"\(f(x0))\" y=\"\(f(y))\" width=\"\(f(x1 - x0))\" height=\"\(f(sy(0) - y))\"/>\n"
            }
            out += "</g>\n"
        case .heatmap:
            break
        case .scatter, .line, .roc:
            if kind == .roc {
                out += "<line class=\"chance\" x1=\"\(f(sx(0)))\" y1=\"\(f(sy(0)))\" x2=\"\(f(sx(1)))\" y2=\"\(f(sy(1)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
            }
            for (i, s) in series.enumerated() {
                let color = Plot.palette[i % Plot.palette.count]
                switch style(of: s) {
                case .points:
                    var d = ""
                    for (x, y) in Plot.points(s) {
                        d += "M\(f(sx(x) - 2.5)) \(f(sy(y)))a2.5 2.5 0 1 0 5 0a2.5 2.5 0 1 0 -5 0"
                    }
                    out += "<path class=\"series\" d=\"\(d)\" fill=\"\(color)\" fill-opacity=\"0.75\"/>\n"
                case .line:
                    let pts = Plot.points(s).map { "\(f(sx($0.0))),\(f(sy($0.1)))" }.joined(separator: " ")
                    out += "<polyline class=\"series\" points=\"\(pts)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                }
            }
        }

        if legend {
            out += "<g class=\"legend\">\n"
            for (i, s) in series.enumerated() {
                let y = top + 10 + Double(i) * 18
                out += "<rect class=\"swatch\" x=\"\(f(left + pw + 16))\" y=\"\(f(y - 9))\" width=\"10\" height=\"10\" fill=\"\(Plot.palette[i % Plot.palette.count])\"/>"
                out += "<text class=\"legend-label\" x=\"\(f(left + pw + 32))\" y=\"\(f(y))\">\(escapeXML(s.label ?? ""))</text>\n"
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return out
    }
}

/// A coordinate with at most two decimals.
func f(_ v: Double) -> String {
    guard v.isFinite, abs(v) < 1e12 else { return "0" }
    let r = (v * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    return String(r)
}
