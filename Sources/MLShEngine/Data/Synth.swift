import MLShCommon

/// The bundled datasets' names (their CSV text is built into the binary:
/// `bundledDatasetText`).
public let bundledDatasetNames = bundledDatasetText.map(\.key)

/// A bundled dataset, parsed from the CSV text built into the binary, labelled `name`.
public func bundledDataset(_ name: String) throws(EngineError) -> Table {
    guard let text = bundledDatasetText.first(where: { $0.key == name })?.value else {
        var m = "unknown dataset '\(name)'"
        if let s = closestName(to: name, in: bundledDatasetNames) { m += " (did you mean '\(s)'?)" }
        m += "; bundled datasets: " + bundledDatasetNames.joined(separator: ", ")
        throw EngineError.invalidArgument(m)
    }
    var t = try CSV.read(data: Array(text.utf8), name: name)
    t.label = name
    return t
}

/// Rows per generation chunk: chunks are seeded by index, so results do not depend on threads.
let synthChunkRows = 1 << 14

/// A synthetic table (see LANGUAGE.md §5): float features `x0, x1, ...` and a target `y`.
/// - `regression`: standard normal features; `y = X·w + noise·N(0,1)` where the weights of the
///   first `informative` features (default all) are seeded uniform in [0, 100), the rest 0.
/// - `classification`: like scikit-learn's `make_classification`: each class has a centroid
///   at a corner (±1) of the hypercube over the first `informative` features (default
///   half, at least 1); a row is its class's centroid plus N(0,1) in those features and N(0,1)
///   elsewhere; then a `noise` fraction of labels is replaced by random ones. Labels `c0, c1, ...`.
/// - `blobs`: `centers` isotropic N(0,1) clusters whose centres are seeded uniform in
///   [-10, 10]; labels `c0, c1, ...`.
public func synth(_ kind: String, rows: Int, features: Int, classes: Int = 2, centers: Int = 8,
                  noise: Double = 0.1, informative: Int? = nil, seed: UInt64) throws(EngineError) -> Table {
    let kinds = ["regression", "classification", "blobs"]
    guard kinds.contains(kind) else {
        var m = "unknown synth kind '\(kind)'"
        if let s = closestName(to: kind, in: kinds) { m += " (did you mean '\(s)'?)" }
        throw EngineError.invalidArgument(m + "; kinds: " + kinds.joined(separator: ", "))
    }
    guard rows >= 0, rows <= 1 << 31 else { throw EngineError.invalidArgument("synth: rows must be in 0...2^31, got \(rows)") }
    guard features >= 1, features <= 100_000 else { throw EngineError.invalidArgument("synth: features must be at least 1, got \(features)") }
    guard rows.multipliedReportingOverflow(by: features).partialValue <= 1 << 31, !rows.multipliedReportingOverflow(by: features).overflow else {
        throw EngineError.invalidArgument("synth: rows × features is too large")
    }
    guard noise >= 0, noise.isFinite else { throw EngineError.invalidArgument("synth: noise must be ≥ 0") }
    var rng = SeededRandom(seed: seed)
    let nInf = min(features, max(1, informative ?? (kind == "regression" ? features : max(1, features / 2))))
    if let informative, informative < 1 || informative > features {
        throw EngineError.invalidArgument("synth: informative must be in 1...\(features), got \(informative)")
    }
    let k: Int
    switch kind {
    case "classification":
        guard classes >= 2, classes <= 10_000 else { throw EngineError.invalidArgument("synth: classes must be at least 2, got \(classes)") }
        k = classes
    case "blobs":
        guard centers >= 1, centers <= 10_000 else { throw EngineError.invalidArgument("synth: centers must be at least 1, got \(centers)") }
        k = centers
    default: k = 0
    }
    if k.multipliedReportingOverflow(by: features).partialValue > 10_000_000 {
        throw EngineError.invalidArgument("synth: \(kind == "blobs" ? "centers" : "classes") × features is too large")
    }
    if kind == "classification" && noise > 1 { throw EngineError.invalidArgument("synth: for classification, noise is the fraction of flipped labels (0...1)") }
    // Global parameters from the main generator.
    var weights = [Double](repeating: 0, count: features)
    var centroids = [[Double]]()
    if kind == "regression" {
        for j in 0..<nInf { weights[j] = 100 * rng.nextDouble() }
    } else if kind == "classification" {
        for _ in 0..<k {
            // A random corner, distinct from the others while distinct corners remain.
            var v = [Double](repeating: 0, count: features)
            for _ in 0..<(k <= 256 ? 64 : 1) {
                for j in 0..<nInf { v[j] = rng.next() & 1 == 1 ? 1 : -1 }
                if !centroids.contains(v) { break }
            }
            centroids.append(v)
        }
    } else if kind == "blobs" {
        for _ in 0..<k { centroids.append((0..<features).map { _ in 20 * rng.nextDouble() - 10 }) }
    }
    let chunkSeed = rng.next()
    let x = UnsafeMutablePointer<Double>.allocate(capacity: max(1, rows * features))
    defer { x.deallocate() }
    let y = UnsafeMutablePointer<Double>.allocate(capacity: max(1, rows))
    defer { y.deallocate() }
    let labels = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, rows))
    defer { labels.deallocate() }
    let nChunks = (rows + synthChunkRows - 1) / synthChunkRows
    let shared = DataUncheckedBox((x, y, labels, weights, centroids))
    let perWorker = dataChunkRanges(nChunks, parts: dataWorkerCount)
    _ = dataParallelChunks(count: perWorker.count) { w in
        let (x, y, labels, weights, centroids) = shared.value
        for chunk in perWorker[w] {
            var r = SeededRandom(seed: chunkSeed, stream: UInt64(chunk))
            let lo = chunk * synthChunkRows, hi = min(rows, lo + synthChunkRows)
            for i in lo..<hi {
                switch kind {
                case "regression":
                    var acc = 0.0
                    for j in 0..<features {
                        let v = r.nextGaussian()
                        x[j * rows + i] = v
                        acc += v * weights[j]
                    }
                    y[i] = acc + noise * r.nextGaussian()
                case "classification":
                    let c = r.nextInt(below: k)
                    for j in 0..<features { x[j * rows + i] = centroids[c][j] + r.nextGaussian() }
                    let flip = r.nextDouble() < noise
                    let other = r.nextInt(below: k)
                    labels[i] = Int32(flip ? other : c)
                default:
                    let c = r.nextInt(below: k)
                    for j in 0..<features { x[j * rows + i] = centroids[c][j] + r.nextGaussian() }
                    labels[i] = Int32(c)
                }
            }
        }
        return 0
    }
    var names: [String] = [], cols: [Column] = []
    for j in 0..<features {
        names.append("x\(j)")
        cols.append(Column(floats: Array(UnsafeBufferPointer(start: x + j * rows, count: rows))))
    }
    names.append("y")
    if kind == "regression" {
        cols.append(Column(floats: Array(UnsafeBufferPointer(start: y, count: rows))))
    } else {
        cols.append(Column(.string(codes: Array(UnsafeBufferPointer(start: labels, count: rows)),
                                   dictionary: (0..<k).map { "c\($0)" })))
    }
    return try Table(names: names, columns: cols, label: kind)
}
