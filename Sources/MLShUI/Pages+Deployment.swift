import Foundation
import MLShCommon
import MLShMonitor
import MLShPlot
import MLShStore

extension UIApp {
    /// Drift lines charted per version; every feature is in the table below the chart.
    static let chartedFeatures = 8
    /// Refusals listed, newest first.
    static let listedErrors = 20

    /// `/deployments/ID`: its versions and their share of requests; requests, refusals and
    /// latency (p50/p99) over time; per version, each feature's drift, the anomaly share and
    /// live quality over time; the latest refusals, and the alerts of its models.
    func deploymentPage(_ text: String) throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.deployments() }
        guard let id = Int64(text), let d = all.first(where: { $0.id == id }) else {
            var e = UIError(404, "no deployment with id \(text) in this store")
            e.detail = all.isEmpty ? "" : "<p>Deployments: " + all.prefix(10).map { "<a href=\"/deployments/\($0.id)\">\($0.id)</a>" }.joined(separator: ", ") + "</p>"
            throw e
        }
        let t = try reading { () throws(StoreError) in try DeploymentTimeline.read(store, deployment: id) }
        let latest = try reading { () throws(StoreError) in try store.requestErrors(deployment: id, latest: UIApp.listedErrors) }
        let names = Set(d.models.map { $0.split(separator: "@", maxSplits: 1).first.map(String.init) ?? $0 })
        let alerts = try reading { () throws(StoreError) in try store.alertEvents() }.filter { names.contains($0.model) && ($0.deployment == nil || $0.deployment == id) }

        var body = "<h1>Deployment \(id)</h1><table><tbody>"
        body += "<tr><th>url</th><td>\(h(d.url))</td></tr><tr><th>models</th><td>\(modelLinks(d.models))</td></tr>"
        body += "<tr><th>started</th><td>\(formatTime(d.started))</td></tr><tr><th>ended</th><td>\(d.ended.map { formatTime($0) } ?? "running")</td></tr>"
        body += "<tr><th>requests</th><td class=\"num\">\(t.requests)</td></tr><tr><th>refused</th><td class=\"num\">\(t.errors)</td></tr>"
        body += "<tr><th>shadow rows</th><td class=\"num\">\(t.shadowRows)</td></tr>"
        body += "<tr><th>latency p50</th><td class=\"num\">\(t.p50.map { formatNumber(roundedForPage($0)) + " ms" } ?? "")</td></tr>"
        body += "<tr><th>latency p99</th><td class=\"num\">\(t.p99.map { formatNumber(roundedForPage($0)) + " ms" } ?? "")</td></tr></tbody></table>"

        if !t.traffic.isEmpty {
            body += "<h2>Traffic</h2><table><thead><tr><th>version</th><th>requests</th><th>share</th></tr></thead><tbody>"
            for (l, n) in t.traffic {
                body += "<tr><td>\(modelLinks([l]))</td><td class=\"num\">\(n)</td><td class=\"num\">\(formatNumber((Double(n) / Double(max(t.requests, 1)) * 1000).rounded() / 10))%</td></tr>"
            }
            body += "</tbody></table>"
        }

        let xs = t.buckets.map { $0.start - d.started }
        if t.buckets.count > 1 {
            body += "<h2>Over time</h2><p class=\"muted\">\(t.buckets.count) spans of \(formatNumber(roundedForPage(t.width))) s.</p><div class=\"charts\">"
            body += Plot(kind: .line, title: "requests", xLabel: "seconds since start", yLabel: "requests",
                         series: [Plot.Series(x: xs, y: t.buckets.map { Double($0.requests) }, label: "answered", style: .line),
                                  Plot.Series(x: xs, y: t.buckets.map { Double($0.errors) }, label: "refused", style: .line)])
                .svgElement(width: 460, height: 280)
            body += Plot(kind: .line, title: "latency (ms)", xLabel: "seconds since start", yLabel: "ms",
                         series: [Plot.Series(x: xs, y: t.buckets.map { $0.p50 ?? .nan }, label: "p50", style: .line),
                                  Plot.Series(x: xs, y: t.buckets.map { $0.p99 ?? .nan }, label: "p99", style: .line)])
                .svgElement(width: 460, height: 280)
            body += "</div>"
        }
        body += "<h2>Refused requests</h2>"
        if t.errors == 0 { body += "<p class=\"muted\">none recorded</p>" } else {
            body += "<table><thead><tr><th>status</th><th>requests</th></tr></thead><tbody>"
            for e in t.errorsByStatus { body += "<tr><td class=\"num\">\(e.status)</td><td class=\"num\">\(e.count)</td></tr>" }
            body += "</tbody></table><h3>Latest</h3><table><thead><tr><th>at</th><th>status</th><th>route</th><th>version</th><th>code</th><th>reason</th></tr></thead><tbody>"
            for e in latest.reversed() {
                body += "<tr><td>\(formatTime(e.at))</td><td class=\"num\">\(e.status)</td><td><code>\(h(e.route))</code></td>"
                body += "<td>\(e.model.map { modelLinks([$0]) } ?? "")</td><td>\(h(e.code))</td><td>\(h(e.reason))</td></tr>"
            }
            body += "</tbody></table>"
        }
        for v in t.versions { body += monitoringSection(v, xs: xs) }

        body += "<h2>Alerts</h2>"
        if alerts.isEmpty { body += "<p class=\"muted\">none recorded</p>" } else {
            body += "<table><thead><tr><th>model</th><th>alert</th><th>status</th><th>value</th><th>at</th></tr></thead><tbody>"
            for a in alerts {
                body += "<tr><td>\(h(a.model))</td><td>\(h(a.name))</td><td>\(h(a.status))</td><td class=\"num\">\(a.value.map(formatNumber) ?? "")</td><td>\(formatTime(a.at))</td></tr>"
            }
            body += "</tbody></table>"
        }
        guard case .object(var members) = deploymentJSON(d) else { return Page(title: "Deployment \(id)", html: body, json: deploymentJSON(d)) }
        members += [
            ("requests", .number(Double(t.requests))), ("errors", .number(Double(t.errors))), ("shadow_rows", .number(Double(t.shadowRows))),
            ("latency_p50_ms", t.p50.map(jsonNumber) ?? JSON.null), ("latency_p99_ms", t.p99.map(jsonNumber) ?? JSON.null),
            ("traffic", .object(t.traffic.map { ($0.version, .number(Double($0.requests))) })),
            ("bucket_seconds", jsonNumber(t.width)), ("sample_rows", .number(Double(DeploymentTimeline.sampleRows))),
            ("over_time", .array(t.buckets.map { b in
                .object([("start", jsonNumber(b.start)), ("requests", .number(Double(b.requests))), ("errors", .number(Double(b.errors))),
                         ("p50_ms", b.p50.map(jsonNumber) ?? JSON.null), ("p99_ms", b.p99.map(jsonNumber) ?? JSON.null)])
            })),
            ("errors_by_status", .object(t.errorsByStatus.map { (String($0.status), .number(Double($0.count))) })),
            ("latest_errors", .array(latest.reversed().map { e in
                .object([("at", jsonNumber(e.at)), ("status", .number(Double(e.status))), ("route", .string(e.route)),
                         ("model", e.model.map { JSON.string($0) } ?? JSON.null), ("code", .string(e.code)), ("reason", .string(e.reason))])
            })),
            ("monitoring", .array(t.versions.map(monitoringJSON))),
            ("alerts", .array(alerts.map { a in
                .object([("model", .string(a.model)), ("name", .string(a.name)), ("status", .string(a.status)),
                         ("value", a.value.map(jsonNumber) ?? JSON.null), ("at", jsonNumber(a.at))])
            })),
        ]
        return Page(title: "Deployment \(id)", html: body, json: .object(members))
    }

    /// One version's drift, anomalies and live quality over time.
    func monitoringSection(_ v: DeploymentTimeline.Version, xs: [Double]) -> String {
        var body = "<h2>Monitoring \(modelLinks([v.label]))</h2>"
        for n in v.notes { body += "<p class=\"muted\">\(h(n))</p>" }
        guard xs.count > 1 else { return body }
        var charts = ""
        if !v.drift.isEmpty {
            body += "<p class=\"muted\">Drift and anomalies score an evenly spaced sample of at most \(DeploymentTimeline.sampleRows) rows per span "
            body += "(\(v.sampled.reduce(0, +)) of \(v.rows.reduce(0, +)) rows) against the version's training sample.</p>"
            let shown = Array(v.drift.prefix(UIApp.chartedFeatures))
            for pValue in [true, false] {
                let group = shown.filter { $0.method.isPValue == pValue }
                guard !group.isEmpty else { continue }
                let title = pValue ? "drift p-value (below 0.05: drifted)" : "drift distance (from 0.1: drifted)"
                charts += Plot(kind: .line, title: title, xLabel: "seconds since start", yLabel: pValue ? "p-value" : "distance",
                               series: group.map { Plot.Series(x: xs, y: $0.scores, label: $0.feature, style: .line) })
                    .svgElement(width: 560, height: 300)
            }
        }
        if let a = v.anomalies {
            charts += Plot(kind: .line, title: "anomalous rows (share)", xLabel: "seconds since start", yLabel: "share",
                           series: [Plot.Series(x: xs, y: a, style: .line)]).svgElement(width: 460, height: 280)
        }
        for q in v.quality {
            charts += Plot(kind: .line, title: "live \(q.name)", xLabel: "seconds since start", yLabel: q.name,
                           series: [Plot.Series(x: xs, y: q.values, style: .line)]).svgElement(width: 460, height: 280)
        }
        if !charts.isEmpty { body += "<div class=\"charts\">" + charts + "</div>" }
        if v.quality.isEmpty {
            body += "<p class=\"muted\">Live quality: no labels fed back for \(h(v.label)) (<code>POST /v1/feedback</code>).</p>"
        } else {
            body += "<p class=\"muted\">Live quality on \(v.labeled.reduce(0, +)) labeled rows.</p>"
        }
        if !v.drift.isEmpty {
            body += "<table><thead><tr><th>feature</th><th>test</th><th>threshold</th><th>drifted spans</th><th>latest score</th><th>charted</th></tr></thead><tbody>"
            for (k, f) in v.drift.enumerated() {
                let scored = f.scores.filter { !$0.isNaN }
                let drifted = scored.filter { f.method.isPValue ? $0 < f.threshold : $0 >= f.threshold }.count
                body += "<tr><td>\(h(f.feature))</td><td>\(h(f.method.rawValue))</td><td class=\"num\">\(formatNumber(f.threshold))</td>"
                body += "<td class=\"num\">\(drifted) of \(scored.count)</td><td class=\"num\">\(scored.last.map { formatNumber(roundedForPage($0)) } ?? "")</td>"
                body += "<td>\(k < UIApp.chartedFeatures ? "yes" : "")</td></tr>"
            }
            body += "</tbody></table>"
        }
        return body
    }

    func monitoringJSON(_ v: DeploymentTimeline.Version) -> JSON {
        func numbers(_ xs: [Double]) -> JSON { .array(xs.map(jsonNumber)) }
        return .object([
            ("version", .string(v.label)), ("rows", .array(v.rows.map { .number(Double($0)) })),
            ("sampled", .array(v.sampled.map { .number(Double($0)) })),
            ("drift", .array(v.drift.map { f in
                .object([("feature", .string(f.feature)), ("method", .string(f.method.rawValue)), ("threshold", jsonNumber(f.threshold)),
                         ("scores", numbers(f.scores))])
            })),
            ("anomaly_share", v.anomalies.map(numbers) ?? JSON.null),
            ("labeled", .array(v.labeled.map { .number(Double($0)) })),
            ("live_quality", .object(v.quality.map { ($0.name, numbers($0.values)) })),
            ("notes", .array(v.notes.map { .string($0) })),
        ])
    }

    /// Four significant digits, for figures read at a glance.
    func roundedForPage(_ d: Double) -> Double {
        guard d.isFinite, d != 0 else { return d }
        let scale = pow(10, 3 - floor(log10(abs(d))))
        return (d * scale).rounded() / scale
    }
}
