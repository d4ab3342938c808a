import Foundation
import Testing
import TestSupport
@testable import MLShEngine

/// Files mlsh writes, read by pyarrow and Polars (from a venv this test makes once under
/// .build/), hold the table's values and types: every compression, nulls in every type,
/// several row groups.
@Suite struct ParquetInteropTests {
    /// The venv with pyarrow and Polars, made once under .build/ and reused; its python.
    static func venv() throws -> String {
        try pythonVenv("parquet-venv", packages: ["pyarrow", "polars"])
    }

    /// Prints, per file and reader, each column's type and values as JSON (ints and
    /// floats as text, so no digit is lost on the way).
    static let script = """
        import json, sys
        import polars as pl
        import pyarrow.parquet as pq

        def canon(v):
            if v is None or isinstance(v, (bool, str)):
                return v
            return repr(v) if isinstance(v, float) else str(v)

        out = []
        for path in sys.argv[1:]:
            t = pq.read_table(path)
            df = pl.read_parquet(path)
            out.append({
                "pyarrow": [[n, str(t.schema.field(n).type), [canon(x) for x in t.column(n).to_pylist()]] for n in t.column_names],
                "polars": [[n, str(df.schema[n]), [canon(x) for x in df[n].to_list()]] for n in df.columns],
            })
        print(json.dumps(out))
        """

    /// A column's values as the script prints them: nil for missing, text for numbers.
    static func expected(_ c: Column) -> [Any?] {
        (0..<c.count).map { i -> Any? in
            if c.isMissing(i) { return nil }
            switch c.value(at: i) {
            case .float(let d): return d
            case .int(let v): return String(v)
            case .bool(let b): return b
            case .string(let s): return s
            case .missing: return nil
            }
        }
    }

    static func same(_ want: Any?, _ got: Any?) -> Bool {
        guard let want else { return got == nil || got is NSNull }
        if let d = want as? Double, let s = got as? String { return Double(s)?.bitPattern == d.bitPattern }
        if let a = want as? String, let b = got as? String { return a == b }
        if let a = want as? Bool, let b = got as? Bool { return a == b }
        return false
    }

    @Test func pyarrowAndPolarsReadWhatMlshWrites() throws {
        let python = try Self.venv()
        let dir = try temporaryFolder("parquet-interop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let t = try ParquetWriteTests.everything(rows: 2_500)
        var paths: [String] = []
        for c in ParquetCompression.allCases {
            paths.append("\(dir)/\(c.rawValue).parquet")
            try Parquet.write(t, to: paths[paths.count - 1], compression: c, rowGroupRows: 1_000)
        }
        try Self.script.write(toFile: dir + "/read.py", atomically: true, encoding: .utf8)
        let r = try runProgram(python, [dir + "/read.py"] + paths)
        #expect(r.code == 0, "the readers failed: \(r.err)")
        let files = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [[String: [[Any]]]])
        #expect(files.count == paths.count)
        let types: [String: [DType: String]] = [
            "pyarrow": [.float: "double", .int: "int64", .bool: "bool", .string: "string"],
            "polars": [.float: "Float64", .int: "Int64", .bool: "Boolean", .string: "String"],
        ]
        for (path, readers) in zip(paths, files) {
            for reader in ["pyarrow", "polars"] {
                let columns = readers[reader] ?? []
                #expect(columns.map { $0[0] as? String } == t.names, "\(reader) \(path)")
                for (k, entry) in columns.enumerated() where k < t.columns.count && entry.count == 3 {
                    let c = t.columns[k]
                    #expect(entry[1] as? String == types[reader]?[c.dtype], "\(reader) \(path) \(t.names[k])")
                    let got = entry[2] as? [Any] ?? []
                    let want = Self.expected(c)
                    #expect(got.count == want.count, "\(reader) \(path) \(t.names[k])")
                    if let i = want.indices.first(where: { $0 >= got.count || !Self.same(want[$0], got[$0]) }) {
                        Issue.record("\(reader) \(path) \(t.names[k]) row \(i): expected \(String(describing: want[i])), got \(i < got.count ? String(describing: got[i]) : "nothing")")
                    }
                }
            }
        }
    }
}
