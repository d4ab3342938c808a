/// Pass 1, type resolution: lowers a `KExpr` to typed SSA nodes, picking each op's typed
/// row from `KOp.table` and inserting explicit cast ops (numexpr's `add_ddd` choice, made
/// once when compiling, never per element). Reductions become parameters computed in a
/// first pass; string comparisons become look-ups in tables built at bind time.
struct KLowering {
    let table: Table
    var nodes: [KNode] = []
    var aux: [KAux] = []
    var reductions: [KReductionPlan] = []
    /// String literals used as values; their program-dictionary codes are their indices.
    var literals: [String] = []
    private var reductionIndex: [KExpr: Int] = [:]

    init(table: Table) { self.table = table }

    // MARK: node construction

    mutating func emit(_ kind: KNodeKind, _ type: KType, _ args: [Int] = [], imm: Int64 = 0, aux: Int = -1, note: String = "") -> Int {
        nodes.append(KNode(kind: kind, type: type, args: args, imm: imm, aux: aux, note: note))
        return nodes.count - 1
    }
    mutating func op(_ o: KOp, _ args: [Int], imm: Int64 = 0, aux: Int = -1, note: String = "") -> Int {
        emit(.op(o), o.spec.result, args, imm: imm, aux: aux, note: note)
    }
    mutating func constF(_ v: Double) -> Int { emit(.constant(v.bitPattern), .f) }
    mutating func constI(_ v: Int64) -> Int { emit(.constant(UInt64(bitPattern: v)), .i) }
    mutating func constB(_ v: Bool) -> Int { emit(.constant(v ? 1 : 0), .b) }
    mutating func constC(_ code: Int32) -> Int { emit(.constant(UInt64(bitPattern: Int64(code))), .c) }
    mutating func literal(_ s: String) -> Int {
        if let k = literals.firstIndex(of: s) { return constC(Int32(k)) }
        literals.append(s); return constC(Int32(literals.count - 1))
    }
    /// A string value in program-dictionary codes (a column's own codes are remapped).
    mutating func toCodes(_ v: KVal) -> KVal {
        guard let col = v.rawColumn else { return v }
        return KVal(node: op(.lutCC, [v.node], aux: auxIndex(.stringRemap(column: col))), valid: nil, type: .c)
    }
    mutating func auxIndex(_ a: KAux) -> Int {
        if let k = aux.firstIndex(of: a) { return k }
        aux.append(a); return aux.count - 1
    }

    /// A missing value of type `t`.
    mutating func missing(_ t: KType) -> KVal {
        switch t {
        case .f: return KVal(node: constF(.nan), valid: nil, type: .f)
        case .i: return KVal(node: constI(0), valid: constB(false), type: .i)
        case .b: return KVal(node: constB(false), valid: constB(false), type: .b)
        case .c: return KVal(node: constC(-1), valid: nil, type: .c)
        }
    }
    /// A `none` operand takes the type of the other operand.
    mutating func adopt(_ a: inout KVal, _ b: inout KVal) {
        if a.isMissing, !b.isMissing { a = missing(b.type) } else if b.isMissing, !a.isMissing { b = missing(a.type) }
    }

    /// AND of two optional validities.
    mutating func andValid(_ a: Int?, _ b: Int?) -> Int? {
        guard let a else { return b }
        guard let b else { return a }
        return op(.andB, [a, b])
    }

    // MARK: casts

    func typeName(_ t: KType) -> String { t.dtype.rawValue }

    /// To float: ints and bools convert, missing becomes NaN.
    mutating func toF(_ v: KVal, _ what: String) throws(EngineError) -> KVal {
        switch v.type {
        case .f: return v
        case .i, .b:
            var n = op(v.type == .i ? .castFI : .castFB, [v.node])
            if let m = v.valid { n = op(.nanMaskF, [n, m]) }
            return KVal(node: n, valid: nil, type: .f)
        case .c: throw EngineError.typeMismatch("\(what) expects a number, got string")
        }
    }
    /// To int: bools convert (0/1), validity kept.
    mutating func toI(_ v: KVal, _ what: String) throws(EngineError) -> KVal {
        switch v.type {
        case .i: return v
        case .b: return KVal(node: op(.castIB, [v.node]), valid: v.valid, type: .i)
        case .f: throw EngineError.typeMismatch("\(what) expects an int, got float")
        case .c: throw EngineError.typeMismatch("\(what) expects a number, got string")
        }
    }
    /// Brings numeric operands to one type: float if any is float, else int.
    mutating func unifyNumeric(_ vs: [KVal], _ what: String) throws(EngineError) -> [KVal] {
        var vs = vs
        if let t = vs.first(where: { !$0.isMissing })?.type {
            for k in vs.indices where vs[k].isMissing { vs[k] = missing(t) }
        }
        if let s = vs.first(where: { $0.type == .c }) {
            _ = s
            throw EngineError.typeMismatch("\(what) expects numbers, got " + vs.map { typeName($0.type) }.joined(separator: " and "))
        }
        if vs.contains(where: { $0.type == .f }) {
            var out: [KVal] = []
            for v in vs { out.append(try toF(v, what)) }
            return out
        }
        var out: [KVal] = []
        for v in vs { out.append(try toI(v, what)) }
        return out
    }

    // MARK: expressions

    mutating func lower(_ e: KExpr) throws(EngineError) -> KVal {
        switch e {
        case .column(let name):
            let col = try table.column(name)
            switch col.storage {
            case .float: return KVal(node: emit(.column(name), .f), valid: nil, type: .f)
            case .int(_, let validity):
                let raw = emit(.column(name), .i)
                guard validity != nil else { return KVal(node: raw, valid: nil, type: .i) }
                let m = emit(.validity(name), .b)
                // Zero the missing slots so checked ops never see stale values.
                return KVal(node: op(.zeroMaskI, [raw, m]), valid: m, type: .i)
            case .bool(_, let validity):
                let raw = emit(.column(name), .b)
                return KVal(node: raw, valid: validity == nil ? nil : emit(.validity(name), .b), type: .b)
            case .string: return KVal(node: emit(.column(name), .c), valid: nil, type: .c, rawColumn: name)
            }
        case .float(let v): return KVal(node: constF(v), valid: nil, type: .f)
        case .int(let v): return KVal(node: constI(v), valid: nil, type: .i)
        case .bool(let v): return KVal(node: constB(v), valid: nil, type: .b)
        case .string(let s): return KVal(node: literal(s), valid: nil, type: .c)
        case .missing:
            var v = missing(.f)
            v.isMissing = true
            return v
        case .reduce(let name, let arg, let extra):
            return try lowerReduction(e, name, arg, extra)
        case .call(let name, let args):
            return try lowerCall(e, name, args)
        }
    }

    mutating func lowerReduction(_ e: KExpr, _ name: String, _ arg: KExpr, _ extra: [KExpr]) throws(EngineError) -> KVal {
        let k: Int
        if let existing = reductionIndex[e] { k = existing } else {
            let plan = try KReductionPlan(name: name, arg: arg, extra: extra, table: table, expr: e)
            reductions.append(plan); k = reductions.count - 1; reductionIndex[e] = k
        }
        let plan = reductions[k]
        let v = emit(.param(k), plan.resultType, note: e.description)
        let m = plan.hasValidity ? emit(.paramValidity(k), .b) : nil
        return KVal(node: v, valid: m, type: plan.resultType)
    }

    func arity(_ name: String, _ args: [KExpr], _ n: ClosedRange<Int>) throws(EngineError) {
        guard n.contains(args.count) else {
            let want = n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) to \(n.upperBound)"
            throw EngineError.invalidArgument("\(name) takes \(want) argument\(n.upperBound == 1 ? "" : "s"), got \(args.count)")
        }
    }

    static let comparisons: Set<String> = ["eq", "ne", "lt", "le", "gt", "ge"]
    static let floatFunctions: Set<String> = ["sqrt", "exp", "log", "log1p", "log2", "log10", "sin", "cos", "tan"]

    mutating func lowerCall(_ e: KExpr, _ name: String, _ args: [KExpr]) throws(EngineError) -> KVal {
        let note = e.description
        switch name {
        case "add", "sub", "mul", "min2", "max2":
            try arity(name, args, 2...2)
            let vs = try unifyNumeric([try lower(args[0]), try lower(args[1])], name)
            let o = try resolve(name, vs)
            return KVal(node: op(o, [vs[0].node, vs[1].node], note: note), valid: andValid(vs[0].valid, vs[1].valid), type: vs[0].type)
        case "div":
            try arity(name, args, 2...2)
            let a = try toF(try lower(args[0]), name), b = try toF(try lower(args[1]), name)
            return KVal(node: op(.divF, [a.node, b.node]), valid: nil, type: .f)
        case "mod":
            try arity(name, args, 2...2)
            let vs = try unifyNumeric([try lower(args[0]), try lower(args[1])], name)
            if vs[0].type == .f { return KVal(node: op(.modF, [vs[0].node, vs[1].node]), valid: nil, type: .f) }
            // Int mod by zero is missing.
            let valid = andValid(andValid(vs[0].valid, vs[1].valid), op(.nonzeroI, [vs[1].node]))
            return KVal(node: op(.modI, [vs[0].node, vs[1].node], note: note), valid: valid, type: .i)
        case "pow":
            try arity(name, args, 2...2)
            let vs = try unifyNumeric([try lower(args[0]), try lower(args[1])], name)
            // Int ^ int stays int only for a constant exponent ≥ 0 (as Python); else float.
            if vs[0].type == .i, let bits = nodes[vs[1].node].constantBits, Int64(bitPattern: bits) >= 0, vs[1].valid == nil {
                return KVal(node: op(.powI, [vs[0].node, vs[1].node], note: note), valid: vs[0].valid, type: .i)
            }
            let a = try toF(vs[0], name), b = try toF(vs[1], name)
            return KVal(node: op(.powF, [a.node, b.node]), valid: nil, type: .f)
        case "neg", "abs", "sign":
            try arity(name, args, 1...1)
            var v = try lower(args[0])
            if v.type == .b { v = try toI(v, name) }
            if v.type == .c { throw EngineError.typeMismatch("\(name) expects a number, got string") }
            return KVal(node: op(try resolve(name, [v]), [v.node], note: note), valid: v.valid, type: v.type)
        case "floor", "ceil":
            try arity(name, args, 1...1)
            var v = try lower(args[0])
            if v.type == .b { v = try toI(v, name) }
            if v.type == .i { return v }
            v = try toF(v, name)
            return KVal(node: op(try resolve(name, [v]), [v.node]), valid: nil, type: .f)
        case "round":
            try arity(name, args, 1...2)
            var digits: Int64 = 0
            if args.count == 2 {
                switch args[1] {
                case .int(let d): digits = Swift.max(-400, Swift.min(400, d))   // beyond ±400 all alike
                case .float(let d) where d == d.rounded() && abs(d) < 1e6: digits = Int64(d)
                default: throw EngineError.invalidArgument("round's digits must be a whole number, got \(args[1])")
                }
            }
            var v = try lower(args[0])
            if v.type == .b { v = try toI(v, name) }
            if v.type == .i && digits >= 0 { return v }
            v = try toF(v, name)
            return KVal(node: op(.roundF, [v.node], imm: digits), valid: nil, type: .f)
        case _ where KLowering.floatFunctions.contains(name):
            try arity(name, args, 1...1)
            let v = try toF(try lower(args[0]), name)
            return KVal(node: op(try resolve(name, [v]), [v.node]), valid: nil, type: .f)
        case "clip":
            try arity(name, args, 3...3)
            return try lower(.call("min2", [.call("max2", [args[0], args[1]]), args[2]]))
        case "is_nan":
            try arity(name, args, 1...1)
            let v = try lower(args[0])
            switch v.type {
            case .f: return KVal(node: op(.isnanF, [v.node]), valid: nil, type: .b)
            case .c: return KVal(node: op(.isnanC, [v.node]), valid: nil, type: .b)
            case .i, .b:
                guard let m = v.valid else { return KVal(node: constB(false), valid: nil, type: .b) }
                return KVal(node: op(.notB, [m]), valid: nil, type: .b)
            }
        case "fill_nan":
            try arity(name, args, 2...2)
            var x = try lower(args[0]), fill = try lower(args[1])
            adopt(&x, &fill)
            if x.type == .c || fill.type == .c {
                guard x.type == .c, fill.type == .c else {
                    throw EngineError.typeMismatch("fill_nan cannot mix \(typeName(x.type)) and \(typeName(fill.type))")
                }
                let a = toCodes(x), b = toCodes(fill)
                return KVal(node: op(.fillnanC, [a.node, b.node]), valid: nil, type: .c)
            }
            if x.type == .f || fill.type == .f {
                let a = try toF(x, name), b = try toF(fill, name)
                return KVal(node: op(.fillnanF, [a.node, b.node]), valid: nil, type: .f)
            }
            guard let m = x.valid else { return x }
            if x.type == .b && fill.type == .b {
                let v = op(.selB, [m, x.node, fill.node])
                return KVal(node: v, valid: fill.valid.map { op(.orB, [m, $0]) }, type: .b)
            }
            let a = try toI(x, name), b = try toI(fill, name)
            let v = op(.selI, [m, a.node, b.node])
            return KVal(node: v, valid: b.valid.map { op(.orB, [m, $0]) }, type: .i)
        case "if_else":
            try arity(name, args, 3...3)
            var c = try lower(args[0])
            if c.isMissing { c = missing(.b) }
            guard c.type == .b else { throw EngineError.typeMismatch("if_else expects a bool condition, got \(typeName(c.type))") }
            var a = try lower(args[1]), b = try lower(args[2])
            adopt(&a, &b)
            if a.type == .c || b.type == .c {
                guard a.type == .c, b.type == .c else {
                    throw EngineError.typeMismatch("if_else cannot mix \(typeName(a.type)) and \(typeName(b.type))")
                }
                var v = op(.selC, [c.node, toCodes(a).node, toCodes(b).node])
                if let cm = c.valid { v = op(.selC, [cm, v, constC(-1)]) }   // missing condition → missing
                return KVal(node: v, valid: nil, type: .c)
            }
            if !(a.type == .b && b.type == .b) {
                let vs = try unifyNumeric([a, b], name); a = vs[0]; b = vs[1]
            }
            let sel: KOp = a.type == .f ? .selF : a.type == .i ? .selI : .selB
            var v = op(sel, [c.node, a.node, b.node])
            var valid: Int? = nil
            if a.valid != nil || b.valid != nil {
                let av = a.valid ?? constB(true), bv = b.valid ?? constB(true)
                valid = op(.selB, [c.node, av, bv])
            }
            if let cm = c.valid {
                if a.type == .f { v = op(.nanMaskF, [v, cm]) } else { valid = andValid(valid, cm) }
            }
            return KVal(node: v, valid: valid, type: a.type)
        case _ where KLowering.comparisons.contains(name):
            try arity(name, args, 2...2)
            return try lowerComparison(name, args[0], args[1])
        case "and", "or":
            try arity(name, args, 2...2)
            var a = try lower(args[0]), b = try lower(args[1])
            adopt(&a, &b)
            guard a.type == .b, b.type == .b else {
                throw EngineError.typeMismatch("\(name) expects bools, got \(typeName(a.type)) and \(typeName(b.type))")
            }
            return KVal(node: op(name == "and" ? .andB : .orB, [a.node, b.node]), valid: andValid(a.valid, b.valid), type: .b)
        case "not":
            try arity(name, args, 1...1)
            let a = try lower(args[0])
            guard a.type == .b else { throw EngineError.typeMismatch("not expects a bool, got \(typeName(a.type))") }
            return KVal(node: op(.notB, [a.node]), valid: a.valid, type: .b)
        case "trim", "lower", "upper", "replace", "split_text":
            return try lowerStringFunction(name, args)
        case "cast":
            try arity(name, args, 2...2)
            guard case .string(let target) = args[1] else {
                throw EngineError.invalidArgument("cast's type must be one of \"int\", \"float\", \"bool\", \"string\"")
            }
            return try lowerCast(args[0], target)
        default:
            throw EngineError.invalidArgument("unknown column function '\(name)'")
        }
    }

    /// A string function: folded for a literal, else a look-up table made per distinct
    /// value of the column (or of the program dictionary) when the program is bound.
    mutating func lowerStringFunction(_ name: String, _ args: [KExpr]) throws(EngineError) -> KVal {
        if name == "split_text", args.count == 2 {
            throw EngineError.invalidArgument("split_text in a column expression takes the part's index: split_text($s, \"-\", 0)")
        }
        try arity(name, args, name == "replace" || name == "split_text" ? 3...3 : 1...1)
        func text(_ k: Int, _ what: String) throws(EngineError) -> String {
            guard case .string(let s) = args[k] else {
                throw EngineError.invalidArgument("\(name)'s \(what) must be a string constant, got \(args[k])")
            }
            guard !s.isEmpty else { throw EngineError.invalidArgument("\(name)'s \(what) must not be empty") }
            return s
        }
        let f: KStringFunction
        switch name {
        case "trim": f = .trim
        case "lower": f = .lower
        case "upper": f = .upper
        case "replace":
            guard case .string(let new) = args[2] else {
                throw EngineError.invalidArgument("replace's new must be a string constant, got \(args[2])")
            }
            f = .replace(old: try text(1, "old"), new: new)
        default:
            guard case .int(let i) = args[2] else {
                throw EngineError.invalidArgument("split_text's index must be an int constant, got \(args[2])")
            }
            f = .splitPart(separator: try text(1, "sep"), index: i)
        }
        if case .string(let s) = args[0] { return f.apply(s).map { KVal(node: literal($0), valid: nil, type: .c) } ?? missing(.c) }
        let v = try lower(args[0])
        if v.isMissing { return missing(.c) }
        guard v.type == .c else { throw EngineError.typeMismatch("\(name) expects a string, got \(typeName(v.type))") }
        let k: Int
        if let col = v.rawColumn { k = auxIndex(.stringFunction(f, column: col)) } else {
            aux.append(.stringFunction(f, column: nil)); k = aux.count - 1
        }
        return KVal(node: op(.lutCC, [v.node], aux: k), valid: nil, type: .c)
    }

    /// The table row for `call` over these operand types, or a typeMismatch naming them.
    func resolve(_ call: String, _ vs: [KVal]) throws(EngineError) -> KOp {
        guard let spec = KOp.resolve(call, vs.map(\.type)) else {
            throw EngineError.typeMismatch("\(call) does not accept " + vs.map { typeName($0.type) }.joined(separator: " and "))
        }
        return spec.op
    }

    mutating func lowerCast(_ x: KExpr, _ target: String) throws(EngineError) -> KVal {
        let v = try lower(x)
        switch (target, v.type) {
        case ("float", _) where v.type != .c: return try toF(v, "cast")
        case ("float", .c):
            guard let n = v.rawColumn else { throw EngineError.typeMismatch("cast to float of a computed string is not supported") }
            return KVal(node: op(.lutFC, [v.node], aux: auxIndex(.stringNumber(column: n))), valid: nil, type: .f)
        case ("int", .i): return v
        case ("int", .b): return try toI(v, "cast")
        case ("int", .f), ("int", .c):
            let f = v.type == .f ? v : try lowerCast(x, "float")
            let n = op(.castIF, [f.node])
            return KVal(node: n, valid: op(.validIF, [f.node]), type: .i)
        case ("bool", .b): return v
        case ("bool", .i): return KVal(node: op(.castBI, [v.node]), valid: v.valid, type: .b)
        case ("bool", .f):
            return KVal(node: op(.castBF, [v.node]), valid: op(.notB, [op(.isnanF, [v.node])]), type: .b)
        case ("bool", .c): throw EngineError.typeMismatch("cast from string to bool is not supported")
        case ("string", .c): return v
        case ("string", _): throw EngineError.typeMismatch("cast of a \(typeName(v.type)) to string is supported only as the whole expression")
        default:
            throw EngineError.invalidArgument("cast's type must be one of \"int\", \"float\", \"bool\", \"string\", got \"\(target)\"")
        }
    }

    static let mirrored: [String: String] = ["eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"]

    mutating func lowerComparison(_ name: String, _ l: KExpr, _ r: KExpr) throws(EngineError) -> KVal {
        if l == .missing || r == .missing {
            throw EngineError.invalidArgument("cannot compare with none (a missing value equals nothing); use is_nan(x) to find missing values")
        }
        // String literal on either side.
        if case .string(let a) = l, case .string(let b) = r {
            return KVal(node: constB(kernelCompareStrings(a, name, b)), valid: nil, type: .b)
        }
        if case .string = l, let m = KLowering.mirrored[name] { return try lowerComparison(m, r, l) }
        if case .string(let lit) = r {
            let v = try lower(l)
            if v.type == .c, v.rawColumn == nil, name == "eq" || name == "ne" {
                // A computed string: codes in the program dictionary, like the literal's.
                return KVal(node: op(name == "eq" ? .eqC : .neC, [v.node, literal(lit)]), valid: nil, type: .b)
            }
            guard v.type == .c, let col = v.rawColumn else {
                throw EngineError.typeMismatch(v.type == .c
                    ? "\(name) compares string columns only; compare the columns a computed string comes from"
                    : "\(name) cannot compare \(typeName(v.type)) with string")
            }
            let k = auxIndex(.stringPredicate(column: col, op: name, literal: lit))
            return KVal(node: op(.lutBC, [v.node], aux: k), valid: nil, type: .b)
        }
        var a = try lower(l), b = try lower(r)
        adopt(&a, &b)
        if a.type == .c, b.type == .c, a.rawColumn == nil || b.rawColumn == nil, name == "eq" || name == "ne" {
            let x = toCodes(a), y = toCodes(b)
            return KVal(node: op(name == "eq" ? .eqC : .neC, [x.node, y.node]), valid: nil, type: .b)
        }
        if a.type == .c || b.type == .c {
            guard a.type == .c, b.type == .c, let ca = a.rawColumn, let cb = b.rawColumn else {
                throw EngineError.typeMismatch(a.type == .c && b.type == .c
                    ? "\(name) compares string columns only; compare the columns a computed string comes from"
                    : "\(name) cannot compare \(typeName(a.type)) with \(typeName(b.type))")
            }
            // Column vs column: ranks in the merged sorted dictionary, -1 for missing.
            let union = [ca, cb]
            let ra = op(.lutIC, [a.node], aux: auxIndex(.stringRank(column: ca, union: union)))
            let rb = op(.lutIC, [b.node], aux: auxIndex(.stringRank(column: cb, union: union)))
            let zero = constI(0)
            let both = op(.andB, [op(.geI, [ra, zero]), op(.geI, [rb, zero])])
            let cmp = op(try resolve(name, [KVal(node: ra, valid: nil, type: .i), KVal(node: rb, valid: nil, type: .i)]), [ra, rb])
            // Missing compares false, except ne (true), as NaN does.
            let v = name == "ne" ? op(.orB, [cmp, op(.notB, [both])]) : op(.andB, [cmp, both])
            return KVal(node: v, valid: nil, type: .b)
        }
        var vs = [a, b]
        if a.type == .b && b.type == .b { vs = [try toI(a, name), try toI(b, name)] } else { vs = try unifyNumeric(vs, name) }
        let o = try resolve(name, vs)
        return KVal(node: op(o, [vs[0].node, vs[1].node]), valid: andValid(vs[0].valid, vs[1].valid), type: .b)
    }
}

/// `a <op> b` on strings (by value, Unicode scalar order).
func kernelCompareStrings(_ a: String, _ op: String, _ b: String) -> Bool {
    let x = Array(a.unicodeScalars.map(\.value)), y = Array(b.unicodeScalars.map(\.value))
    switch op {
    case "eq": return x == y
    case "ne": return x != y
    case "lt": return x.lexicographicallyPrecedes(y)
    case "le": return !y.lexicographicallyPrecedes(x)
    case "gt": return y.lexicographicallyPrecedes(x)
    default: return !x.lexicographicallyPrecedes(y)
    }
}
