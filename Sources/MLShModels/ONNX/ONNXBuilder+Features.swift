import Foundation
import MLShEngine

/// A `features(...)` step's expressions (reductions already frozen to constants at `fit`) as
/// standard operators over double tensors: int columns' sums, differences and products are
/// exact in double for the values a model sees. An operation without an exact counterpart
/// (`mod`, `round`, `log1p`, `sign`, `min2`, `max2`, `clip`, `cast`, string functions) is an error naming it.
extension ONNXBuilder {
    /// A lowered value: a double tensor, or a bool one (comparisons).
    struct Lowered { var tensor: String; var isBool: Bool }

    mutating func features(_ s: FittedFeatures) throws(ModelError) {
        for (name, e) in zip(s.names, s.exprs) {
            let t = try number(e)
            if let i = names.firstIndex(of: name) { tensors[i] = t; types[i] = .double } else { add(name, t, .double) }
        }
    }

    private mutating func number(_ e: KExpr) throws(ModelError) -> String { asNumber(try lower(e)) }

    /// A bool value as 0/1.
    private mutating func asNumber(_ v: Lowered) -> String {
        v.isBool ? graph.op("Cast", [v.tensor], [("to", .int(ONNXType.double.rawValue))]) : v.tensor
    }

    private mutating func condition(_ e: KExpr) throws(ModelError) -> String {
        let v = try lower(e)
        return v.isBool ? v.tensor : graph.op("Cast", [v.tensor], [("to", .int(ONNXType.bool.rawValue))])
    }

    private mutating func lower(_ e: KExpr) throws(ModelError) -> Lowered {
        switch e {
        case .column(let c):
            guard let i = names.firstIndex(of: c) else { throw .missingColumn(c, suggestion: nil) }
            guard types[i] == .double else { throw notExportable("features() over the string column \(c)") }
            return Lowered(tensor: tensors[i], isBool: false)
        case .float(let v): return Lowered(tensor: scalar(v), isBool: false)
        case .int(let v): return Lowered(tensor: scalar(Double(v)), isBool: false)
        case .missing: return Lowered(tensor: scalar(.nan), isBool: false)
        case .bool(let b): return Lowered(tensor: graph.constant(ONNXTensor(dims: [1], values: .bools([b]))), isBool: true)
        case .string: throw notExportable("a string in features()")
        case .reduce(let name, _, _): throw notExportable("the reduction \(name)() in features()")
        case .call(let name, let args):
            let binary = ["add": "Add", "sub": "Sub", "mul": "Mul", "div": "Div", "pow": "Pow"]
            let unary = ["neg": "Neg", "abs": "Abs", "sqrt": "Sqrt", "exp": "Exp", "log": "Log", "sin": "Sin", "cos": "Cos",
                         "tan": "Tan", "floor": "Floor", "ceil": "Ceil"]
            let compare = ["gt": "Greater", "lt": "Less", "ge": "GreaterOrEqual", "le": "LessOrEqual", "eq": "Equal"]
            if let op = binary[name], args.count == 2 {
                return Lowered(tensor: graph.op(op, [try number(args[0]), try number(args[1])]), isBool: false)
            }
            if let op = unary[name], args.count == 1 {
                return Lowered(tensor: graph.op(op, [try number(args[0])]), isBool: false)
            }
            if let op = compare[name], args.count == 2 {
                return Lowered(tensor: graph.op(op, [try number(args[0]), try number(args[1])]), isBool: true)
            }
            switch (name, args.count) {
            case ("ne", 2):
                return Lowered(tensor: graph.op("Not", [graph.op("Equal", [try number(args[0]), try number(args[1])])]), isBool: true)
            case ("and", 2), ("or", 2):
                return Lowered(tensor: graph.op(name == "and" ? "And" : "Or", [try condition(args[0]), try condition(args[1])]), isBool: true)
            case ("not", 1):
                return Lowered(tensor: graph.op("Not", [try condition(args[0])]), isBool: true)
            case ("log2", 1), ("log10", 1):
                let ln = graph.op("Log", [try number(args[0])])
                return Lowered(tensor: graph.op("Div", [ln, scalar(Foundation.log(name == "log2" ? 2.0 : 10.0))]), isBool: false)
            case ("is_nan", 1):
                return Lowered(tensor: graph.op("IsNaN", [try number(args[0])]), isBool: true)
            case ("fill_nan", 2):
                let x = try number(args[0])
                return Lowered(tensor: graph.op("Where", [graph.op("IsNaN", [x]), try number(args[1]), x]), isBool: false)
            case ("if_else", 3):
                let c = try condition(args[0])
                let a = try lower(args[1]), b = try lower(args[2])
                if a.isBool && b.isBool { return Lowered(tensor: graph.op("Where", [c, a.tensor, b.tensor]), isBool: true) }
                return Lowered(tensor: graph.op("Where", [c, asNumber(a), asNumber(b)]), isBool: false)
            default:
                throw notExportable("\(name)() in features()")
            }
        }
    }
}
