import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
import TestSupport

/// `save` writes SVG for a plot (replacing an older file) and still writes CSV for a table.
@Suite struct PlotSaveTests {
    @Test func savesPlotsAsSVGAndTablesAsCSV() throws {
        let dir = URL(fileURLWithPath: try temporaryFolder("plot-save"))
        defer { try? FileManager.default.removeItem(at: dir) }
        let svg = dir.appendingPathComponent("s.svg").path, csv = dir.appendingPathComponent("t.csv").path
        try Data("old".utf8).write(to: URL(fileURLWithPath: svg))
        let script = """
            let iris = dataset("iris")
            save(scatter(iris, $petal_length, $petal_width, color=$species, title="a < b & c"), "\(svg)")
            save(iris |> head(3), "\(csv)")
            print("done")
            """
        try Data(script.utf8).write(to: dir.appendingPathComponent("save.mls"))
        let scripts = GoldenScript.all(in: dir.path)
        let s = try #require(scripts.first)
        let (out, err) = s.run()
        #expect(err == nil, "\(err?.rendered ?? "")")
        #expect(out.first == "done")
        let text = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(text.contains("<svg") && text.contains("a &lt; b &amp; c"))
        let doc = try XMLDocument(xmlString: text, options: [])
        #expect(doc.rootElement()?.localName == "svg")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        let table = try String(contentsOfFile: csv, encoding: .utf8)
        #expect(table.hasPrefix("sepal_length,sepal_width,petal_length,petal_width,species"))
    }
}
