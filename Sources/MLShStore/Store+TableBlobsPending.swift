import Foundation
import MLShEngine

// PLACEHOLDER until the snapshot file format lands (r18-tablefile): CSV blobs.
extension Store {
    public func putTable(_ t: MLShEngine.Table) throws(StoreError) -> (hash: String, bytes: Int) {
        let bytes = CSV.encode(t)
        return (try putArtifact(bytes), bytes.count)
    }
    public func table(_ hash: String, label: String?) throws(StoreError) -> MLShEngine.Table {
        let bytes = try artifact(hash)
        do { return try CSV.read(data: bytes, name: label ?? hash) } catch { throw StoreError("\(error)") }
    }
}
