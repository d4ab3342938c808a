import ArgumentParser
import Foundation
import MLShCommon
import MLShRuntime
import MLShServe
import MLShStore
import UnixSignals

/// `mlsh serve NAME@V[=W] ... [--port] [--host] [--token-file] [--shadow NAME@V]`: the
/// prediction server of §8 in the foreground, until SIGINT or SIGTERM (graceful: requests
/// in flight are answered and the request log is written out). A store this process
/// cannot write (a container image's) is served read-only: no deployment record, no
/// request log, no feedback; counts, latencies, drift and `/metrics` in memory.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve registered model versions over HTTP (several NAME@VERSION=WEIGHT split the traffic).")

    @ArgumentParser.Argument(help: ArgumentHelp("Model versions to serve, e.g. diabetes@production or diabetes@4=0.9.", valueName: "NAME@VERSION[=WEIGHT]"))
    var versions: [String]

    @Option(help: "The port to listen on (default: PORT when set, else 8080; 0 picks a free one).")
    var port: Int?

    @Option(help: "The address to bind (default 127.0.0.1: this machine only).")
    var host = "127.0.0.1"

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Require 'Authorization: Bearer <token>' with the token in FILE (also: MLSH_TOKEN).", valueName: "FILE"))
    var tokenFile: String?

    @Option(help: ArgumentHelp("Also score each request with this version, without answering with it.", valueName: "NAME@VERSION"))
    var shadow: String?

    @Option(name: .customLong("body-limit"), help: ArgumentHelp("Refuse bodies over this many bytes with 413.", valueName: "BYTES"))
    var bodyLimit = 10 * 1024 * 1024

    @Option(name: .customLong("watch-interval"), help: ArgumentHelp("Seconds between the server's looks at the store: alerts evaluated, aliases followed, canaries decided, schedules checked.", valueName: "SECONDS"))
    var watchInterval = 2.0

    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        guard watchInterval >= 0.01 && watchInterval <= 3600 else { throw ValidationError("--watch-interval must be between 0.01 and 3600 seconds") }
        guard !versions.isEmpty else { throw ValidationError("name at least one model version to serve") }
        if let port {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        } else if let env = ProcessInfo.processInfo.environment["PORT"], !env.isEmpty {
            guard let p = Int(env), (0...65535).contains(p) else { throw ValidationError("PORT must be a port number between 0 and 65535, got '\(env)'") }
        }
        guard bodyLimit > 0 else { throw ValidationError("--body-limit must be positive") }
    }

    /// The token of `--token-file FILE`, else `MLSH_TOKEN`, else nil.
    static func token(_ tokenFile: String?) -> String? {
        if let tokenFile {
            guard let data = FileManager.default.contents(atPath: tokenFile) else { StoreCLI.fail(kind: "serve error", "cannot read the token file \(tokenFile)") }
            let token = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { StoreCLI.fail(kind: "serve error", "the token file \(tokenFile) is empty") }
            return token
        }
        if let t = ProcessInfo.processInfo.environment["MLSH_TOKEN"], !t.isEmpty { return t }
        return nil
    }

    /// `NAME@VERSION[=WEIGHT]` read from the right: the weight follows the last `=` when
    /// that `=` comes after the last `@` (or there is no `@`) and a number follows it; any
    /// other `=` belongs to the name (`a=b@2`). Nil weight: 1; nil for both: a weight that
    /// is not a positive number.
    static func parseVersion(_ arg: String) -> (ref: String, weight: Double?)? {
        guard let eq = arg.lastIndex(of: "="), arg.lastIndex(of: "@").map({ $0 < eq }) ?? true else { return (arg, nil) }
        let text = arg[arg.index(after: eq)...]
        guard let w = Double(text) else { return arg.contains("@") ? nil : (arg, nil) }   // no `@`: a name with `=`
        return w > 0 && w.isFinite ? (String(arg[..<eq]), w) : nil
    }

    /// `--port`, else `PORT`, else 8080 (validated already).
    var effectivePort: Int {
        port ?? ProcessInfo.processInfo.environment["PORT"].flatMap { Int($0) } ?? 8080
    }

    /// The store to serve from, and whether it is read-only (not writable by this process).
    static func servingStore(_ option: String?) throws(StoreError) -> (Store, readOnly: Bool) {
        let folder = StoreCLI.folder(option)
        guard Store.exists(at: folder) else {
            StoreCLI.fail(kind: "serve error", "there is no store at \(folder): register a model first")
        }
        if Store.isWritable(folder) { return (try Store(folder: folder, artifacts: Store.artifactsSetting()), false) }
        return (try Store(folder: folder, artifacts: Store.artifactsSetting(), readOnly: true), true)
    }

    func run() throws {
        var config = ServeConfiguration(host: host, port: effectivePort)
        config.bodyLimit = bodyLimit
        config.version = Runtime.version
        config.token = Self.token(tokenFile)
        config.executable = Runtime.executable
        config.watchInterval = watchInterval
        try StoreCLI.guarded {
            let (store, readOnly) = try Self.servingStore(storeOption.path)
            func load(_ ref: String) throws -> ServedModel { try ServedModel.load(try store.resolve(ref), from: store) }
            var routes: [Route] = []
            // SageMaker starts a container with the argument `serve`, after the image's entry point.
            for arg in versions where !(arg == "serve" && versions.count > 1) {
                guard let (ref, weight) = Self.parseVersion(arg) else {
                    StoreCLI.fail(kind: "serve error", "the weight in '\(arg)' must be a positive number")
                }
                routes.append(Route(try load(ref), weight: weight ?? 1, follows: Route.following(ref)))
            }
            let shadowModel = try shadow.map(load)
            let server: PredictionServer
            do {
                server = try PredictionServer.start(routes: routes, shadow: shadowModel, configuration: config,
                                                    store: readOnly ? nil : store, signals: [.sigterm, .sigint])
            } catch let e as ServeError { StoreCLI.fail(kind: "serve error", e.message) }
            if let warning = config.exposureWarning { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
            if readOnly {
                FileHandle.standardError.write(Data("the store at \(store.folder) is read-only: serving without a request log or feedback (metrics and status in memory)\n".utf8))
            }
            let served = routes.map(\.model.label).joined(separator: ", ")
            FileHandle.standardError.write(Data("serving \(served) at \(server.url) (Ctrl-C stops)\n".utf8))
            server.waitUntilStopped()
            let snapshot = server.service.monitor.snapshot()
            FileHandle.standardError.write(Data((readOnly ? "stopped; \(snapshot.requests) requests answered\n"
                                                          : "stopped; \(snapshot.logged) predictions logged\n").utf8))
        }
    }
}

/// `mlsh status [PORT|URL|NAME]`: a running server's state as `status(d)` gives it, asked
/// over HTTP (`/v1/status`) — of the server on a port of this machine, at a URL, or of the
/// deployments of a model the store records as running (all of them without an argument).
struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running server's status: requests, errors, latency, rows logged, drift.")

    @ArgumentParser.Argument(help: ArgumentHelp("A port on this machine, a server's URL, or a model name (its deployments the store records as running); default: every deployment recorded as running.", valueName: "PORT|URL|NAME"))
    var target: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("The server's token, in FILE (also: MLSH_TOKEN).", valueName: "FILE"))
    var tokenFile: String?

    @Flag(help: "Print each status as one JSON object per line.")
    var json = false

    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let token = ServeCommand.token(tokenFile)
        let targets: [RemoteStatus.Target]
        do {
            targets = try RemoteStatus.targets(target) { () throws(StoreError) in try StoreCLI.existing(storeOption.path) }
        } catch { StoreCLI.fail(kind: "serve error", error.message) }
        var failures: [String] = []
        var shown = 0
        for t in targets {
            let status: JSON
            do { status = try RemoteStatus.fetch(t, token: token) } catch {
                failures.append(error.message)
                continue
            }
            if json {
                print(JSONWriter.text(status))
            } else {
                if shown > 0 { print() }
                print(Self.render(status))
            }
            shown += 1
        }
        for f in failures { FileHandle.standardError.write(Data("serve error: \(f)\n".utf8)) }
        if shown == 0 { throw ExitCode(1) }
    }

    /// One `name  value` line per member, values as the prompt shows them.
    static func render(_ status: JSON) -> String {
        guard case .object(let members) = status else { return JSONWriter.text(status) }
        let width = members.map(\.0.count).max() ?? 0
        return members.map { name, value in
            // Latencies (`_ms`) as milliseconds to the microsecond; other numbers are counts.
            let shown = name.hasSuffix("_ms") ? ({ if case .number(let d) = value { String(format: "%.3f", d) } else { "none" } }()) : text(value)
            return name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + shown
        }.joined(separator: "\n")
    }

    private static func text(_ v: JSON) -> String {
        switch v {
        case .null: "none"
        case .string(let s): s
        case .array(let items): items.isEmpty ? "-" : items.map(text).joined(separator: ", ")
        case .object(let members): members.isEmpty ? "-" : members.map { "\($0.0)=\(text($0.1))" }.joined(separator: ", ")
        case .number(let d): d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        default: JSONWriter.text(v)
        }
    }
}
