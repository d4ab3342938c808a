import Foundation
import MLShCommon
import MLShStore

/// Why a page cannot be shown: an HTTP status and the reason, shown as a page (never a
/// stack trace).
public struct UIError: Error, Sendable {
    public var status: Int
    public var message: String
    /// Extra HTML under the message (escaped by whoever built it): nearby ids, say.
    var detail: String = ""
    var detailJSON: [(String, JSON)] = []
    public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
}

/// One request as the pages see it: method, decoded path segments, query pairs, the
/// credentials it carries and its form body.
struct UIRequest {
    var method: String
    var path: [String]
    var query: [(String, String)]
    var authorization: String?
    var cookie: String?
    var body: [UInt8] = []

    /// The last value of a query parameter.
    func value(_ key: String) -> String? { query.last { $0.0 == key }?.1 }
    /// Every value of a repeated query parameter (`run=1&run=2`; `runs=1,2` too when asked).
    func values(_ key: String) -> [String] { query.filter { $0.0 == key }.map(\.1) }
    var wantsJSON: Bool { value("format") == "json" }
}

/// What a page answers: status, content type, body and extra headers.
struct UIResponse {
    var status: Int
    var contentType: String
    var body: [UInt8]
    var headers: [(String, String)] = []
}

/// A page: its title and HTML body, and the same content as JSON for `?format=json`.
struct Page {
    var title: String
    var html: String
    var json: JSON
}

/// The UI's pages over one store: routing, authentication and the error pages.
final class UIApp: Sendable {
    let store: Store
    let token: String?
    /// The token every form of the UI carries and every action checks (a page of another
    /// site cannot read it, so it cannot send a form that acts).
    let csrf: String

    init(store: Store, token: String?) {
        self.store = store; self.token = token
        var g = SystemRandomNumberGenerator()
        csrf = (0..<4).map { _ in String(g.next() as UInt64, radix: 16) }.joined()
    }

    /// The name of the cookie the login form sets.
    static let cookieName = "mlsh_ui_token"

    /// Answers one request.
    func respond(_ r: UIRequest) -> UIResponse {
        if r.path == ["login"] { return login(r) }
        if let token, !authorized(r, token) {
            if r.wantsJSON { return json(.object([("error", .string("unauthorized: send 'Authorization: Bearer <token>'"))]), status: 401) }
            return loginPage(next: "/" + r.path.map(urlPart).joined(separator: "/") + queryString(r.query), status: 401, failed: false)
        }
        if let answer = action(r) { return answer }
        guard r.method == "GET" || r.method == "HEAD" else {
            return errorPage(UIError(405, "\(r.method) is not allowed here: the UI's only actions are POST /runs/ID/note and POST /models/NAME/alias"), json: r.wantsJSON)
        }
        do {
            if r.path.first == "artifacts", r.path.count == 2 { return try artifact(r.path[1]) }
            let page = try route(r)
            if r.wantsJSON { return json(page.json, status: 200) }
            let jsonLink = "/" + r.path.map(urlPart).joined(separator: "/") + queryString(r.query.filter { $0.0 != "format" } + [("format", "json")])
            return html(Layout.page(title: page.title, body: page.html, jsonLink: jsonLink), status: 200)
        } catch {
            return errorPage(error, json: r.wantsJSON)
        }
    }

    func route(_ r: UIRequest) throws(UIError) -> Page {
        switch r.path.count {
        case 0: return try experimentsPage()
        case 1:
            switch r.path[0] {
            case "experiments": return try experimentsPage()
            case "compare": return try comparePage(r)
            case "models": return try modelsPage()
            case "deployments": return try deploymentsPage()
            case "datasets": return try datasetsPage()
            default: break
            }
        case 2:
            switch r.path[0] {
            case "experiments": return try runsPage(experiment: r.path[1], r)
            case "runs": return try runPage(r.path[1])
            case "models": return try modelPage(r.path[1])
            case "deployments": return try deploymentPage(r.path[1])
            default: break
            }
        default: break
        }
        throw UIError(404, "no page at /\(r.path.joined(separator: "/")); the pages are /experiments, /models, /deployments and /datasets")
    }

    /// Store work, its errors as a 500 page with the store's message.
    func reading<T>(_ body: () throws(StoreError) -> T) throws(UIError) -> T {
        do { return try body() } catch { throw UIError(500, error.message) }
    }

    // MARK: actions

    /// `POST /runs/ID/note` (field `note`) sets a run's note; `POST /models/NAME/alias`
    /// (fields `alias`, `version`) sets or moves an alias. Both need the form's `csrf`;
    /// nil for any other request.
    func action(_ r: UIRequest) -> UIResponse? {
        guard r.method == "POST", r.path.count == 3 else { return nil }
        let isNote = r.path[0] == "runs" && r.path[2] == "note", isAlias = r.path[0] == "models" && r.path[2] == "alias"
        guard isNote || isAlias else { return nil }
        let form = parseQuery(String(decoding: r.body, as: UTF8.self))
        func field(_ k: String) -> String { form.last { $0.0 == k }?.1 ?? "" }
        guard sameText(field("csrf"), csrf) else {
            return errorPage(UIError(403, "this form is stale or came from another site (its CSRF token does not match): reload the page and send it again"),
                             json: r.wantsJSON)
        }
        do throws(UIError) {
            if isNote {
                let run = try existingRun(r.path[1])
                let note = field("note")
                guard !note.isEmpty else { throw UIError(400, "the note is empty") }
                try reading { () throws(StoreError) in try store.setTag(run: run.id, name: "note", value: note) }
                return redirect("/runs/\(run.id)", cookie: nil)
            }
            let name = r.path[1]
            guard let version = Int64(field("version")) else { throw UIError(400, "version must be a whole number, got '\(field("version"))'") }
            let versions = try reading { () throws(StoreError) in try store.versions(name: name) }
            guard versions.contains(where: { $0.version == version }) else { throw UIError(404, "model '\(name)' has no version \(version)") }
            do { try store.setAlias(name: name, version: version, alias: field("alias"), by: Store.actor + " via mlsh ui") } catch { throw UIError(400, error.message) }
            return redirect("/models/\(urlPart(name))", cookie: nil)
        } catch {
            return errorPage(error, json: r.wantsJSON)
        }
    }

    /// A form's hidden CSRF field.
    var csrfField: String { "<input type=\"hidden\" name=\"csrf\" value=\"\(h(csrf))\">" }

    // MARK: authentication

    func authorized(_ r: UIRequest, _ token: String) -> Bool {
        if let a = r.authorization, a.hasPrefix("Bearer "), sameText(String(a.dropFirst(7)), token) { return true }
        if let c = r.cookie {
            for part in c.split(separator: ";") {
                let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0] == Self.cookieName, sameText(percentDecoded(kv[1], plusIsSpace: false), token) { return true }
            }
        }
        return false
    }

    /// Compares in time independent of where the texts first differ.
    func sameText(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }

    /// `GET /login`: the form; `POST /login` (form field `token`, `next`): sets an HttpOnly
    /// cookie and goes on to `next` (a path of this UI only).
    func login(_ r: UIRequest) -> UIResponse {
        let form = parseQuery(String(decoding: r.body, as: UTF8.self))
        var next = form.last { $0.0 == "next" }?.1 ?? r.value("next") ?? "/"
        if !next.hasPrefix("/") || next.hasPrefix("//") || next.contains("\\") { next = "/" }
        guard r.method == "POST" else { return loginPage(next: next, status: token == nil ? 200 : 401, failed: false) }
        guard let token else { return redirect(next, cookie: nil) }
        let given = form.last { $0.0 == "token" }?.1 ?? ""
        guard sameText(given, token) else { return loginPage(next: next, status: 401, failed: true) }
        return redirect(next, cookie: "\(Self.cookieName)=\(urlPart(token)); HttpOnly; SameSite=Strict; Path=/")
    }

    func loginPage(next: String, status: Int, failed: Bool) -> UIResponse {
        var body = "<h1>Sign in</h1>"
        if failed { body += "<p class=\"error\">That token is not the one this UI was started with.</p>" }
        body += "<p>This UI needs the token it was started with (<code>--token-file</code>).</p>"
        body += "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"next\" value=\"\(h(next))\">"
        body += "<input type=\"password\" name=\"token\" autocomplete=\"current-password\" aria-label=\"token\"> <button>Sign in</button></form>"
        return html(Layout.page(title: "Sign in", body: body, jsonLink: nil), status: status)
    }

    // MARK: responses

    /// Headers every page carries: no scripts at all, nothing from elsewhere, no framing.
    static let securityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("Cache-Control", "no-store"),
    ]

    func html(_ s: String, status: Int) -> UIResponse {
        UIResponse(status: status, contentType: "text/html; charset=utf-8", body: Array(s.utf8), headers: Self.securityHeaders)
    }

    func json(_ v: JSON, status: Int) -> UIResponse {
        var w = JSONWriter()
        w.writePretty(v)
        w.raw("\n")
        return UIResponse(status: status, contentType: "application/json", body: w.bytes, headers: Self.securityHeaders)
    }

    func redirect(_ to: String, cookie: String?) -> UIResponse {
        var headers = Self.securityHeaders + [("Location", to)]
        if let cookie { headers.append(("Set-Cookie", cookie)) }
        return UIResponse(status: 303, contentType: "text/plain; charset=utf-8", body: Array("see \(to)\n".utf8), headers: headers)
    }

    func errorPage(_ e: UIError, json wantsJSON: Bool) -> UIResponse {
        if wantsJSON { return json(.object([("error", .string(e.message)), ("status", .number(Double(e.status)))] + e.detailJSON), status: e.status) }
        let title = e.status == 404 ? "Not found" : e.status == 400 ? "Bad request" : e.status == 401 ? "Unauthorized" : "Error"
        let body = "<h1>\(title)</h1><p class=\"error\">\(h(e.message))</p>" + e.detail
        return html(Layout.page(title: title, body: body, jsonLink: nil), status: e.status)
    }

    /// `/artifacts/HASH`: an artifact's bytes, typed by the kind a run recorded; SVG in a
    /// sandbox (a script inside one never runs).
    func artifact(_ hash: String) throws(UIError) -> UIResponse {
        let kind = try reading { () throws(StoreError) in try store.artifactKind(hash) }
        guard let kind else { throw UIError(404, "no artifact \(hash) is recorded in this store") }
        let bytes = try reading { () throws(StoreError) in try store.artifact(hash) }
        let type = switch kind {
        case "svg": "image/svg+xml"
        case "csv": "text/csv; charset=utf-8"
        case "json": "application/json"
        case "text": "text/plain; charset=utf-8"
        default: "application/octet-stream"
        }
        return UIResponse(status: 200, contentType: type, body: bytes, headers: [
            ("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox"),
            ("X-Content-Type-Options", "nosniff"),
        ])
    }
}
