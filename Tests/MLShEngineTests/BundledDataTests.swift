import Foundation
import MLShEngine
import Testing

/// The datasets built into the binary are the files in `data/`, byte for byte
/// (`scripts/embed-datasets` regenerates them).
@Suite struct BundledDataTests {
    @Test func embeddedTextEqualsTheDataFiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: dataDir())
            .filter { $0.hasSuffix(".csv") }.map { String($0.dropLast(4)) }.sorted()
        #expect(bundledDatasetNames.sorted() == files)
        for (name, text) in bundledDatasetText {
            let file = try #require(FileManager.default.contents(atPath: dataDir() + "/\(name).csv"))
            #expect(Array(text.utf8) == Array(file), "\(name): run scripts/embed-datasets")
        }
    }

    @Test func bundledTablesParseWithTheirShapes() throws {
        let shapes = ["iris": (150, 5), "wine": (178, 14), "breast_cancer": (569, 31), "diabetes": (442, 11), "digits": (1797, 65)]
        for (name, shape) in shapes {
            let t = try bundledDataset(name)
            #expect(t.rowCount == shape.0 && t.columns.count == shape.1 && t.label == name, "\(name)")
        }
    }
}
