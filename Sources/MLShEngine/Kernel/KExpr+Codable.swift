/// A column expression as data, so a fitted pipeline can keep its feature expressions in a
/// model file (data, never code): one object per node, keyed by the node's kind —
/// `{"column": "x"}`, `{"float": 2.5}`, `{"int": 3}`, `{"bool": true}`, `{"string": "a"}`,
/// `{"call": "add", "args": [...]}`, `{"reduce": "mean", "arg": {...}, "extra": [...]}`,
/// `{"missing": true}` for `none`.
/// A float that is not finite is written as the string `"nan"`, `"inf"` or `"-inf"` (JSON has
/// no such numbers). Decoding checks only the shape; `KernelProgram.compile` checks the
/// names, types and depth before anything runs.
extension KExpr: Codable {
    private enum Key: String, CodingKey { case column, float, int, bool, string, call, args, reduce, arg, extra, missing }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let n = try c.decodeIfPresent(String.self, forKey: .column) { self = .column(n) }
        else if c.contains(.float) {
            if let v = try? c.decode(Double.self, forKey: .float) { self = .float(v); return }
            switch try c.decode(String.self, forKey: .float) {
            case "nan": self = .float(.nan)
            case "inf": self = .float(.infinity)
            case "-inf": self = .float(-.infinity)
            case let other:
                throw DecodingError.dataCorruptedError(forKey: .float, in: c, debugDescription: "not a number: \(other)")
            }
        }
        else if let v = try c.decodeIfPresent(Int64.self, forKey: .int) { self = .int(v) }
        else if let v = try c.decodeIfPresent(Bool.self, forKey: .bool) { self = .bool(v) }
        else if let v = try c.decodeIfPresent(String.self, forKey: .string) { self = .string(v) }
        else if let name = try c.decodeIfPresent(String.self, forKey: .call) {
            self = .call(name, try c.decode([KExpr].self, forKey: .args))
        } else if let name = try c.decodeIfPresent(String.self, forKey: .reduce) {
            self = .reduce(name, try c.decode(KExpr.self, forKey: .arg), try c.decode([KExpr].self, forKey: .extra))
        } else if try c.decodeIfPresent(Bool.self, forKey: .missing) == true {
            self = .missing
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "not a column expression node"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .column(let n): try c.encode(n, forKey: .column)
        case .float(let v):
            if v.isFinite { try c.encode(v, forKey: .float) }
            else { try c.encode(v.isNaN ? "nan" : v > 0 ? "inf" : "-inf", forKey: .float) }
        case .int(let v): try c.encode(v, forKey: .int)
        case .bool(let v): try c.encode(v, forKey: .bool)
        case .string(let v): try c.encode(v, forKey: .string)
        case .call(let name, let args):
            try c.encode(name, forKey: .call); try c.encode(args, forKey: .args)
        case .reduce(let name, let arg, let extra):
            try c.encode(name, forKey: .reduce); try c.encode(arg, forKey: .arg); try c.encode(extra, forKey: .extra)
        case .missing: try c.encode(true, forKey: .missing)
        }
    }
}

extension KExpr {
    /// Whether the expression holds a reduction (`mean($x)`) anywhere.
    public var containsReduction: Bool { kernelContainsReduction }

    /// Every column the expression reads (inside reductions too), in first-use order.
    public var referencedColumns: [String] {
        var out: [String] = []
        kernelColumnNames(self, into: &out)
        return out
    }
}
