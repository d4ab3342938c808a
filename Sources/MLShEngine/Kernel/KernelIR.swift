import Foundation

/// The compiler's intermediate form: a list of typed SSA nodes in dependency order (a
/// node's arguments always precede it). Passes rewrite the list; register allocation
/// turns it into `KInstr`s over slots.

/// What a node is.
enum KNodeKind: Hashable, Sendable {
    /// An opcode applied to the argument nodes.
    case op(KOp)
    /// A column's values, read in place.
    case column(String)
    /// An int/bool column's validity mask, read in place.
    case validity(String)
    /// A constant; the bits are interpreted by the node's type (Double bits, Int64, 0/1).
    case constant(UInt64)
    /// The value of reduction `k`, broadcast (a scalar, or per group through a gather).
    case param(Int)
    /// Whether reduction `k` has a value (int min/max of an empty group has none).
    case paramValidity(Int)
}

/// One SSA node.
struct KNode: Sendable {
    var kind: KNodeKind
    var type: KType
    var args: [Int] = []
    var imm: Int64 = 0
    /// Index into the program's `aux` list, or -1.
    var aux: Int = -1
    /// The source expression, for overflow messages.
    var note: String = ""
    /// A unary op applied to the result in the same loop (set by the epilogue fuse pass).
    var post: KOp? = nil

    var op: KOp? { if case .op(let o) = kind { return o } else { return nil } }
    var isConstant: Bool { if case .constant = kind { return true } else { return false } }
    var constantBits: UInt64? { if case .constant(let b) = kind { return b } else { return nil } }

    /// The key common-subexpression elimination compares (everything but the note).
    var cseKey: KNodeKey { KNodeKey(kind: kind, type: type, args: args, imm: imm, aux: aux, post: post) }
}

struct KNodeKey: Hashable { let kind: KNodeKind; let type: KType; let args: [Int]; let imm: Int64; let aux: Int; let post: KOp? }

/// Run-time tables an op reads, described at compile time and built when the program is
/// bound to a table (so a dictionary's codes are never baked into the program).
enum KAux: Hashable, Sendable {
    /// Per code of `column`: `value <op> literal` as 0/1; entry 0 is the missing code's value.
    case stringPredicate(column: String, op: String, literal: String)
    /// Per code of `column`: its rank among the sorted union of the columns' dictionaries
    /// (entry 0, the missing code, is -1).
    case stringRank(column: String, union: [String])
    /// Per code of `column`: the string parsed as a number, NaN when it is not one.
    case stringNumber(column: String)
    /// Per code of `column`: its code in the program's dictionary (see `kernelStringUnion`).
    case stringRemap(column: String)
    /// Per code of `column`, or with no column per code of the program dictionary as the
    /// aux before it built it: the program-dictionary code of `function` of the value
    /// (-1 where it gives none). One entry per distinct value, never per row; a table
    /// without a column is never shared, as it covers only the codes made before it.
    case stringFunction(KStringFunction, column: String?)
}

/// A string function of column expressions, applied to dictionaries.
enum KStringFunction: Hashable, Sendable {
    case trim, lower, upper
    /// Every occurrence of `old` (not empty) replaced by `new`.
    case replace(old: String, new: String)
    /// The part at `index` between separators (0-based; negative counts from the end),
    /// as Polars' `str.split(sep).list.get(i, null_on_oob=True)`.
    case splitPart(separator: String, index: Int64)

    /// The function's value for `s`; nil is missing.
    func apply(_ s: String) -> String? {
        switch self {
        case .trim: return s.trimmingCharacters(in: .whitespacesAndNewlines)
        case .lower: return s.lowercased()
        case .upper: return s.uppercased()
        case .replace(let old, let new): return s.replacingOccurrences(of: old, with: new)
        case .splitPart(let sep, let index):
            let parts = s.components(separatedBy: sep)
            let k = index < 0 ? Int64(parts.count) + index : index
            return k >= 0 && k < Int64(parts.count) ? parts[Int(k)] : nil
        }
    }

    /// The call in mls syntax, applied to `value`.
    func text(_ value: String) -> String {
        switch self {
        case .trim: return "trim(\(value))"
        case .lower: return "lower(\(value))"
        case .upper: return "upper(\(value))"
        case .replace(let old, let new): return "replace(\(value), \(KExpr.string(old)), \(KExpr.string(new)))"
        case .splitPart(let sep, let index): return "split_text(\(value), \(KExpr.string(sep)), \(index))"
        }
    }
}

/// A compiled value: its node, its validity node (int/bool only; nil = always present).
struct KVal {
    var node: Int
    var valid: Int?
    var type: KType
    /// For strings read straight from a column: the column, whose own codes these are
    /// (comparisons use them); computed strings carry program-dictionary codes instead.
    var rawColumn: String? = nil
    /// `none`, which takes the type of the operand it meets (see `KLowering.adopt`).
    var isMissing = false
}

/// A program slot: where an instruction operand lives.
enum KSlot: Hashable, Sendable {
    case register(Int)
    case column(String, KType)
    case validity(String)
    case constant(KType, UInt64)
    case param(Int, KType)
    /// Always type `b`; the type is carried so `.param` and `.paramValidity` bind alike.
    case paramValidity(Int, KType)
    case output(KType)
    case outputValidity
}

extension KSlot {
    var isParamValidity: Bool { if case .paramValidity = self { return true } else { return false } }

    /// The disassembler's name for the slot.
    var listing: String {
        switch self {
        case .register(let k): return "r\(k)"
        case .column(let n, _): return "$" + n
        case .validity(let n): return "valid($\(n))"
        case .constant(let t, let bits): return "#" + kernelConstantText(t, bits)
        case .param(let k, _): return "p\(k)"
        case .paramValidity(let k, _): return "valid(p\(k))"
        case .output: return "out"
        case .outputValidity: return "out.valid"
        }
    }
}

/// A constant's text for listings.
func kernelConstantText(_ t: KType, _ bits: UInt64) -> String {
    switch t {
    case .f: return "\(Double(bitPattern: bits))"
    case .i: return "\(Int64(bitPattern: bits))"
    case .b: return bits != 0 ? "true" : "false"
    case .c: return "code \(Int32(truncatingIfNeeded: Int64(bitPattern: bits)))"
    }
}
