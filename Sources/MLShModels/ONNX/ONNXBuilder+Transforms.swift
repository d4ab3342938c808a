/// The fitted transforms as standard operators, each computing what its `apply` computes,
/// in double.
extension ONNXBuilder {
    mutating func apply(_ step: any FittedStep) throws(ModelError) {
        switch step {
        case let s as FittedStandardize: try shiftAndScale(s.columns, s.mean, s.scale, kind: "standardize")
        case let s as FittedMinMax: try shiftAndScale(s.columns, s.min, s.scale, kind: "minmax")
        case let s as FittedImpute: try impute(s)
        case let s as FittedOneHot: try onehot(s)
        case let s as FittedPoly: try poly(s)
        case let s as FittedBin: try bin(s)
        case let s as FittedSelect: removeColumns(Set(s.drop))
        case let s as FittedPCA: try pca(s)
        case let s as FittedFeatures: try features(s)
        default:
            throw notExportable("the \(type(of: step).codingKey)() step")
        }
    }

    /// The columns named in `drop` leave the frame (their tensors stay in the graph for
    /// whatever already reads them).
    mutating func removeColumns(_ drop: Set<String>) {
        let keep = names.indices.filter { !drop.contains(names[$0]) }
        names = keep.map { names[$0] }; tensors = keep.map { tensors[$0] }; types = keep.map { types[$0] }
    }

    /// `(x - shift) * (1 / scale)`: Sub, then Mul.
    mutating func shiftAndScale(_ columns: [String], _ shift: [Double], _ scale: [Double], kind: String) throws(ModelError) {
        try validateShiftAndScale(columns, shift, scale)
        for (j, c) in columns.enumerated() {
            let i = try numeric(c, for: kind)
            let shifted = graph.op("Sub", [tensors[i], scalar(shift[j])])
            tensors[i] = graph.op("Mul", [shifted, scalar(1 / scale[j])])
        }
    }

    /// Numbers: `Where(IsNaN(x), fill, x)`. ONNX string (and int, bool) tensors hold no
    /// missing values, so for those columns the step changes nothing.
    mutating func impute(_ s: FittedImpute) throws(ModelError) {
        try s.validate()
        for (j, c) in s.columns.enumerated() {
            guard let i = names.firstIndex(of: c) else { throw .missingColumn(c, suggestion: nil) }
            guard types[i] == .double, intInputs[tensors[i]] == nil else { continue }
            let missing = graph.op("IsNaN", [tensors[i]])
            tensors[i] = graph.op("Where", [missing, scalar(s.numbers[j]), tensors[i]])
        }
    }

    /// `ai.onnx.ml` OneHotEncoder over the categories of a string or int input column (an
    /// unseen one: all zeros, or an error with `unknown="error"`), cast to double and split
    /// into one column per category.
    mutating func onehot(_ s: FittedOneHot) throws(ModelError) {
        try s.validate()
        for (j, c) in s.columns.enumerated() {
            guard let i = names.firstIndex(of: c) else { throw .missingColumn(c, suggestion: nil) }
            let cats = s.categories[j]
            // An int input's categories are its values' labels: the encoder reads the int64 input.
            let ints = cats.compactMap { Int64($0) }
            let source: String, categories: (String, ONNXAttribute)
            if types[i] == .string {
                source = tensors[i]; categories = ("cats_strings", .strings(cats))
            } else if let raw = intInputs[tensors[i]], ints.count == cats.count {
                source = raw; categories = ("cats_int64s", .ints(ints))
            } else {
                throw notExportable("onehot() of the float or bool column \(c)")
            }
            var outs: [String] = []
            if !cats.isEmpty {
                let encoded = graph.op("OneHotEncoder", [source],
                                       [categories, ("zeros", .int(s.refuseUnknown == true ? 0 : 1))], domain: "ai.onnx.ml")
                let wide = graph.op("Reshape", [graph.op("Cast", [encoded], [("to", .int(ONNXType.double.rawValue))]),
                                                graph.int64s([-1, Int64(cats.count)])])
                outs = cats.count == 1 ? [wide]
                    : graph.node("Split", [wide, graph.int64s([Int64](repeating: 1, count: cats.count))],
                                 [("axis", .int(1))], outputs: cats.count)
            }
            names.replaceSubrange(i...i, with: cats.map { "\(c)_\($0)" })
            tensors.replaceSubrange(i...i, with: outs)
            types.replaceSubrange(i...i, with: cats.map { _ in ONNXType.double })
        }
    }

    /// Each term the product of its columns, multiplied left to right (Mul); the empty
    /// term is ones.
    mutating func poly(_ s: FittedPoly) throws(ModelError) {
        try s.validate()
        var values: [String] = []
        for c in s.columns { values.append(tensors[try numeric(c, for: "poly")]) }
        for t in s.terms {
            var out: String
            if let first = t.first {
                out = values[first]
                for k in t.dropFirst() { out = graph.op("Mul", [out, values[k]]) }
            } else {
                guard let any = values.first else { throw notExportable("poly() without columns") }
                out = graph.op("ConstantOfShape", [graph.op("Shape", [any])],
                               [("value", .tensor(ONNXTensor(dims: [1], values: .doubles([1]))))])
            }
            add(termName(t.map { s.columns[$0] }), out, .double)
        }
    }

    /// Each column centred (Sub), each component the sum of its loadings times them (Mul,
    /// Add, in column order, as `apply` sums); the inputs give way to pc1…pck.
    mutating func pca(_ s: FittedPCA) throws(ModelError) {
        try s.validate()
        var centred: [String] = []
        for (j, c) in s.columns.enumerated() {
            centred.append(graph.op("Sub", [tensors[try numeric(c, for: "pca")], scalar(s.mean[j])]))
        }
        removeColumns(Set(s.columns))
        for (name, loading) in zip(s.outputNames, s.components) {
            var sum: String? = nil
            for (i, w) in loading.enumerated() {
                let term = graph.op("Mul", [centred[i], scalar(w)])
                sum = sum.map { graph.op("Add", [$0, term]) } ?? term
            }
            guard let sum else { throw notExportable("pca() without columns") }
            add(name, sum, .double)
        }
    }

    /// The number of edges at or below x (LessOrEqual against the edges, Cast, ReduceSum);
    /// NaN stays NaN.
    mutating func bin(_ s: FittedBin) throws(ModelError) {
        try s.validate()
        for (j, c) in s.columns.enumerated() {
            let i = try numeric(c, for: "bin")
            let x = tensors[i], e = s.edges[j]
            let count: String
            if e.isEmpty {
                count = graph.op("ConstantOfShape", [graph.op("Shape", [x])],
                                 [("value", .tensor(ONNXTensor(dims: [1], values: .doubles([0]))))])
            } else {
                let below = graph.op("LessOrEqual", [graph.doubles(e, [1, e.count]), x])
                count = graph.op("ReduceSum", [graph.op("Cast", [below], [("to", .int(ONNXType.double.rawValue))]), graph.int64s([1])],
                                 [("keepdims", .int(1))])
            }
            tensors[i] = graph.op("Where", [graph.op("IsNaN", [x]), x, count])
        }
    }
}
