import Foundation
import MLShEngine
import MLShLanguage
import MLShModels
import MLShPlot

/// A plot as a language value: shown as braille terminal graphics, saved as SVG.
final class PlotValue: DomainObject {
    let plot: Plot

    init(_ plot: Plot) { self.plot = plot }

    var typeName: String { "plot" }
    func render() -> String { plot.terminal(color: Runtime.colorTerminal) }
    var summary: String { "<plot \(plot.kind.rawValue)>" }
    var memberNames: [String] { ["kind", "title", "svg"] }

    func member(_ name: String) throws(MLShError) -> Value? {
        switch name {
        case "kind": return .string(plot.kind.rawValue)
        case "title": return .string(plot.title)
        case "svg": return .string(plot.svg())
        default: return nil
        }
    }

    func isEqual(to other: any DomainObject) -> Bool {
        guard let o = other as? PlotValue else { return false }
        return plot == o.plot
    }

    /// `p + q` draws two scatter or line charts on one pair of axes.
    func binary(_ op: BinaryOp, _ other: Value, side: OperandSide) throws(MLShError) -> Value? {
        guard op == .add, side == .left else { return nil }
        guard case .object(let o as PlotValue) = other else {
            throw MLShError.type("'+' adds a plot to a plot, not to \(other.typeName)")
        }
        guard let both = plot.overlaid(with: o.plot) else {
            throw MLShError.type("'+' combines scatter and line charts, not \(plot.kind.rawValue) and \(o.plot.kind.rawValue)")
        }
        return .object(PlotValue(both))
    }
}

/// Plots of table columns (hist, scatter, line, bar) and of classifiers (roc,
/// confusion_plot); `save(p, "x.svg")` (§9).
struct PlotLibrary: Library {
    func register(into interp: Interpreter) {
        for b in builtins { interp.register(b) }
    }

    /// The numeric values of a column.
    static func numbers(_ t: Table, _ name: String) throws(MLShError) -> [Double] {
        try engine { () throws(EngineError) in try t.column(name).doubles() }
    }

    /// Each value of a column as a category label (missing → "missing").
    static func labels(_ t: Table, _ name: String) throws(MLShError) -> [String] {
        let c = try engine { () throws(EngineError) in try t.column(name) }
        switch c.storage {
        case .string(let codes, let dict):
            return codes.map { $0 >= 0 && Int($0) < dict.count ? dict[Int($0)] : "missing" }
        default:
            let ds = try engine { () throws(EngineError) in try c.doubles() }
            return ds.map { $0.isNaN ? "missing" : ($0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : formatFloat($0)) }
        }
    }

    /// Refuses a plot with nothing to draw.
    static func checked(_ p: Plot, _ fn: String) throws(MLShError) -> Value {
        if let message = p.emptyMessage { throw MLShError.value("\(fn): \(message)") }
        return .object(PlotValue(p))
    }

    var builtins: [Builtin] { [
        Builtin("save", ["value", "path"], first: .object("plot") { $0 is PlotValue }, category: "plots",
                summary: "Writes a plot to SVG, atomically.",
                example: #"save(hist(iris, $petal_length), "petals.svg")"#) { a, _ throws(MLShError) in
            let value = try a.value("value")
            guard case .object(let p as PlotValue) = value else { throw MLShError.type("save: 'value' must be a plot, got \(value.typeName)") }
            let given = try a.string("path")
            let ext = (given as NSString).pathExtension.lowercased()
            guard ext.isEmpty || ext == "svg" else { throw MLShError.value("save writes a plot as .svg, not .\(ext)") }
            try Runtime.writeAtomically(p.plot.svg(), to: given)
            return .none
        },
        Builtin("hist", ["t", "x", "bins=20", "title=none"], category: "plots",
                summary: "A histogram of a numeric column.",
                example: #"hist(iris, $petal_length, bins=30)"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            let x = try DataArgs.columnName(try a.value("x"), "hist")
            let bins = try a.int("bins", 20)
            guard bins >= 1, bins <= 10_000 else { throw MLShError.value("hist: bins must be between 1 and 10000, got \(bins)") }
            let p = Plot.histogram(try PlotLibrary.numbers(t, x), bins: bins, title: try a.string("title", "histogram of \(x)"), xLabel: x)
            return try PlotLibrary.checked(p, "hist")
        },
        Builtin("scatter", ["t", "x", "y", "color=none", "title=none"], category: "plots",
                summary: "A scatter plot of two numeric columns; color=$c draws one series per category.",
                example: #"scatter(iris, $petal_length, $petal_width, color=$species)"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            let x = try DataArgs.columnName(try a.value("x"), "scatter")
            let y = try DataArgs.columnName(try a.value("y"), "scatter")
            let xs = try PlotLibrary.numbers(t, x), ys = try PlotLibrary.numbers(t, y)
            var series: [Plot.Series] = []
            if let cv = a["color"] {
                let c = try DataArgs.columnName(cv, "scatter")
                let cats = try PlotLibrary.labels(t, c)
                var order: [String] = [], index: [String: Int] = [:]
                for (i, k) in cats.enumerated() {
                    let s: Int
                    if let j = index[k] { s = j } else {
                        s = series.count; index[k] = s; order.append(k)
                        series.append(Plot.Series(x: [], y: [], label: k))
                    }
                    series[s].x.append(xs[i]); series[s].y.append(ys[i])
                }
            } else {
                series = [Plot.Series(x: xs, y: ys)]
            }
            let p = Plot(kind: .scatter, title: try a.string("title", "\(y) vs \(x)"), xLabel: x, yLabel: y, series: series)
            return try PlotLibrary.checked(p, "scatter")
        },
        Builtin("line", ["t", "x", "y", "title=none"], category: "plots",
                summary: "A line through the points of two numeric columns, sorted by x.",
                example: #"line(runs(exp), $alpha, $rmse)"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            let x = try DataArgs.columnName(try a.value("x"), "line")
            let y = try DataArgs.columnName(try a.value("y"), "line")
            let pts = zip(try PlotLibrary.numbers(t, x), try PlotLibrary.numbers(t, y)).sorted { l, r in
                l.0 < r.0 || (!l.0.isNaN && r.0.isNaN)
            }
            let p = Plot(kind: .line, title: try a.string("title", "\(y) by \(x)"), xLabel: x, yLabel: y,
                         series: [Plot.Series(x: pts.map { $0.0 }, y: pts.map { $0.1 })])
            return try PlotLibrary.checked(p, "line")
        },
        Builtin("bar", ["t", "k", "v", "title=none"], category: "plots",
                summary: "A bar chart: one bar per row, labelled by a key column, height from a numeric column.",
                example: #"iris |> group($species) |> agg(n=count($species)) |> bar($species, $n)"#) { a, _ throws(MLShError) in
            let t = try a.table("t")
            let k = try DataArgs.columnName(try a.value("k"), "bar")
            let v = try DataArgs.columnName(try a.value("v"), "bar")
            let p = Plot(kind: .bar, title: try a.string("title", "\(v) by \(k)"), xLabel: k, yLabel: v,
                         categories: try PlotLibrary.labels(t, k), values: try PlotLibrary.numbers(t, v))
            return try PlotLibrary.checked(p, "bar")
        },
        Builtin("roc", ["m", "t", "title=none"], category: "plots",
                summary: "ROC curves of a fitted classifier on a table with its target, AUC in the legend (one-vs-rest per class for more than two).",
                example: #"roc(fit(logistic(), train, target=$diagnosis), test)"#) { a, _ throws(MLShError) in
            let m = try a.fitted("m"), t = try a.table("t")
            let curves = try modeling { () throws(ModelError) in try m.rocCurves(t) }
            let p = Plot.roc(curves.map { ($0.label, $0.fpr, $0.tpr, $0.auc) },
                             title: try a.string("title", "ROC of \(m.target ?? m.kind)"))
            return try PlotLibrary.checked(p, "roc")
        },
        Builtin("confusion_plot", ["m", "t", "title=none"], category: "plots",
                summary: "A heat map of a fitted classifier's confusion counts on a table (rows: actual, columns: predicted).",
                example: #"confusion_plot(fit(logistic(), train, target=$species), test)"#) { a, _ throws(MLShError) in
            let m = try a.fitted("m"), t = try a.table("t")
            let counts = try modeling { () throws(ModelError) in try m.confusionCounts(t) }
            let p = Plot.confusion(classes: m.classes, counts: counts,
                                   title: try a.string("title", "confusion of \(m.target ?? m.kind)"))
            return try PlotLibrary.checked(p, "confusion_plot")
        },
    ] }
}
