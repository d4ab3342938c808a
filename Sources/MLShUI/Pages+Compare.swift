import Foundation
import MLShCommon
import MLShPlot
import MLShStore

extension UIApp {
    /// The most runs one compare page shows.
    static let compareLimit = 50

    /// `/compare?run=1&run=2[&differs=1][&metric=M]`: params and metrics side by side
    /// (only the rows that differ with `differs=1`), metric histories overlaid, a
    /// parallel-coordinates chart of params → `metric`, and mean ± std over runs that share
    /// their params but for seeds.
    func comparePage(_ r: UIRequest) throws(UIError) -> Page {
        let texts = (r.values("run") + r.values("runs")).flatMap { $0.split(separator: ",").map(String.init) }
        guard !texts.isEmpty else { throw UIError(400, "select runs to compare: /compare?run=ID&run=ID (tick them in an experiment's runs table)") }
        guard texts.count <= Self.compareLimit else { throw UIError(400, "compare shows at most \(Self.compareLimit) runs; \(texts.count) were asked for") }
        var runs: [RunRecord] = []
        for t in texts where !runs.contains(where: { String($0.id) == t }) { runs.append(try existingRun(t)) }
        let differsOnly = r.value("differs") == "1"
        var params: [String] = [], metrics: [String] = []
        for run in runs {
            for (k, _) in run.params where !params.contains(k) { params.append(k) }
            for (k, _) in run.metrics where !metrics.contains(k) { metrics.append(k) }
        }
        let chosenMetric = r.value("metric").flatMap { m in metrics.contains(m) ? m : nil } ?? metrics.first
        if let m = r.value("metric"), !m.isEmpty, !metrics.contains(m) {
            throw UIError(400, "metric: these runs have no metric '\(m)'" + (closestName(to: m, in: metrics).map { "; did you mean '\($0)'?" } ?? ""))
        }

        struct Row { var section: String; var name: String; var values: [RunFilter.Value]; var differs: Bool }
        var rows: [Row] = []
        func add(_ section: String, _ name: String, _ value: (RunRecord) -> RunFilter.Value) {
            let values = runs.map(value)
            let texts = values.map { cellText($0, column: section == "run" ? name : "") }
            rows.append(Row(section: section, name: name, values: values, differs: Set(texts).count > 1))
        }
        add("run", "experiment") { RunFilter.Value.string($0.experiment) }
        add("run", "name") { $0.name.map { RunFilter.Value.string($0) } ?? RunFilter.Value.missing }
        add("run", "status") { RunFilter.Value.string($0.status) }
        add("run", "duration") { columnValue($0, "duration") }
        for p in params {
            add("param", p) { run in
                guard let v = run.params.first(where: { $0.0 == p })?.1 else { return .missing }
                switch v {
                case .int(let i): return .number(Double(i))
                case .float(let d): return .number(d)
                case .bool(let b): return .bool(b)
                case .string(let s): return .string(s)
                }
            }
        }
        for m in metrics {
            add("metric", m) { run in run.metrics.first(where: { $0.0 == m }).map { $0.1.isNaN ? RunFilter.Value.missing : RunFilter.Value.number($0.1) } ?? RunFilter.Value.missing }
        }

        let ids = runs.map { String($0.id) }.joined(separator: ",")
        func link(differs: Bool, metric: String?) -> String {
            "/compare" + queryString([("runs", ids), ("differs", differs ? "1" : ""), ("metric", metric ?? "")])
        }
        var body = "<h1>Compare \(runs.count) runs</h1>"
        body += "<p>" + (differsOnly
            ? "Showing only what differs · <a href=\"\(h(link(differs: false, metric: r.value("metric"))))\">show everything</a>"
            : "<a href=\"\(h(link(differs: true, metric: r.value("metric"))))\">only what differs</a>") + "</p>"
        body += "<table class=\"compare\"><thead><tr><th></th>"
        for run in runs { body += "<th><a href=\"/runs/\(run.id)\">run \(run.id)</a></th>" }
        body += "</tr></thead><tbody>"
        var section = ""
        for row in rows where !differsOnly || row.differs || row.section == "run" && row.name == "name" {
            if row.section != section {
                section = row.section
                if section != "run" { body += "<tr><th colspan=\"\(runs.count + 1)\">\(section == "param" ? "params" : "metrics")</th></tr>" }
            }
            body += "<tr\(row.differs ? " class=\"differs\"" : "")><th>\(h(row.name))</th>"
            for v in row.values {
                let text = h(cellText(v, column: row.section == "run" ? row.name : ""))
                if case .number = v { body += "<td class=\"num\">\(text)</td>" } else { body += "<td>\(text)</td>" }
            }
            body += "</tr>"
        }
        body += "</tbody></table>"

        // Histories, one chart per metric, the runs overlaid.
        var histories: [(String, [(RunRecord, [(Int64, Double)])])] = []
        for m in metrics {
            var per: [(RunRecord, [(Int64, Double)])] = []
            for run in runs where run.metrics.contains(where: { $0.0 == m }) {
                per.append((run, try reading { () throws(StoreError) in try store.history(run: run.id, metric: m) }))
            }
            histories.append((m, per))
        }
        let charted = histories.filter { $0.1.contains { $0.1.count > 1 } }
        if !charted.isEmpty {
            body += "<h2>Metric histories</h2><div class=\"charts\">"
            for (m, per) in charted {
                let series = per.map { run, hist in
                    Plot.Series(x: hist.map { Double($0.0) }, y: hist.map(\.1), label: "run \(run.id)" + (run.name.map { " " + $0 } ?? ""), style: .line)
                }
                body += Plot(kind: .line, title: m, xLabel: "step", yLabel: m, series: series).svgElement(width: 560, height: 320)
            }
            body += "</div>"
        }

        // Parallel coordinates: every param, then the chosen metric.
        if let chosenMetric, !params.isEmpty {
            body += "<h2>Params → \(h(chosenMetric))</h2><p>Metric: "
            body += metrics.map { m in m == chosenMetric ? "<strong>\(h(m))</strong>" : "<a href=\"\(h(link(differs: differsOnly, metric: m)))\">\(h(m))</a>" }
                .joined(separator: " · ") + "</p>"
            let axes = params.compactMap { p in rows.first { $0.section == "param" && $0.name == p } }
                + rows.filter { $0.section == "metric" && $0.name == chosenMetric }
            body += ParallelCoordinates.svg(axes: axes.map { ($0.name, $0.values) },
                                            lines: runs.map { "run \($0.id)" + ($0.name.map { " " + $0 } ?? "") })
        }

        // Mean ± std over runs sharing every param but seeds.
        let groups = repeatedGroups(runs)
        if !groups.isEmpty {
            body += "<h2>Repeated params: mean ± std</h2><table><thead><tr><th>params</th><th>runs</th>"
            for m in metrics { body += "<th>\(h(m))</th>" }
            body += "</tr></thead><tbody>"
            for g in groups {
                body += "<tr><td>\(h(g.key))</td><td>" + g.runs.map { "<a href=\"/runs/\($0.id)\">\($0.id)</a>" }.joined(separator: ", ") + "</td>"
                for m in metrics {
                    let s = meanStd(g.runs.compactMap { run in run.metrics.first { $0.0 == m }?.1 }.filter { $0.isFinite })
                    body += "<td class=\"num\">\(s.map { "\(formatNumber($0.mean)) ± \(formatNumber($0.std))" } ?? "")</td>"
                }
                body += "</tr>"
            }
            body += "</tbody></table>"
        }

        let json = JSON.object([
            ("runs", .array(runs.map(runJSON))),
            ("differs_only", .bool(differsOnly)),
            ("rows", .array(rows.filter { !differsOnly || $0.differs }.map { row in
                .object([("section", .string(row.section)), ("name", .string(row.name)),
                         ("values", .array(row.values.map(cellJSON))), ("differs", .bool(row.differs))])
            })),
            ("metric", chosenMetric.map { JSON.string($0) } ?? JSON.null),
            ("history", .object(histories.map { m, per in
                (m, .object(per.map { run, hist in (String(run.id), .array(hist.map { .array([JSON($0.0), jsonNumber($0.1)]) })) }))
            })),
            ("groups", .array(groups.map { g in
                .object([("params", .string(g.key)), ("runs", .array(g.runs.map { JSON($0.id) })),
                         ("metrics", .object(metrics.compactMap { m in
                             meanStd(g.runs.compactMap { run in run.metrics.first { $0.0 == m }?.1 }.filter { $0.isFinite }).map {
                                 (m, JSON.object([("mean", jsonNumber($0.mean)), ("std", jsonNumber($0.std))]))
                             }
                         }))])
            })),
        ])
        return Page(title: "Compare runs", html: body, json: json)
    }

    /// Runs grouped by their params but those named like a seed, keeping groups of two or more.
    func repeatedGroups(_ runs: [RunRecord]) -> [(key: String, runs: [RunRecord])] {
        var order: [String] = [], groups: [String: [RunRecord]] = [:]
        for run in runs {
            let key = run.params.filter { !$0.0.lowercased().contains("seed") }.sorted { $0.0 < $1.0 }
                .map { "\($0.0)=\($0.1.text)" }.joined(separator: ", ")
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(run)
        }
        var out: [(key: String, runs: [RunRecord])] = []
        for k in order { if let g = groups[k], g.count > 1 { out.append((key: k, runs: g)) } }
        return out
    }

    /// Mean and sample standard deviation (0 for one value); nil for none.
    func meanStd(_ xs: [Double]) -> (mean: Double, std: Double)? {
        guard !xs.isEmpty else { return nil }
        let mean = xs.reduce(0, +) / Double(xs.count)
        guard xs.count > 1 else { return (mean, 0) }
        let v = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count - 1)
        return (mean, v.squareRoot())
    }
}
