import Foundation
import GRDB
import Synchronization

/// The `.mlsh/` store: experiments, runs, params, metrics, content-addressed
/// artifacts, the model registry, data versions, stage caches and the datasets each run
/// used, in `store.sqlite` (WAL, safe for several processes at once).
public final class Store: Sendable {
    /// The store as shown: its folder (`.../.mlsh`), or its PostgreSQL URL without the
    /// password.
    public let folder: String
    /// What opens the store again (its folder, or its whole PostgreSQL URL): for the
    /// processes it starts.
    public let location: String
    /// The database the store's queries run on.
    let db: any StoreDatabase
    /// The SQLite pool behind `db` (schema migrations, copies); nil on PostgreSQL.
    let pool: DatabasePool?
    /// The PostgreSQL connections behind `db`, whose `blobs` table holds the artifacts; nil
    /// for a folder's store (artifacts are files under `artifacts/`).
    let postgres: PostgresPool?
    /// The folder whose files are the store's blobs, named by their hash: a folder store's
    /// `artifacts/`; a PostgreSQL store's artifacts folder (`--artifacts`, else the one its
    /// database records), nil when its blobs go to the database's `blobs`.
    let filesFolder: String?
    /// A PostgreSQL store's artifacts folder (`--artifacts`, else the one recorded in its
    /// database), nil when its blobs go to the database; always nil for a folder's store.
    public var artifactsFolder: String? { postgres == nil ? nil : filesFolder }

    /// The store folder for a working directory: `MLSH_STORE` when set, else the
    /// nearest `.mlsh/` upward, else `<cwd>/.mlsh` (created by the first write).
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment,
                              cwd: String = FileManager.default.currentDirectoryPath) -> String {
        if let p = environment["MLSH_STORE"], !p.isEmpty { return p }
        var dir = URL(fileURLWithPath: cwd).standardizedFileURL
        while true {
            let candidate = dir.appendingPathComponent(".mlsh").path
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDir), isDir.boolValue { return candidate }
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        return URL(fileURLWithPath: cwd).appendingPathComponent(".mlsh").path
    }

    /// Opens (creating when missing) the store in `folder`, migrating its schema.
    /// A store written by a newer mlsh (unknown migrations) is refused.
    ///
    /// `readOnly` opens an existing store without writing anything, not even a lock file:
    /// for a store on a read-only file system or owned by another user (a container
    /// image's). SQLite then needs the database in rollback-journal mode (as
    /// `copyVersion(_:into:)` leaves it) or its `-wal` and `-shm` files present; the schema
    /// must be current, as nothing is migrated.
    ///
    /// A `postgres://` URL opens (and migrates) the store in that PostgreSQL database.
    /// `artifacts` names a folder (shared by the machines that use the store) where it
    /// writes its blobs instead of the database; the first one given is recorded in the
    /// database, so later opens without it find it, and one given later overrides it for
    /// this `Store` only (another machine mounts the share elsewhere). A folder's store
    /// refuses `artifacts`: its artifacts are its own `artifacts/`.
    public init(folder: String, artifacts: String? = nil, readOnly: Bool = false) throws(StoreError) {
        location = folder
        let artifacts = artifacts.flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0).standardizedFileURL.path }
        if PostgresURL.isURL(folder) {
            let url = try PostgresURL(folder)
            let postgres = try PostgresPool(url)
            if readOnly { try PostgresSchema.requireCurrent(postgres) } else { try PostgresSchema.migrate(postgres) }
            self.folder = url.redacted
            self.postgres = postgres
            pool = nil
            let database = PostgresDatabase(pool: postgres)
            db = database
            filesFolder = try Store.artifactsRoot(database, given: artifacts, record: !readOnly)
            if !readOnly { try? reapRuns() }
            return
        }
        if let artifacts {
            throw StoreError("an artifacts folder (\(artifacts)) is for a PostgreSQL store; the store at \(folder) is a folder, whose artifacts are in \(folder)/artifacts")
        }
        self.folder = folder
        postgres = nil
        filesFolder = folder + "/artifacts"
        if readOnly {
            let pool = try Store.openReadOnly(folder)
            self.pool = pool
            db = SQLiteDatabase(pool: pool)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: folder + "/artifacts", withIntermediateDirectories: true)
        } catch {
            throw StoreError("cannot create the store folder \(folder): \(error.localizedDescription)")
        }
        // Opening and migrating hold a file lock: GRDB reads the applied migrations
        // outside its write transaction, so two processes creating one store at once
        // could otherwise both run the first migration.
        let lockFD = open(folder + "/open.lock", O_CREAT | O_RDWR, 0o644)
        guard lockFD >= 0 else { throw StoreError("cannot open \(folder)/open.lock (errno \(errno))") }
        defer { close(lockFD) }
        while flock(lockFD, LOCK_EX) != 0 {
            guard errno == EINTR else { throw StoreError("cannot lock \(folder)/open.lock (errno \(errno))") }
        }
        defer { flock(lockFD, LOCK_UN) }
        var config = Configuration()
        config.busyMode = .timeout(30)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: folder + "/store.sqlite", configuration: config)
        } catch {
            if !Store.isWritable(folder) {
                throw StoreError("the store at \(folder) is read-only: mlsh needs write access to the folder and its store.sqlite, even to read it (\(error))")
            }
            throw StoreError("cannot open \(folder)/store.sqlite: \(error)")
        }
        let migrator = Store.migrator
        try Store.guarded("checking the store's schema") {
            try Store.refuseNewer(pool, migrator, folder: folder)
            try migrator.migrate(pool)
        }
        self.pool = pool
        db = SQLiteDatabase(pool: pool)
        // Best effort: a store this process cannot write is still read.
        try? reapRuns()
    }

    /// Calls `onChange` soon after any process moves an alias, registers a version or
    /// decides a retraining attempt, until the listener returned is stopped; on
    /// reconnecting after a lost connection, once more. Nil on a SQLite store, whose
    /// readers poll it.
    public func registryChanges(_ onChange: @escaping @Sendable () -> Void) -> PostgresListener? {
        postgres?.listen(channel: PostgresSchema.registryChannel, onNotify: onChange)
    }

    /// Whether the store is a PostgreSQL database (each write a round trip to a server).
    public var isPostgres: Bool { postgres != nil }

    /// Connections to PostgreSQL stores this process failed to open or lost so far: a
    /// caller that sees it rise while it worked knows a store was out of reach meanwhile.
    public static var lostConnections: Int { PostgresPool.lostConnections.load(ordering: .relaxed) }

    /// `location` as shown: a folder as it is, a PostgreSQL URL without its password.
    public static func shown(_ location: String) -> String {
        PostgresURL.isURL(location) ? PostgresURL.redact(location) : location
    }

    /// Whether there is a store at `location`: a folder with its store.sqlite, or any
    /// PostgreSQL URL (opening it says whether the database can be reached).
    public static func exists(at location: String) -> Bool {
        PostgresURL.isURL(location) || FileManager.default.fileExists(atPath: location + "/store.sqlite")
    }

    /// Whether this process may write the store in `folder`: the folder, and its
    /// store.sqlite when there is one (false on a read-only file system). A PostgreSQL
    /// store's database decides what its user may write: true.
    public static func isWritable(_ folder: String) -> Bool {
        if PostgresURL.isURL(folder) { return true }
        return access(folder, W_OK) == 0 && (access(folder + "/store.sqlite", F_OK) != 0 || access(folder + "/store.sqlite", W_OK) == 0)
    }

    /// Opens `folder`'s store.sqlite for reading only; refuses a store whose schema is
    /// not this mlsh's.
    private static func openReadOnly(_ folder: String) throws(StoreError) -> DatabasePool {
        guard access(folder + "/store.sqlite", R_OK) == 0 else {
            throw StoreError("there is no readable store at \(folder) (\(String(cString: strerror(errno))))")
        }
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(30)
        let pool: DatabasePool
        do { pool = try DatabasePool(path: folder + "/store.sqlite", configuration: config) } catch {
            throw StoreError("cannot open the store at \(folder) read-only: \(error)")
        }
        let migrator = Store.migrator
        try Store.guarded("reading the store at \(folder) read-only") {
            try Store.refuseNewer(pool, migrator, folder: folder)
            let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
            let missing = migrator.migrations.filter { !applied.contains($0) }
            if !missing.isEmpty {
                throw StoreError("the store at \(folder) was written by an older mlsh and is read-only, so it cannot be upgraded (missing schema migrations: \(missing.joined(separator: ", "))); open it once with write access")
            }
        }
        return pool
    }

    /// Throws when the store was written by a newer mlsh (migrations this one does not know).
    private static func refuseNewer(_ db: DatabasePool, _ migrator: DatabaseMigrator, folder: String) throws {
        let superseded = try db.read { db in try migrator.hasBeenSuperseded(db) }
        guard superseded else { return }
        let known = Set(migrator.migrations)
        let applied = try db.read { db in try migrator.appliedIdentifiers(db) }
        let unknown = applied.subtracting(known).sorted().joined(separator: ", ")
        throw StoreError("the store at \(folder) was written by a newer mlsh (its schema has \(unknown); this mlsh's ends at \(migrator.migrations.last ?? "none")); upgrade mlsh to use it")
    }

    /// Runs database work, reporting SQLite errors as store errors.
    static func guarded<T>(_ what: String, _ body: () throws -> T) throws(StoreError) -> T {
        do { return try body() } catch let e as StoreError { throw e } catch {
            throw StoreError("\(what) failed: \(error)")
        }
    }

    /// The schema, one migration per change; never edit a shipped migration.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE experiments (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  name TEXT NOT NULL UNIQUE,
                  created REAL NOT NULL);
                CREATE TABLE runs (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  experiment INTEGER NOT NULL REFERENCES experiments(id),
                  name TEXT,
                  status TEXT NOT NULL,
                  error TEXT,
                  started REAL NOT NULL,
                  ended REAL,
                  script TEXT,
                  script_hash TEXT,
                  mlsh_version TEXT);
                CREATE INDEX runs_experiment ON runs(experiment);
                CREATE TABLE params (
                  run INTEGER NOT NULL REFERENCES runs(id),
                  name TEXT NOT NULL,
                  kind TEXT NOT NULL,
                  value TEXT NOT NULL,
                  PRIMARY KEY (run, name));
                CREATE TABLE metrics (
                  run INTEGER NOT NULL REFERENCES runs(id),
                  name TEXT NOT NULL,
                  step INTEGER,
                  value REAL,
                  at REAL NOT NULL);
                CREATE INDEX metrics_run_name ON metrics(run, name, step);
                CREATE TABLE artifacts (
                  run INTEGER REFERENCES runs(id),
                  name TEXT NOT NULL,
                  hash TEXT NOT NULL,
                  kind TEXT NOT NULL,
                  size INTEGER NOT NULL,
                  created REAL NOT NULL);
                CREATE INDEX artifacts_hash ON artifacts(hash);
                CREATE TABLE datasets (
                  run INTEGER NOT NULL REFERENCES runs(id),
                  fingerprint TEXT NOT NULL,
                  PRIMARY KEY (run, fingerprint));
                CREATE TABLE models (
                  name TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  run INTEGER REFERENCES runs(id),
                  artifact TEXT NOT NULL,
                  created REAL NOT NULL,
                  PRIMARY KEY (name, version));
                CREATE TABLE aliases (
                  name TEXT NOT NULL,
                  alias TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  PRIMARY KEY (name, alias));
                """)
        }
        // Deployments and the predictions they served (§8).
        m.registerMigration("v2-requests") { db in
            try db.execute(sql: """
                CREATE TABLE deployments (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  url TEXT NOT NULL,
                  models TEXT NOT NULL,
                  started REAL NOT NULL,
                  ended REAL);
                CREATE TABLE requests (
                  deployment INTEGER NOT NULL REFERENCES deployments(id),
                  name TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  at REAL NOT NULL,
                  latency_ms REAL NOT NULL,
                  inputs TEXT NOT NULL,
                  prediction TEXT NOT NULL,
                  shadow INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX requests_deployment ON requests(deployment);
                CREATE INDEX requests_name ON requests(name);
                """)
        }
        // Runs: their parent, the process that runs them (host, pid and the pid's start, so
        // a run whose process is gone can be marked killed), and their tags.
        m.registerMigration("v3-runs") { db in
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN parent INTEGER REFERENCES runs(id);
                ALTER TABLE runs ADD COLUMN host TEXT;
                ALTER TABLE runs ADD COLUMN pid INTEGER;
                ALTER TABLE runs ADD COLUMN pid_start TEXT;
                CREATE INDEX runs_running ON runs(status) WHERE status = 'running';
                CREATE TABLE tags (
                  run INTEGER NOT NULL REFERENCES runs(id),
                  name TEXT NOT NULL,
                  value TEXT NOT NULL,
                  PRIMARY KEY (run, name));
                """)
        }
        // Data versions, the inputs a run read, file hashes by stat, and stage caches.
        m.registerMigration("v4-datasets") { db in
            try db.execute(sql: """
                CREATE TABLE snapshots (
                  name TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  blob TEXT NOT NULL,
                  fingerprint TEXT NOT NULL,
                  rows INTEGER NOT NULL,
                  columns INTEGER NOT NULL,
                  bytes INTEGER NOT NULL,
                  created REAL NOT NULL,
                  run INTEGER REFERENCES runs(id),
                  PRIMARY KEY (name, version));
                ALTER TABLE datasets ADD COLUMN kind TEXT NOT NULL DEFAULT 'table';
                ALTER TABLE datasets ADD COLUMN source TEXT;
                CREATE TABLE file_hashes (
                  path TEXT PRIMARY KEY,
                  size INTEGER NOT NULL,
                  mtime_ns INTEGER NOT NULL,
                  inode INTEGER NOT NULL,
                  sha256 TEXT NOT NULL);
                CREATE TABLE stages (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  name TEXT NOT NULL,
                  script TEXT,
                  key TEXT NOT NULL,
                  inputs TEXT NOT NULL,
                  reads TEXT NOT NULL,
                  value TEXT NOT NULL,
                  bytes INTEGER NOT NULL,
                  seconds REAL NOT NULL,
                  created REAL NOT NULL);
                CREATE INDEX stages_key ON stages(key);
                CREATE INDEX stages_name ON stages(name, script);
                CREATE TABLE stage_blobs (
                  stage INTEGER NOT NULL REFERENCES stages(id),
                  hash TEXT NOT NULL,
                  PRIMARY KEY (stage, hash));
                """)
        }
        // Request ids (`rid`, numbered per deployment) and the labels fed back for them.
        m.registerMigration("v5-feedback") { db in
            try db.execute(sql: """
                ALTER TABLE requests ADD COLUMN rid INTEGER;
                CREATE INDEX requests_rid ON requests(deployment, rid);
                CREATE TABLE labels (
                  deployment INTEGER NOT NULL,
                  rid INTEGER NOT NULL,
                  label TEXT NOT NULL,
                  at REAL NOT NULL,
                  PRIMARY KEY (deployment, rid));
                """)
        }
        // Alert rules on served models and every firing and resolving of them.
        m.registerMigration("v6-alerts") { db in
            try db.execute(sql: """
                CREATE TABLE alert_rules (
                  model TEXT NOT NULL,
                  name TEXT NOT NULL,
                  condition TEXT NOT NULL,
                  tree TEXT NOT NULL,
                  hold REAL NOT NULL,
                  notify TEXT,
                  created REAL NOT NULL,
                  PRIMARY KEY (model, name));
                CREATE TABLE alert_events (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  model TEXT NOT NULL,
                  name TEXT NOT NULL,
                  status TEXT NOT NULL,
                  value REAL,
                  at REAL NOT NULL,
                  deployment INTEGER);
                """)
        }
        // Retraining policies (one per model) and every attempt, with the process running it.
        m.registerMigration("v7-retrains") { db in
            try db.execute(sql: """
                CREATE TABLE retrain_policies (
                  model TEXT PRIMARY KEY,
                  script TEXT NOT NULL,
                  on_alert TEXT,
                  every REAL,
                  gate TEXT NOT NULL,
                  gate_tree TEXT NOT NULL,
                  canary REAL NOT NULL,
                  after INTEGER NOT NULL,
                  promote TEXT NOT NULL,
                  created REAL NOT NULL);
                CREATE TABLE retrains (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  model TEXT NOT NULL,
                  trigger TEXT NOT NULL,
                  script TEXT NOT NULL,
                  gate TEXT NOT NULL,
                  gate_tree TEXT NOT NULL,
                  canary REAL NOT NULL,
                  after INTEGER NOT NULL,
                  promote TEXT NOT NULL,
                  run INTEGER,
                  champion INTEGER,
                  challenger INTEGER,
                  holdout INTEGER,
                  since REAL,
                  until REAL,
                  challenger_figures TEXT,
                  champion_figures TEXT,
                  canary_figures TEXT,
                  decision TEXT NOT NULL,
                  error TEXT,
                  started REAL NOT NULL,
                  canary_started REAL,
                  ended REAL,
                  host TEXT,
                  pid INTEGER,
                  pid_start TEXT);
                CREATE INDEX retrains_model ON retrains(model, decision);
                """)
        }
        // A binary classifier's probability of the positive class, per logged row (live AUC).
        m.registerMigration("v8-request-scores") { db in
            try db.execute(sql: "ALTER TABLE requests ADD COLUMN score REAL")
        }
        // Rows by deployment are found through `requests_rid (deployment, rid)`: a second
        // index on `deployment` alone cost the request log's writer a B-tree insert per row.
        m.registerMigration("v9-requests-index") { db in
            try db.execute(sql: "DROP INDEX requests_deployment")
        }
        // Every move of an alias: where it pointed before (none for a new alias), when, by whom.
        m.registerMigration("v10-alias-history") { db in
            try db.execute(sql: """
                CREATE TABLE alias_history (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  name TEXT NOT NULL,
                  alias TEXT NOT NULL,
                  version INTEGER NOT NULL,
                  previous INTEGER,
                  at REAL NOT NULL,
                  by TEXT NOT NULL);
                CREATE INDEX alias_history_name ON alias_history(name, id);
                """)
        }
        // Each run's latest value per metric, kept as points are logged, so listing runs reads
        // one row per run and metric instead of every point: the value at the highest step (the
        // latest such point), or the latest value when the metric was never stepped; `first` is
        // the rowid of the metric's first point, which orders a run's metrics.
        m.registerMigration("v11-latest-metrics") { db in
            try db.execute(sql: """
                CREATE TABLE latest_metrics (
                  run INTEGER NOT NULL REFERENCES runs(id),
                  name TEXT NOT NULL,
                  step INTEGER,
                  value REAL,
                  first INTEGER NOT NULL,
                  PRIMARY KEY (run, name)) WITHOUT ROWID;
                INSERT INTO latest_metrics (run, name, step, value, first)
                SELECT run, name, step, value, first FROM (
                  SELECT run, name, step, value, MIN(rowid) OVER (PARTITION BY run, name) AS first,
                         ROW_NUMBER() OVER (PARTITION BY run, name ORDER BY step IS NULL, step DESC, rowid DESC) AS k
                  FROM metrics)
                WHERE k = 1;
                """)
        }
        // Refused requests, one row each — when, the HTTP status, the route, the version meant
        // (none before one was chosen), the error's stable code and a short reason — written by
        // the server's request-log writer beside the answered rows. Rows, as an access log keeps
        // them, rather than counts per interval: a reader buckets them at any resolution, splits
        // them by status, route or version, and sees why the latest failed; they cost the
        // request path one append to the writer's bounded queue, as an answer does.
        m.registerMigration("v12-request-errors") { db in
            try db.execute(sql: """
                CREATE TABLE request_errors (
                  deployment INTEGER NOT NULL REFERENCES deployments(id),
                  at REAL NOT NULL,
                  status INTEGER NOT NULL,
                  route TEXT NOT NULL,
                  model TEXT,
                  code TEXT NOT NULL,
                  reason TEXT NOT NULL);
                CREATE INDEX request_errors_deployment ON request_errors(deployment, at);
                """)
        }
        // Sweeps and their trials, the queue workers claim from (see Store+Sweeps.swift): a
        // script run per trial (kind `script`, runs of `experiment`), or the candidates of a
        // `tune(..., workers=N)` (kind `tune`: `source` is the problem, `data` the table blob).
        m.registerMigration("v13-sweeps") { db in
            try db.execute(sql: """
                CREATE TABLE sweeps (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  kind TEXT NOT NULL,
                  experiment INTEGER REFERENCES experiments(id),
                  data TEXT,
                  script TEXT NOT NULL,
                  source TEXT NOT NULL,
                  source_hash TEXT NOT NULL,
                  fixed TEXT NOT NULL,
                  retries INTEGER NOT NULL,
                  created REAL NOT NULL,
                  by TEXT NOT NULL);
                CREATE TABLE trials (
                  id INTEGER PRIMARY KEY AUTOINCREMENT,
                  sweep INTEGER NOT NULL REFERENCES sweeps(id),
                  number INTEGER NOT NULL,
                  params TEXT NOT NULL,
                  status TEXT NOT NULL,
                  attempts INTEGER NOT NULL DEFAULT 0,
                  worker TEXT,
                  worker_pid INTEGER,
                  worker_identity TEXT,
                  heartbeat REAL,
                  started REAL,
                  ended REAL,
                  run INTEGER REFERENCES runs(id),
                  result TEXT,
                  error TEXT,
                  UNIQUE (sweep, number));
                CREATE INDEX trials_status ON trials(status, id);
                """)
        }
        // The names of each experiment's params and metrics, in the order first recorded, kept
        // as runs record them: listing an experiment's columns reads these few rows, not every
        // run's params and metrics.
        m.registerMigration("v14-run-columns") { db in
            try db.execute(sql: """
                CREATE TABLE run_columns (
                  experiment INTEGER NOT NULL REFERENCES experiments(id),
                  kind TEXT NOT NULL,
                  name TEXT NOT NULL,
                  PRIMARY KEY (experiment, kind, name));
                INSERT INTO run_columns (experiment, kind, name)
                SELECT r.experiment, 'param', p.name FROM params p JOIN runs r ON r.id = p.run
                GROUP BY r.experiment, p.name ORDER BY MIN(p.rowid);
                INSERT INTO run_columns (experiment, kind, name)
                SELECT r.experiment, 'metric', l.name FROM latest_metrics l JOIN runs r ON r.id = l.run
                GROUP BY r.experiment, l.name ORDER BY MIN(l.first);
                """)
        }
        return m
    }
}
