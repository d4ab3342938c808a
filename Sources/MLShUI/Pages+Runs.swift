import Foundation
import MLShCommon
import MLShStore

/// The columns every run has, before its params and metrics.
let fixedColumns = ["id", "name", "status", "started", "ended", "duration"]

/// What a runs-table column names: a fixed column; `metrics.X` or `params.X` (MLflow's
/// spelling) for one side; a bare name for the run's metric when it has one, else its
/// param. A metric or param named like a fixed column, or a param named like a metric, is
/// a column only with its prefix.
enum RunColumn: Hashable {
    case fixed(String), metric(String), param(String), either(String)

    init(_ column: String) {
        if fixedColumns.contains(column) {
            self = .fixed(column)
        } else if column.hasPrefix("metrics."), column.count > 8 {
            self = .metric(String(column.dropFirst(8)))
        } else if column.hasPrefix("params."), column.count > 7 {
            self = .param(String(column.dropFirst(7)))
        } else {
            self = .either(column)
        }
    }

    /// The metric or param name the store knows it by (nil for a fixed column).
    var stored: String? {
        switch self {
        case .fixed: nil
        case .metric(let n), .param(let n), .either(let n): n
        }
    }

    /// A column's value from what the run has under its stored name.
    func value(fixed: () -> RunFilter.Value?, metric: Double?, param: ParamValue?) -> RunFilter.Value {
        switch self {
        case .fixed: fixed() ?? .missing
        case .metric: metricOrParam(metric, nil)
        case .param: metricOrParam(nil, param)
        case .either: metricOrParam(metric, param)
        }
    }

    /// An experiment's metric and param columns, each under the name that reaches it.
    static func names(metrics: [String], params: [String]) -> (metrics: [String], params: [String]) {
        let metricSet = Set(metrics)
        return (metrics.map { fixedColumns.contains($0) ? "metrics." + $0 : $0 },
                params.map { fixedColumns.contains($0) || metricSet.contains($0) ? "params." + $0 : $0 })
    }
}

/// A run's value in a column (see `RunColumn`).
func columnValue(_ run: RunRecord, _ column: String) -> RunFilter.Value {
    let c = RunColumn(column)
    let name = c.stored
    return c.value(fixed: { fixedValue(Store.RunBrief(id: run.id, name: run.name, status: run.status, started: run.started, ended: run.ended), column) },
                   metric: run.metrics.first(where: { $0.0 == name })?.1, param: run.params.first(where: { $0.0 == name })?.1)
}

/// A fixed column's value (nil for another column).
func fixedValue(_ run: Store.RunBrief, _ column: String) -> RunFilter.Value? {
    switch column {
    case "id": .number(Double(run.id))
    case "name": run.name.map { .string($0) } ?? .missing
    case "status": .string(run.status)
    case "started": .number(run.started)
    case "ended": run.ended.map { .number($0) } ?? .missing
    case "duration": run.ended.map { .number($0 - run.started) } ?? .missing
    default: nil
    }
}

/// A run's value in a column named by a metric or a param: the metric when the run has
/// it (NaN is missing), else the param.
func metricOrParam(_ metric: Double?, _ param: ParamValue?) -> RunFilter.Value {
    if let metric { return metric.isNaN ? .missing : .number(metric) }
    switch param {
    case .int(let i)?: return .number(Double(i))
    case .float(let d)?: return .number(d)
    case .bool(let b)?: return .bool(b)
    case .string(let s)?: return .string(s)
    case nil: return .missing
    }
}

/// A column value as a page shows it.
func cellText(_ v: RunFilter.Value, column: String) -> String {
    switch v {
    case .missing: return ""
    case .string(let s): return s
    case .bool(let b): return b ? "true" : "false"
    case .number(let d):
        switch column {
        case "started", "ended": return formatTime(d)
        case "duration": return formatDuration(d)
        default: return formatNumber(d)
        }
    }
}

func cellJSON(_ v: RunFilter.Value) -> JSON {
    switch v {
    case .missing: .null
    case .string(let s): .string(s)
    case .bool(let b): .bool(b)
    case .number(let d): jsonNumber(d)
    }
}

/// Orders values for sorting: numbers, then text, then booleans; missing values go last
/// whichever the direction (the caller puts them there).
func valueLess(_ a: RunFilter.Value, _ b: RunFilter.Value) -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): return x < y
    case (.string(let x), .string(let y)): return x < y
    case (.bool(let x), .bool(let y)): return !x && y
    default:
        func rank(_ v: RunFilter.Value) -> Int {
            switch v { case .number: 0; case .string: 1; case .bool: 2; case .missing: 3 }
        }
        return rank(a) < rank(b)
    }
}

func paramJSON(_ v: ParamValue) -> JSON {
    switch v {
    case .int(let i): JSON(i)
    case .float(let d): jsonNumber(d)
    case .bool(let b): .bool(b)
    case .string(let s): .string(s)
    }
}

/// A run as JSON: identity, status, times, params and last metrics.
func runJSON(_ r: RunRecord) -> JSON {
    .object([
        ("id", JSON(r.id)), ("experiment", .string(r.experiment)), ("name", r.name.map { JSON.string($0) } ?? JSON.null),
        ("status", .string(r.status)), ("started", jsonNumber(r.started)), ("ended", r.ended.map(jsonNumber) ?? JSON.null),
        ("params", .object(r.params.map { ($0.0, paramJSON($0.1)) })),
        ("metrics", .object(r.metrics.map { ($0.0, jsonNumber($0.1)) })),
        ("url", .string("/runs/\(r.id)")),
    ])
}

extension UIApp {
    /// `/experiments`: every experiment with its run count and last activity.
    func experimentsPage() throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.experimentSummaries() }
        var body = "<h1>Experiments</h1>"
        if all.isEmpty {
            body += "<p class=\"muted\">No experiments yet: a script's <code>with run(...)</code> records one.</p>"
        } else {
            body += "<table><thead><tr><th>experiment</th><th>runs</th><th>created</th><th>last activity</th></tr></thead><tbody>"
            for e in all {
                body += "<tr><td><a href=\"/experiments/\(h(urlPart(e.name)))\">\(h(e.name))</a></td><td class=\"num\">\(e.runs)</td>"
                body += "<td>\(formatTime(e.created))</td><td>\(formatTime(e.lastActivity))</td></tr>"
            }
            body += "</tbody></table>"
        }
        let json = JSON.object([("experiments", .array(all.map { e in
            .object([("name", .string(e.name)), ("runs", .number(Double(e.runs))), ("created", jsonNumber(e.created)),
                     ("last_activity", jsonNumber(e.lastActivity)), ("url", .string("/experiments/" + urlPart(e.name)))])
        }))])
        return Page(title: "Experiments", html: body, json: json)
    }

    /// `/experiments/NAME?filter=&sort=&col=&page=&per=`: the runs table, its whole layout in the URL.
    func runsPage(experiment name: String, _ r: UIRequest) throws(UIError) -> Page {
        let names = try reading { () throws(StoreError) in try store.experimentNames() }
        guard names.contains(name) else {
            var e = UIError(404, "no experiment named '\(name)' in this store")
            if let near = closestName(to: name, in: names) {
                e.detail = "<p>Did you mean <a href=\"/experiments/\(h(urlPart(near)))\">\(h(near))</a>?</p>"
                e.detailJSON = [("did_you_mean", .string(near))]
            }
            throw e
        }
        let id = try reading { () throws(StoreError) in try store.existingExperiment(name) }
        // Every run in brief, the column names, and below the values of the columns the
        // filter and the sort read; whole records only for the page shown.
        let briefs = try reading { () throws(StoreError) in try store.runBriefs(experiment: id) }
        let (params, metrics) = try reading { () throws(StoreError) in try store.runColumnNames(experiment: id) }
        let (metricColumns, paramColumns) = RunColumn.names(metrics: metrics, params: params)
        let known = fixedColumns + metricColumns + paramColumns
        let metricSet = Set(metrics), paramSet = Set(params)
        func isKnown(_ c: String) -> Bool {
            switch RunColumn(c) {
            case .fixed: true
            case .metric(let n): metricSet.contains(n)
            case .param(let n): paramSet.contains(n)
            case .either(let n): metricSet.contains(n) || paramSet.contains(n)
            }
        }
        func unknown(_ c: String, _ what: String) -> UIError {
            var message = "\(what): no column '\(c)' in experiment '\(name)'"
            if let near = closestName(to: c, in: known) { message += "; did you mean '\(near)'?" }
            return UIError(400, message)
        }
        // The layout.
        let filterText = (r.value("filter") ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        var filter: RunFilter?
        if !filterText.isEmpty {
            let f = try RunFilter.parse(filterText)
            for c in f.columns where !isKnown(c) { throw unknown(c, "filter") }
            filter = f
        }
        let sortText = r.value("sort") ?? "-id"
        let descending = sortText.hasPrefix("-")
        let sortColumn = descending ? String(sortText.dropFirst()) : sortText
        guard isKnown(sortColumn) else { throw unknown(sortColumn, "sort") }
        let chosen = r.values("col").flatMap { $0.split(separator: ",").map(String.init) }.filter { !$0.isEmpty }
        for c in chosen where !isKnown(c) { throw unknown(c, "col") }
        let columns = chosen.isEmpty ? ["name", "status", "started", "duration"] + paramColumns + metricColumns : chosen
        let per = try positiveInt(r.value("per"), default: 50, limit: 1000, "per")
        let pageNumber = try positiveInt(r.value("page"), default: 1, limit: Int.max, "page")

        // Filter, sort, page.
        var read: [String: (metrics: [Int64: Double], params: [Int64: ParamValue])] = [:]
        for name in Set(([sortColumn] + (filter?.columns ?? [])).compactMap { RunColumn($0).stored }) {
            read[name] = try reading { () throws(StoreError) in try store.runColumn(experiment: id, name: name) }
        }
        func value(_ i: Int, _ c: String) -> RunFilter.Value {
            let b = briefs[i], column = RunColumn(c), got = column.stored.flatMap { read[$0] }
            return column.value(fixed: { fixedValue(b, c) }, metric: got?.metrics[b.id], param: got?.params[b.id])
        }
        var rows = Array(briefs.indices)
        if let filter { rows = rows.filter { i in filter.matches { value(i, $0) } } }
        let keys = briefs.indices.map { value($0, sortColumn) }
        let sorted = rows.sorted { i, j in
            let a = keys[i], b = keys[j], ai = briefs[i].id, bi = briefs[j].id
            let am = a == .missing, bm = b == .missing
            if am != bm { return bm }
            if am { return ai > bi }
            if valueLess(a, b) { return !descending }
            if valueLess(b, a) { return descending }
            return descending ? ai > bi : ai < bi
        }
        let pages = max(1, (sorted.count + per - 1) / per)
        guard pageNumber <= pages else { throw UIError(404, "page \(pageNumber) is past the last page (\(pages)) of this table") }
        var shown: [RunRecord] = []
        for i in sorted.dropFirst((pageNumber - 1) * per).prefix(per) {
            shown.append(try reading { () throws(StoreError) in try store.run(briefs[i].id) })
        }

        func link(sort: String? = nil, page: Int? = nil) -> String {
            var q: [(String, String)] = [("filter", filterText), ("sort", sort ?? sortText)]
            for c in chosen { q.append(("col", c)) }
            if per != 50 { q.append(("per", String(per))) }
            if let page, page > 1 { q.append(("page", String(page))) }
            return "/experiments/\(urlPart(name))" + queryString(q)
        }

        var body = "<h1>Experiment <a href=\"/experiments/\(h(urlPart(name)))\">\(h(name))</a></h1>"
        body += "<form class=\"layout\" method=\"get\" action=\"/experiments/\(h(urlPart(name)))\">"
        body += "<label>Filter <input type=\"text\" name=\"filter\" value=\"\(h(filterText))\" placeholder=\"rmse &lt; 50 and (alpha == 0.1 or depth &gt; 3)\"></label>"
        body += "<input type=\"hidden\" name=\"sort\" value=\"\(h(sortText))\">"
        if per != 50 { body += "<input type=\"hidden\" name=\"per\" value=\"\(per)\">" }
        body += "<details><summary>Columns</summary>"
        for c in known where c != "id" {
            body += "<label><input type=\"checkbox\" name=\"col\" value=\"\(h(c))\"\(columns.contains(c) ? " checked" : "")> \(h(c))</label> "
        }
        body += "</details><button>Apply</button></form>"
        body += "<p class=\"muted\">\(sorted.count) of \(briefs.count) runs\(filter == nil ? "" : " match the filter")</p>"
        body += "<form method=\"get\" action=\"/compare\"><table class=\"runs\"><thead><tr><th>compare</th>"
        for c in ["id"] + columns {
            let active = c == sortColumn
            let next = active && !descending ? "-" + c : c
            let arrow = active ? (descending ? " ▼" : " ▲") : ""
            body += "<th><a href=\"\(h(link(sort: next)))\">\(h(c))\(arrow)</a></th>"
        }
        body += "</tr></thead><tbody>"
        for run in shown {
            body += "<tr><td><input type=\"checkbox\" name=\"run\" value=\"\(run.id)\" aria-label=\"select run \(run.id)\"></td>"
            body += "<td class=\"num\"><a href=\"/runs/\(run.id)\">\(run.id)</a></td>"
            for c in columns {
                let v = columnValue(run, c)
                let text = h(cellText(v, column: c))
                switch (c, v) {
                case ("name", _): body += "<td><a href=\"/runs/\(run.id)\">\(text)</a></td>"
                case ("status", _): body += "<td class=\"status-\(h(run.status))\">\(text)</td>"
                case (_, .number): body += "<td class=\"num\">\(text)</td>"
                default: body += "<td>\(text)</td>"
                }
            }
            body += "</tr>"
        }
        body += "</tbody></table><button>Compare selected</button></form>"
        body += "<div class=\"pager\">"
        if pageNumber > 1 { body += "<a rel=\"prev\" href=\"\(h(link(page: pageNumber - 1)))\">← previous</a>" }
        body += "<span>page \(pageNumber) of \(pages)</span>"
        if pageNumber < pages { body += "<a rel=\"next\" href=\"\(h(link(page: pageNumber + 1)))\">next →</a>" }
        body += "</div>"

        let json = JSON.object([
            ("experiment", .string(name)), ("runs_total", .number(Double(briefs.count))), ("matching", .number(Double(sorted.count))),
            ("filter", .string(filterText)), ("sort", .string(sortText)), ("columns", .array(columns.map { .string($0) })),
            ("page", .number(Double(pageNumber))), ("pages", .number(Double(pages))), ("per", .number(Double(per))),
            ("runs", .array(shown.map(runJSON))),
        ])
        return Page(title: name, html: body, json: json)
    }

    func positiveInt(_ text: String?, default d: Int, limit: Int, _ what: String) throws(UIError) -> Int {
        guard let text, !text.isEmpty else { return d }
        guard let n = Int(text), n >= 1, n <= limit else {
            throw UIError(400, "\(what) must be a whole number from 1\(limit == Int.max ? " up" : " to \(limit)"), got '\(text)'")
        }
        return n
    }
}
