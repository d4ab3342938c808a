import ArgumentParser
import Foundation
import MLShNotebook
import MLShRuntime

/// `mlsh render FILE.mls -o OUT.html|OUT.md [--keep-going]`: a script as a notebook page.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Run a .mls script as a notebook and write it as HTML or Markdown.",
        discussion: """
            Cells follow Jupytext's percent format: '# %%' starts a code cell, '# %% [markdown]' \
            a text cell of '# ' comments. Each code cell shows its source and what it displays: \
            tables, plots (SVG), printed text, errors. The .html page is one self-contained file; \
            .md output writes its plots as SVG files into OUT_files/ beside it. Exits 1 when a cell \
            failed (the page is still written); rendering stops after a failed cell unless --keep-going.
            """)

    @ArgumentParser.Argument(help: "The script to render.")
    var file: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The page to write: FILE.html or FILE.md, or - for standard output (default: the script's name with .html).", valueName: "FILE"),
            transform: { $0 == "-" ? "/dev/stdout" : $0 })
    var output: String?

    @Option(name: .customLong("format"), help: ArgumentHelp("html or md (default: from the output's extension; html for a stream such as /dev/stdout).", valueName: "FORMAT"))
    var format: String?

    @Flag(name: .customLong("keep-going"), help: "Run every cell even after one fails.")
    var keepGoing = false

    @Option(name: .customLong("param"), help: "A value for param(NAME, default) in the script, as NAME=VALUE (repeatable).")
    var params: [String] = []

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if let format, NotebookRenderer.Format(rawValue: format) == nil {
            throw ValidationError("--format is html or md, got '\(format)'")
        }
        if let output, NotebookRenderer.format(for: output, given: format.flatMap(NotebookRenderer.Format.init(rawValue:))) == nil {
            throw ValidationError("the output must end in .html or .md (or give --format), got '\(output)'")
        }
        try RunCommand.checkParams(params)
    }

    func run() throws {
        Runtime.configureProcess()   // the commands that run scripts; not `serve`
        let target = output ?? NotebookRenderer.defaultOutput(for: file)
        let code = NotebookRenderer.render(file, to: target, format: format.flatMap(NotebookRenderer.Format.init(rawValue:)),
                                           keepGoing: keepGoing, params: RunCommand.values(params),
                                           store: storeOption.path ?? StoreCLI.storeArgument())
        // Without -o the page's place is not on the command line: say it.
        if code == 0 && output == nil { Runtime.printError("wrote \(target)") }
        throw ExitCode(code)
    }
}
