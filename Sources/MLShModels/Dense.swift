import CLapack
import Dispatch
import MLShCommon

/// A dense row-major matrix of Doubles, the models' working representation of features.
struct Dense: Sendable, Equatable {
    var rows: Int
    var cols: Int
    var data: [Double]

    init(rows: Int, cols: Int, data: [Double]) { self.rows = rows; self.cols = cols; self.data = data }
    init(rows: Int, cols: Int, value: Double = 0) {
        self.rows = rows; self.cols = cols; self.data = [Double](repeating: value, count: rows * cols)
    }

    /// Rows `idx` as a new matrix.
    func rows(_ idx: [Int]) -> Dense {
        var out = [Double](repeating: 0, count: idx.count * cols)
        data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (r, i) in idx.enumerated() {
                    for j in 0..<cols { dst[r * cols + j] = src[i * cols + j] }
                }
            }
        }
        return Dense(rows: idx.count, cols: cols, data: out)
    }

    /// Column `j` as an array.
    func column(_ j: Int) -> [Double] {
        var out = [Double](repeating: 0, count: rows)
        data.withUnsafeBufferPointer { src in
            for i in 0..<rows { out[i] = src[i * cols + j] }
        }
        return out
    }

    /// Column means.
    func columnMeans() -> [Double] {
        var m = [Double](repeating: 0, count: cols)
        guard rows > 0 else { return m }
        data.withUnsafeBufferPointer { src in
            m.withUnsafeMutableBufferPointer { mp in
                for i in 0..<rows {
                    let base = i * cols
                    for j in 0..<cols { mp[j] += src[base + j] }
                }
            }
        }
        let inv = 1.0 / Double(rows)
        for j in 0..<cols { m[j] *= inv }
        return m
    }
}

/// `C = alpha * op(A) * op(B) + beta * C` for row-major matrices.
func gemm(_ a: UnsafePointer<Double>, _ transA: Bool, _ b: UnsafePointer<Double>, _ transB: Bool,
          _ c: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int, lda: Int, ldb: Int, ldc: Int,
          alpha: Double = 1, beta: Double = 0) {
    cblas_dgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
}

/// A value the caller promises is used safely across threads (disjoint writes).
struct Unchecked<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}

/// Runs `body(i)` for `i in 0..<count`, spread over the machine's cores.
func parallelFor(_ count: Int, _ body: @Sendable (Int) -> Void) {
    if count <= 1 { if count == 1 { body(0) }; return }
    DispatchQueue.concurrentPerform(iterations: count, execute: body)
}

/// Number of worker threads to split work into.
let workerCount = Processors.usable

/// Splits `0..<n` into `parts` nearly equal contiguous ranges.
func chunks(_ n: Int, _ parts: Int) -> [Range<Int>] {
    let p = max(1, min(parts, n))
    var out: [Range<Int>] = []
    for t in 0..<p { out.append((n * t / p)..<(n * (t + 1) / p)) }
    return out
}

/// An array of `count` copies of `zero` filled by `body` through a pointer it may share across threads.
func filledArray<T>(count: Int, zero: T, _ body: (Unchecked<UnsafeMutablePointer<T>>) -> Void) -> [T] {
    guard count > 0 else { return [] }
    return [T](unsafeUninitializedCapacity: count) { buf, n in
        buf.initialize(repeating: zero)
        if let base = buf.baseAddress { body(Unchecked(base)) }
        n = count
    }
}

/// OpenBLAS runs single-threaded: the models split work over the cores themselves, and
/// OpenBLAS's spinning worker threads slow everything down on a shared machine.
let blasSingleThreaded: Void = { openblas_set_num_threads(1) }()
