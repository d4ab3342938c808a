// Times MLShModels fits on the synthetic data scripts/bench.d/models writes, and prints one
// JSON object {"name": median milliseconds, ...}. Usage: ModelBench DIR [RUNS]
// DIR holds manifest.json and raw little-endian float64 files written by numpy.
import Foundation
import MLShCommon
import MLShEngine
import MLShModels

ColumnMemory.configure()   // as mlsh does

struct DatasetInfo: Decodable {
    var rows: Int
    var cols: Int
    var x: String
    var y: String
    var classify: Bool
}

func loadDoubles(_ path: String, count: Int) throws -> [Double] {
    let data = try Data(contentsOf: URL(fileURLWithPath: path))
    guard data.count == count * 8 else {
        throw NSError(domain: "ModelBench", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(path): \(data.count) bytes, expected \(count * 8)"])
    }
    return data.withUnsafeBytes { raw in (0..<count).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) } }
}

func table(_ dir: String, _ info: DatasetInfo) throws -> Table {
    let x = try loadDoubles(dir + "/" + info.x, count: info.rows * info.cols)
    let y = try loadDoubles(dir + "/" + info.y, count: info.rows)
    var names: [String] = [], cols: [Column] = []
    for j in 0..<info.cols {
        names.append("x\(j)")
        cols.append(Column(floats: (0..<info.rows).map { x[$0 * info.cols + j] }))
    }
    names.append("y")
    cols.append(info.classify ? Column(ints: y.map { Int64($0) }) : Column(floats: y))
    return try Table(names: names, columns: cols)
}

func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }

func timeIt(runs: Int, _ body: () throws -> Void) rethrows -> Double {
    try body() // warm-up
    var samples: [Double] = []
    for _ in 0..<runs {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
    }
    return median(samples)
}

let args = CommandLine.arguments
guard args.count >= 2 else { print("usage: ModelBench DIR [RUNS]"); exit(2) }
let dir = args[1]
let runs = args.count > 2 ? Int(args[2]) ?? 5 : 5
let manifest = try JSONDecoder().decode([String: DatasetInfo].self,
                                        from: Data(contentsOf: URL(fileURLWithPath: dir + "/manifest.json")))
var tables: [String: Table] = [:]
/// A dataset, read on first use.
@MainActor func data(_ name: String) throws -> Table {
    if let t = tables[name] { return t }
    guard let info = manifest[name] else { print("missing dataset \(name)"); exit(2) }
    let t = try table(dir, info)
    tables[name] = t
    return t
}

let only = ProcessInfo.processInfo.environment["MODELBENCH_ONLY"].map { Set($0.split(separator: ",").map(String.init)) }
let cases: [(String, String, ModelSpec, String?)] = [
    ("linear", "reg200k", .linear(LinearSpec()), "y"),
    ("ridge", "reg200k", .ridge(RidgeSpec(alpha: 1)), "y"),
    ("logistic", "clf200k", .logistic(LogisticSpec(l2: 1, maxIter: 100)), "y"),
    ("kmeans", "blobs200k", .kmeans(KMeansSpec(k: 8, seed: 0, inits: 1)), nil),
    ("tree", "clf50k", .tree(TreeSpec(maxDepth: 10)), "y"),
    ("forest", "clf20k", .forest(ForestSpec(trees: 100, maxDepth: 10, seed: 0)), "y"),
    ("boost", "clf50k", .boost(BoostSpec(rounds: 100, lr: 0.1, maxDepth: 3)), "y"),
    ("naive_bayes", "clf200k", .naiveBayes(NaiveBayesSpec()), "y"),
]
var results: [String: Double] = [:]
var quality: [String: Double] = [:]
for (name, dataName, spec, target) in cases where only?.contains(name) ?? true {
    let t = try data(dataName)
    let features = t.names.filter { $0 != "y" }
    // Tree models treat an int target as numbers; classify by giving them string labels.
    var train = t
    if target != nil, ["tree", "forest", "boost"].contains(name), case .int(let v, _) = try t.column("y").storage {
        train = try Table(names: t.names, columns: Array(t.columns.dropLast()) + [Column(strings: v.map { String($0) })])
    }
    var model: FittedModel?
    results[name] = try timeIt(runs: runs) {
        model = try fit(PipelineSpec(spec), on: train, target: target, features: features)
    }
    if let m = model {
        if target == nil {
            quality[name + "_ari"] = try m.evaluate(train, labels: "y")["ari"] ?? .nan
        } else {
            let metric = m.task == .classification ? "accuracy" : "r2"
            quality[name + "_" + metric] = try m.evaluate(train)[metric] ?? .nan
        }
    }
}
if only?.contains("knn_predict") ?? true {
    let train = try data("knn_train"), query = try data("knn_query")
    let features = train.names.filter { $0 != "y" }
    let m = try fit(PipelineSpec(.knn(KNNSpec(k: 5))), on: train, target: "y", features: features)
    var out: Table?
    results["knn_predict"] = try timeIt(runs: runs) { out = try m.predict(query) }
    if let out { quality["knn_r2_query"] = try m.evaluate(out)["r2"] ?? .nan }
}
var json: [String: Double] = results
for (k, v) in quality { json["quality_" + k] = v }
print(JSONWriter.text(JSON.object(json.map { ($0.key, .number($0.value)) }).sortingKeys()))
