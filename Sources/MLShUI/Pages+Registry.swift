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
}
