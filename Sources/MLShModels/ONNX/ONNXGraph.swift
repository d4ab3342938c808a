/// An ONNX tensor element type (`TensorProto.DataType`).
enum ONNXType: Int64, Sendable {
    case float = 1, int64 = 7, string = 8, bool = 9, double = 11
}

/// A constant tensor: an initializer, or a tensor-valued attribute.
struct ONNXTensor: Sendable {
    enum Values: Sendable {
        case doubles([Double]), int64s([Int64]), strings([String]), bools([Bool])
    }
    var dims: [Int]
    var values: Values

    var type: ONNXType {
        switch values {
        case .doubles: return .double
        case .int64s: return .int64
        case .strings: return .string
        case .bools: return .bool
        }
    }

    /// `TensorProto`: dims = 1, data_type = 2, string_data = 6, name = 8, raw_data = 9
    /// (little-endian, as the format requires whatever the machine).
    func encoded(name: String?) -> ProtobufWriter {
        var m = ProtobufWriter()
        for d in dims { m.int(1, Int64(d)) }
        m.int(2, type.rawValue)
        if let name { m.string(8, name) }
        var raw: [UInt8] = []
        switch values {
        case .doubles(let v):
            raw.reserveCapacity(v.count * 8)
            for x in v { let b = x.bitPattern; for k in 0..<8 { raw.append(UInt8(truncatingIfNeeded: b >> (8 * k))) } }
        case .int64s(let v):
            raw.reserveCapacity(v.count * 8)
            for x in v { let b = UInt64(bitPattern: x); for k in 0..<8 { raw.append(UInt8(truncatingIfNeeded: b >> (8 * k))) } }
        case .bools(let v):
            raw = v.map { $0 ? 1 : 0 }
        case .strings(let v):
            for s in v { m.string(6, s) }
            return m
        }
        m.bytes(9, raw)
        return m
    }
}

/// A node attribute (`AttributeProto`).
enum ONNXAttribute: Sendable {
    case int(Int64), float(Float), string(String), tensor(ONNXTensor)
    case ints([Int64]), floats([Float]), strings([String])

    /// name = 1, f = 2, i = 3, s = 4, t = 5, floats = 7, ints = 8, strings = 9, type = 20.
    func encoded(name: String) -> ProtobufWriter {
        var m = ProtobufWriter()
        m.string(1, name)
        switch self {
        case .float(let v): m.float(2, v); m.int(20, 1)
        case .int(let v): m.int(3, v); m.int(20, 2)
        case .string(let v): m.string(4, v); m.int(20, 3)
        case .tensor(let t): m.message(5, t.encoded(name: nil)); m.int(20, 4)
        case .floats(let v): for x in v { m.float(7, x) }; m.int(20, 6)
        case .ints(let v): for x in v { m.int(8, x) }; m.int(20, 7)
        case .strings(let v): for x in v { m.string(9, x) }; m.int(20, 8)
        }
        return m
    }
}

/// A graph under construction: nodes in order, constants as initializers, the inputs and
/// outputs with their types. Intermediate values are named `#` and a number.
struct ONNXGraph {
    /// The default domain's opset and `ai.onnx.ml`'s: what onnxruntime 1.14 and later run.
    static let opset: Int64 = 17
    static let mlOpset: Int64 = 3
    /// IR version 8 (ONNX 1.10+), which opset 17 needs and onnxruntime reads.
    static let irVersion: Int64 = 8

    private var nodes: [ProtobufWriter] = []
    private var initializers: [ProtobufWriter] = []
    private var inputs: [ProtobufWriter] = []
    private var outputs: [ProtobufWriter] = []
    private var counter = 0
    /// What intermediate names start with (`avoid` lengthens it past the inputs' names).
    var prefix = "#"

    /// A fresh intermediate name.
    mutating func fresh() -> String {
        counter += 1
        return "\(prefix)\(counter)"
    }

    /// `ValueInfoProto` of a tensor of `type` shaped `dims` (nil: the batch dimension `N`).
    private static func valueInfo(_ name: String, _ type: ONNXType, _ dims: [Int?]) -> ProtobufWriter {
        var v = ProtobufWriter()
        v.string(1, name)
        v.message(2) { t in            // TypeProto.tensor_type = 1
            t.message(1) { tensor in   // elem_type = 1, shape = 2
                tensor.int(1, type.rawValue)
                tensor.message(2) { shape in
                    for d in dims {
                        shape.message(1) { dim in
                            if let d { dim.int(1, Int64(d)) } else { dim.string(2, "N") }
                        }
                    }
                }
            }
        }
        return v
    }

    /// Declares a graph input.
    mutating func input(_ name: String, _ type: ONNXType, _ dims: [Int?]) {
        inputs.append(Self.valueInfo(name, type, dims))
    }

    /// Declares a graph output.
    mutating func output(_ name: String, _ type: ONNXType, _ dims: [Int?]) {
        outputs.append(Self.valueInfo(name, type, dims))
    }

    /// A constant, as an initializer; its name.
    mutating func constant(_ tensor: ONNXTensor) -> String {
        let name = fresh()
        initializers.append(tensor.encoded(name: name))
        return name
    }

    mutating func doubles(_ v: [Double], _ dims: [Int]? = nil) -> String {
        constant(ONNXTensor(dims: dims ?? [v.count], values: .doubles(v)))
    }

    mutating func int64s(_ v: [Int64], _ dims: [Int]? = nil) -> String {
        constant(ONNXTensor(dims: dims ?? [v.count], values: .int64s(v)))
    }

    /// Adds a node; its outputs' names (fresh unless `named`).
    @discardableResult
    mutating func node(_ op: String, _ ins: [String], _ attributes: [(String, ONNXAttribute)] = [],
                       domain: String = "", outputs count: Int = 1, named: [String]? = nil) -> [String] {
        let outs = named ?? (0..<count).map { _ in fresh() }
        var n = ProtobufWriter()       // input = 1, output = 2, name = 3, op_type = 4, attribute = 5, domain = 7
        for i in ins { n.string(1, i) }
        for o in outs { n.string(2, o) }
        n.string(3, op + outs[0])
        n.string(4, op)
        for (name, a) in attributes { n.message(5, a.encoded(name: name)) }
        if !domain.isEmpty { n.string(7, domain) }
        nodes.append(n)
        return outs
    }

    /// A one-output node; its output's name.
    @discardableResult
    mutating func op(_ op: String, _ ins: [String], _ attributes: [(String, ONNXAttribute)] = [],
                     domain: String = "", named: String? = nil) -> String {
        node(op, ins, attributes, domain: domain, named: named.map { [$0] })[0]
    }

    /// The serialised `ModelProto`.
    func model(name: String, producerVersion: String, docString: String) -> [UInt8] {
        var g = ProtobufWriter()       // node = 1, name = 2, initializer = 5, doc_string = 10, input = 11, output = 12
        for n in nodes { g.message(1, n) }
        g.string(2, name)
        for i in initializers { g.message(5, i) }
        g.string(10, docString)
        for i in inputs { g.message(11, i) }
        for o in outputs { g.message(12, o) }
        var m = ProtobufWriter()       // ir_version = 1, producer_name = 2, producer_version = 3, graph = 7, opset_import = 8
        m.int(1, Self.irVersion)
        m.string(2, "mlsh")
        m.string(3, producerVersion)
        m.message(7, g)
        m.message(8) { o in o.int(2, Self.opset) }
        m.message(8) { o in o.string(1, "ai.onnx.ml"); o.int(2, Self.mlOpset) }
        return m.bytes
    }
}
