import Foundation
import MLShCommon
import Testing
import TestSupport

/// Every page opened in a real headless Chromium (Debian's `chromium`, installed with
/// apt-get when missing, as `scripts/snapshot-notebook` does): the DOM it builds holds the
/// runs and the chart SVGs, and the browser logs no console message (a blocked resource,
/// a CSP violation or a script error would be one).
@Suite(.serialized) struct UIBrowserTests {
    /// Chromium's path, installing the package when it is missing.
    static func chromium() throws -> String {
        for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] where FileManager.default.isExecutableFile(atPath: p) { return p }
        let sudo = getuid() == 0 ? [] : ["sudo"]
        var r = try runProgram("/usr/bin/env", sudo + ["apt-get", "install", "-y", "-q", "chromium"])
        if r.code != 0 {
            _ = try runProgram("/usr/bin/env", sudo + ["apt-get", "update", "-q"])
            r = try runProgram("/usr/bin/env", sudo + ["apt-get", "install", "-y", "-q", "chromium"])
        }
        guard r.code == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium") else {
            throw SetupFailure("cannot install chromium: \(r.err)")
        }
        return "/usr/bin/chromium"
    }

    /// The DOM Chromium builds for a URL, and the console lines it logged.
    static func dumpDOM(_ url: String, browser: String) throws -> (dom: String, console: [String]) {
        let profile = try temporaryFolder("ui-chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let r = try runProgram(browser, ["--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
                                         "--user-data-dir=" + profile, "--virtual-time-budget=2000", "--dump-dom", url])
        guard r.code == 0 else { throw SetupFailure("chromium failed on \(url): \(r.err)") }
        return (r.out, r.err.components(separatedBy: "\n").filter { $0.contains(":CONSOLE") })
    }

    @Test func everyPageRendersInChromiumWithRunsChartsAndNoConsoleMessages() async throws { try await onOwnThread { [self] in try self.everyPageRendersInChromiumWithRunsChartsAndNoConsoleMessagesBody() } }
    func everyPageRendersInChromiumWithRunsChartsAndNoConsoleMessagesBody() throws {
        let ui = try UIFixture.shared()
        let browser = try Self.chromium()
        let sweep = try ui.json("/experiments/sweep?sort=rmse")
        let ids = numbers(sweep["runs"], ["id"]).map { String(Int($0)) }
        let deployment = numbers(try ui.json("/deployments")["deployments"], ["id"]).first.map { String(Int($0)) } ?? "1"
        guard let first = ids.first else { Issue.record("no runs"); return }
        let pages: [(String, [String])] = [
            ("/experiments", ["href=\"/experiments/sweep\"", "href=\"/experiments/seeds\""]),
            ("/experiments/sweep?sort=rmse", ids.map { "href=\"/runs/\($0)\"" } + ["name=\"run\""]),
            ("/compare?runs=" + ids.joined(separator: ","), ["<svg", "class=\"parallel\"", "run \(first)"]),
            ("/runs/" + first, ["<svg", "loss"]),
            ("/models", ["href=\"/models/diab\""]),
            ("/models/diab", ["production"]),
            ("/deployments", ["href=\"/deployments/\(deployment)\""]),
            ("/deployments/" + deployment, ["diab@2"]),
            ("/datasets", ["tiny@1"]),
            ("/runs/9999", ["Nearby runs"]),
        ]
        for (path, needles) in pages {
            let (dom, console) = try Self.dumpDOM(ui.url + path, browser: browser)
            #expect(dom.contains("</main>"), "\(path): no page in the DOM")
            for n in needles { #expect(dom.contains(n), "\(path): the DOM lacks \(n)") }
            #expect(console.isEmpty, "\(path): console messages \(console)")
        }
    }
}
