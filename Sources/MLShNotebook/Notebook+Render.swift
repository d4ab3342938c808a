import Foundation
import MLShLanguage
import MLShRuntime

/// `mlsh render FILE.mls -o OUT.html|OUT.md`: runs a script as a notebook and writes the
/// page. Exit codes: 0 every cell ran, 1 a cell failed (the page is still written) or
/// the script could not be read or the page not written.
public enum NotebookRenderer {
    /// The output formats, chosen by the output file's extension.
    public enum Format: String, Sendable {
        case html, markdown = "md"

        /// The format for an output path, or nil when the extension is not one of
        /// `.html`, `.htm`, `.md`, `.markdown`.
        public init?(path: String) {
            switch (path as NSString).pathExtension.lowercased() {
            case "html", "htm": self = .html
            case "md", "markdown": self = .markdown
            default: return nil
            }
        }
    }

    /// The default output for a script: the same path with `.html`.
    public static func defaultOutput(for input: String) -> String {
        ((input as NSString).deletingPathExtension) + ".html"
    }

    /// The format for `output`: `given`, else the extension's, else HTML for a stream
    /// (`/dev/stdout`, a FIFO, a character device); nil when none applies.
    public static func format(for output: String, given: Format?) -> Format? {
        if let given { return given }
        if let f = Format(path: output) { return f }
        return Runtime.isStream(output) ? .html : nil
    }

    /// Renders `input` to `output` (as `format`, else as `format(for:given:)` decides);
    /// returns the exit code. `store` is the store folder (`--store`; nil for
    /// `MLSH_STORE`, else the nearest `.mlsh/`).
    public static func render(_ input: String, to output: String, format given: Format? = nil, keepGoing: Bool,
                              params: [String: Value] = [:], store: String? = nil) -> Int32 {
        guard let format = format(for: output, given: given) else {
            Runtime.printError("usage error: the output must end in .html or .md (or give --format), got '\(output)'")
            return 2
        }
        guard let data = FileManager.default.contents(atPath: input) else {
            Runtime.printError("error: cannot read '\(input)'")
            return 1
        }
        let bytes = Array(data)
        if let bad = invalidUTF8Offset(bytes) {
            Runtime.printError("error: \(input) is not valid UTF-8 (at byte \(bad))")
            return 1
        }
        let notebook = Notebook(text: String(decoding: bytes, as: UTF8.self))
        let results = notebook.run(path: input, keepGoing: keepGoing, params: params, store: store)
        let title = (input as NSString).lastPathComponent
        do throws(MLShError) {
            switch format {
            case .html:
                try Runtime.writeAtomically(NotebookHTML.page(title: title, results: results), to: output)
            case .markdown:
                let stem = ((output as NSString).lastPathComponent as NSString).deletingPathExtension
                var md = NotebookMarkdown(assets: stem + "_files")
                let text = md.document(title: title, results: results)
                // A stream's plots go to a folder in the working directory.
                let dir = Runtime.isStream(output) ? "" : (output as NSString).deletingLastPathComponent
                if !md.files.isEmpty {
                    let folder = dir.isEmpty ? md.assets : dir + "/" + md.assets
                    do {
                        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                    } catch {
                        throw MLShError(.io, "cannot make the folder \(folder): \(error.localizedDescription)")
                    }
                }
                for file in md.files {
                    try Runtime.writeAtomically(file.svg, to: dir.isEmpty ? file.path : dir + "/" + file.path)
                }
                try Runtime.writeAtomically(text, to: output)
            }
        } catch {
            Runtime.printError(error.render())
            return 1
        }
        let failed = results.filter { $0.status == .failed }.count
        if failed > 0 {
            let code = results.filter { $0.cell.kind == .code }.count
            Runtime.printError("render: \(failed) of \(code) code cells failed; wrote \(output)")
            return 1
        }
        return 0
    }

    /// The byte offset of the first invalid UTF-8 sequence, or nil when all is valid.
    static func invalidUTF8Offset(_ bytes: [UInt8]) -> Int? {
        var iterator = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var offset = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar): offset += scalar.count
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }
}
