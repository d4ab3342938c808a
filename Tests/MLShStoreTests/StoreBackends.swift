import Foundation
import Testing
import TestSupport
@testable import MLShStore

/// The places a store lives, for tests that run against each: a folder (SQLite), a
/// database of the test process's PostgreSQL cluster (`PostgresCluster`) keeping its blobs
/// in its `blobs` table, and such a database writing its blobs to an artifacts folder.
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres, postgresFolder

    var testDescription: String { self == .postgresFolder ? "postgres+artifacts" : rawValue }

    /// Where a new, empty store of this backend is: a new folder, or a new database's URL
    /// (for `postgresFolder`, one that has recorded a new artifacts folder, so every later
    /// open finds it).
    func newLocation() throws -> String {
        switch self {
        case .sqlite: return try temporaryFolder("store")
        case .postgres, .postgresFolder:
            switch PostgresCluster.shared {
            case .success(let c):
                let url = try c.database("store")
                if self == .postgresFolder { _ = try Store(folder: url, artifacts: try temporaryFolder("artifacts")) }
                return url
            case .failure(let e): throw e
            }
        }
    }

    /// A new, empty store of this backend.
    func newStore() throws -> Store { try Store(folder: newLocation()) }
}
