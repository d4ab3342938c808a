import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MLShPlot

@Suite struct PlotTests {
    func parse(_ svg: String) throws -> XMLDocument {
        try XMLDocument(xmlString: svg, options: [])
    }

    /// Every element in document order (walked by hand: XPath and the SVG default namespace disagree).
    func elements(_ doc: XMLDocument) -> [XMLElement] {
        var out: [XMLElement] = []
        func walk(_ e: XMLElement) {
            out.append(e)
            for c in e.children ?? [] { if let ce = c as? XMLElement { walk(ce) } }
        }
        if let r = doc.rootElement() { walk(r) }
        return out
    }

    func attr(_ e: XMLElement, _ name: String) -> String? {
        (e.attributes ?? []).first { ($0.localName ?? $0.name) == name }?.stringValue
    }

    func named(_ doc: XMLDocument, _ tag: String, class cls: String) -> [XMLElement] {
        elements(doc).filter { ($0.localName ?? $0.name) == tag && attr($0, "class") == cls }
    }

    /// `"//tag[@class='c']"` → the count of such elements.
    func count(_ doc: XMLDocument, _ path: String) throws -> Int {
        let body = path.dropFirst(2)
        guard let open = body.firstIndex(of: "[") else { return 0 }
        let tag = String(body[..<open])
        let cls = body[open...].split(separator: "'").dropFirst().first.map(String.init) ?? ""
        return named(doc, tag, class: cls).count
    }

    @Test func niceTicks() {
        #expect(Plot.niceTicks(0, 10) == [0, 2, 4, 6, 8, 10])
        #expect(Plot.niceTicks(0.13, 0.87) == [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
                || Plot.niceTicks(0.13, 0.87).count == 6)
        let t = Plot.niceTicks(4.3, 7.9)
        #expect(t.first ?? 99 <= 4.3 && t.last ?? -99 >= 7.9)
        #expect((4...8).contains(t.count))
        #expect(Plot.niceTicks(0.1, 2.5).map { Plot.tickLabel($0, step: 0.5) } == ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5"])
        #expect(Plot.niceTicks(1, 6.9) == [1, 2, 3, 4, 5, 6, 7])
        let flat = Plot.niceTicks(5, 5)
        #expect(flat.count >= 2 && (flat.first ?? 99) <= 5 && (flat.last ?? -99) >= 5)
        #expect(Plot.tickLabel(0.2, step: 0.2) == "0.2")
        #expect(Plot.tickLabel(20, step: 10) == "20")
    }

    @Test func scatterSVGStructure() throws {
        let p = Plot(kind: .scatter, title: "a <b> & c", xLabel: "x", yLabel: "y", series: [
            .init(x: [1, 2, 3], y: [3, 1, 2], label: "one"),
            .init(x: [2, 3, 4], y: [1, .nan, 5], label: "two"),
        ])
        let svg = p.svg()
        #expect(svg.contains("a &lt;b&gt; &amp; c"))
        let doc = try parse(svg)
        let root = try #require(doc.rootElement())
        #expect((root.localName ?? root.name) == "svg")
        #expect(attr(root, "viewBox") == "0 0 640 400")
        #expect(try count(doc, "//path[@class='series']") == 2)
        #expect(try count(doc, "//text[@class='tick']") >= 6)
        let title = named(doc, "text", class: "title").first?.stringValue
        #expect(title == "a <b> & c")
        #expect(try count(doc, "//text[@class='legend-label']") == 2)
        #expect(try count(doc, "//text[@class='xlabel']") == 1)
    }

    @Test func lineAndBarAndHistSVG() throws {
        let l = Plot(kind: .line, title: "l", xLabel: "x", yLabel: "y", series: [.init(x: [1, 2, 3], y: [1, 4, 9])])
        #expect(try count(parse(l.svg()), "//polyline[@class='series']") == 1)
        #expect(try count(parse(l.svg()), "//g[@class='legend']") == 0)
        let b = Plot(kind: .bar, title: "b", xLabel: "k", yLabel: "v", categories: ["a", "b", "c"], values: [1, 2, 3])
        #expect(try count(parse(b.svg()), "//rect[@class='bar']") == 3)
        let h = Plot.histogram([1, 2, 2, 3, 3, 3], bins: 3, title: "h", xLabel: "x")
        #expect(h.series.first?.y == [1, 2, 3])
        #expect(try count(parse(h.svg()), "//rect[@class='bar']") == 3)
    }

    @Test func terminalDimensions() {
        let p = Plot(kind: .line, title: "t", xLabel: "x", yLabel: "y", series: [.init(x: [0, 1, 2], y: [0, 1, 0])])
        let lines = p.terminal(width: 72, height: 18).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 18 + 3)
        for l in lines { #expect(l.count <= 72) }
        let canvas = lines.dropFirst().prefix(18)
        #expect(canvas.allSatisfy { $0.unicodeScalars.contains { (0x2800...0x28FF).contains($0.value) } })
        #expect(canvas.contains { $0.unicodeScalars.contains { (0x2801...0x28FF).contains($0.value) } })
        #expect(lines[1].hasPrefix("1"))
        #expect(lines[18].hasPrefix("0"))
    }

    @Test func emptyAndNaNGiveMessage() {
        let h = Plot.histogram([.nan, .nan], bins: 5, title: "h", xLabel: "x")
        #expect(h.emptyMessage == "no finite values to plot in $x")
        #expect(h.terminal().contains("no finite values to plot in $x"))
        #expect(h.svg().contains("no finite values to plot in $x"))
        let s = Plot(kind: .scatter, title: "s", xLabel: "a", yLabel: "b", series: [.init(x: [1, 2], y: [.nan, .nan])])
        #expect(s.emptyMessage == "no finite values to plot in $b")
        let e = Plot(kind: .line, title: "e", xLabel: "a", yLabel: "b", series: [.init(x: [], y: [])])
        #expect(e.emptyMessage == "no finite values to plot in $a")
    }
}

@Suite struct PlotExtremeTests {
    @Test func hugeRangesDoNotTrap() {
        let h = Plot.histogram([-1e308, 1e308, 0], bins: 4, title: "h", xLabel: "x")
        #expect(h.series.first?.y.reduce(0, +) == 3)
        #expect(!h.terminal().isEmpty)
        #expect(h.svg().hasSuffix("</svg>\n"))
        let s = Plot(kind: .scatter, title: "s", xLabel: "x", yLabel: "y",
                     series: [.init(x: [-1e308, 1e308], y: [1, .infinity])])
        #expect(!s.terminal().isEmpty)
        #expect(Plot.tickLabel(1, step: .infinity) == "1")
    }
}
