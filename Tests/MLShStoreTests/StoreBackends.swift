import Foundation
import Testing
import TestSupport
@testable import MLShStore

/// The two places a store lives, for tests that run against both: a folder (SQLite) and
/// a database of the test process's PostgreSQL cluster (`PostgresCluster`).
enum StoreBackend: String, CaseIterable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    /// Where a new, empty store of this backend is: a new folder, or a new database's URL.
    func newLocation() throws -> String {
        switch self {
        case .sqlite: return try temporaryFolder("store")
        case .postgres:
            switch PostgresCluster.shared {
            case .success(let c): return try c.database("store")
            case .failure(let e): throw e
            }
        }
    }

    /// A new, empty store of this backend.
    func newStore() throws -> Store { try Store(folder: newLocation()) }
}
