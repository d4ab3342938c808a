/// Turns source bytes into tokens with spans.
///
/// Newlines become `.newline` tokens (runs collapse to one) except where a statement
/// continues: the parser skips them inside brackets and after binary operators, and
/// the lexer drops a newline when the next non-blank line starts with `|>`, `>>` or `.`.
struct Lexer {
    let file: SourceFile
    let bytes: [UInt8]
    var pos: Int
    let end: Int
    var tokens: [Token] = []

    init(file: SourceFile, start: Int = 0, end: Int? = nil) {
        self.file = file
        self.bytes = file.bytes
        self.pos = start
        self.end = end ?? file.bytes.count
    }

    /// Lexes the whole range.
    static func tokenize(_ file: SourceFile, start: Int = 0, end: Int? = nil) throws(MLShError) -> [Token] {
        var lx = Lexer(file: file, start: start, end: end)
        if start == 0 && end == nil { try lx.validateUTF8() }
        try lx.run()
        return lx.tokens
    }

    private func span(_ s: Int, _ e: Int) -> Span { Span(file: file, start: s, end: e) }

    private func fail(_ msg: String, _ s: Int, _ e: Int, incomplete: Bool = false) -> MLShError {
        MLShError(.syntax, msg, span: span(s, e), incomplete: incomplete)
    }

    /// Rejects invalid UTF-8 and NUL bytes with their byte offset.
    func validateUTF8() throws(MLShError) {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0 { throw fail("NUL byte at byte offset \(i)", i, i + 1) }
            if b < 0x80 { i += 1; continue }
            var need = 0
            var minCode: UInt32 = 0
            var code: UInt32 = 0
            if b & 0xE0 == 0xC0 { need = 1; code = UInt32(b & 0x1F); minCode = 0x80 }
            else if b & 0xF0 == 0xE0 { need = 2; code = UInt32(b & 0x0F); minCode = 0x800 }
            else if b & 0xF8 == 0xF0 { need = 3; code = UInt32(b & 0x07); minCode = 0x10000 }
            else { throw fail("invalid UTF-8 at byte offset \(i)", i, i + 1) }
            for k in 1...need {
                guard i + k < n, bytes[i + k] & 0xC0 == 0x80 else {
                    throw fail("invalid UTF-8 at byte offset \(i)", i, i + 1)
                }
                code = code << 6 | UInt32(bytes[i + k] & 0x3F)
            }
            if code < minCode || code > 0x10FFFF || (0xD800...0xDFFF).contains(code) {
                throw fail("invalid UTF-8 at byte offset \(i)", i, i + 1)
            }
            i += need + 1
        }
    }

    private func peek(_ k: Int = 0) -> UInt8 { pos + k < end ? bytes[pos + k] : 0 }

    private static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c == 95
    }
    private static func isIdent(_ c: UInt8) -> Bool { isIdentStart(c) || isDigit(c) }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    private mutating func add(_ kind: TokenKind, _ s: Int) { tokens.append(Token(kind: kind, span: span(s, pos))) }

    mutating func run() throws(MLShError) {
        while pos < end {
            let c = bytes[pos]
            let s = pos
            switch c {
            case 32, 9, 13: pos += 1
            case 35: // '#' comment
                while pos < end && bytes[pos] != 10 { pos += 1 }
            case 10:
                pos += 1
                if let last = tokens.last, last.kind != .newline, !continuesNextLine() {
                    add(.newline, s)
                }
            case 34: try lexString(raw: false, start: s)
            case 114 where peek(1) == 34: // r"..."
                pos += 1
                try lexString(raw: true, start: s)
            case 36: try lexColumn()
            case _ where Lexer.isDigit(c): try lexNumber()
            case _ where Lexer.isIdentStart(c):
                while pos < end && Lexer.isIdent(bytes[pos]) { pos += 1 }
                let word = String(decoding: bytes[s..<pos], as: UTF8.self)
                if let k = Keyword(rawValue: word) { add(.keyword(k), s) } else { add(.identifier(word), s) }
            default:
                try lexSymbol()
            }
        }
        add(.eof, pos)
    }

    /// Whether the next non-blank, non-comment line begins with `|>`, `>>` or `.`.
    private func continuesNextLine() -> Bool {
        var i = pos
        while i < end {
            let c = bytes[i]
            if c == 32 || c == 9 || c == 13 || c == 10 { i += 1; continue }
            if c == 35 { while i < end && bytes[i] != 10 { i += 1 }; continue }
            let n = i + 1 < end ? bytes[i + 1] : 0
            if c == 124 && n == 62 { return true }     // |>
            if c == 62 && n == 62 { return true }      // >>
            if c == 46 && !Lexer.isDigit(n) { return true } // .field
            return false
        }
        return false
    }

    private mutating func lexSymbol() throws(MLShError) {
        let s = pos
        let c = bytes[pos], n = peek(1)
        var two: Symbol?
        switch (c, n) {
        case (61, 62): two = .arrow      // =>
        case (124, 62): two = .pipe      // |>
        case (62, 62): two = .compose    // >>
        case (61, 61): two = .eq         // ==
        case (33, 61): two = .ne         // !=
        case (60, 61): two = .le         // <=
        case (62, 61): two = .ge         // >=
        default: break
        }
        if let two { pos += 2; add(.symbol(two), s); return }
        let one: Symbol?
        switch c {
        case 40: one = .lparen
        case 41: one = .rparen
        case 91: one = .lbracket
        case 93: one = .rbracket
        case 123: one = .lbrace
        case 125: one = .rbrace
        case 44: one = .comma
        case 59: one = .semicolon
        case 58: one = .colon
        case 46: one = .dot
        case 60: one = .lt
        case 62: one = .gt
        case 43: one = .plus
        case 45: one = .minus
        case 42: one = .star
        case 47: one = .slash
        case 37: one = .percent
        case 94: one = .caret
        case 61: one = .assign
        default: one = nil
        }
        if let one { pos += 1; add(.symbol(one), s); return }
        // Report the whole (possibly multi-byte) character.
        var e = pos + 1
        while e < end && bytes[e] & 0xC0 == 0x80 { e += 1 }
        let ch = String(decoding: bytes[pos..<e], as: UTF8.self)
        throw fail("unexpected character '\(ch)'", s, e)
    }

    private mutating func lexColumn() throws(MLShError) {
        let s = pos
        pos += 1
        if peek() == 96 { // backquote
            pos += 1
            let nameStart = pos
            while pos < end && bytes[pos] != 96 && bytes[pos] != 10 { pos += 1 }
            guard pos < end, bytes[pos] == 96 else {
                throw fail("unterminated column name: expected '`'", s, pos)
            }
            let name = String(decoding: bytes[nameStart..<pos], as: UTF8.self)
            pos += 1
            guard !name.isEmpty else { throw fail("empty column name", s, pos) }
            add(.column(name), s)
            return
        }
        guard Lexer.isIdentStart(peek()) else {
            throw fail("expected a column name after '$'", s, s + 1)
        }
        let nameStart = pos
        while pos < end && Lexer.isIdent(bytes[pos]) { pos += 1 }
        add(.column(String(decoding: bytes[nameStart..<pos], as: UTF8.self)), s)
    }

    private mutating func lexNumber() throws(MLShError) {
        let s = pos
        var digits = [UInt8]()
        var isFloat = false
        func eatDigits(_ lx: inout Lexer, _ digits: inout [UInt8]) {
            while lx.pos < lx.end {
                let c = lx.bytes[lx.pos]
                if Lexer.isDigit(c) { digits.append(c); lx.pos += 1 }
                else if c == 95, lx.pos + 1 < lx.end, Lexer.isDigit(lx.bytes[lx.pos + 1]) { lx.pos += 1 }
                else { break }
            }
        }
        eatDigits(&self, &digits)
        if peek() == 46, Lexer.isDigit(peek(1)) {
            isFloat = true; digits.append(46); pos += 1
            eatDigits(&self, &digits)
        }
        if peek() == 101 || peek() == 69 { // e E
            var k = 1
            if peek(1) == 43 || peek(1) == 45 { k = 2 }
            if Lexer.isDigit(peek(k)) {
                isFloat = true
                digits.append(101)
                if k == 2 { digits.append(peek(1)) }
                pos += k
                eatDigits(&self, &digits)
            }
        }
        if Lexer.isIdentStart(peek()) {
            var e = pos
            while e < end && Lexer.isIdent(bytes[e]) { e += 1 }
            throw fail("invalid number literal '\(String(decoding: bytes[s..<e], as: UTF8.self))'", s, e)
        }
        let text = String(decoding: digits, as: UTF8.self)
        if isFloat {
            guard text.utf8.count <= 800, let v = Double(text) else {
                throw fail("invalid float literal (too long or out of range)", s, pos)
            }
            add(.float(v), s)
        } else {
            guard let v = Int64(text) else {
                throw fail("integer literal does not fit in 64 bits (max 9223372036854775807)", s, pos)
            }
            add(.int(v), s)
        }
    }

    private mutating func lexString(raw: Bool, start s: Int) throws(MLShError) {
        pos += 1 // opening quote
        var parts: [StringPart] = []
        var buf = [UInt8]()
        func flush(_ parts: inout [StringPart], _ buf: inout [UInt8]) {
            if !buf.isEmpty { parts.append(.text(String(decoding: buf, as: UTF8.self))); buf.removeAll() }
        }
        while true {
            guard pos < end else { throw fail("unterminated string: expected '\"'", s, s + 1, incomplete: true) }
            let c = bytes[pos]
            if c == 34 { pos += 1; break }
            if raw { buf.append(c); pos += 1; continue }
            if c == 92 { // backslash
                let e = peek(1)
                switch e {
                case 110: buf.append(10); pos += 2
                case 116: buf.append(9); pos += 2
                case 114: buf.append(13); pos += 2
                case 92, 34, 123, 125: buf.append(e); pos += 2
                case 117 where peek(2) == 123: // \u{...}
                    var i = pos + 3
                    var v: UInt32 = 0
                    var n = 0
                    while i < end, let h = Lexer.hexValue(bytes[i]), n < 8 { v = v &* 16 &+ h; i += 1; n += 1 }
                    guard n > 0, i < end, bytes[i] == 125, let scalar = Unicode.Scalar(v) else {
                        throw fail("invalid unicode escape: expected \\u{hex digits} naming a character", pos, min(i + 1, end))
                    }
                    buf.append(contentsOf: Array(String(Character(scalar)).utf8))
                    pos = i + 1
                default:
                    throw fail("unknown escape '\\\(e < 128 && e >= 32 ? String(UnicodeScalar(e)) : "?")' (expected one of \\n \\t \\r \\\\ \\\" \\{ \\} \\u{...})", pos, min(pos + 2, end))
                }
                continue
            }
            if c == 123 { // {interpolation}
                flush(&parts, &buf)
                let codeStart = pos + 1
                let codeEnd = try scanInterpolation(from: codeStart, stringStart: s)
                if codeEnd == codeStart { throw fail("empty interpolation '{}' (write \\{ for a brace)", pos, codeEnd + 1) }
                parts.append(.code(start: codeStart, end: codeEnd))
                pos = codeEnd + 1
                continue
            }
            buf.append(c); pos += 1
        }
        flush(&parts, &buf)
        add(.string(parts), s)
    }

    /// Finds the `}` closing an interpolation, skipping nested brackets and strings.
    private func scanInterpolation(from start: Int, stringStart: Int) throws(MLShError) -> Int {
        var depth = 0
        var i = start
        while i < end {
            let c = bytes[i]
            switch c {
            case 123: depth += 1
            case 125:
                if depth == 0 { return i }
                depth -= 1
            case 34: // nested string
                i += 1
                while i < end && bytes[i] != 34 { if bytes[i] == 92 { i += 1 }; i += 1 }
            case 10:
                break
            default: break
            }
            i += 1
        }
        throw fail("unterminated string: expected '}' to close the interpolation and '\"'", stringStart, stringStart + 1, incomplete: true)
    }

    private static func hexValue(_ c: UInt8) -> UInt32? {
        switch c {
        case 48...57: return UInt32(c - 48)
        case 97...102: return UInt32(c - 87)
        case 65...70: return UInt32(c - 55)
        default: return nil
        }
    }
}
