import Foundation
import MLShEngine
import MLShLanguage
import MLShPlot

/// One piece of what a notebook shows for a displayed value: the prompt's text, a table
/// (for tables, columns of metrics and the like) or a plot.
public enum RichOutput: Sendable, Equatable {
    /// Text exactly as the prompt shows it.
    case text(String)
    /// A table's shown cells, with an optional caption line above it.
    case table(TableLayout, caption: String?)
    /// A plot: its `<svg>` element, its title, and the terminal drawing as a fallback.
    case plot(svg: String, title: String, text: String)
}

extension Runtime {
    /// Whether standard output is a colour terminal: a tty, `TERM` set and not `dumb`,
    /// and `NO_COLOR` unset (https://no-color.org). Plots at the prompt colour their series
    /// only then, so piped output and golden tests stay plain.
    public static let colorTerminal: Bool = {
        let env = ProcessInfo.processInfo.environment
        guard isatty(1) == 1, env["NO_COLOR"] == nil, let term = env["TERM"] else { return false }
        return !term.isEmpty && term != "dumb"
    }()

    /// Writes text to `path` through `FileOutput`: atomically onto the resolved target (a
    /// reader never sees half a file, a link stays a link), or straight into a stream
    /// such as `/dev/stdout` or a FIFO.
    public static func writeAtomically(_ text: String, to path: String) throws(MLShError) {
        do { try FileOutput.write(text, to: path) } catch {
            throw MLShError(.io, "cannot write \(error.message)")
        }
    }

    /// Whether `writeAtomically` writes `path` as a stream (`/dev/stdout`, a FIFO, a
    /// character device) rather than as a file.
    public static func isStream(_ path: String) -> Bool { FileOutput.isStream(path) }

    /// How a notebook shows a displayed value: tables and metrics as tables, plots as
    /// SVG, anything else as the prompt's text.
    public static func rich(_ value: Value) -> [RichOutput] {
        guard case .object(let o) = value else { return [.text(value.display())] }
        switch o {
        case let t as TableValue:
            let formatter = TableFormatter(maxRows: t.rows ?? (t.table.rowCount <= 20 ? 20 : 10), maxColumns: 16, maxCellWidth: 40)
            return [.table(formatter.layout(t.table, name: t.table.label), caption: nil)]
        case let p as PlotValue:
            return [.plot(svg: p.plot.svgElement(), title: p.plot.title, text: p.plot.terminal())]
        case let m as MetricsValue:
            let rows = m.metrics.values.map { [$0.0, formatFloat(roundForDisplay($0.1))] }
            var out: [RichOutput] = [.table(TableLayout(names: ["metric", "value"], dtypes: ["", ""], rightAligned: [false, true],
                                                        rows: rows, footer: ""), caption: nil)]
            if let c = m.metrics.confusion {
                out.append(.table(TableFormatter(maxRows: 30).layout(c), caption: "confusion (rows: actual, columns: predicted)"))
            }
            return out
        default:
            return [.text(value.display())]
        }
    }
}
