import Foundation

/// A plot: a histogram, scatter, line or bar chart, a ROC curve or a confusion heat map,
/// rendered as SVG or as Unicode terminal graphics.
public struct Plot: Sendable, Equatable, Codable {
    /// The chart kind. `roc` is a line chart on the unit square with a chance diagonal
    /// and a legend always shown; `heatmap` is a square grid of counts (`categories` label
    /// both axes, `values` holds the rows, actual × predicted, row-major).
    public enum Kind: String, Sendable, Equatable, Codable { case hist, scatter, line, bar, roc, heatmap }

    /// How a series of an x-y chart is drawn.
    public enum Style: Sendable, Equatable, Codable { case points, line }

    /// One series of points (for `hist`: bin left edges and counts).
    public struct Series: Sendable, Equatable, Codable {
        public var x: [Double]
        public var y: [Double]
        public var label: String?
        /// Points or a line; nil draws it as its chart's kind does (points for scatter).
        public var style: Style?
        public init(x: [Double], y: [Double], label: String? = nil, style: Style? = nil) {
            self.x = x; self.y = y; self.label = label; self.style = style
        }
    }

    /// How `s` is drawn on this chart.
    func style(of s: Series) -> Style { s.style ?? (kind == .scatter ? .points : .line) }

    /// `self + other`: both charts' series on one pair of axes, each drawn as in its own
    /// chart (a line over a scatter), with this chart's title; unlabelled series are
    /// named by their y column for the legend. Only scatter and line charts combine:
    /// nil for the others.
    public func overlaid(with other: Plot) -> Plot? {
        guard [.scatter, .line].contains(kind), [.scatter, .line].contains(other.kind) else { return nil }
        func styled(_ p: Plot) -> [Series] {
            p.series.map { s in
                var s = s
                s.style = p.style(of: s)
                if s.label == nil { s.label = p.yLabel }
                return s
            }
        }
        var out = self
        out.series = styled(self) + styled(other)
        if other.xLabel != xLabel { out.xLabel = xLabel + ", " + other.xLabel }
        if other.yLabel != yLabel { out.yLabel = yLabel + ", " + other.yLabel }
        return out
    }

    public var kind: Kind
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// Bar categories (bar charts, parallel to `values`); heat-map row and column labels.
    public var categories: [String]
    public var values: [Double]
    /// Bin width (histograms only).
    public var binWidth: Double

    public init(kind: Kind, title: String, xLabel: String = "", yLabel: String = "",
                series: [Series] = [], categories: [String] = [], values: [Double] = [], binWidth: Double = 0) {
        self.kind = kind; self.title = title; self.xLabel = xLabel; self.yLabel = yLabel
        self.series = series; self.categories = categories; self.values = values; self.binWidth = binWidth
    }

    /// A histogram of the finite values, in `bins` equal-width bins.
    public static func histogram(_ data: [Double], bins: Int, title: String, xLabel: String) -> Plot {
        let finite = data.filter { $0.isFinite }
        let n = max(1, bins)
        guard let lo = finite.min(), let hi = finite.max() else {
            return Plot(kind: .hist, title: title, xLabel: xLabel, yLabel: "count", series: [Series(x: [], y: [])])
        }
        let width = hi > lo ? (hi - lo) / Double(n) : 1
        var counts = [Double](repeating: 0, count: n)
        for v in finite {
            let i = clampedIndex((v - lo) / width, n - 1)
            counts[i] += 1
        }
        let edges = (0..<n).map { lo + Double($0) * width }
        return Plot(kind: .hist, title: title, xLabel: xLabel, yLabel: "count",
                    series: [Series(x: edges, y: counts)], binWidth: width)
    }

    /// ROC curves, one per (label, false positive rates, true positive rates, AUC), each
    /// labelled with its AUC for the legend ("setosa (AUC 0.981)").
    public static func roc(_ curves: [(label: String, fpr: [Double], tpr: [Double], auc: Double)], title: String) -> Plot {
        let series = curves.map { c in
            Series(x: c.fpr, y: c.tpr, label: "\(c.label) (AUC \(c.auc.isFinite ? String(format: "%.3f", c.auc) : "undefined"))")
        }
        return Plot(kind: .roc, title: title, xLabel: "false positive rate", yLabel: "true positive rate", series: series)
    }

    // MARK: validity

    /// Why nothing can be drawn ("no finite values to plot in $x"), or nil when it can.
    public var emptyMessage: String? {
        if kind == .bar {
            return values.contains(where: { $0.isFinite }) ? nil : "no finite values to plot in $\(yLabel)"
        }
        if kind == .heatmap {
            return !categories.isEmpty && values.count == categories.count * categories.count ? nil : "no data to plot"
        }
        if kind == .roc {
            return series.contains { !Plot.points($0).isEmpty } ? nil : "no data to plot"
        }
        let anyX = series.contains { $0.x.contains(where: { $0.isFinite }) }
        if !anyX { return "no finite values to plot in $\(xLabel)" }
        if kind == .hist { return nil }
        let anyY = series.contains { $0.y.contains(where: { $0.isFinite }) }
        if !anyY { return "no finite values to plot in $\(yLabel)" }
        let anyPair = series.contains { s in zip(s.x, s.y).contains { $0.0.isFinite && $0.1.isFinite } }
        return anyPair ? nil : "no finite values to plot in $\(xLabel)"
    }

    /// The finite points of a series.
    static func points(_ s: Series) -> [(Double, Double)] {
        zip(s.x, s.y).filter { $0.0.isFinite && $0.1.isFinite }
    }

    /// Data ranges (x, y) over all finite points.
    func ranges() -> (x: (Double, Double), y: (Double, Double)) {
        switch kind {
        case .bar:
            let f = values.filter { $0.isFinite }
            return ((0, Double(max(1, values.count))), (min(0, f.min() ?? 0), max(0, f.max() ?? 1)))
        case .hist:
            let s = series.first ?? Series(x: [], y: [])
            let lo = s.x.first ?? 0, hi = (s.x.last ?? 0) + binWidth
            return ((lo, hi), (0, max(1, s.y.max() ?? 1)))
        case .roc, .heatmap:
            return ((0, 1), (0, 1))
        case .scatter, .line:
            let pts = series.flatMap { Plot.points($0) }
            let xs = pts.map { $0.0 }, ys = pts.map { $0.1 }
            return ((xs.min() ?? 0, xs.max() ?? 1), (ys.min() ?? 0, ys.max() ?? 1))
        }
    }

    // MARK: ticks

    /// About `count` "nice" ticks (steps of 1, 2, 5 × 10^k) covering `lo...hi`.
    public static func niceTicks(_ lo: Double, _ hi: Double, count: Int = 5) -> [Double] {
        guard lo.isFinite, hi.isFinite else { return [0, 1] }
        var a = min(lo, hi), b = max(lo, hi)
        if a == b {
            let pad = a == 0 ? 1 : abs(a) * 0.1
            a -= pad; b += pad
        }
        let step = niceNumber((b - a) / Double(max(1, count - 1)), round: true)
        let start = (a / step).rounded(.down) * step
        let end = (b / step).rounded(.up) * step
        var ticks: [Double] = []
        var i = 0
        while true {
            let t = start + Double(i) * step
            if t > end + step * 1e-9 || i > 100 { break }
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            i += 1
        }
        return ticks
    }

    static func niceNumber(_ x: Double, round: Bool) -> Double {
        guard x > 0, x.isFinite else { return 1 }
        let exp = log10(x).rounded(.down)
        let f = x / pow(10, exp)
        let nf: Double
        if round {
            nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10
        } else {
            nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10
        }
        return nf * pow(10, exp)
    }

    /// A tick label with as many decimals as the step needs.
    static func tickLabel(_ v: Double, step: Double) -> String {
        let needed = step > 0 ? clampedIndex(-log10(step).rounded(.down), 10) : 0
        return String(format: "%.\(needed)f", v)
    }

    /// A short number for the terminal ranges.
    static func short(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e9 { return String(Int64(v)) }
        return String(format: "%.4g", v)
    }

    /// The fixed colour palette (series i uses palette[i % count]).
    public static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
}

/// `Int(x)` clamped to `0...upper` (NaN and infinities land in range instead of trapping).
func clampedIndex(_ x: Double, _ upper: Int) -> Int {
    guard x.isFinite else { return x == .infinity ? upper : 0 }
    if x <= 0 { return 0 }
    if x >= Double(upper) { return upper }
    return Int(x)
}
