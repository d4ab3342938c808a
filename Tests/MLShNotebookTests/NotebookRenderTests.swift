import Foundation
import Testing
import TestSupport
@testable import MLShNotebook

/// `mlsh render`: cells, the rendered page against a golden file, escaping, Markdown
/// output with its plot files, and exit codes.
@Suite struct NotebookRenderTests {
    /// Nesting that would recurse once per level stops at a depth limit and shows as text.
    @Test func deepNestingRendersAsTextInsteadOfOverflowingTheStack() {
        for text in [String(repeating: ">", count: 20_000) + " deep",
                     String(repeating: "- ", count: 20_000) + "deep",
                     String(repeating: "[", count: 20_000) + "x" + String(repeating: "](u)", count: 20_000),
                     String(repeating: "*a ", count: 20_000)] {
            let html = Markdown.html(text)
            #expect(!html.isEmpty)
            #expect(!html.contains("<script"))
        }
        let nested = Markdown.html(String(repeating: ">", count: 60) + " deep")
        #expect(nested.contains("&gt;"))
        #expect(nested.components(separatedBy: "<blockquote>").count == Markdown.maxDepth + 2)
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("notebooks").path

    /// Compares with a golden file; `MLSH_UPDATE_GOLDEN=1` rewrites it instead.
    func expectGolden(_ actual: String, _ name: String) throws {
        let path = Self.folder + "/" + name
        if ProcessInfo.processInfo.environment["MLSH_UPDATE_GOLDEN"] == "1" {
            try actual.write(toFile: path, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOfFile: path, encoding: .utf8)
        if actual != expected {
            let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
            let first = (0..<min(a.count, e.count)).first { a[$0] != e[$0] } ?? min(a.count, e.count)
            Issue.record("\(name) differs at line \(first + 1):\n  got:      \(first < a.count ? a[first] : "<end>")\n  expected: \(first < e.count ? e[first] : "<end>")")
        }
    }

    func renderSmall(keepGoing: Bool) throws -> [CellResult] {
        let text = try String(contentsOfFile: Self.folder + "/small.mls", encoding: .utf8)
        // The name as diagnostics show it: relative, so the golden page is the same everywhere.
        return Notebook(text: text).run(path: "small.mls", keepGoing: keepGoing)
    }

    @Test func goldenHTMLPage() throws {
        let results = try renderSmall(keepGoing: true)
        #expect(results.map(\.status) == [.markdown, .ran, .ran, .markdown, .failed, .ran])
        try expectGolden(NotebookHTML.page(title: "small.mls", results: results), "small.html")
    }

    @Test func goldenMarkdownDocument() throws {
        var md = NotebookMarkdown(assets: "small_files")
        let text = md.document(title: "small.mls", results: try renderSmall(keepGoing: true))
        #expect(md.files.map(\.path) == ["small_files/plot-1.svg"])
        try expectGolden(text, "small.md")
    }

    @Test func stopsAfterAFailedCellUnlessKeepGoing() throws {
        let results = try renderSmall(keepGoing: false)
        #expect(results.map(\.status) == [.markdown, .ran, .ran, .markdown, .failed, .notRun])
        #expect(results.last?.outputs == [])
        let page = NotebookHTML.page(title: "small.mls", results: results)
        #expect(page.contains("not run: an earlier cell failed"))
        #expect(page.contains("4 code cells, 1 failed, 1 not run"))
    }

    @Test func errorsNameTheScriptLine() throws {
        let failed = try #require(try renderSmall(keepGoing: true).first { $0.status == .failed })
        guard case .error(let text)? = failed.outputs.last else { Issue.record("no error output"); return }
        #expect(text.hasPrefix("error: unknown column $nope"))
        #expect(text.contains("--> small.mls:29:24"))
        #expect(text.contains(" 29 | let oops = t |> filter($nope > 1)"))
    }

    @Test func hugeTablesAreCutWithARowCount() {
        let results = Notebook(text: "# %%\ntable({x: to_list(range(1000))})\nprint(\"after\")\n").run(path: "t.mls", keepGoing: false)
        let outputs = results.first?.outputs ?? []
        guard case .rich(.table(let layout, _))? = outputs.first else { Issue.record("no table: \(outputs)"); return }
        #expect(layout.rows.count == 11 && layout.elidedRow == 5)
        #expect(layout.rows.first == ["0"] && layout.rows.last == ["999"])
        #expect(layout.footer == "1000 rows × 1 column")
        #expect(outputs.dropFirst().first == .text("after"))
        let page = NotebookHTML.page(title: "t.mls", results: results)
        #expect(page.contains("<tr class=\"elided\">") && page.contains("1000 rows × 1 column"))
        #expect(!page.contains("<td class=\"num\">500</td>"))
    }

    @Test func cellsFollowThePercentFormat() {
        let nb = Notebook(text: "let a = 1\n\n# %% [markdown]\n# # Title\n#\n# text\n#%% second cell\na\n# %%\n\n# %% [md]\n# more\n")
        #expect(nb.cells.map(\.kind) == [.code, .markdown, .code, .markdown])
        #expect(nb.cells.map(\.firstLine) == [1, 4, 8, 12])
        #expect(nb.cells[1].lines == ["# Title", "", "text"])
        #expect(nb.cells[2].text == "a")
        let plain = Notebook(text: "let x = 1\n# a comment, not a marker: # %%\nx\n")
        #expect(plain.cells.count == 1 && plain.cells[0].lines.count == 3)
        #expect(Notebook.marker("# %%time") == nil)
        #expect(Notebook.marker("# %% [markdown] title") == .markdown)
    }

    @Test func rawHTMLInMarkdownIsEscaped() {
        let html = Markdown.html("Hi <script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1)) <javascript:alert(1)>")
        #expect(!html.contains("<script"))
        #expect(!html.contains("<img"))
        #expect(!html.contains("href=\"javascript"))
        #expect(html.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"))
        let md = NotebookMarkdown.escapeRawHTML("a <script>x</script> `<kept>` b\n```\n<pre-kept>\n```")
        #expect(md == "a &lt;script>x&lt;/script> `<kept>` b\n```\n<pre-kept>\n```")
        // Not fences to a GFM viewer, so not kept raw: an indented ``` and a backtick info string.
        #expect(NotebookMarkdown.escapeRawHTML("    ```\n<script>x</script>") == "    ```\n&lt;script>x&lt;/script>")
        #expect(NotebookMarkdown.escapeRawHTML("``` a`b\n<script>x</script>").hasSuffix("&lt;script>x&lt;/script>"))
        // A shorter run does not close a longer fence.
        #expect(NotebookMarkdown.escapeRawHTML("````\n```\n<kept>\n````\n<b>") == "````\n```\n<kept>\n````\n&lt;b>")
    }

    @Test func markdownBlocksAndInlines() {
        #expect(Markdown.html("## Two *x*") == "<h2>Two <em>x</em></h2>\n")
        #expect(Markdown.html("a **b** _c_ snake_case `d*e*`") == "<p>a <strong>b</strong> <em>c</em> snake_case <code>d*e*</code></p>\n")
        #expect(Markdown.html("1. one\n2. two") == "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n")
        #expect(Markdown.html("```mls\nlet x = 1 < 2\n```") == "<pre><code class=\"language-mls\">let x = 1 &lt; 2</code></pre>\n")
        #expect(Markdown.html("[doc](https://x.org/a_(b))") == "<p><a href=\"https://x.org/a_(b)\">doc</a></p>\n")
        #expect(Markdown.html("> quoted") == "<blockquote>\n<p>quoted</p>\n</blockquote>\n")
        #expect(Markdown.html("a\n\n---\n\nb") == "<p>a</p>\n<hr>\n<p>b</p>\n")
    }

    @Test func markdownOutputWritesPlotsBeside() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let script = dir + "/p.mls"
        try "# %%\nlet t = table({k: [\"a\", \"b\"], v: [1, 2]})\nbar(t, $k, $v)\nhist(t, $v)\n".write(toFile: script, atomically: true, encoding: .utf8)
        let out = dir + "/out/report.md"
        try FileManager.default.createDirectory(atPath: dir + "/out", withIntermediateDirectories: true)
        let r = try runProgram(mlshBinary, ["render", script, "-o", out])
        #expect(r.code == 0, "\(r.err)")
        let md = try String(contentsOfFile: out, encoding: .utf8)
        #expect(md.contains("![v by k](report_files/plot-1.svg)"))
        #expect(md.contains("![histogram of v](report_files/plot-2.svg)"))
        for n in 1...2 {
            let svg = try String(contentsOfFile: dir + "/out/report_files/plot-\(n).svg", encoding: .utf8)
            #expect(svg.hasPrefix("<?xml") && svg.contains("<svg"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/out").filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }

    @Test func exitCodes() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.mls", bad = dir + "/bad.mls"
        try "# %%\nprint(1)\n".write(toFile: good, atomically: true, encoding: .utf8)
        try "# %%\nprint(nope)\n# %%\nprint(2)\n".write(toFile: bad, atomically: true, encoding: .utf8)

        let ok = try runProgram(mlshBinary, ["render", good, "-o", dir + "/good.html"])
        #expect(ok.code == 0 && ok.err.isEmpty)
        let page = try String(contentsOfFile: dir + "/good.html", encoding: .utf8)
        #expect(page.hasPrefix("<!DOCTYPE html>") && page.contains("<pre class=\"text\">1</pre>"))
        #expect(!page.contains("<script") && !page.contains("http://") && !page.contains("https://"))

        let failed = try runProgram(mlshBinary, ["render", bad, "-o", dir + "/bad.html"])
        #expect(failed.code == 1)
        #expect(failed.err.contains("unknown name 'nope'") && failed.err.contains("bad.mls:2:7"))
        let failedPage = try String(contentsOfFile: dir + "/bad.html", encoding: .utf8)
        #expect(failedPage.contains("not run") && !failedPage.contains("<pre class=\"text\">2</pre>"))

        let kept = try runProgram(mlshBinary, ["render", bad, "-o", dir + "/kept.html", "--keep-going"])
        #expect(kept.code == 1)
        #expect(try String(contentsOfFile: dir + "/kept.html", encoding: .utf8).contains("<pre class=\"text\">2</pre>"))

        let defaulted = try runProgram(mlshBinary, ["render", good])
        #expect(defaulted.code == 0 && FileManager.default.fileExists(atPath: dir + "/good.html"))

        #expect(try runProgram(mlshBinary, ["render", good, "-o", dir + "/x.pdf"]).code == 2)
        #expect(try runProgram(mlshBinary, ["render"]).code == 2)
        let missing = try runProgram(mlshBinary, ["render", dir + "/none.mls", "-o", dir + "/none.html"])
        #expect(missing.code == 1 && missing.err.contains("cannot read"))
        let unwritable = try runProgram(mlshBinary, ["render", good, "-o", dir + "/no/such/dir/x.html"])
        #expect(unwritable.code == 1 && unwritable.err.contains("cannot write"))
    }

    /// The tutorials are tests: each renders, every cell running to the end on bundled data
    /// (the one place CI runs them).
    @Test func everyTutorialRendersCleanly() throws {
        let dir = try temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let tutorials = repositoryRoot + "/tutorials"
        let files = try FileManager.default.contentsOfDirectory(atPath: tutorials).filter { $0.hasSuffix(".mls") }.sorted()
        #expect(files.count >= 6)
        for f in files {
            let r = try runProgram(mlshBinary, ["render", tutorials + "/" + f, "-o", dir + "/" + f + ".html"],
                                   environment: ProcessInfo.processInfo.environment.merging(["MLSH_STORE": dir + "/store-" + f]) { $1 })
            #expect(r.code == 0, "\(f): \(r.err)")
        }
    }
}
