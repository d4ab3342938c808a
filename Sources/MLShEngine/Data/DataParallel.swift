import Dispatch
import MLShCommon

/// The number of worker threads data operations use: every usable core (results never
/// depend on it).
let dataWorkerCount = Processors.usable

/// A buffer that parallel chunks write into, each at its own index.
final class DataParallelSlots<T>: @unchecked Sendable {
    private var slots: [T?]
    private let lock = DispatchQueue(label: "mlsh.data.slots")
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ v: T) { lock.sync { slots[i] = v } }
    func values() -> [T?] { lock.sync { slots } }
}

/// Runs `body(i)` for `i` in `0..<count` on up to `dataWorkerCount` threads and returns the
/// results in index order. Results never depend on the thread count.
func dataParallelChunks<T>(count: Int, sequential: Bool = false, _ body: (Int) -> T) -> [T] {
    if count <= 0 { return [] }
    if count == 1 || sequential { return (0..<count).map(body) }
    let slots = DataParallelSlots<T>(count: count)
    withoutActuallyEscaping(body) { fn in
        let box = DataUncheckedBox(fn)
        DispatchQueue.concurrentPerform(iterations: count) { i in slots.set(i, box.value(i)) }
    }
    return slots.values().compactMap { $0 }
}

/// A value handed to parallel workers that only read it (or write disjoint parts of it).
struct DataUncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Splits `0..<n` into `parts` contiguous ranges of nearly equal size.
func dataChunkRanges(_ n: Int, parts: Int) -> [Range<Int>] {
    let p = max(1, min(parts, n))
    if n == 0 { return [0..<0] }
    var out: [Range<Int>] = []
    var start = 0
    for i in 0..<p {
        let end = start + n / p + (i < n % p ? 1 : 0)
        out.append(start..<end)
        start = end
    }
    return out
}

/// A filter mask cut into pieces that are compacted in parallel: each piece's rows and
/// where its kept values start in the output (`starts` has one more entry: the total).
struct DataMaskPieces {
    let ranges: [Range<Int>]
    let starts: [Int]
    var kept: Int { starts[starts.count - 1] }

    /// The first `rows` entries of `mask` (at most its length). Below 1 << 16 rows one
    /// piece; above, a few per worker (at least 64K rows each), so uneven masks still keep
    /// every worker busy.
    init(_ mask: [Bool], rows: Int) {
        let n = min(rows, mask.count)
        let ranges = dataChunkRanges(n, parts: n < dataParallelGatherRows ? 1 : min(dataWorkerCount * 4, n >> 16))
        let counts: [Int] = mask.withUnsafeBufferPointer { m in
            let box = DataUncheckedBox(m)
            return dataParallelChunks(count: ranges.count) { j in
                var k = 0
                for i in ranges[j] { k &+= Int(unsafeBitCast(box.value[i], to: UInt8.self)) }
                return k
            }
        }
        var starts = [0]
        for c in counts { starts.append(starts[starts.count - 1] + c) }
        self.ranges = ranges
        self.starts = starts
    }
}

/// Indices at or above which a gather runs in parallel chunks.
private let dataParallelGatherRows = 1 << 16

/// `src[i]` for each index (in parallel chunks when there are many), `fill` where an
/// index is outside `src`; `outside` says whether any was.
func dataGather<T>(_ src: [T], _ indices: [Int], fill: T) -> (values: [T], outside: Bool) {
    let n = src.count, m = indices.count
    let ranges = dataChunkRanges(m, parts: m >= dataParallelGatherRows ? dataWorkerCount : 1)
    var outside = false
    let values = [T](unsafeUninitializedCapacity: m) { dst, count in
        src.withUnsafeBufferPointer { s in
            indices.withUnsafeBufferPointer { ix in
                let box = DataUncheckedBox((s, ix, dst))
                outside = dataParallelChunks(count: ranges.count) { c in
                    let (s, ix, dst) = box.value
                    var out = false
                    for k in ranges[c] {
                        let i = ix[k]
                        if i >= 0 && i < n { dst.initializeElement(at: k, to: s[i]) } else {
                            dst.initializeElement(at: k, to: fill); out = true
                        }
                    }
                    return out
                }.contains(true)
            }
        }
        count = m
    }
    return (values, outside)
}

/// Whether each index lies inside a column of `n` rows: the validity of a gather from a
/// column without missing values.
func dataInside(_ indices: [Int], rows n: Int) -> [Bool] {
    indices.map { $0 >= 0 && $0 < n }
}
