import Foundation
import MLShCommon
import MLShServe
import MLShStore
import MLShUI
import Testing
import TestSupport

/// Every page over real HTTP on loopback, over a store real scripts filled: status, key
/// content, links, the JSON twins, sorting, OR filters, pagination, differs-only, 404 pages.
@Suite(.serialized) struct UIPageTests {
    let ui: UIFixture
    init() async throws { ui = try await UIFixture.sharedOffPool() }

    func runsJSON(_ query: String) throws -> JSON { try ui.json("/experiments/sweep" + query) }

    @Test func experimentsListCountsRunsAndLinksToEach() async throws { try await onOwnThread { [self] in try self.experimentsListCountsRunsAndLinksToEachBody() } }
    func experimentsListCountsRunsAndLinksToEachBody() throws {
        let page = try ui.get("/experiments")
        #expect(page.status == 200)
        #expect(page.header("Content-Type")?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<a href=\"/experiments/sweep\">sweep</a>"))
        #expect(page.text.contains("prefers-color-scheme: dark"))
        #expect(try ui.get("/").text.contains("href=\"/experiments/seeds\""))
        let json = try ui.json("/experiments")
        guard case .array(let items)? = json["experiments"] else { Issue.record("no experiments array: \(json)"); return }
        let sweep = items.first { $0["name"] == .string("sweep") }
        #expect(sweep?["runs"]?.double == 6)
        #expect(sweep?["url"] == .string("/experiments/sweep"))
        #expect(items.first { $0["name"] == .string("seeds") }?["runs"]?.double == 3)
        #expect((sweep?["last_activity"]?.double ?? 0) >= (sweep?["created"]?.double ?? .infinity))
    }

    @Test func runsTableSortsByAnyColumnBothWays() async throws { try await onOwnThread { [self] in try self.runsTableSortsByAnyColumnBothWaysBody() } }
    func runsTableSortsByAnyColumnBothWaysBody() throws {
        #expect(numbers(try runsJSON("?sort=rmse")["runs"], ["metrics", "rmse"]) == [12, 14, 52, 54, 102, 104])
        #expect(numbers(try runsJSON("?sort=-rmse")["runs"], ["metrics", "rmse"]) == [104, 102, 54, 52, 14, 12])
        #expect(numbers(try runsJSON("?sort=depth")["runs"], ["params", "depth"]) == [2, 2, 2, 4, 4, 4])
        // Default: newest first.
        let ids = numbers(try runsJSON("")["runs"], ["id"])
        #expect(ids == ids.sorted(by: >) && ids.count == 6)
        // The header links flip the direction and keep the layout.
        let page = try ui.get("/experiments/sweep?sort=rmse&filter=depth+%3E+3").text
        #expect(page.contains("href=\"/experiments/sweep?filter=depth%20%3E%203&amp;sort=-rmse\""))
        #expect(page.contains("rmse ▲"))
    }

    @Test func runsTableFiltersWithOrAndParentheses() async throws { try await onOwnThread { [self] in try self.runsTableFiltersWithOrAndParenthesesBody() } }
    func runsTableFiltersWithOrAndParenthesesBody() throws {
        let q = "rmse < 60 and (alpha == 0.1 or depth > 3)"
        let json = try runsJSON("?sort=rmse&filter=" + urlEncoded(q))
        #expect(json["matching"]?.double == 3)
        #expect(numbers(json["runs"], ["metrics", "rmse"]) == [12, 14, 54])
        let either = try runsJSON("?sort=rmse&filter=" + urlEncoded("alpha == 1.0 or rmse < 13"))
        #expect(numbers(either["runs"], ["metrics", "rmse"]) == [12, 102, 104])
        let negated = try runsJSON("?sort=rmse&filter=" + urlEncoded("not (depth == 2) and status == \"finished\""))
        #expect(numbers(negated["runs"], ["metrics", "rmse"]) == [14, 54, 104])
        // The filter stays in the form, escaped.
        let page = try ui.get("/experiments/sweep?filter=" + urlEncoded(q)).text
        #expect(page.contains("value=\"rmse &lt; 60 and (alpha == 0.1 or depth &gt; 3)\""))
        #expect(page.contains("3 of 6 runs match the filter"))
    }

    @Test func badFiltersAndColumnsAreErrorPagesWithTheReason() async throws { try await onOwnThread { [self] in try self.badFiltersAndColumnsAreErrorPagesWithTheReasonBody() } }
    func badFiltersAndColumnsAreErrorPagesWithTheReasonBody() throws {
        let broken = try ui.get("/experiments/sweep?filter=" + urlEncoded("rmse < "))
        #expect(broken.status == 400)
        #expect(broken.text.contains("filter: unexpected end; expected a value or a column"))
        #expect(!broken.text.contains("Fatal") && !broken.text.contains("Stack"))
        let typo = try ui.get("/experiments/sweep?filter=" + urlEncoded("rmsee < 3"))
        #expect(typo.status == 400)
        #expect(typo.text.contains("filter: no column &apos;rmsee&apos; in experiment &apos;sweep&apos;; did you mean &apos;rmse&apos;?"))
        let chained = try ui.json("/experiments/sweep?filter=" + urlEncoded("1 < rmse < 3"))
        #expect(chained["status"]?.double == 400)
        #expect(try ui.get("/experiments/sweep?sort=nope").status == 400)
        #expect(try ui.get("/experiments/sweep?per=0").status == 400)
        let unknown = try ui.get("/experiments/swep")
        #expect(unknown.status == 404)
        #expect(unknown.text.contains("href=\"/experiments/sweep\""))
    }

    @Test func runsTableChoosesColumnsAndPaginatesWithTheLayoutInTheURL() async throws { try await onOwnThread { [self] in try self.runsTableChoosesColumnsAndPaginatesWithTheLayoutInTheURLBody() } }
    func runsTableChoosesColumnsAndPaginatesWithTheLayoutInTheURLBody() throws {
        let json = try runsJSON("?col=rmse&col=alpha&sort=rmse&per=4&page=2")
        #expect(json["columns"] == .array([.string("rmse"), .string("alpha")]))
        #expect(json["pages"]?.double == 2 && json["page"]?.double == 2)
        #expect(numbers(json["runs"], ["metrics", "rmse"]) == [102, 104])
        let page = try ui.get("/experiments/sweep?col=rmse&col=alpha&sort=rmse&per=4").text
        #expect(page.contains(">alpha</a></th>") && page.contains(">rmse ▲</a></th>"))
        #expect(!page.contains(">depth</a></th>"))
        #expect(page.contains("rel=\"next\" href=\"/experiments/sweep?sort=rmse&amp;col=rmse&amp;col=alpha&amp;per=4&amp;page=2\""))
        #expect(page.contains("page 1 of 2"))
        #expect(page.contains("<input type=\"checkbox\" name=\"run\""))
        #expect(page.contains("action=\"/compare\""))
        #expect(try ui.get("/experiments/sweep?per=4&page=3").status == 404)
    }

    @Test func paramsAndMetricsNamedLikeOtherColumnsAreReachedByTheirPrefix() async throws { try await onOwnThread { [self] in try self.paramsAndMetricsNamedLikeOtherColumnsAreReachedByTheirPrefixBody() } }
    func paramsAndMetricsNamedLikeOtherColumnsAreReachedByTheirPrefixBody() throws {
        // Runs with a param `name`, a metric `duration`, and a param and a metric both `rmse`.
        let json = try ui.json("/experiments/clash?sort=id")
        #expect(json["columns"] == .array(["name", "status", "started", "duration", "params.name", "params.rmse", "metrics.duration", "rmse"].map { .string($0) }))
        #expect(strings(json["runs"], ["params", "name"]) == ["ridge", "lasso"])
        #expect(numbers(try ui.json("/experiments/clash?sort=metrics.duration")["runs"], ["metrics", "duration"]) == [0.5, 2.5])
        #expect(numbers(try ui.json("/experiments/clash?sort=-params.rmse")["runs"], ["params", "rmse"]) == [5, 3])
        // A bare name is the metric; the fixed columns stay the run's own.
        #expect(numbers(try ui.json("/experiments/clash?filter=" + urlEncoded("rmse < 1.5"))["runs"], ["metrics", "rmse"]) == [1])
        let named = try ui.json("/experiments/clash?filter=" + urlEncoded("params.name == \"lasso\" and params.rmse > 4 and metrics.rmse == 2"))
        #expect(numbers(named["runs"], ["params", "rmse"]) == [5])
        #expect(try ui.json("/experiments/clash?filter=" + urlEncoded("name == \"ridge\""))["matching"]?.double == 0)
        #expect(try ui.get("/experiments/clash?sort=params.nope").status == 400)
        #expect(try ui.get("/experiments/clash?col=metrics.name").status == 400)
        // The column chooser offers each once.
        let page = try ui.get("/experiments/clash").text
        for c in ["params.name", "params.rmse", "metrics.duration", "rmse", "duration"] {
            #expect(page.components(separatedBy: "name=\"col\" value=\"\(c)\"").count == 2, "\(c)")
        }
    }

    @Test func runPageShowsStatusParamsMetricsHistoryLineageAndArtifacts() async throws { try await onOwnThread { [self] in try self.runPageShowsStatusParamsMetricsHistoryLineageAndArtifactsBody() } }
    func runPageShowsStatusParamsMetricsHistoryLineageAndArtifactsBody() throws {
        let first = numbers(try runsJSON("?sort=id")["runs"], ["id"]).first ?? 0
        let id = Int(first)
        let page = try ui.get("/runs/\(id)")
        #expect(page.status == 200)
        #expect(page.text.contains("<a href=\"/experiments/sweep\">sweep</a>"))
        #expect(page.text.contains("status-finished"))
        #expect(page.text.contains("<th>alpha</th><td>0.1</td>"))
        #expect(page.text.contains("<svg"))
        #expect(page.text.contains("mlsh version"))
        let json = try ui.json("/runs/\(id)")
        #expect(json["status"] == .string("finished"))
        guard case .array(let loss)? = json["history"]?["loss"] else { Issue.record("no loss history"); return }
        #expect(loss.count == 4)
        #expect(json["metrics"]?["rmse"]?.double == 12)

        // The hostile run: its CSV artifact previewed as a table, downloadable.
        let evil = try ui.json("/experiments/" + urlEncoded(UIFixture.hostileExperiment))
        let evilID = Int(numbers(evil["runs"], ["id"]).first ?? 0)
        let evilPage = try ui.get("/runs/\(evilID)").text
        #expect(evilPage.contains("<th>x</th><th>label</th>"))
        #expect(evilPage.contains("<td>&lt;a&gt;</td>"))
        let evilJSON = try ui.json("/runs/\(evilID)")
        guard case .array(let artifacts)? = evilJSON["artifacts"], case .string(let link)? = artifacts.first?["url"] else {
            Issue.record("no artifacts: \(evilJSON)"); return
        }
        let csv = try ui.get(link)
        #expect(csv.status == 200 && csv.header("Content-Type")?.hasPrefix("text/csv") == true)
        #expect(csv.text.hasPrefix("x,label"))

        // The registered version names the run it came from.
        let models = try ui.json("/models/diab")
        let run = numbers(models["versions"], ["run"]).first.map { Int($0) }
        #expect(run != nil)
        if let run { #expect(try ui.get("/runs/\(run)").text.contains("href=\"/models/diab\">diab@1</a>")) }
    }

    @Test func unknownRunIsA404PageListingNearbyIDs() async throws { try await onOwnThread { [self] in try self.unknownRunIsA404PageListingNearbyIDsBody() } }
    func unknownRunIsA404PageListingNearbyIDsBody() throws {
        let page = try ui.get("/runs/9999")
        #expect(page.status == 404)
        #expect(page.text.contains("no run with id 9999 in this store"))
        #expect(page.text.contains("Nearby runs: "))
        let json = try ui.json("/runs/9999")
        #expect(json["status"]?.double == 404)
        let all = try ui.store.allRunIDs().map(Double.init)
        #expect(numbers(json["nearby"], []) == Array(all.suffix(5)))
        #expect(try ui.get("/runs/abc").status == 404)
        #expect(try ui.get("/runs/-9223372036854775808").status == 404)
        #expect(try ui.get("/no/such/page").status == 404)
    }

    @Test func compareShowsSideBySideOnlyWhatDiffersChartsAndParallelCoordinates() async throws { try await onOwnThread { [self] in try self.compareShowsSideBySideOnlyWhatDiffersChartsAndParallelCoordinatesBody() } }
    func compareShowsSideBySideOnlyWhatDiffersChartsAndParallelCoordinatesBody() throws {
        let sweep = try runsJSON("?sort=rmse")
        let ids = numbers(sweep["runs"], ["id"]).map { String(Int($0)) }
        guard ids.count == 6 else { Issue.record("expected 6 runs"); return }
        // rmse 12 (alpha 0.1, depth 2) and 14 (alpha 0.1, depth 4): alpha is shared.
        let all = try ui.json("/compare?run=\(ids[0])&run=\(ids[1])")
        let allNames = rowNames(all)
        #expect(allNames.contains("alpha") && allNames.contains("depth") && allNames.contains("rmse"))
        let differs = try ui.json("/compare?run=\(ids[0])&run=\(ids[1])&differs=1")
        let names = rowNames(differs)
        #expect(names.contains("depth") && names.contains("rmse") && names.contains("loss"))
        #expect(!names.contains("alpha") && !names.contains("status"))
        let page = try ui.get("/compare?runs=\(ids[0]),\(ids[1])&differs=1").text
        #expect(page.contains("Showing only what differs"))
        #expect(page.contains("<a href=\"/runs/\(ids[0])\">run \(ids[0])</a>"))
        #expect(!page.contains("<th>alpha</th>"))
        #expect(page.contains("class=\"parallel\""))
        #expect(page.components(separatedBy: "<svg").count - 1 == 2)   // the loss histories overlaid, parallel coordinates
        let chosen = try ui.get("/compare?runs=\(ids.joined(separator: ","))&metric=rmse").text
        #expect(chosen.contains("Params → rmse"))
        #expect(try ui.get("/compare").status == 400)
        #expect(try ui.get("/compare?run=\(ids[0])&metric=nope").status == 400)
        #expect(try ui.get("/compare?run=\(ids[0])&run=9999").status == 404)
    }

    @Test func compareAveragesRunsThatRepeatParamsWithOtherSeeds() async throws { try await onOwnThread { [self] in try self.compareAveragesRunsThatRepeatParamsWithOtherSeedsBody() } }
    func compareAveragesRunsThatRepeatParamsWithOtherSeedsBody() throws {
        let seeds = try ui.json("/experiments/seeds")
        let ids = numbers(seeds["runs"], ["id"]).map { String(Int($0)) }
        let json = try ui.json("/compare?runs=" + ids.joined(separator: ","))
        guard case .array(let groups)? = json["groups"], let g = groups.first else { Issue.record("no groups: \(json)"); return }
        #expect(groups.count == 1)
        #expect(g["metrics"]?["rmse"]?["mean"]?.double == 12)
        #expect(g["metrics"]?["rmse"]?["std"]?.double == 1)
        #expect(try ui.get("/compare?runs=" + ids.joined(separator: ",")).text.contains("12 ± 1"))
    }

    @Test func modelsListVersionsAliasesAndRuns() async throws { try await onOwnThread { [self] in try self.modelsListVersionsAliasesAndRunsBody() } }
    func modelsListVersionsAliasesAndRunsBody() throws {
        let list = try ui.get("/models").text
        #expect(list.contains("<a href=\"/models/diab\">diab</a>"))
        #expect(list.contains("production → 2") && list.contains("staging → 1"))
        let json = try ui.json("/models/diab")
        guard case .array(let versions)? = json["versions"] else { Issue.record("no versions"); return }
        #expect(versions.count == 2)
        #expect(versions.last?["aliases"] == .array([.string("production")]))
        // The fixture's first moves (another test may move `champion` later).
        guard case .array(let moves)? = json["alias_history"] else { Issue.record("no alias history"); return }
        let firsts = moves.filter { $0["alias"] == .string("staging") || $0["alias"] == .string("production") }
        #expect(firsts.map { $0["alias"] } == [.string("staging"), .string("production")])
        #expect(firsts.map { $0["version"] } == [JSON(Int64(1)), JSON(Int64(2))] && firsts.allSatisfy { $0["previous"] == .null })
        #expect(try ui.get("/models/diab").text.contains("<h2>Alias history</h2>"))
        let missing = try ui.get("/models/dia")
        #expect(missing.status == 404 && missing.text.contains("href=\"/models/diab\""))
    }

    @Test func datasetsAndDeploymentsShowWhatTheStoreRecorded() async throws { try await onOwnThread { [self] in try self.datasetsAndDeploymentsShowWhatTheStoreRecordedBody() } }
    func datasetsAndDeploymentsShowWhatTheStoreRecordedBody() throws {
        let datasets = try ui.json("/datasets")
        guard case .array(let ds)? = datasets["datasets"] else { Issue.record("no datasets"); return }
        #expect(ds.first { $0["name"] == .string("tiny") }?["rows"]?.double == 3)
        #expect(try ui.get("/datasets").text.contains("tiny@1"))

        let deployments = try ui.json("/deployments")
        let ids = numbers(deployments["deployments"], ["id"])
        #expect(ids.count == 1)
        guard let id = ids.first else { return }
        let d = try ui.json("/deployments/\(Int(id))")
        #expect(d["requests"]?.double == 5)
        #expect((d["latency_p50_ms"]?.double ?? -1) >= 0)
        #expect((d["latency_p99_ms"]?.double ?? -1) >= (d["latency_p50_ms"]?.double ?? 0))
        #expect(d["traffic"]?["diab@2"]?.double == 5)
        let page = try ui.get("/deployments/\(Int(id))").text
        #expect(page.contains("<a href=\"/models/diab\">diab@2</a>"))
        #expect(try ui.get("/deployments/77").status == 404)
    }

    @Test func everyStoredStringIsEscaped() async throws { try await onOwnThread { [self] in try self.everyStoredStringIsEscapedBody() } }
    func everyStoredStringIsEscapedBody() throws {
        let exp = urlEncoded(UIFixture.hostileExperiment)
        let evil = try ui.json("/experiments/" + exp)
        let id = Int(numbers(evil["runs"], ["id"]).first ?? 0)
        #expect(evil["experiment"] == .string(UIFixture.hostileExperiment))
        let pages = ["/experiments", "/experiments/" + exp, "/runs/\(id)", "/compare?run=\(id)", "/models",
                     "/models/" + urlEncoded(UIFixture.hostileModel), "/experiments/" + exp + "?filter=" + urlEncoded("kind == \"<script>\"")]
        for path in pages {
            let page = try ui.get(path)
            #expect(page.status == 200, "\(path)")
            for raw in [UIFixture.hostileExperiment, UIFixture.hostileParam, UIFixture.hostileTag, UIFixture.hostileModel, "<script>"] {
                #expect(!page.text.contains(raw), "\(path) holds \(raw) unescaped")
            }
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
        }
        #expect(try ui.get("/experiments").text.contains("x &lt;img src=x onerror=alert(1)&gt; &quot;q&quot; &amp; &apos;a&apos;"))
        let run = try ui.get("/runs/\(id)").text
        #expect(run.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(run.contains("&lt;b onmouseover=alert(2)&gt;hi&lt;/b&gt;"))
        #expect(try ui.get("/models").text.contains("evil&lt;i onclick=alert(3)&gt;"))
    }

    @Test func postIsRefusedAndHeadAnswersWithoutABody() async throws { try await onOwnThread { [self] in try self.postIsRefusedAndHeadAnswersWithoutABodyBody() } }
    func postIsRefusedAndHeadAnswersWithoutABodyBody() throws {
        let post = try HTTPClient.request("POST", ui.url + "/experiments", body: Array("x=1".utf8))
        #expect(post.text.contains("POST /runs/ID/note"))
        #expect(post.status == 405)
        let head = try HTTPClient.request("HEAD", ui.url + "/experiments")
        #expect(head.status == 200 && head.body.isEmpty)
    }

    @Test func actionsNeedTheFormsCSRFTokenThenSetAnAliasAndANote() async throws { try await onOwnThread { [self] in try self.actionsBody() } }
    func actionsBody() throws {
        let page = try ui.get("/models/diab").text
        guard let start = page.range(of: "name=\"csrf\" value=\"") else { Issue.record("no CSRF field on the model page"); return }
        let csrf = String(page[start.upperBound...].prefix { $0 != "\"" })
        #expect(page.contains("action=\"/models/diab/alias\""))
        let form = [("Content-Type", "application/x-www-form-urlencoded")]
        func post(_ path: String, _ body: String) throws -> HTTPClient.Reply {
            try HTTPClient.request("POST", ui.url + path, body: Array(body.utf8), headers: form)
        }
        let forged = try post("/models/diab/alias", "alias=champion&version=1&csrf=nope")
        #expect(forged.status == 403)
        #expect(try post("/models/diab/alias", "alias=champion&version=1").status == 403)
        let moved = try post("/models/diab/alias", "alias=champion&version=1&csrf=" + csrf)
        #expect(moved.status == 303 && moved.header("Location") == "/models/diab")
        let versions = try ui.json("/models/diab")["versions"]
        guard case .array(let vs)? = versions else { Issue.record("no versions"); return }
        #expect(vs.first?["aliases"] == .array([.string("champion"), .string("staging")]))
        guard case .array(let moves)? = try ui.json("/models/diab")["alias_history"] else { Issue.record("no alias history"); return }
        #expect(moves.last?["alias"] == .string("champion") && moves.last?["previous"] == .null)
        #expect(moves.last?["by"] == .string(Store.actor + " via mlsh ui"))
        #expect(try post("/models/diab/alias", "alias=latest&version=1&csrf=" + csrf).status == 400)
        #expect(try post("/models/diab/alias", "alias=x&version=9&csrf=" + csrf).status == 404)

        let first = Int(numbers(try runsJSON("?sort=id")["runs"], ["id"]).first ?? 0)
        let noted = try post("/runs/\(first)/note", "note=looks+%3Cgood%3E&csrf=" + csrf)
        #expect(noted.status == 303 && noted.header("Location") == "/runs/\(first)")
        #expect(try ui.json("/runs/\(first)")["tags"]?["note"] == .string("looks <good>"))
        #expect(try ui.get("/runs/\(first)").text.contains("value=\"looks &lt;good&gt;\""))
        #expect(try post("/runs/9999/note", "note=x&csrf=" + csrf).status == 404)
    }

    func rowNames(_ compare: JSON) -> [String] {
        guard case .array(let rows)? = compare["rows"] else { return [] }
        return rows.compactMap { if case .string(let s)? = $0["name"] { s } else { nil } }
    }
}

/// A query value percent-encoded.
func urlEncoded(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~")) ?? s
}
