import Foundation
import MLShCommon
import MLShPlot
import MLShStore

extension UIApp {
    /// `/models`: every registered name with its versions and aliases.
    func modelsPage() throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.versions() }
        var names: [String] = []
        for v in all where !names.contains(v.name) { names.append(v.name) }
        var body = "<h1>Models</h1>"
        if names.isEmpty { body += "<p class=\"muted\">No registered models: <code>register(m, \"name\")</code> adds one.</p>" } else {
            body += "<table><thead><tr><th>model</th><th>versions</th><th>latest</th><th>aliases</th></tr></thead><tbody>"
            for n in names {
                let vs = all.filter { $0.name == n }
                let aliases = vs.flatMap { v in v.aliases.map { "\($0) → \(v.version)" } }
                body += "<tr><td><a href=\"/models/\(h(urlPart(n)))\">\(h(n))</a></td><td class=\"num\">\(vs.count)</td>"
                body += "<td>\(formatTime(vs.last?.created))</td><td>\(aliases.map(h).joined(separator: ", "))</td></tr>"
            }
            body += "</tbody></table>"
        }
        let json = JSON.object([("models", .array(names.map { n in
            let vs = all.filter { $0.name == n }
            return .object([("name", .string(n)), ("versions", .number(Double(vs.count))),
                            ("aliases", .object(vs.flatMap { v in v.aliases.map { ($0, JSON(v.version)) } })),
                            ("url", .string("/models/" + urlPart(n)))])
        }))])
        return Page(title: "Models", html: body, json: json)
    }

    /// `/models/NAME`: its versions, the run behind each, and its aliases.
    func modelPage(_ name: String) throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.versions() }
        let vs = all.filter { $0.name == name }
        guard !vs.isEmpty else {
            var e = UIError(404, "no model named '\(name)' is registered")
            if let near = closestName(to: name, in: Set(all.map(\.name))) {
                e.detail = "<p>Did you mean <a href=\"/models/\(h(urlPart(near)))\">\(h(near))</a>?</p>"
                e.detailJSON = [("did_you_mean", .string(near))]
            }
            throw e
        }
        var body = "<h1>Model \(h(name))</h1>"
        body += "<table><thead><tr><th>version</th><th>aliases</th><th>registered</th><th>run</th><th>artifact</th></tr></thead><tbody>"
        for v in vs.reversed() {
            body += "<tr><td class=\"num\">\(v.version)</td><td>\(v.aliases.map(h).joined(separator: ", "))</td><td>\(formatTime(v.created))</td>"
            body += "<td>\(v.run.map { "<a href=\"/runs/\($0)\">run \($0)</a>" } ?? "")</td><td><code>\(h(String(v.artifact.prefix(12))))</code></td></tr>"
        }
        body += "</tbody></table>"
        body += "<form method=\"post\" action=\"/models/\(h(urlPart(name)))/alias\">" + csrfField
        body += "<label>Alias <input type=\"text\" name=\"alias\" required></label> <label>version <input type=\"number\" name=\"version\" min=\"1\" value=\"\(vs.last?.version ?? 1)\"></label> <button>Set alias</button></form>"
        let moves = try reading { () throws(StoreError) in try store.aliasHistory(name: name) }
        body += "<h2>Alias history</h2>"
        if moves.isEmpty { body += "<p class=\"muted\">No alias has been set.</p>" } else {
            body += "<table><thead><tr><th>when</th><th>alias</th><th>from</th><th>to</th><th>by</th></tr></thead><tbody>"
            for m in moves.reversed() {
                body += "<tr><td>\(formatTime(m.at))</td><td>\(h(m.alias))</td><td class=\"num\">\(m.previous.map { String($0) } ?? "new")</td>"
                body += "<td class=\"num\">\(m.version)</td><td>\(h(m.by))</td></tr>"
            }
            body += "</tbody></table>"
        }
        let json = JSON.object([("name", .string(name)), ("versions", .array(vs.map { v in
            .object([("version", JSON(v.version)), ("aliases", .array(v.aliases.map { .string($0) })), ("created", jsonNumber(v.created)),
                     ("run", v.run.map { JSON($0) } ?? JSON.null), ("artifact", .string(v.artifact))])
        })), ("alias_history", .array(moves.map { m in
            .object([("alias", .string(m.alias)), ("version", JSON(m.version)), ("previous", m.previous.map { JSON($0) } ?? JSON.null),
                     ("at", jsonNumber(m.at)), ("by", .string(m.by))])
        }))])
        return Page(title: "Model \(name)", html: body, json: json)
    }

    /// `/datasets`: every stored data version with its shape and fingerprint.
    func datasetsPage() throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.snapshots() }
        var body = "<h1>Datasets</h1>"
        if all.isEmpty { body += "<p class=\"muted\">No stored data versions: <code>snapshot(t, \"name\")</code> adds one.</p>" } else {
            body += "<table><thead><tr><th>version</th><th>rows</th><th>columns</th><th>bytes</th><th>fingerprint</th><th>created</th><th>run</th></tr></thead><tbody>"
            for s in all {
                body += "<tr id=\"\(h(urlPart(s.label)))\"><td>\(h(s.label))</td><td class=\"num\">\(s.rows)</td><td class=\"num\">\(s.columns)</td>"
                body += "<td class=\"num\">\(s.bytes)</td><td><code>\(h(s.fingerprint))</code></td><td>\(formatTime(s.created))</td>"
                body += "<td>\(s.run.map { "<a href=\"/runs/\($0)\">run \($0)</a>" } ?? "")</td></tr>"
            }
            body += "</tbody></table>"
        }
        let json = JSON.object([("datasets", .array(all.map { s in
            .object([("name", .string(s.name)), ("version", JSON(s.version)), ("rows", .number(Double(s.rows))),
                     ("columns", .number(Double(s.columns))), ("bytes", .number(Double(s.bytes))), ("fingerprint", .string(s.fingerprint)),
                     ("created", jsonNumber(s.created)), ("run", s.run.map { JSON($0) } ?? JSON.null)])
        }))])
        return Page(title: "Datasets", html: body, json: json)
    }

    /// `/deployments`: every server the store records.
    func deploymentsPage() throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.deployments() }
        var body = "<h1>Deployments</h1>"
        if all.isEmpty { body += "<p class=\"muted\">No deployments: <code>deploy(v)</code> or <code>mlsh serve</code> records one.</p>" } else {
            body += "<table><thead><tr><th>id</th><th>url</th><th>models</th><th>started</th><th>ended</th></tr></thead><tbody>"
            for d in all {
                body += "<tr><td class=\"num\"><a href=\"/deployments/\(d.id)\">\(d.id)</a></td><td>\(h(d.url))</td>"
                body += "<td>\(modelLinks(d.models))</td><td>\(formatTime(d.started))</td>"
                body += "<td>\(d.ended.map { formatTime($0) } ?? "<span class=\"ok\">running</span>")</td></tr>"
            }
            body += "</tbody></table>"
        }
        let json = JSON.object([("deployments", .array(all.map(deploymentJSON)))])
        return Page(title: "Deployments", html: body, json: json)
    }

    func deploymentJSON(_ d: Store.DeploymentRecord) -> JSON {
        .object([("id", JSON(d.id)), ("url", .string(d.url)), ("models", .array(d.models.map { .string($0) })),
                 ("started", jsonNumber(d.started)), ("ended", d.ended.map(jsonNumber) ?? JSON.null), ("page", .string("/deployments/\(d.id)"))])
    }

    /// `name@N` labels as links to their model pages.
    func modelLinks(_ labels: [String]) -> String {
        labels.map { l in
            let name = l.split(separator: "@", maxSplits: 1).first.map(String.init) ?? l
            return "<a href=\"/models/\(h(urlPart(name)))\">\(h(l))</a>"
        }.joined(separator: ", ")
    }

    /// `/deployments/ID`: its versions and their share of requests, requests and latency
    /// (p50/p99) over time, and the alerts of its models.
    func deploymentPage(_ text: String) throws(UIError) -> Page {
        let all = try reading { () throws(StoreError) in try store.deployments() }
        guard let id = Int64(text), let d = all.first(where: { $0.id == id }) else {
            var e = UIError(404, "no deployment with id \(text) in this store")
            e.detail = all.isEmpty ? "" : "<p>Deployments: " + all.prefix(10).map { "<a href=\"/deployments/\($0.id)\">\($0.id)</a>" }.joined(separator: ", ") + "</p>"
            throw e
        }
        let requests = try reading { () throws(StoreError) in try store.requests(.deployment(id)) }
        let shadow = try reading { () throws(StoreError) in try store.requests(.deployment(id), shadow: true) }
        let names = Set(d.models.map { $0.split(separator: "@", maxSplits: 1).first.map(String.init) ?? $0 })
        let alerts = try reading { () throws(StoreError) in try store.alertEvents() }.filter { names.contains($0.model) && ($0.deployment == nil || $0.deployment == id) }

        var body = "<h1>Deployment \(id)</h1><table><tbody>"
        body += "<tr><th>url</th><td>\(h(d.url))</td></tr><tr><th>models</th><td>\(modelLinks(d.models))</td></tr>"
        body += "<tr><th>started</th><td>\(formatTime(d.started))</td></tr><tr><th>ended</th><td>\(d.ended.map { formatTime($0) } ?? "running")</td></tr>"
        body += "<tr><th>requests</th><td class=\"num\">\(requests.count)</td></tr><tr><th>shadow rows</th><td class=\"num\">\(shadow.count)</td></tr>"
        let latencies = requests.map(\.latencyMs).sorted()
        let p50 = percentile(latencies, 0.5), p99 = percentile(latencies, 0.99)
        body += "<tr><th>latency p50</th><td class=\"num\">\(p50.map { formatNumber($0) + " ms" } ?? "")</td></tr>"
        body += "<tr><th>latency p99</th><td class=\"num\">\(p99.map { formatNumber($0) + " ms" } ?? "")</td></tr></tbody></table>"

        // Traffic split as served.
        var byVersion: [(String, Int)] = []
        for r in requests {
            let label = "\(r.name)@\(r.version)"
            if let i = byVersion.firstIndex(where: { $0.0 == label }) { byVersion[i].1 += 1 } else { byVersion.append((label, 1)) }
        }
        if !byVersion.isEmpty {
            body += "<h2>Traffic</h2><table><thead><tr><th>version</th><th>requests</th><th>share</th></tr></thead><tbody>"
            for (l, n) in byVersion {
                body += "<tr><td>\(modelLinks([l]))</td><td class=\"num\">\(n)</td><td class=\"num\">\(formatNumber((Double(n) / Double(requests.count) * 1000).rounded() / 10))%</td></tr>"
            }
            body += "</tbody></table>"
        }

        // Requests and latency over time, in up to 30 buckets.
        let buckets = timeBuckets(requests)
        if buckets.count > 1 {
            body += "<h2>Over time</h2><div class=\"charts\">"
            let xs = buckets.map { $0.start - d.started }
            body += Plot(kind: .line, title: "requests", xLabel: "seconds since start", yLabel: "requests",
                         series: [Plot.Series(x: xs, y: buckets.map { Double($0.latencies.count) }, style: .line)]).svgElement(width: 460, height: 280)
            let sortedBuckets = buckets.map { $0.latencies.sorted() }
            body += Plot(kind: .line, title: "latency (ms)", xLabel: "seconds since start", yLabel: "ms",
                         series: [Plot.Series(x: xs, y: sortedBuckets.map { percentile($0, 0.5) ?? .nan }, label: "p50", style: .line),
                                  Plot.Series(x: xs, y: sortedBuckets.map { percentile($0, 0.99) ?? .nan }, label: "p99", style: .line)])
                .svgElement(width: 460, height: 280)
            body += "</div>"
        }
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
            ("requests", .number(Double(requests.count))), ("shadow_rows", .number(Double(shadow.count))),
            ("latency_p50_ms", p50.map(jsonNumber) ?? JSON.null), ("latency_p99_ms", p99.map(jsonNumber) ?? JSON.null),
            ("traffic", .object(byVersion.map { ($0.0, .number(Double($0.1))) })),
            ("over_time", .array(buckets.map { b in
                let s = b.latencies.sorted()
                return .object([("start", jsonNumber(b.start)), ("requests", .number(Double(s.count))),
                                ("p50_ms", percentile(s, 0.5).map(jsonNumber) ?? JSON.null), ("p99_ms", percentile(s, 0.99).map(jsonNumber) ?? JSON.null)])
            })),
            ("alerts", .array(alerts.map { a in
                .object([("model", .string(a.model)), ("name", .string(a.name)), ("status", .string(a.status)),
                         ("value", a.value.map(jsonNumber) ?? JSON.null), ("at", jsonNumber(a.at))])
            })),
        ]
        return Page(title: "Deployment \(id)", html: body, json: .object(members))
    }

    /// The nearest-rank percentile of sorted values; nil for none.
    func percentile(_ sorted: [Double], _ q: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let rank = Int((q * Double(sorted.count)).rounded(.up)) - 1
        return sorted[min(max(rank, 0), sorted.count - 1)]
    }

    /// Requests in up to 30 equal spans of time from the first to the last.
    func timeBuckets(_ requests: [RequestRecord]) -> [(start: Double, latencies: [Double])] {
        guard let first = requests.map(\.at).min(), let last = requests.map(\.at).max(), first.isFinite, last.isFinite else { return [] }
        let count = 30
        let width = max((last - first) / Double(count), 1e-3)
        var out = (0..<count).map { (start: first + Double($0) * width, latencies: [Double]()) }
        for r in requests where r.at.isFinite {
            let i = min(max(Int((r.at - first) / width), 0), count - 1)
            out[i].latencies.append(r.latencyMs)
        }
        return out
    }
}
