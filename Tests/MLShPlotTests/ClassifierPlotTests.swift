import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import MLShPlot

/// ROC curves and confusion heat maps: SVG structure (elements and attributes, not
/// pixels), terminal drawing, and ANSI colour only when asked for.
@Suite struct ClassifierPlotTests {
    let xml = PlotTests()

    var roc: Plot {
        Plot.roc([("setosa", [0, 0, 1], [0, 1, 1], 1.0), ("virginica", [0, 0.2, 0.5, 1], [0, 0.6, 0.9, 1], 0.87)],
                 title: "ROC of species")
    }

    var confusion: Plot {
        Plot.confusion(classes: ["a", "b", "c"], counts: [[5, 1, 0], [0, 7, 2], [1, 0, 9]], title: "confusion of y")
    }

    @Test func rocSVGStructure() throws {
        let doc = try xml.parse(roc.svg())
        let root = try #require(doc.rootElement())
        #expect(xml.attr(root, "viewBox") == "0 0 640 400")
        let lines = xml.named(doc, "polyline", class: "series")
        #expect(lines.count == 2)
        #expect(lines.map { xml.attr($0, "stroke") } == [Plot.palette[0], Plot.palette[1]])
        #expect(lines.first.flatMap { xml.attr($0, "points") }?.split(separator: " ").count == 3)
        let chance = try #require(xml.named(doc, "line", class: "chance").first)
        #expect(xml.attr(chance, "stroke-dasharray") != nil)
        // The diagonal runs from the bottom-left corner to the top-right one.
        #expect(xml.attr(chance, "x1") != xml.attr(chance, "x2") && xml.attr(chance, "y1") != xml.attr(chance, "y2"))
        let legend = xml.named(doc, "text", class: "legend-label").map(\.stringValue)
        #expect(legend == ["setosa (AUC 1.000)", "virginica (AUC 0.870)"])
        #expect(xml.named(doc, "text", class: "xlabel").first?.stringValue == "false positive rate")
        #expect(xml.named(doc, "text", class: "ylabel").first?.stringValue == "true positive rate")
        // Axes cover exactly the unit square: ticks 0.0 ... 1.0.
        let ticks = xml.named(doc, "text", class: "tick").compactMap(\.stringValue)
        #expect(ticks.filter { $0 == "0.0" }.count == 2 && ticks.filter { $0 == "1.0" }.count == 2)
    }

    @Test func binaryROCStillHasALegend() throws {
        let one = Plot.roc([("malignant", [0, 0.1, 1], [0, 0.9, 1], 0.95)], title: "ROC")
        let doc = try xml.parse(one.svg())
        #expect(xml.named(doc, "text", class: "legend-label").map(\.stringValue) == ["malignant (AUC 0.950)"])
        #expect(one.terminal().hasSuffix("series: malignant (AUC 0.950)"))
    }

    @Test func confusionSVGStructure() throws {
        let doc = try xml.parse(confusion.svg())
        let cells = xml.named(doc, "rect", class: "cell")
        #expect(cells.count == 9)
        let counts = xml.named(doc, "text", class: "count").compactMap(\.stringValue)
        #expect(counts == ["5", "1", "0", "0", "7", "2", "1", "0", "9"])
        // Shades follow the counts: the largest is darkest, zero is the lightest.
        let fills = cells.compactMap { xml.attr($0, "fill") }
        #expect(fills[8] == Plot.blues(1) && fills[2] == Plot.blues(0))
        #expect(fills[4] != fills[0])
        // Cells are squares on a grid: three distinct x and three distinct y positions.
        #expect(Set(cells.compactMap { xml.attr($0, "x") }).count == 3)
        #expect(Set(cells.compactMap { xml.attr($0, "y") }).count == 3)
        #expect(cells.allSatisfy { xml.attr($0, "width") == xml.attr($0, "height") })
        let labels = xml.named(doc, "text", class: "tick").compactMap(\.stringValue)
        #expect(labels == ["a", "a", "b", "b", "c", "c"])
        #expect(xml.named(doc, "text", class: "xlabel").first?.stringValue == "predicted")
        #expect(xml.named(doc, "text", class: "ylabel").first?.stringValue == "actual")
    }

    @Test func confusionTerminal() {
        let text = confusion.terminal()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5)
        #expect(lines[0] == "confusion of y")
        #expect(lines[1].hasPrefix("actual \\ predicted"))
        #expect(lines[2].hasPrefix("a ") && lines[2].hasSuffix("· 0") && lines[2].contains("5"))
        #expect(lines[4].hasSuffix("█ 9"))
        #expect(!text.contains("\u{1B}["))
    }

    @Test func raggedOrEmptyConfusionSaysNoData() {
        let ragged = Plot.confusion(classes: ["a", "b"], counts: [[1, 2]], title: "c")
        #expect(ragged.emptyMessage == "no data to plot")
        #expect(ragged.terminal().contains("no data to plot") && ragged.svg().contains("no data to plot"))
        #expect(Plot.roc([], title: "r").emptyMessage == "no data to plot")
    }

    @Test func colourOnlyWhenAsked() {
        let plain = roc.terminal()
        #expect(!plain.contains("\u{1B}["))
        let coloured = roc.terminal(color: true)
        #expect(coloured.contains("\u{1B}[34m") && coloured.contains("\u{1B}[33m") && coloured.contains("\u{1B}[0m"))
        // Without the escape codes the drawing is the same.
        let stripped = coloured.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(stripped == plain)
        let scatter = Plot(kind: .scatter, title: "s", xLabel: "x", yLabel: "y",
                           series: [.init(x: [0, 1], y: [0, 1], label: "p"), .init(x: [0, 1], y: [1, 0], label: "q")])
        #expect(scatter.terminal(color: true).contains("\u{1B}[33m"))
        #expect(confusion.terminal(color: true).contains("\u{1B}[34m"))
    }
}
