import ArgumentParser
import Foundation
import MLShServe
import MLShStore
import UnixSignals

/// `mlsh serve NAME@V[=W] ... [--port] [--host] [--token-file] [--shadow NAME@V]`: the
/// prediction server of §8 in the foreground, until SIGINT or SIGTERM (graceful: requests
/// in flight are answered and the request log is written out).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve registered model versions over HTTP (several NAME@VERSION=WEIGHT split the traffic).")

    @ArgumentParser.Argument(help: ArgumentHelp("Model versions to serve, e.g. diabetes@production or diabetes@4=0.9.", valueName: "NAME@VERSION[=WEIGHT]"))
    var versions: [String]

    @Option(help: "The port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "The address to bind (default 127.0.0.1: this machine only).")
    var host = "127.0.0.1"

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Require 'Authorization: Bearer <token>' with the token in FILE (also: MLSH_TOKEN).", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Also score each request with this version, without answering with it.", valueName: "NAME@VERSION"))
    var shadow: String?

    @Option(name: .customLong("body-limit"), help: ArgumentHelp("Refuse bodies over this many bytes with 413.", valueName: "BYTES"))
    var bodyLimit = 10 * 1024 * 1024

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        guard !versions.isEmpty else { throw ValidationError("name at least one model version to serve") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard bodyLimit > 0 else { throw ValidationError("--body-limit must be positive") }
    }

    func run() throws {
        var config = ServeConfiguration(host: host, port: port)
        config.bodyLimit = bodyLimit
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { StoreCLI.fail(kind: "serve error", "cannot read the token file \(tokenFile)") }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { StoreCLI.fail(kind: "serve error", "the token file \(tokenFile) is empty") }
            config.token = token
        } else if let t = ProcessInfo.processInfo.environment["MLSH_TOKEN"], !t.isEmpty {
            config.token = t
        }
        try StoreCLI.guarded {
            guard let store = try StoreCLI.existing(storeOption.path) else {
                StoreCLI.fail(kind: "serve error", "there is no store at \(StoreCLI.folder(storeOption.path)): register a model first")
            }
            func load(_ ref: String) throws -> ServedModel { try ServedModel.load(try store.resolve(ref), from: store) }
            var routes: [Route] = []
            for arg in versions {
                var ref = arg, weight = 1.0
                if let eq = arg.lastIndex(of: "=") {
                    ref = String(arg[..<eq])
                    guard let w = Double(arg[arg.index(after: eq)...]), w > 0, w.isFinite else {
                        StoreCLI.fail(kind: "serve error", "the weight in '\(arg)' must be a positive number")
                    }
                    weight = w
                }
                routes.append(Route(try load(ref), weight: weight))
            }
            let shadowModel = try shadow.map(load)
            let server: PredictionServer
            do {
                server = try PredictionServer.start(routes: routes, shadow: shadowModel, configuration: config, store: store,
                                                    signals: [.sigterm, .sigint])
            } catch let e as ServeError { StoreCLI.fail(kind: "serve error", e.message) }
            let served = routes.map(\.model.label).joined(separator: ", ")
            FileHandle.standardError.write(Data("serving \(served) at \(server.url) (Ctrl-C stops)\n".utf8))
            server.waitUntilStopped()
            FileHandle.standardError.write(Data("stopped; \(server.service.monitor.snapshot().logged) predictions logged\n".utf8))
        }
    }
}
