import Foundation
import MLShCommon
import MLShPlot

/// A parallel-coordinates chart as inline SVG: one vertical axis per column (numbers
/// scaled from their least to their greatest value, other values placed as categories),
/// one polyline per run; a missing value breaks the run's line.
enum ParallelCoordinates {
    static func svg(axes: [(String, [RunFilter.Value])], lines: [String], width: Int = 760, height: Int = 340) -> String {
        guard !axes.isEmpty else { return "" }
        let left = 60.0, right = 200.0, top = 40.0, bottom = 50.0
        let w = Double(width), hgt = Double(height)
        let plotW = w - left - right, plotH = hgt - top - bottom
        let step = axes.count > 1 ? plotW / Double(axes.count - 1) : 0
        // Each axis: a position (0 bottom ... 1 top) per value, and its end labels.
        var positions: [[Double?]] = [], labels: [(String, String)] = []
        for (_, values) in axes {
            let numbers = values.compactMap { v -> Double? in if case .number(let d) = v, d.isFinite { return d } else { return nil } }
            let categories = Array(Set(values.compactMap { v -> String? in
                switch v { case .string(let s): s; case .bool(let b): b ? "true" : "false"; default: nil }
            })).sorted()
            let lo = numbers.min() ?? 0, hi = numbers.max() ?? 1
            positions.append(values.map { v in
                switch v {
                case .number(let d) where d.isFinite: return hi > lo ? (d - lo) / (hi - lo) : 0.5
                case .string(let s): return categories.firstIndex(of: s).map { categories.count > 1 ? Double($0) / Double(categories.count - 1) : 0.5 }
                case .bool(let b): return categories.firstIndex(of: b ? "true" : "false").map { categories.count > 1 ? Double($0) / Double(categories.count - 1) : 0.5 }
                default: return nil
                }
            })
            if !numbers.isEmpty { labels.append((formatNumber(lo), formatNumber(hi))) } else { labels.append((categories.first ?? "", categories.last ?? "")) }
        }
        func x(_ i: Int) -> Double { axes.count > 1 ? left + Double(i) * step : left + plotW / 2 }
        func y(_ p: Double) -> Double { top + (1 - p) * plotH }
        var out = "<svg class=\"parallel\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">"
        out += "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(width)\" height=\"\(height)\" fill=\"white\"/>"
        for (i, (name, _)) in axes.enumerated() {
            out += "<line x1=\"\(f(x(i)))\" y1=\"\(f(top))\" x2=\"\(f(x(i)))\" y2=\"\(f(top + plotH))\" stroke=\"#333\"/>"
            out += "<text x=\"\(f(x(i)))\" y=\"\(f(hgt - 18))\" text-anchor=\"middle\" font-weight=\"bold\">\(escapeXML(name))</text>"
            out += "<text x=\"\(f(x(i) + 4))\" y=\"\(f(top - 6))\" font-size=\"10\">\(escapeXML(labels[i].1))</text>"
            out += "<text x=\"\(f(x(i) + 4))\" y=\"\(f(top + plotH + 14))\" font-size=\"10\">\(escapeXML(labels[i].0))</text>"
        }
        for (j, label) in lines.enumerated() {
            let color = Plot.palette[j % Plot.palette.count]
            var segment: [String] = []
            func flush() {
                if segment.count > 1 { out += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(segment.joined(separator: " "))\"/>" }
                else if let p = segment.first {
                    let xy = p.split(separator: ",")
                    out += "<circle r=\"3\" fill=\"\(color)\" cx=\"\(xy.first ?? "0")\" cy=\"\(xy.last ?? "0")\"/>"
                }
                segment = []
            }
            for i in axes.indices {
                if j < positions[i].count, let p = positions[i][j] { segment.append("\(f(x(i))),\(f(y(p)))") } else { flush() }
            }
            flush()
            let ly = top + Double(j) * 16
            out += "<rect x=\"\(f(w - right + 46))\" y=\"\(f(ly - 9))\" width=\"10\" height=\"10\" fill=\"\(color)\"/>"
            out += "<text x=\"\(f(w - right + 60))\" y=\"\(f(ly))\">\(escapeXML(label))</text>"
        }
        return out + "</svg>"
    }

    static func f(_ d: Double) -> String { String(format: "%.1f", d) }
}
