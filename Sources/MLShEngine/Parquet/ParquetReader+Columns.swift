extension ParquetReader {
    /// Decodes a column's chunks into its arrays, then applies the plan's conversion. Row
    /// groups are decoded in parallel unless `inOrder` (when the columns keep every worker
    /// busy): then one thread writes the column from its start, and each page may use the
    /// rows before it (`ParquetChunkDecoder.readInPlace`).
    func column(_ plan: ParquetColumnPlan, _ chunks: [ParquetChunk], rows total: Int, inOrder: Bool) throws(ParquetFailure) -> Column {
        var failure: ParquetFailure?
        var decoders: [ParquetChunkDecoder] = []
        /// The strings of string columns: one interner for chunks decoded in order, one per
        /// chunk decoded in parallel, with the chunks whose codes refer to each.
        var runs: [(chunks: Range<Int>, interner: ParquetInterner)] = []
        /// Runs every chunk's decoder against its sink; keeps the decoders or the first failure.
        func decodeAll(_ sink: (ParquetChunk) -> ParquetSink) {
            let file = self.file
            if inOrder || chunks.count == 1 || total < 1 << 16 {
                var shared = ParquetInterner()
                for c in chunks {
                    var d = ParquetChunkDecoder(file: file, plan: plan, chunk: c)
                    swap(&d.interner, &shared)
                    do throws(ParquetFailure) {
                        defer { release(c) }
                        try d.decode(into: sink(c), ownedRows: c.rowStart)
                    } catch {
                        failure = error
                        return
                    }
                    swap(&d.interner, &shared)
                    decoders.append(d)
                }
                runs = [(0..<chunks.count, shared)]
                return
            }
            let results = dataParallelChunks(count: chunks.count) { k in
                var d = ParquetChunkDecoder(file: file, plan: plan, chunk: chunks[k])
                return Result { () throws(ParquetFailure) -> ParquetChunkDecoder in
                    defer { release(chunks[k]) }
                    try d.decode(into: sink(chunks[k]))
                    return d
                }
            }
            for (k, r) in results.enumerated() {
                switch r {
                case .success(var d):
                    runs.append((k..<(k + 1), d.interner))
                    d.interner = ParquetInterner()
                    decoders.append(d)
                case .failure(let f): if failure == nil { failure = f }
                }
            }
        }
        var validity: [Bool]?
        let column: Column
        switch plan.target {
        case .double:
            let values = [Double](unsafeUninitializedCapacity: total) { buf, n in
                kernelAdviseHugePages(UnsafeMutableRawPointer(buf.baseAddress), total * 8)
                if let base = buf.baseAddress { decodeAll { .double(base + $0.rowStart) } }
                n = total
            }
            if let failure { throw failure }
            column = Column(floats: values)
        case .int64:
            let values = withValidity(plan, total, &validity) { valid in
                [Int64](unsafeUninitializedCapacity: total) { buf, n in
                    kernelAdviseHugePages(UnsafeMutableRawPointer(buf.baseAddress), total * 8)
                    if let base = buf.baseAddress { decodeAll { c in .int64(base + c.rowStart, validity: valid.map { $0 + c.rowStart }) } }
                    n = total
                }
            }
            if let failure { throw failure }
            if decoders.allSatisfy({ $0.nulls == 0 }) { validity = nil }
            column = try convert(plan, values, validity)
        case .bool:
            let values = withValidity(plan, total, &validity) { valid in
                [Bool](unsafeUninitializedCapacity: total) { buf, n in
                    if let base = buf.baseAddress {
                        let bytes = UnsafeMutableRawPointer(base).assumingMemoryBound(to: UInt8.self)
                        decodeAll { c in .bool(bytes + c.rowStart, validity: valid.map { $0 + c.rowStart }) }
                    }
                    n = total
                }
            }
            if let failure { throw failure }
            if decoders.allSatisfy({ $0.nulls == 0 }) { validity = nil }
            column = Column(bools: values, validity: validity)
        case .codes:
            var codes = [Int32](unsafeUninitializedCapacity: total) { buf, n in
                kernelAdviseHugePages(UnsafeMutableRawPointer(buf.baseAddress), total * 4)
                if let base = buf.baseAddress { decodeAll { .codes(base + $0.rowStart) } }
                n = total
            }
            if let failure { throw failure }
            let dictionary = try mergeStrings(plan, &codes, chunks, runs)
            column = Column(.string(codes: codes, dictionary: dictionary))
        }
        if case .allMissing = plan.post { return Column(floats: [Double](repeating: .nan, count: total)) }
        return column
    }

    /// Lets a decoded chunk's pages of a mapped file go (see `mapped`).
    func release(_ c: ParquetChunk) {
        guard mapped, let base = file.baseAddress else { return }
        dataDropMappedPages(base, c.bytes.lowerBound, c.bytes.upperBound)
    }

    /// Runs `body` with a validity buffer (bytes 0/1) for an OPTIONAL column, which becomes
    /// `validity`; a REQUIRED column gets none.
    private func withValidity<R>(_ plan: ParquetColumnPlan, _ total: Int, _ validity: inout [Bool]?,
                                 _ body: (UnsafeMutablePointer<UInt8>?) -> R) -> R {
        guard plan.optional else { return body(nil) }
        var result: R?
        validity = [Bool](unsafeUninitializedCapacity: total) { buf, n in
            result = body(buf.baseAddress.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: UInt8.self) })
            n = total
        }
        // `body` always runs, so `result` is set.
        guard let result else { return body(nil) }
        return result
    }

    /// An int column after the plan's conversion: itself, a float (DECIMAL), or ISO text
    /// (DATE, TIMESTAMP, TIME).
    private func convert(_ plan: ParquetColumnPlan, _ values: [Int64], _ validity: [Bool]?) throws(ParquetFailure) -> Column {
        func valid(_ i: Int) -> Bool { validity?[i] ?? true }
        switch plan.post {
        case .none, .allMissing:
            return Column(ints: values, validity: validity)
        case .unsigned64:
            if let i = values.indices.first(where: { values[$0] < 0 && valid($0) }) {
                throw .unsupported("column '\(plan.name)' holds the unsigned value \(UInt64(bitPattern: values[i])) (row \(i + 1)), more than an int column holds")
            }
            return Column(ints: values, validity: validity)
        case .decimal(let scale):
            var power = 1.0
            for _ in 0..<scale { power *= 10 }
            var out = [Double](repeating: .nan, count: values.count)
            for i in values.indices where valid(i) { out[i] = Double(values[i]) / power }
            return Column(floats: out)
        case .date, .timestamp, .time:
            var fraction = false
            if case .timestamp(let unit, _) = plan.post {
                fraction = values.indices.contains { valid($0) && values[$0] % unit.perSecond != 0 }
            } else if case .time(let unit) = plan.post {
                fraction = values.indices.contains { valid($0) && values[$0] % unit.perSecond != 0 }
            }
            var index: [Int64: Int32] = [:]
            var dictionary: [String] = []
            var codes = [Int32](repeating: -1, count: values.count)
            for i in values.indices where valid(i) {
                let v = values[i]
                if let c = index[v] { codes[i] = c; continue }
                let text: String
                switch plan.post {
                case .date: text = ParquetTemporal.date(v)
                case .timestamp(let unit, let utc): text = ParquetTemporal.timestamp(v, unit: unit, utc: utc, fraction: fraction)
                case .time(let unit): text = ParquetTemporal.time(v, unit: unit, fraction: fraction)
                default: text = String(v)
                }
                let c = Int32(dictionary.count)
                index[v] = c
                dictionary.append(text)
                codes[i] = c
            }
            return Column(.string(codes: codes, dictionary: dictionary))
        }
    }

    /// Gives the chunks' string codes one dictionary, in order of first appearance (as
    /// a CSV file's strings get). Each run of chunks has its own interner: one run needs
    /// only a renumbering; several are merged into one interner.
    private func mergeStrings(_ plan: ParquetColumnPlan, _ codes: inout [Int32], _ chunks: [ParquetChunk],
                              _ runs: [(chunks: Range<Int>, interner: ParquetInterner)]) throws(ParquetFailure) -> [String] {
        let parallel = codes.count >= 1 << 16
        // Each run's codes in order of first appearance.
        let orders: [[Int32]] = codes.withUnsafeBufferPointer { all in
            let box = DataUncheckedBox(all)
            return dataParallelChunks(count: runs.count, sequential: !parallel) { r in
                var seen = [Bool](repeating: false, count: runs[r].interner.count)
                var order: [Int32] = []
                for c in chunks[runs[r].chunks] {
                    for i in c.rowStart..<(c.rowStart + c.rows) {
                        let code = box.value[i]
                        if code >= 0 && !seen[Int(code)] { seen[Int(code)] = true; order.append(code) }
                    }
                }
                return order
            }
        }
        // For each run, a map from its codes to the final ones (nil: they stay).
        var maps: [[Int32]?] = []
        let strings: [String], invalid: Bool
        if runs.count == 1, let run = runs.first, let order = orders.first {
            var map = [Int32](repeating: -1, count: run.interner.count)
            var identity = order.count == run.interner.count
            for (rank, code) in order.enumerated() {
                map[Int(code)] = Int32(rank)
                if Int(code) != rank { identity = false }
            }
            maps = [identity ? nil : map]
            (strings, invalid) = run.interner.strings(identity ? nil : order)
        } else {
            var merged = ParquetInterner()
            for (r, order) in orders.enumerated() {
                let local = runs[r].interner
                var map = [Int32](repeating: -1, count: local.count)
                var identity = true
                guard merged.count <= Int(Int32.max) - order.count else {
                    throw .unsupported("column '\(plan.name)' holds more than \(Int32.max) distinct strings, more than a string column holds")
                }
                for code in order {
                    let g = merged.intern(from: local, Int(code))
                    map[Int(code)] = g
                    if g != code { identity = false }
                }
                maps.append(identity ? nil : map)
            }
            (strings, invalid) = merged.strings()
        }
        if invalid {
            throw .unsupported("column '\(plan.name)' holds binary values that are not UTF-8 text, which mlsh does not read")
        }
        var mapOf = [Int](repeating: 0, count: chunks.count)
        for (r, run) in runs.enumerated() { for k in run.chunks { mapOf[k] = r } }
        if maps.contains(where: { $0 != nil }) {
            codes.withUnsafeMutableBufferPointer { all in
                let box = DataUncheckedBox(all)
                _ = dataParallelChunks(count: chunks.count, sequential: !parallel) { k in
                    guard let map = maps[mapOf[k]] else { return 0 }
                    let c = chunks[k]
                    map.withUnsafeBufferPointer { m in
                        for i in c.rowStart..<(c.rowStart + c.rows) where box.value[i] >= 0 {
                            box.value[i] = m[Int(box.value[i])]
                        }
                    }
                    return 0
                }
            }
        }
        return strings
    }
}
