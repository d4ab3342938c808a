import Foundation
import MLShCommon
import MLShPlot
import MLShStore

extension UIApp {
    /// A run id from a path segment, or a 404 page listing the ids nearest to it.
    func existingRun(_ text: String) throws(UIError) -> RunRecord {
        let ids = try reading { () throws(StoreError) in try store.allRunIDs() }
        guard let id = Int64(text), ids.contains(id) else {
            let target = Int64(text) ?? 0
            let near = ids.sorted { ($0 &- target).magnitude < ($1 &- target).magnitude || (($0 &- target).magnitude == ($1 &- target).magnitude && $0 < $1) }
                .prefix(5).sorted()
            var e = UIError(404, Int64(text) == nil ? "'\(text)' is not a run id (runs are numbered)" : "no run with id \(text) in this store")
            if !near.isEmpty {
                e.detail = "<p>Nearby runs: " + near.map { "<a href=\"/runs/\($0)\">\($0)</a>" }.joined(separator: ", ") + "</p>"
            } else {
                e.detail = "<p class=\"muted\">This store has no runs yet.</p>"
            }
            e.detailJSON = [("nearby", .array(near.map { JSON($0) }))]
            throw e
        }
        return try reading { () throws(StoreError) in try store.run(id) }
    }

    /// `/runs/ID`: status, times, params, metrics with their histories, lineage, artifacts
    /// with previews, and the model versions registered from it.
    func runPage(_ text: String) throws(UIError) -> Page {
        let run = try existingRun(text)
        let artifacts = try reading { () throws(StoreError) in try store.artifacts(run: run.id) }
        let versions = try reading { () throws(StoreError) in try store.versions() }.filter { $0.run == run.id }
        var histories: [(String, [(Int64, Double)])] = []
        for (m, _) in run.metrics {
            histories.append((m, try reading { () throws(StoreError) in try store.history(run: run.id, metric: m) }))
        }
        let title = "Run \(run.id)" + (run.name.map { " " + $0 } ?? "")
        var body = "<h1>\(h(title))</h1>"
        body += "<table><tbody>"
        body += "<tr><th>experiment</th><td><a href=\"/experiments/\(h(urlPart(run.experiment)))\">\(h(run.experiment))</a></td></tr>"
        body += "<tr><th>status</th><td class=\"status-\(h(run.status))\">\(h(run.status))</td></tr>"
        if let e = run.error { body += "<tr><th>error</th><td class=\"error\">\(h(e))</td></tr>" }
        body += "<tr><th>started</th><td>\(formatTime(run.started))</td></tr>"
        body += "<tr><th>ended</th><td>\(formatTime(run.ended))</td></tr>"
        body += "<tr><th>duration</th><td>\(formatDuration(run.ended.map { $0 - run.started }))</td></tr>"
        if let p = run.parent { body += "<tr><th>parent</th><td><a href=\"/runs/\(p)\">run \(p)</a></td></tr>" }
        for (k, v) in run.tags { body += "<tr><th>\(h(k))</th><td>\(h(v))</td></tr>" }
        body += "</tbody></table>"

        body += "<form method=\"post\" action=\"/runs/\(run.id)/note\">" + csrfField
        body += "<label>Note <input type=\"text\" name=\"note\" value=\"\(h(run.tags.last { $0.0 == "note" }?.1 ?? ""))\"></label> <button>Save note</button></form>"
        body += "<h2>Params</h2>"
        if run.params.isEmpty { body += "<p class=\"muted\">none</p>" } else {
            body += "<table><tbody>" + run.params.map { "<tr><th>\(h($0.0))</th><td>\(h($0.1.text))</td></tr>" }.joined() + "</tbody></table>"
        }
        body += "<h2>Metrics</h2>"
        if run.metrics.isEmpty { body += "<p class=\"muted\">none</p>" } else {
            body += "<table><thead><tr><th>metric</th><th>last</th><th>points</th></tr></thead><tbody>"
            for ((m, v), (_, hist)) in zip(run.metrics, histories) {
                body += "<tr><th>\(h(m))</th><td class=\"num\">\(formatNumber(v))</td><td class=\"num\">\(hist.count)</td></tr>"
            }
            body += "</tbody></table><div class=\"charts\">"
            for (m, hist) in histories where hist.count > 1 {
                let plot = Plot(kind: .line, title: m, xLabel: "step", yLabel: m,
                                series: [Plot.Series(x: hist.map { Double($0.0) }, y: hist.map(\.1))])
                body += plot.svgElement(width: 460, height: 280)
            }
            body += "</div>"
        }

        body += "<h2>Lineage</h2><table><tbody>"
        body += "<tr><th>script</th><td>\(h(run.script ?? ""))</td></tr>"
        body += "<tr><th>script hash</th><td><code>\(h(run.scriptHash ?? ""))</code></td></tr>"
        body += "<tr><th>mlsh version</th><td>\(h(run.mlshVersion ?? ""))</td></tr>"
        body += "<tr><th>datasets</th><td>"
        body += run.datasets.isEmpty ? "<span class=\"muted\">none recorded</span>" : run.datasets.map { d in
            datasetIsVersion(d) ? "<a href=\"/datasets#\(h(urlPart(d)))\">\(h(d))</a>" : h(d)
        }.joined(separator: "<br>")
        body += "</td></tr></tbody></table>"

        body += "<h2>Artifacts</h2>"
        if artifacts.isEmpty { body += "<p class=\"muted\">none</p>" }
        for a in artifacts {
            body += "<h3>\(h(a.name)) <span class=\"muted\">(\(h(a.kind)), \(a.size) bytes)</span> <a href=\"/artifacts/\(h(a.hash))\">download</a></h3>"
            body += preview(a)
        }
        body += "<h2>Registered versions</h2>"
        if versions.isEmpty { body += "<p class=\"muted\">none</p>" } else {
            body += "<ul>" + versions.map { v in
                "<li><a href=\"/models/\(h(urlPart(v.name)))\">\(h(v.label))</a>" + (v.aliases.isEmpty ? "" : " (" + v.aliases.map(h).joined(separator: ", ") + ")") + "</li>"
            }.joined() + "</ul>"
        }

        guard case .object(var members) = runJSON(run) else { return Page(title: title, html: body, json: runJSON(run)) }
        members += [
            ("error", run.error.map { JSON.string($0) } ?? JSON.null), ("parent", run.parent.map { JSON($0) } ?? JSON.null),
            ("tags", .object(run.tags.map { ($0.0, .string($0.1)) })),
            ("history", .object(histories.map { m, hist in
                (m, .array(hist.map { .array([JSON($0.0), jsonNumber($0.1)]) }))
            })),
            ("lineage", .object([("script", run.script.map { JSON.string($0) } ?? JSON.null), ("script_hash", run.scriptHash.map { JSON.string($0) } ?? JSON.null),
                                 ("mlsh_version", run.mlshVersion.map { JSON.string($0) } ?? JSON.null),
                                 ("datasets", .array(run.datasets.map { .string($0) }))])),
            ("artifacts", .array(artifacts.map { a in
                var members: [(String, JSON)] = [("name", .string(a.name)), ("kind", .string(a.kind)), ("size", .number(Double(a.size))),
                                                 ("hash", .string(a.hash)), ("url", .string("/artifacts/" + a.hash))]
                if a.kind == "model", let summary = try? store.modelSummary(a.hash) { members.append(("summary", summary)) }
                return .object(members)
            })),
            ("versions", .array(versions.map { .string($0.label) })),
        ]
        return Page(title: title, html: body, json: .object(members))
    }

    /// `name@N`: a stored data version (as opposed to a file hash or a fingerprint).
    func datasetIsVersion(_ label: String) -> Bool {
        guard let at = label.lastIndex(of: "@") else { return false }
        return Int(label[label.index(after: at)...]) != nil && !label.contains(" ")
    }

    /// An artifact's preview: SVG as an image (scripts in it never run), CSV as a table of
    /// its first rows, JSON and text as text; a model by its summary.
    func preview(_ a: RunArtifact) -> String {
        switch a.kind {
        case "svg":
            return "<img src=\"/artifacts/\(h(a.hash))\" alt=\"\(h(a.name))\" style=\"max-width:100%\">"
        case "csv", "json", "file":
            guard a.size <= 4_000_000, let bytes = try? store.artifact(a.hash) else { return "<p class=\"muted\">too large to preview</p>" }
            let text = String(decoding: bytes.prefix(20_000), as: UTF8.self)
            if a.kind == "csv" { return csvTable(text, rows: 20) }
            if a.kind == "file", bytes.prefix(4096).contains(0) { return "<p class=\"muted\">binary file</p>" }
            return "<pre>\(h(String(text.prefix(4000))))</pre>"
        case "model":
            guard let summary = try? store.modelSummary(a.hash) else {
                return "<p class=\"muted\">a fitted model in mlsh's model format (data only) that this mlsh cannot read</p>"
            }
            return modelSummaryHTML(summary)
        default:
            return ""
        }
    }

    /// A model's summary (`Store.modelSummary`) as a table: the pipeline, task, target,
    /// classes, hyperparameters, transforms, training metrics, and its features with types.
    func modelSummaryHTML(_ s: JSON) -> String {
        func text(_ key: String) -> String? { if case .string(let v)? = s[key] { v } else { nil } }
        func list(_ key: String) -> [String] {
            guard case .array(let items)? = s[key] else { return [] }
            return items.compactMap { if case .string(let v) = $0 { v } else { nil } }
        }
        func pairs(_ key: String) -> [(String, String)] {
            guard case .object(let members)? = s[key] else { return [] }
            return members.map { k, v in
                if case .string(let t) = v { (k, t) } else { (k, v.double.map(formatNumber) ?? JSONWriter.text(v)) }
            }
        }
        var rows: [(String, String)] = [("model", "<code>\(h(text("spec") ?? ""))</code>"), ("kind", h(text("kind") ?? "")),
                                        ("task", h(text("task") ?? ""))]
        if let target = text("target") { rows.append(("target", h(target))) }
        let classes = list("classes")
        if !classes.isEmpty { rows.append(("classes", classes.map(h).joined(separator: ", "))) }
        let hyper = pairs("hyperparameters")
        if !hyper.isEmpty { rows.append(("hyperparameters", hyper.map { "\(h($0.0))=\(h($0.1))" }.joined(separator: ", "))) }
        let transforms = list("transforms")
        rows.append(("transforms", transforms.isEmpty ? "<span class=\"muted\">none</span>" : transforms.map { "<code>\(h($0))</code>" }.joined(separator: " » ")))
        let metrics = pairs("training_metrics")
        if !metrics.isEmpty { rows.append(("training metrics", metrics.map { "\(h($0.0)) \(h($0.1))" }.joined(separator: ", "))) }
        if let n = s["training_rows"]?.double { rows.append(("training rows", formatNumber(n))) }
        if let n = s["reference_rows"]?.double { rows.append(("training sample kept", "\(formatNumber(n)) rows (drift and anomaly reference)")) }
        var out = "<table class=\"model-summary\"><tbody>" + rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>" }.joined() + "</tbody></table>"
        if case .array(let features)? = s["features"], !features.isEmpty {
            out += "<table class=\"model-features\"><thead><tr><th>feature</th><th>type</th></tr></thead><tbody>"
            for f in features {
                if case .string(let name)? = f["name"], case .string(let type)? = f["type"] { out += "<tr><td>\(h(name))</td><td>\(h(type))</td></tr>" }
            }
            out += "</tbody></table>"
        }
        return out
    }

    /// The first `rows` rows of CSV text as a table (quoted fields understood).
    func csvTable(_ text: String, rows: Int) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(rows + 1)
        var out = "<table><tbody>"
        for (i, line) in lines.enumerated() {
            let cells = csvFields(String(line.hasSuffix("\r") ? line.dropLast() : line))
            let tag = i == 0 ? "th" : "td"
            out += "<tr>" + cells.map { "<\(tag)>\(h($0))</\(tag)>" }.joined() + "</tr>"
        }
        return out + "</tbody></table>"
    }

    func csvFields(_ line: String) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() { if n == "\"" { current.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { current.append(c) }
            } else if c == "\"" { quoted = true } else if c == "," { fields.append(current); current = "" } else { current.append(c) }
        }
        fields.append(current)
        return fields
    }
}
