import Foundation
import MLShCommon
import MLShServe
import MLShStore
import MLShUI
import Testing
import TestSupport

/// Safety: loopback by default, a token required beyond it, bearer header or the login
/// form's HttpOnly cookie, nothing else let through.
@Suite(.serialized) struct UIAuthTests {
    @Test func aHostBeyondLoopbackNeedsAToken() async throws { try await onOwnThread { [self] in try self.aHostBeyondLoopbackNeedsATokenBody() } }
    func aHostBeyondLoopbackNeedsATokenBody() throws {
        let store = try Store(folder: try temporaryFolder("ui-auth") + "/.mlsh")
        #expect(UIConfiguration().host == "127.0.0.1" && UIConfiguration().port == 5000)
        do {
            let s = try UIServer.start(store: store, configuration: UIConfiguration(host: "0.0.0.0", port: 0))
            s.stop()
            Issue.record("started on 0.0.0.0 without a token")
        } catch {
            #expect(error.message.contains("needs a token"))
        }
        do {
            let s = try UIServer.start(store: store, configuration: UIConfiguration(host: "127.0.0.1", port: 70000))
            s.stop()
            Issue.record("started on port 70000")
        } catch {
            #expect(error.message.contains("between 0 and 65535"))
        }
    }

    @Test func withATokenPagesNeedTheBearerHeaderOrTheLoginCookie() async throws { try await onOwnThread { [self] in try self.withATokenPagesNeedTheBearerHeaderOrTheLoginCookieBody() } }
    func withATokenPagesNeedTheBearerHeaderOrTheLoginCookieBody() throws {
        let fixture = try UIFixture.shared()
        let server = try UIServer.start(store: fixture.store, configuration: UIConfiguration(host: "127.0.0.1", port: 0, token: "s3cret"))
        defer { server.stop() }
        let url = server.url

        let anonymous = try HTTPClient.request("GET", url + "/experiments/sweep")
        #expect(anonymous.status == 401)
        #expect(anonymous.text.contains("<form method=\"post\" action=\"/login\">"))
        #expect(anonymous.text.contains("value=\"/experiments/sweep\""))
        #expect(!anonymous.text.contains("href=\"/runs/"))
        #expect(try HTTPClient.request("GET", url + "/experiments?format=json").status == 401)
        #expect(try HTTPClient.request("GET", url + "/experiments", headers: [("Authorization", "Bearer wrong")]).status == 401)
        let bearer = try HTTPClient.request("GET", url + "/experiments/sweep", headers: [("Authorization", "Bearer s3cret")])
        #expect(bearer.status == 200 && bearer.text.contains("href=\"/runs/"))

        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        let wrong = try HTTPClient.request("POST", url + "/login", body: Array("token=nope&next=%2Fmodels".utf8), headers: form)
        #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)
        let right = try HTTPClient.request("POST", url + "/login", body: Array("token=s3cret&next=%2Fmodels".utf8), headers: form)
        #expect(right.status == 303)
        #expect(right.header("Location") == "/models")
        let cookie = right.header("Set-Cookie") ?? ""
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        let pair = cookie.split(separator: ";").first.map(String.init) ?? ""
        let models = try HTTPClient.request("GET", url + "/models", headers: [("Cookie", pair)])
        #expect(models.status == 200 && models.text.contains("href=\"/models/diab\""))
        // An outside `next` is not followed.
        let away = try HTTPClient.request("POST", url + "/login", body: Array("token=s3cret&next=%2F%2Fevil.example".utf8), headers: form)
        #expect(away.header("Location") == "/")
    }
}
