/// `range(start, stop, step)`: a lazy sequence of ints, so `for i in range(1_000_000)`
/// allocates nothing per item.
public final class RangeValue: DomainObject {
    public let start: Int64, stop: Int64, step: Int64
    /// A range; `step` must not be zero.
    public init(start: Int64, stop: Int64, step: Int64) { self.start = start; self.stop = stop; self.step = step }

    public var typeName: String { "range" }
    public var length: Int? {
        if step > 0 { return stop > start ? Int((stop - start - 1) / step + 1) : 0 }
        return start > stop ? Int((start - stop - 1) / (-step) + 1) : 0
    }
    public func render() -> String { step == 1 ? "range(\(start), \(stop))" : "range(\(start), \(stop), \(step))" }
    public var summary: String { render() }
    public func element(_ key: Value) throws(MLShError) -> Value? {
        guard case .int(let i) = key else { return nil }
        let n = Int64(length ?? 0)
        let j = i < 0 ? n + i : i
        guard j >= 0, j < n else { throw MLShError(.index, "index \(i) out of range for a range of \(n)") }
        return .int(start + j * step)
    }
    public func iterate() -> [Value]? {
        var out: [Value] = []
        out.reserveCapacity(length ?? 0)
        var i = start
        while step > 0 ? i < stop : i > stop { out.append(.int(i)); i += step }
        return out
    }
    public func isEqual(to other: any DomainObject) -> Bool {
        guard let o = other as? RangeValue else { return false }
        return o.start == start && o.stop == stop && o.step == step
    }
}
