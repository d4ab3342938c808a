import Foundation
import MLShCommon
import Synchronization

/// A private PostgreSQL cluster for tests: Debian's server binaries (`initdb`, `pg_ctl`),
/// a data folder under the temporary folder, listening on 127.0.0.1 on a free port and on
/// a Unix socket in that folder, trust authentication for the `postgres` role plus a
/// password role `mlsh`/`secret`, stopped when the test process exits. As root, the
/// server runs as the `postgres` account (it refuses root). One per test process.
public final class PostgresCluster: @unchecked Sendable {
    public let folder: String
    public let port: Int
    /// `postgres://mlsh:secret@127.0.0.1:PORT/`.
    public var base: String { "postgres://mlsh:secret@127.0.0.1:\(port)/" }

    /// The shared cluster, started on first use; nil with the reason when this machine has
    /// no PostgreSQL server binaries.
    public static let shared: Result<PostgresCluster, ClusterError> = {
        do { return .success(try PostgresCluster()) } catch let e as ClusterError { return .failure(e) } catch {
            return .failure(ClusterError(description: "\(error)"))
        }
    }()

    public struct ClusterError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The folder of Debian's PostgreSQL server programs (the newest version installed).
    static func binFolder() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let v = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/initdb") else {
            throw ClusterError(description: "no PostgreSQL server under \(root) (scripts/test installs Debian's postgresql)")
        }
        return "\(root)/\(v)/bin"
    }

    /// A cluster of its own (not the shared one), for a test that stops or restarts it.
    public static func own() throws -> PostgresCluster { try PostgresCluster() }

    private let bin: String

    private init() throws {
        bin = try Self.binFolder()
        folder = try temporaryFolder("pgcluster")
        port = freeLoopbackPort()
        if getuid() == 0 { _ = try ChildProcess.run("/bin/chown", ["postgres", folder], environment: [:]) }
        try serverProgram("initdb", ["-D", folder + "/data", "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
        try """
            host all mlsh 127.0.0.1/32 scram-sha-256
            host all postgres 127.0.0.1/32 trust
            local all all trust
            """.write(toFile: folder + "/data/pg_hba.conf", atomically: true, encoding: .utf8)
        if getuid() == 0 { _ = try ChildProcess.run("/bin/chown", ["postgres", folder + "/data/pg_hba.conf"], environment: [:]) }
        try start()
        let (folder, bin) = (folder, bin)
        atexit_b {
            let asRoot = getuid() == 0
            _ = try? ChildProcess.run(asRoot ? "/usr/sbin/runuser" : bin + "/pg_ctl",
                                      (asRoot ? ["-u", "postgres", "--", bin + "/pg_ctl"] : []) + ["-D", folder + "/data", "-m", "immediate", "stop"],
                                      environment: ["PATH": "/usr/bin:/bin"])
            // The cluster's files (about 1.6 GB with its WAL) go with it.
            try? FileManager.default.removeItem(atPath: folder)
        }
        try psql("CREATE ROLE mlsh LOGIN PASSWORD 'secret' CREATEDB")
    }

    /// Runs one of the server's programs (as the `postgres` account when root).
    private func serverProgram(_ name: String, _ args: [String]) throws {
        let program = bin + "/" + name
        let (path, argv) = getuid() == 0 ? ("/usr/sbin/runuser", ["-u", "postgres", "--", program] + args) : (program, args)
        let r = try ChildProcess.run(path, argv, environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"])
        guard r.code == 0 else { throw ClusterError(description: "\(name) \(args.joined(separator: " ")): \(r.err)\(r.out)") }
    }

    /// Starts the server (on the same port as before, when restarted).
    public func start() throws {
        try serverProgram("pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "start",
                                     "-o", "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"])
    }

    /// Stops the server at once: every connection is cut, as by a crash or a failover.
    public func stop() throws {
        try serverProgram("pg_ctl", ["-D", folder + "/data", "-m", "immediate", "-w", "stop"])
    }

    /// Runs SQL as the `postgres` role on the database `database`.
    public func psql(_ sql: String, database: String = "postgres") throws {
        let r = try ChildProcess.run("/usr/bin/psql", ["-h", folder, "-p", String(port), "-U", "postgres", "-d", database,
                                                       "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                                     environment: ["PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"])
        guard r.code == 0 else { throw ClusterError(description: "psql \(sql): \(r.err)") }
    }

    /// A new empty database owned by `mlsh`; its URL.
    public func database(_ label: String = "t") throws -> String {
        let name = "\(label)_\(UUID().uuidString.prefix(8).lowercased())"
        try psql("CREATE DATABASE \(name) OWNER mlsh")
        return base + name
    }

    /// A port nothing listens on (free when asked).
    public static func unusedPort() -> Int { freeLoopbackPort() }
}

/// `atexit` with a closure (the C function takes none).
private func atexit_b(_ body: @escaping @Sendable () -> Void) {
    exitActions.withLock { $0.append(body) }
    if !exitRegistered.withLock({ r in defer { r = true }; return r }) {
        atexit { for a in exitActions.withLock({ $0 }) { a() } }
    }
}

private let exitActions = Mutex<[@Sendable () -> Void]>([])
private let exitRegistered = Mutex(false)
