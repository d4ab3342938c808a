/// The kernel's opcode table: every block operation, declared once as data. Names,
/// typed signatures, type resolution (`KernelCompiler` picks the row whose `call` and
/// argument types match) and the disassembler all derive from `KOp.table`; the executor
/// has one `switch` over `KOp` (`KernelExecutor.apply`).

/// The element type of a kernel register: the letters of an opcode's suffix.
enum KType: UInt8, Sendable, Hashable {
    /// Double (float columns; NaN is missing).
    case f
    /// Int64 (int columns; missing is a separate `b` validity value).
    case i
    /// UInt8 0/1 (bool columns, masks and validity).
    case b
    /// Int32 dictionary code (string columns, -1 is missing) or group id.
    case c

    /// Bytes per element.
    var size: Int {
        switch self { case .f, .i: return 8; case .b: return 1; case .c: return 4 }
    }

    /// The column type a register of this type holds.
    var dtype: DType {
        switch self { case .f: return .float; case .i: return .int; case .b: return .bool; case .c: return .string }
    }
}

/// One row of the opcode table.
struct KOpSpec: Sendable {
    /// The opcode.
    let op: KOp
    /// The call name in `KExpr` this row implements (`""` for internal ops).
    let call: String
    /// The result type.
    let result: KType
    /// The argument types.
    let args: [KType]
    /// What the op computes, per element.
    let semantics: String

    /// The listing name: call (or op) name with the type suffix, numexpr style (`add_fff`).
    var name: String {
        let base = call.isEmpty ? "\(op)" : call
        return base + "_" + String(result.letter) + args.map { String($0.letter) }.joined()
    }
}

extension KType {
    var letter: Character {
        switch self { case .f: return "f"; case .i: return "i"; case .b: return "b"; case .c: return "c" }
    }
}

/// Kernel opcodes. `KOp.table[op.rawValue]` describes each (checked by a test).
enum KOp: Int, Sendable, CaseIterable {
    case addF, subF, mulF, divF, modF, powF, min2F, max2F, fmaF, subDivF, cmpSelF
    case negF, absF, sqrtF, expF, logF, log1pF, log2F, log10F, sinF, cosF, tanF
    case floorF, ceilF, roundF, signF
    case addI, subI, mulI, modI, powI, min2I, max2I, negI, absI, signI
    case eqF, neF, ltF, leF, gtF, geF
    case eqI, neI, ltI, leI, gtI, geI
    case notB, andB, orB
    case selF, selI, selB
    case castFI, castFB, castIB, castIF, validIF, castBF, castBI
    case isnanF, isnanC, nanMaskF, zeroMaskI, fillnanF, nonzeroI
    case lutBC, lutIC, lutFC
    case gatherF, gatherI, gatherB
    case copyF, copyI, copyB, copyC
    case lutCC, selC, fillnanC, eqC, neC

    /// The opcode table, in `rawValue` order.
    static let table: [KOpSpec] = [
        // Float arithmetic: IEEE semantics, NaN propagates, x/0 is ±inf or NaN.
        KOpSpec(op: .addF, call: "add", result: .f, args: [.f, .f], semantics: "a + b"),
        KOpSpec(op: .subF, call: "sub", result: .f, args: [.f, .f], semantics: "a - b"),
        KOpSpec(op: .mulF, call: "mul", result: .f, args: [.f, .f], semantics: "a * b"),
        KOpSpec(op: .divF, call: "div", result: .f, args: [.f, .f], semantics: "a / b (IEEE: x/0 = ±inf, 0/0 = NaN)"),
        KOpSpec(op: .modF, call: "mod", result: .f, args: [.f, .f], semantics: "floored a mod b, sign of b (Python); b = 0 gives NaN"),
        KOpSpec(op: .powF, call: "pow", result: .f, args: [.f, .f], semantics: "a ^ b (C pow)"),
        KOpSpec(op: .min2F, call: "min2", result: .f, args: [.f, .f], semantics: "smaller of a, b; NaN if either is NaN"),
        KOpSpec(op: .max2F, call: "max2", result: .f, args: [.f, .f], semantics: "larger of a, b; NaN if either is NaN"),
        KOpSpec(op: .fmaF, call: "fma", result: .f, args: [.f, .f, .f], semantics: "a * b + c with one rounding (made by the fuse pass)"),
        KOpSpec(op: .subDivF, call: "", result: .f, args: [.f, .f, .f], semantics: "(a - b) / c, rounded after each step as unfused (made by the fuse pass)"),
        KOpSpec(op: .cmpSelF, call: "", result: .f, args: [.f, .f, .f, .f], semantics: "(a cmp b) ? c : d, cmp a float comparison (made by the fuse pass)"),
        KOpSpec(op: .negF, call: "neg", result: .f, args: [.f], semantics: "-a"),
        KOpSpec(op: .absF, call: "abs", result: .f, args: [.f], semantics: "|a|"),
        KOpSpec(op: .sqrtF, call: "sqrt", result: .f, args: [.f], semantics: "square root; NaN below 0"),
        KOpSpec(op: .expF, call: "exp", result: .f, args: [.f], semantics: "e^a, SIMD polynomial (≤ 2 ulp)"),
        KOpSpec(op: .logF, call: "log", result: .f, args: [.f], semantics: "natural log, SIMD (≤ 2 ulp); -inf at 0, NaN below 0"),
        KOpSpec(op: .log1pF, call: "log1p", result: .f, args: [.f], semantics: "log(1 + a), SIMD (≤ 2 ulp); -inf at -1"),
        KOpSpec(op: .log2F, call: "log2", result: .f, args: [.f], semantics: "base-2 log (libm)"),
        KOpSpec(op: .log10F, call: "log10", result: .f, args: [.f], semantics: "base-10 log (libm)"),
        KOpSpec(op: .sinF, call: "sin", result: .f, args: [.f], semantics: "sine (libm)"),
        KOpSpec(op: .cosF, call: "cos", result: .f, args: [.f], semantics: "cosine (libm)"),
        KOpSpec(op: .tanF, call: "tan", result: .f, args: [.f], semantics: "tangent (libm)"),
        KOpSpec(op: .floorF, call: "floor", result: .f, args: [.f], semantics: "round toward -inf"),
        KOpSpec(op: .ceilF, call: "ceil", result: .f, args: [.f], semantics: "round toward +inf"),
        KOpSpec(op: .roundF, call: "round", result: .f, args: [.f], semantics: "round half to even at imm decimal digits (numpy)"),
        KOpSpec(op: .signF, call: "sign", result: .f, args: [.f], semantics: "-1, 0 or 1 (NaN stays NaN)"),
        // Int arithmetic: overflow is detected per block and raised naming the expression.
        KOpSpec(op: .addI, call: "add", result: .i, args: [.i, .i], semantics: "a + b, overflow checked"),
        KOpSpec(op: .subI, call: "sub", result: .i, args: [.i, .i], semantics: "a - b, overflow checked"),
        KOpSpec(op: .mulI, call: "mul", result: .i, args: [.i, .i], semantics: "a * b, overflow checked"),
        KOpSpec(op: .modI, call: "mod", result: .i, args: [.i, .i], semantics: "floored a mod b (Python); 0 where b = 0 (validity cleared by nonzero_bi)"),
        KOpSpec(op: .powI, call: "pow", result: .i, args: [.i, .i], semantics: "a ^ b for b ≥ 0 (the compiler emits it only for constant b ≥ 0), overflow checked"),
        KOpSpec(op: .min2I, call: "min2", result: .i, args: [.i, .i], semantics: "smaller of a, b"),
        KOpSpec(op: .max2I, call: "max2", result: .i, args: [.i, .i], semantics: "larger of a, b"),
        KOpSpec(op: .negI, call: "neg", result: .i, args: [.i], semantics: "-a, overflow checked"),
        KOpSpec(op: .absI, call: "abs", result: .i, args: [.i], semantics: "|a|, overflow checked"),
        KOpSpec(op: .signI, call: "sign", result: .i, args: [.i], semantics: "-1, 0 or 1"),
        // Comparisons: false when either side is NaN, except ne (IEEE).
        KOpSpec(op: .eqF, call: "eq", result: .b, args: [.f, .f], semantics: "a == b"),
        KOpSpec(op: .neF, call: "ne", result: .b, args: [.f, .f], semantics: "a != b (true with NaN)"),
        KOpSpec(op: .ltF, call: "lt", result: .b, args: [.f, .f], semantics: "a < b"),
        KOpSpec(op: .leF, call: "le", result: .b, args: [.f, .f], semantics: "a <= b"),
        KOpSpec(op: .gtF, call: "gt", result: .b, args: [.f, .f], semantics: "a > b"),
        KOpSpec(op: .geF, call: "ge", result: .b, args: [.f, .f], semantics: "a >= b"),
        KOpSpec(op: .eqI, call: "eq", result: .b, args: [.i, .i], semantics: "a == b"),
        KOpSpec(op: .neI, call: "ne", result: .b, args: [.i, .i], semantics: "a != b"),
        KOpSpec(op: .ltI, call: "lt", result: .b, args: [.i, .i], semantics: "a < b"),
        KOpSpec(op: .leI, call: "le", result: .b, args: [.i, .i], semantics: "a <= b"),
        KOpSpec(op: .gtI, call: "gt", result: .b, args: [.i, .i], semantics: "a > b"),
        KOpSpec(op: .geI, call: "ge", result: .b, args: [.i, .i], semantics: "a >= b"),
        // Bools.
        KOpSpec(op: .notB, call: "not", result: .b, args: [.b], semantics: "not a"),
        KOpSpec(op: .andB, call: "and", result: .b, args: [.b, .b], semantics: "a and b"),
        KOpSpec(op: .orB, call: "or", result: .b, args: [.b, .b], semantics: "a or b"),
        // Selection.
        KOpSpec(op: .selF, call: "if_else", result: .f, args: [.b, .f, .f], semantics: "c ? a : b"),
        KOpSpec(op: .selI, call: "if_else", result: .i, args: [.b, .i, .i], semantics: "c ? a : b"),
        KOpSpec(op: .selB, call: "if_else", result: .b, args: [.b, .b, .b], semantics: "c ? a : b"),
        // Explicit casts, inserted by type resolution.
        KOpSpec(op: .castFI, call: "cast", result: .f, args: [.i], semantics: "Double(a)"),
        KOpSpec(op: .castFB, call: "cast", result: .f, args: [.b], semantics: "a ? 1.0 : 0.0"),
        KOpSpec(op: .castIB, call: "cast", result: .i, args: [.b], semantics: "a ? 1 : 0"),
        KOpSpec(op: .castIF, call: "cast", result: .i, args: [.f], semantics: "a truncated toward 0; 0 where not representable (see valid_bf)"),
        KOpSpec(op: .validIF, call: "valid", result: .b, args: [.f], semantics: "a is finite and within Int64 range"),
        KOpSpec(op: .castBF, call: "cast", result: .b, args: [.f], semantics: "a != 0 (NaN gives true; the compiler masks it)"),
        KOpSpec(op: .castBI, call: "cast", result: .b, args: [.i], semantics: "a != 0"),
        // Missing values.
        KOpSpec(op: .isnanF, call: "is_nan", result: .b, args: [.f], semantics: "a is NaN"),
        KOpSpec(op: .isnanC, call: "is_nan", result: .b, args: [.c], semantics: "string code is -1 (missing)"),
        KOpSpec(op: .nanMaskF, call: "nanmask", result: .f, args: [.f, .b], semantics: "v ? a : NaN (int validity to float NaN)"),
        KOpSpec(op: .zeroMaskI, call: "zeromask", result: .i, args: [.i, .b], semantics: "v ? a : 0 (clears missing slots so checked ops see no garbage)"),
        KOpSpec(op: .fillnanF, call: "fill_nan", result: .f, args: [.f, .f], semantics: "a is NaN ? b : a"),
        KOpSpec(op: .nonzeroI, call: "nonzero", result: .b, args: [.i], semantics: "a != 0 (validity of int mod)"),
        // Strings, through per-code tables built when the program is bound to a table.
        KOpSpec(op: .lutBC, call: "lut", result: .b, args: [.c], semantics: "table[code] (string predicate; code -1 uses the table's missing entry)"),
        KOpSpec(op: .lutIC, call: "lut", result: .i, args: [.c], semantics: "table[code] (string rank in a merged sorted dictionary; -1 when missing)"),
        KOpSpec(op: .lutFC, call: "lut", result: .f, args: [.c], semantics: "table[code] (string parsed as a number; NaN when missing or not a number)"),
        // Broadcast of per-group reduction results.
        KOpSpec(op: .gatherF, call: "gather", result: .f, args: [.c], semantics: "groupValue[group id]"),
        KOpSpec(op: .gatherI, call: "gather", result: .i, args: [.c], semantics: "groupValue[group id]"),
        KOpSpec(op: .gatherB, call: "gather", result: .b, args: [.c], semantics: "groupValid[group id]"),
        // Moves into the output.
        KOpSpec(op: .copyF, call: "copy", result: .f, args: [.f], semantics: "a"),
        KOpSpec(op: .copyI, call: "copy", result: .i, args: [.i], semantics: "a"),
        KOpSpec(op: .copyB, call: "copy", result: .b, args: [.b], semantics: "a"),
        KOpSpec(op: .copyC, call: "copy", result: .c, args: [.c], semantics: "a"),
        // Computed strings: codes into the program's own dictionary (its literals, the
        // referenced string columns' values and the string functions' results), built
        // when the program is bound.
        KOpSpec(op: .lutCC, call: "lut", result: .c, args: [.c], semantics: "table[code] (a column's value, or a string function's result, as a code in the program dictionary; -1 stays missing)"),
        KOpSpec(op: .selC, call: "if_else", result: .c, args: [.b, .c, .c], semantics: "c ? a : b (string codes)"),
        KOpSpec(op: .fillnanC, call: "fill_nan", result: .c, args: [.c, .c], semantics: "a is missing (-1) ? b : a (string codes)"),
        KOpSpec(op: .eqC, call: "eq", result: .b, args: [.c, .c], semantics: "a == b, both present (codes in one dictionary)"),
        KOpSpec(op: .neC, call: "ne", result: .b, args: [.c, .c], semantics: "a != b or either missing (codes in one dictionary)"),
    ]

    /// This opcode's row.
    var spec: KOpSpec { KOp.table[rawValue] }

    /// Rows by call name, for type resolution.
    static let byCall: [String: [KOpSpec]] = Dictionary(grouping: table.filter { !$0.call.isEmpty }, by: { $0.call })

    /// The row implementing `call` for exactly these argument types.
    static func resolve(_ call: String, _ args: [KType]) -> KOpSpec? {
        byCall[call]?.first { $0.args == args }
    }

    /// Ops whose result depends on tables bound at run time (never folded).
    var usesAux: Bool {
        switch self {
        case .lutBC, .lutIC, .lutFC, .lutCC, .gatherF, .gatherI, .gatherB: return true
        default: return false
        }
    }

    /// Float ops that can carry a fused unary epilogue (`KNode.post`): their loop applies
    /// it to each result before storing.
    var takesEpilogue: Bool {
        switch self {
        case .addF, .subF, .mulF, .divF, .min2F, .max2F, .fmaF, .subDivF: return true
        default: return false
        }
    }

    /// Unary float ops that can run as another op's epilogue.
    var isEpilogue: Bool {
        switch self {
        case .sqrtF, .absF, .negF: return true
        default: return false
        }
    }

    /// Float comparisons a `cmpSelF` can test (its `imm` holds the op's raw value).
    var isFloatComparison: Bool {
        switch self {
        case .eqF, .neF, .ltF, .leF, .gtF, .geF: return true
        default: return false
        }
    }

    /// Int ops that can overflow (checked per block).
    var checksOverflow: Bool {
        switch self {
        case .addI, .subI, .mulI, .powI, .negI, .absI: return true
        default: return false
        }
    }
}
