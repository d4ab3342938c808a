/// The row-parsing loop and column assembly of `CSVReader`.
extension CSVReader {
    /// Parses the rows in `range` (which starts at a row start). Columns with `collect`
    /// set record text spans; with `onlySpans`, all other columns are skipped.
    func parseChunk(_ range: Range<Int>, collect: [Bool], onlySpans: Bool, reserve: Int) throws(CSVFailure) -> CSVChunk {
        let ncols = names.count
        var builders: [CSVColumnBuilder] = []
        for c in 0..<ncols {
            var b = CSVColumnBuilder(declared: declared[c], collect: collect[c])
            if onlySpans { b.kind = collect[c] ? .text : .none }
            b.reserve(reserve)
            builders.append(b)
        }
        let end = range.upperBound
        let fastNumbers = !naNumeric
        var i = range.lowerBound
        var row = 0
        while i < end {
            let b0 = p[i]
            if b0 == 10 || b0 == 13 { i += 1; continue }  // blank line
            let rowStart = i
            var col = 0
            while true {
                if col >= ncols {
                    let found = (try? readRecord(rowStart).0.count) ?? (ncols + 1)
                    throw CSVFailure(offset: i, message: "expected \(ncols) fields as in the header, found \(found)")
                }
                var t: Int
                if onlySpans && !builders[col].collect {
                    t = try scanField(i).1
                } else if fastNumbers, !builders[col].collect, builders[col].kind != .text,
                          builders[col].kind != .bool, p[i] != 34,
                          let (v, j) = csvParseNumber(p, i, end),
                          j == end || p[j] == sep || p[j] == 10 || p[j] == 13 {
                    if !builders[col].add(v, row: row) { throw conflict(col, i, j) }
                    t = j
                } else {
                    let (span, tt) = try scanField(i)
                    t = tt
                    if builders[col].collect {
                        builders[col].spans.append(span)
                    } else if builders[col].kind != .text {
                        let v: CSVValue
                        let s = span.start, e = span.start + Int(span.length)
                        if span.quoted {
                            v = declared[col] == nil ? .text : (isNA(s, e) ? .missing : csvClassifyUnquoted(p, s, e))
                        } else {
                            v = isNA(s, e) ? .missing : csvClassifyUnquoted(p, s, e)
                        }
                        if !builders[col].add(v, row: row) { throw conflict(col, i, t) }
                    }
                }
                if t < end && p[t] == sep {
                    col += 1
                    i = t + 1
                    continue
                }
                i = lineEnd(t)
                break
            }
            if col + 1 != ncols {
                throw CSVFailure(offset: max(rowStart, i - 1 - (i >= 2 && p[i - 2] == 13 ? 1 : 0)),
                                 message: "expected \(ncols) fields as in the header, found \(col + 1)")
            }
            row += 1
        }
        return CSVChunk(builders: builders, rows: row)
    }

    func conflict(_ col: Int, _ s: Int, _ e: Int) -> CSVFailure {
        let type = declared[col]?.rawValue ?? "?"
        return CSVFailure(offset: s, message: "column '\(names[col])' is declared \(type) but has the value '\(snippet(s, e))'")
    }

    /// Builds column `c` of the table from the chunks, as `kind`.
    func assemble(_ c: Int, kind: CSVKind, _ chunks: [CSVChunk]) throws(CSVFailure) -> Column {
        let total = chunks.reduce(0) { $0 + $1.rows }
        switch kind {
        case .float, .none:
            if chunks.count == 1, chunks[0].builders[c].kind == .float { return Column(floats: chunks[0].builders[c].floats) }
            var out = [Double]()
            out.reserveCapacity(total)
            for ch in chunks {
                let b = ch.builders[c]
                switch b.kind {
                case .float: out.append(contentsOf: b.floats)
                case .int:
                    let base = out.count
                    out.append(contentsOf: b.ints.lazy.map { Double($0) })
                    for r in b.missing { out[base + r] = .nan }
                default: out.append(contentsOf: repeatElement(.nan, count: ch.rows))
                }
            }
            return Column(floats: out)
        case .int:
            var out = [Int64]()
            out.reserveCapacity(total)
            var valid: [Bool]? = nil
            for ch in chunks {
                let b = ch.builders[c]
                let base = out.count
                if b.kind == .int { out.append(contentsOf: b.ints) } else { out.append(contentsOf: repeatElement(0, count: ch.rows)) }
                if !b.missing.isEmpty {
                    if valid == nil { valid = [Bool](repeating: true, count: total) }
                    for r in b.missing { valid?[base + r] = false }
                }
            }
            return Column(ints: out, validity: valid)
        case .bool:
            var out = [Bool]()
            out.reserveCapacity(total)
            var valid: [Bool]? = nil
            for ch in chunks {
                let b = ch.builders[c]
                let base = out.count
                if b.kind == .bool { out.append(contentsOf: b.bools) } else { out.append(contentsOf: repeatElement(false, count: ch.rows)) }
                if !b.missing.isEmpty {
                    if valid == nil { valid = [Bool](repeating: true, count: total) }
                    for r in b.missing { valid?[base + r] = false }
                }
            }
            return Column(bools: out, validity: valid)
        case .text:
            var dict: [String] = []
            var index: [String: Int32] = [:]
            var codes = [Int32]()
            codes.reserveCapacity(total)
            for ch in chunks {
                for span in ch.builders[c].spans {
                    let s = span.start, e = span.start + Int(span.length)
                    if !span.quoted && isNA(s, e) { codes.append(-1); continue }
                    guard let text = fieldText(span) else {
                        throw CSVFailure(offset: s, message: "not UTF-8 text in column '\(names[c])'")
                    }
                    if let code = index[text] { codes.append(code) } else {
                        let code = Int32(dict.count)
                        index[text] = code
                        dict.append(text)
                        codes.append(code)
                    }
                }
            }
            return Column(.string(codes: codes, dictionary: dict))
        }
    }
}
