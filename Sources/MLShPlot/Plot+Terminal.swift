import Foundation

/// A canvas of braille dots: each character cell holds 2×4 dots, and remembers which
/// series drew in it last (for colour; -1 for none).
struct BrailleCanvas {
    let cols: Int, rows: Int
    var cells: [UInt8]
    var owners: [Int]
    init(cols: Int, rows: Int) {
        self.cols = max(1, cols); self.rows = max(1, rows)
        cells = [UInt8](repeating: 0, count: self.cols * self.rows)
        owners = [Int](repeating: -1, count: self.cols * self.rows)
    }
    var pixelWidth: Int { cols * 2 }
    var pixelHeight: Int { rows * 4 }

    /// Sets the dot at pixel (px, py), py = 0 at the top, drawn by `series`; off-canvas
    /// dots are ignored.
    mutating func set(_ px: Int, _ py: Int, series: Int = 0) {
        guard px >= 0, py >= 0, px < pixelWidth, py < pixelHeight else { return }
        let bits: [[UInt8]] = [[0x01, 0x08], [0x02, 0x10], [0x04, 0x20], [0x40, 0x80]]
        cells[(py / 4) * cols + px / 2] |= bits[py % 4][px % 2]
        owners[(py / 4) * cols + px / 2] = series
    }

    /// A straight line between two pixels; `every` > 1 draws a dotted line.
    mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, series: Int = 0, every: Int = 1) {
        let steps = max(abs(x1 - x0), abs(y1 - y0), 1)
        for i in stride(from: 0, through: steps, by: max(1, every)) {
            let t = Double(i) / Double(steps)
            set(Int((Double(x0) + t * Double(x1 - x0)).rounded()), Int((Double(y0) + t * Double(y1 - y0)).rounded()),
                series: series)
        }
    }

    /// One row of characters; with `color`, each run of cells drawn by one series is
    /// wrapped in that series' ANSI colour.
    func row(_ r: Int, color: Bool = false) -> String {
        var s = ""
        var current = -1
        for c in 0..<cols {
            let owner = cells[r * cols + c] == 0 ? -1 : owners[r * cols + c]
            if color && owner != current {
                if current >= 0 { s += ANSI.reset }
                if owner >= 0 { s += ANSI.color(owner) }
                current = owner
            }
            if let u = Unicode.Scalar(0x2800 + UInt32(cells[r * cols + c])) { s.unicodeScalars.append(u) }
        }
        if color && current >= 0 { s += ANSI.reset }
        return s
    }
}

/// ANSI terminal colours for series, in the order of `Plot.palette` as near as the
/// 16 standard colours come.
enum ANSI {
    static let codes = [34, 33, 32, 31, 35, 36, 94, 93, 92, 95]
    static let reset = "\u{1B}[0m"
    static func color(_ series: Int) -> String { "\u{1B}[\(codes[series % codes.count])m" }
    static func paint(_ text: String, _ series: Int, _ on: Bool) -> String { on ? color(series) + text + reset : text }
}

extension Plot {
    /// The plot drawn with braille characters: a title line, `height` canvas rows with
    /// the y range on the left, an x axis and the x range. Every line fits in `width`
    /// (not counting the ANSI colour codes `color` adds: one colour per series).
    public func terminal(width: Int = 72, height: Int = 18, color: Bool = false) -> String {
        if let message = emptyMessage { return title.isEmpty ? message : title + "\n" + message }
        if kind == .heatmap { return heatmapTerminal(width: width, color: color) }
        let r = ranges()
        let yt = Plot.niceTicks(r.y.0, r.y.1)
        let ylo = kind == .scatter || kind == .line ? r.y.0 : (yt.first ?? 0)
        let yhi = kind == .scatter || kind == .line ? r.y.1 : (yt.last ?? 1)
        let xlo = r.x.0, xhi = r.x.1
        let topLabel = Plot.short(yhi), bottomLabel = Plot.short(ylo)
        let gutter = max(topLabel.count, bottomLabel.count)
        let rows = max(2, height)
        var canvas = BrailleCanvas(cols: max(4, width - gutter - 1), rows: rows)
        let pw = canvas.pixelWidth, ph = canvas.pixelHeight
        func px(_ v: Double) -> Int {
            guard xhi > xlo else { return pw / 2 }
            return clampedIndex(((v - xlo) / (xhi - xlo) * Double(pw - 1)).rounded(), pw - 1)
        }
        func py(_ v: Double) -> Int {
            guard yhi > ylo else { return ph / 2 }
            return clampedIndex(((yhi - v) / (yhi - ylo) * Double(ph - 1)).rounded(), ph - 1)
        }
        switch kind {
        case .bar:
            let n = max(1, values.count)
            for (i, v) in values.enumerated() where v.isFinite {
                let a = i * pw / n, b = (i + 1) * pw / n - 2
                for x in a...max(a, b) { canvas.line(x, py(0), x, py(v)) }
            }
        case .hist:
            let s = series.first ?? Series(x: [], y: [])
            for (x, c) in zip(s.x, s.y) where c > 0 {
                let a = px(x), b = max(a, px(x + binWidth) - 1)
                for xx in a...b { canvas.line(xx, ph - 1, xx, py(c)) }
            }
        case .heatmap:
            break
        case .scatter, .line, .roc:
            if kind == .roc { canvas.line(px(0), py(0), px(1), py(1), series: -1, every: 3) }
            for (i, s) in series.enumerated() {
                let pts = Plot.points(s)
                if style(of: s) == .points || pts.count == 1 {
                    for (x, y) in pts { canvas.set(px(x), py(y), series: i) }
                } else {
                    for (a, b) in zip(pts, pts.dropFirst()) { canvas.line(px(a.0), py(a.1), px(b.0), py(b.1), series: i) }
                }
            }
        }
        func pad(_ s: String) -> String { String(repeating: " ", count: max(0, gutter - s.count)) + s }
        var lines: [String] = [String(title.prefix(width))]
        for rIndex in 0..<rows {
            let label = rIndex == 0 ? pad(topLabel) : rIndex == rows - 1 ? pad(bottomLabel) : String(repeating: " ", count: gutter)
            lines.append(label + "┤" + canvas.row(rIndex, color: color))
        }
        lines.append(String(repeating: " ", count: gutter) + "└" + String(repeating: "─", count: canvas.cols))
        let range: String
        if kind == .bar {
            // Each category centred under its bar, cut to the bar's width.
            var row = [Character](repeating: " ", count: canvas.cols)
            let n = max(1, categories.count)
            for (i, c) in categories.enumerated() {
                let a = i * canvas.cols / n, b = (i + 1) * canvas.cols / n
                let text = Array(c.prefix(max(1, b - a - 1)))
                let start = a + max(0, (b - a - text.count) / 2)
                for (j, ch) in text.enumerated() where start + j < row.count { row[start + j] = ch }
            }
            range = String(String(row).reversed().drop { $0 == " " }.reversed())
        } else {
            let lo = Plot.short(xlo), hi = Plot.short(xhi)
            let name = xLabel.isEmpty ? "" : " " + xLabel + " "
            let fill = max(1, canvas.cols - lo.count - hi.count - name.count)
            range = lo + String(repeating: " ", count: fill / 2) + name + String(repeating: " ", count: fill - fill / 2) + hi
        }
        lines.append(String((String(repeating: " ", count: gutter + 1) + range).prefix(width)))
        let labels = series.enumerated().compactMap { i, s in s.label.map { (i, $0) } }
        if labels.count > 1 || (kind == .roc && !labels.isEmpty) {
            // The legend, wrapped to the width (measured before any colour codes go in).
            var line = "series:", room = width - line.count
            for (n, (i, text)) in labels.enumerated() {
                let shown = String(text.prefix(max(1, width - 10)))
                let comma = n < labels.count - 1 ? "," : ""
                if shown.count + comma.count + 1 > room {
                    lines.append(line)
                    line = "       "; room = width - line.count
                }
                line += " " + ANSI.paint(shown, i, color) + comma
                room -= shown.count + comma.count + 1
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
