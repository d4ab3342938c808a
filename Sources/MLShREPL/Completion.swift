import Foundation
import MLShLanguage
import MLShRuntime

/// What Tab offers at the prompt: keywords, builtins and names in scope; fields after
/// `.`; `$columns` of the tables in scope; bundled dataset names in `dataset("…`; file
/// paths inside other strings; `:commands` at the start of a line (paths after `:load`).
public struct Completer {
    let interpreter: Interpreter

    /// Creates a completer over an interpreter's scope.
    public init(interpreter: Interpreter) { self.interpreter = interpreter }

    /// Candidates for `word`, the text before the cursor from the last word break,
    /// given the whole line before it.
    public func complete(word: String, linePrefix: String) -> [String] {
        if insideString(linePrefix) {
            // The line editor splits words at '/', so the folders typed so far are the
            // string's text before this word; complete in that folder, replacing the word.
            let typed = linePrefix.split(separator: "\"", omittingEmptySubsequences: false).last.map(String.init) ?? ""
            if stringArgument(of: linePrefix) == "dataset" {
                return Runtime.bundledDatasets.filter { $0.hasPrefix(typed + word) }.map { String($0.dropFirst(typed.count)) }
            }
            let folder = typed.lastIndex(of: "/").map { String(typed[...$0]) } ?? ""
            let full = paths(folder + word)
            return full.map { String($0.dropFirst(folder.count)) }
        }
        let command = linePrefix.trimmingCharacters(in: .whitespaces)
        if command.isEmpty, word.hasPrefix(":") { return Prompt.commands.filter { $0.hasPrefix(word) } }
        if command == ":load" { return paths(word) }
        if word.hasPrefix("$") {
            let stem = String(word.dropFirst())
            return columnNames().filter { $0.hasPrefix(stem) }.map { "$" + $0 }
        }
        if let dot = word.lastIndex(of: ".") {
            let base = String(word[..<dot]), stem = String(word[word.index(after: dot)...])
            guard let value = try? evaluatePath(base) else { return [] }
            return fields(of: value).filter { $0.hasPrefix(stem) }.map { base + "." + $0 }
        }
        let names = Set(interpreter.names + Keyword.allCases.map(\.rawValue))
        return names.filter { $0.hasPrefix(word) }.sorted()
    }

    /// The function whose first argument is the string open at the end of `linePrefix`
    /// (`dataset` for `dataset("ir`).
    func stringArgument(of linePrefix: String) -> String? {
        guard let quote = linePrefix.lastIndex(of: "\"") else { return nil }
        let before = linePrefix[..<quote].trimmingCharacters(in: .whitespaces)
        guard before.hasSuffix("(") else { return nil }
        let call = before.dropLast().trimmingCharacters(in: .whitespaces)
        return String(call.reversed().prefix { $0 == "_" || $0.isLetter || $0.isNumber }.reversed())
    }

    func insideString(_ s: String) -> Bool {
        var inside = false, escaped = false
        for ch in s {
            if escaped { escaped = false; continue }
            if ch == "\\" && inside { escaped = true; continue }
            if ch == "\"" { inside.toggle() }
        }
        return inside
    }

    /// Follows `a.b.c` through records and domain values in scope.
    func evaluatePath(_ path: String) throws -> Value? {
        let parts = path.split(separator: ".").map(String.init)
        guard let first = parts.first, var v = interpreter.lookup(first) else { return nil }
        for p in parts.dropFirst() {
            switch v {
            case .record(let r): guard let x = r[p] else { return nil }; v = x
            case .object(let o): guard let x = try o.member(p) else { return nil }; v = x
            default: return nil
            }
        }
        return v
    }

    func fields(of v: Value) -> [String] {
        switch v {
        case .record(let r): return r.keys
        case .object(let o): return o.memberNames
        default: return []
        }
    }

    /// Column names of every table-like value in scope.
    func columnNames() -> [String] {
        var out = Set<String>()
        for (_, v) in interpreter.variables {
            if case .object(let o) = v, o.typeName == "table" { out.formUnion(o.memberNames) }
        }
        return out.sorted()
    }

    func paths(_ word: String) -> [String] {
        let fm = FileManager.default
        let dir: String, stem: String, prefix: String
        if let slash = word.lastIndex(of: "/") {
            prefix = String(word[...slash])
            dir = prefix.hasPrefix("/") ? prefix : fm.currentDirectoryPath + "/" + prefix
            stem = String(word[word.index(after: slash)...])
        } else {
            prefix = ""; dir = fm.currentDirectoryPath; stem = word
        }
        guard let items = try? fm.contentsOfDirectory(atPath: dir) else { return [] }
        return items.filter { $0.hasPrefix(stem) && (!$0.hasPrefix(".") || stem.hasPrefix(".")) }.sorted().map { name in
            var isDir: ObjCBool = false
            _ = fm.fileExists(atPath: dir + "/" + name, isDirectory: &isDir)
            return prefix + name + (isDir.boolValue ? "/" : "")
        }
    }
}
