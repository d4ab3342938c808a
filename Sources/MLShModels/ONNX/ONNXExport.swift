import MLShEngine

/// Fitted models as ONNX files that onnxruntime runs: one graph input per column of the
/// model's input schema (float columns as double `[N, 1]` tensors, int as int64, bool as bool,
/// string as string), the fitted transforms as standard operators, the estimator as
/// standard or `ai.onnx.ml` operators, and the outputs `prediction` and, for classifiers,
/// `probabilities` (`[N, classes]`, classes in `FittedModel.classes` order). Arithmetic is in
/// double, as mlsh's; a part with no exact ONNX form is an error naming it, never an
/// approximate graph. `docs/export.md` lists what maps to which operator.
public enum ONNXExport {
    /// The model as the bytes of an ONNX file (`ModelProto`).
    public static func bytes(_ model: FittedModel, producerVersion: String) throws(ModelError) -> [UInt8] {
        var b = try ONNXBuilder(model.state)
        for ft in model.state.transforms { try b.apply(ft.step) }
        try b.estimator()
        let doc = "mlsh \(model.kind)() model: \(model.state.task.rawValue)" + (model.target.map { ", target \($0)" } ?? "")
        return b.graph.model(name: "mlsh_\(model.kind)", producerVersion: producerVersion, docString: doc)
    }

    /// Writes the model's ONNX file to `path` atomically (`FileOutput`).
    public static func write(_ model: FittedModel, to path: String, producerVersion: String) throws(ModelError) {
        let data = try bytes(model, producerVersion: producerVersion)
        try engineCall { () throws(EngineError) in try FileOutput.write(data, to: path) }
    }
}

/// The error for a part of a model with no exact ONNX form.
func notExportable(_ part: String) -> ModelError {
    .invalid("export: \(part) has no exact ONNX form; nothing was written")
}

/// Builds one model's graph: the frame of named columns (each a `[N, 1]` double or string
/// tensor) flows through the transforms, then the estimator reads `state.inputs`.
struct ONNXBuilder {
    let state: FittedState
    var graph = ONNXGraph()
    var names: [String] = []
    var tensors: [String] = []
    var types: [ONNXType] = []
    /// An int input's double tensor → the int64 input it is cast from (onehot reads the ints).
    var intInputs: [String: String] = [:]

    init(_ state: FittedState) throws(ModelError) {
        self.state = state
        let taken = Set(state.featureNames)
        for out in ["prediction", "probabilities", "score"] where taken.contains(out) {
            throw .invalid("export: the input column \(out) has the name of an ONNX output; rename it before fitting")
        }
        graph.avoid(taken)
        for (name, type) in zip(state.featureNames, state.featureTypes) {
            switch DType(rawValue: type) {
            case .float?:
                graph.input(name, .double, [nil, 1])
                add(name, name, .double)
            case .int?:
                graph.input(name, .int64, [nil, 1])
                let cast = graph.op("Cast", [name], [("to", .int(ONNXType.double.rawValue))])
                intInputs[cast] = name
                add(name, cast, .double)
            case .bool?:
                graph.input(name, .bool, [nil, 1])
                add(name, graph.op("Cast", [name], [("to", .int(ONNXType.double.rawValue))]), .double)
            case .string?:
                graph.input(name, .string, [nil, 1])
                add(name, name, .string)
            case nil:
                throw notExportable("the input column \(name) of type \(type)")
            }
        }
    }

    mutating func add(_ name: String, _ tensor: String, _ type: ONNXType) {
        names.append(name); tensors.append(tensor); types.append(type)
    }

    /// The frame index of column `c`, which must hold numbers for `kind`.
    func numeric(_ c: String, for kind: String) throws(ModelError) -> Int {
        guard let i = names.firstIndex(of: c) else { throw .missingColumn(c, suggestion: nil) }
        guard types[i] == .double else { throw .invalid("\(kind)() needs numeric columns; column \(c) is string") }
        return i
    }

    /// A scalar double constant, broadcast against `[N, 1]`.
    mutating func scalar(_ v: Double) -> String { graph.doubles([v], [1]) }

    /// The design matrix `[N, p]`: the estimator's input columns side by side.
    mutating func design() throws(ModelError) -> String {
        var cols: [String] = []
        for c in state.inputs {
            guard let i = names.firstIndex(of: c) else { throw .missingColumn(c, suggestion: nil) }
            guard types[i] == .double else { throw .stringFeature(column: c) }
            cols.append(tensors[i])
        }
        guard !cols.isEmpty else { throw notExportable("a model without input columns") }
        return cols.count == 1 ? cols[0] : graph.op("Concat", cols, [("axis", .int(1))])
    }
}

extension ONNXGraph {
    /// Makes intermediate names start with a run of `#` that no name in `taken` starts with.
    mutating func avoid(_ taken: Set<String>) {
        var p = "#"
        while taken.contains(where: { $0.hasPrefix(p) }) { p += "#" }
        prefix = p
    }
}
