import ArgumentParser
import Foundation
import MLShUI

/// `mlsh ui [--store PATH] [--port 5000] [--host 127.0.0.1] [--token-file F]`: the web UI
/// over the store, in the foreground until SIGINT or SIGTERM.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ui",
        abstract: "Browse experiments, runs, models, deployments and datasets in a web browser.")

    @Option(help: "The port to listen on (0 picks a free one).")
    var port = 5000

    @Option(help: "The address to bind (default 127.0.0.1: this machine only; any other needs --token-file).")
    var host = "127.0.0.1"

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Require this token (bearer header, or the login form's cookie); also: MLSH_TOKEN.", valueName: "FILE"))
    var tokenFile: String?

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
    }

    func run() throws {
        let token = ServeCommand.token(tokenFile)
        try StoreCLI.guarded {
            guard let store = try StoreCLI.existing(storeOption.path) else {
                StoreCLI.fail(kind: "ui error", "there is no store at \(StoreCLI.folder(storeOption.path)): run a script that records runs first")
            }
            let server: UIServer
            do throws(UIError) {
                server = try UIServer.start(store: store, configuration: UIConfiguration(host: host, port: port, token: token),
                                            signals: [.sigterm, .sigint])
            } catch { StoreCLI.fail(kind: "ui error", error.message) }
            FileHandle.standardError.write(Data("mlsh ui at \(server.url) (Ctrl-C stops)\n".utf8))
            server.waitUntilStopped()
        }
    }
}
