import Foundation
import MLShLanguage
import MLShRuntime

/// What one cell showed when it ran.
public enum CellOutput: Sendable, Equatable {
    /// Printed text and displayed values that have no richer form, as the prompt shows them.
    case text(String)
    /// A table or plot.
    case rich(RichOutput)
    /// The error that stopped the cell, rendered with `file:line:col`, the line and a caret.
    case error(String)
}

/// A cell and what came of it.
public struct CellResult: Sendable, Equatable {
    public enum Status: Sendable, Equatable { case markdown, ran, failed, notRun }
    public var cell: Notebook.Cell
    public var status: Status
    public var outputs: [CellOutput]
}

extension Notebook {
    /// Runs the code cells in order in one session, capturing what each prints and
    /// displays. After a failed cell the rest are not run unless `keepGoing`.
    /// `path` names the script in diagnostics and lineage; `store` is the store folder
    /// (`--store`; nil for `MLSH_STORE`, else the nearest `.mlsh/`).
    public func run(path: String, keepGoing: Bool, params: [String: Value] = [:], store: String? = nil) -> [CellResult] {
        let cells = self.cells
        return Interpreter.onLargeStack {
            let interp = Runtime.makeInterpreter(params: params, store: store)
            let sink = OutputSink()
            interp.output = { sink.text($0) }
            interp.display = { value in for r in Runtime.rich(value) { sink.rich(r) } }
            var results: [CellResult] = []
            var stopped = false
            for cell in cells {
                guard cell.kind == .code else {
                    results.append(CellResult(cell: cell, status: .markdown, outputs: []))
                    continue
                }
                if stopped {
                    results.append(CellResult(cell: cell, status: .notRun, outputs: []))
                    continue
                }
                // Blank lines before the cell keep its line numbers those of the script.
                let padded = String(repeating: "\n", count: max(0, cell.firstLine - 1)) + cell.text + "\n"
                var status = CellResult.Status.ran
                do throws(MLShError) {
                    try interp.run(SourceFile(name: path, text: padded), scriptPath: path)
                } catch {
                    let text = error.render()
                    Runtime.printError(text)
                    sink.error(text)
                    status = .failed
                    stopped = !keepGoing
                }
                results.append(CellResult(cell: cell, status: status, outputs: sink.take()))
            }
            return results
        }
    }
}

/// Collects a cell's outputs in order, joining consecutive text into one block.
final class OutputSink: @unchecked Sendable {
    private var outputs: [CellOutput] = []

    func text(_ s: String) {
        if case .text(let previous)? = outputs.last {
            outputs[outputs.count - 1] = .text(previous + "\n" + s)
        } else {
            outputs.append(.text(s))
        }
    }

    func rich(_ r: RichOutput) {
        if case .text(let s) = r { text(s) } else { outputs.append(.rich(r)) }
    }

    func error(_ s: String) { outputs.append(.error(s)) }

    func take() -> [CellOutput] {
        defer { outputs = [] }
        return outputs
    }
}
