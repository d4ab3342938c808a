import Foundation
import MLShEngine
@testable import MLShModels

/// A tiny CSV reader for the tests only (the engine's reader is another target's work):
/// a header row, comma-separated, no quoting. A column is int when every value parses as
/// an integer, float when every value parses as a number, else string; empty = missing.
enum TestCSV {
    static let dataDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("data")

    static func load(_ name: String) throws -> Table {
        let text = try String(contentsOf: dataDirectory.appendingPathComponent("\(name).csv"), encoding: .utf8)
        return try parse(text, label: name)
    }

    static func parse(_ text: String, label: String? = nil) throws -> Table {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !lines.isEmpty else { return try Table(names: [], columns: []) }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var cells = [[String]](repeating: [], count: header.count)
        for line in lines {
            let parts = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for j in 0..<header.count { cells[j].append(j < parts.count ? parts[j] : "") }
        }
        var columns: [Column] = []
        for values in cells {
            if values.allSatisfy({ $0.isEmpty || Int64($0) != nil }) {
                columns.append(Column(ints: values.map { Int64($0) ?? 0 }, validity: values.contains("") ? values.map { !$0.isEmpty } : nil))
            } else if values.allSatisfy({ $0.isEmpty || Double($0) != nil }) {
                columns.append(Column(floats: values.map { Double($0) ?? .nan }))
            } else {
                columns.append(Column(strings: values.map { $0.isEmpty ? nil : $0 }))
            }
        }
        return try Table(names: header, columns: columns, label: label)
    }
}

extension Table {
    /// Rows where `keep(index)` holds.
    func testRows(where keep: (Int) -> Bool) throws -> Table {
        try modelGatherRows((0..<rowCount).filter(keep))
    }

    /// The fixed split shared with scripts/sklearn_reference.py: every 5th row (index % 5 == 4) is test.
    func fixedSplit() throws -> (train: Table, test: Table) {
        (try testRows { $0 % 5 != 4 }, try testRows { $0 % 5 == 4 })
    }
}

func pipeline(_ parts: [TransformSpec], _ model: ModelSpec) -> PipelineSpec {
    PipelineSpec(steps: parts, model: model)
}
