import Foundation
import MLShModels

extension ModelFile {
    /// A version 1 file: sorted-key JSON `{"format": "mlsh-model", "version": 1,
    /// "mlsh_version", "state"}`, written before the binary format; read, never written.
    struct Version1: Codable {
        var format: String
        var version: Int
        var mlsh_version: String
        var state: FittedState
    }

    /// The fields read first, to tell what the file claims to be before decoding the rest.
    struct Version1Header: Codable { var format: String?; var version: Int? }

    /// Reads a version 1 (JSON) model file.
    static func decodeVersion1(_ bytes: [UInt8]) throws(StoreError) -> FittedModel {
        let data = Data(bytes)
        guard let header = try? JSONDecoder().decode(Version1Header.self, from: data), header.format == "mlsh-model" else {
            throw StoreError("not an mlsh model file (missing the {\"format\": \"mlsh-model\"} header)")
        }
        guard let v = header.version, v <= version else {
            throw StoreError("model file version \(header.version.map(String.init) ?? "?") is newer than this mlsh reads (\(version))")
        }
        guard v == 1 else {
            throw StoreError("malformed model file: a JSON model file must be format version 1, this one says \(v)")
        }
        let file: Version1
        do { file = try JSONDecoder().decode(Version1.self, from: data) } catch {
            throw StoreError("malformed model file: \(error)")
        }
        return try checked(file.state)
    }
}
