import Foundation
import Testing
import MLShEngine
import MLShModels
@testable import MLShStore

/// A damaged or hostile model file is an error with a clear message, never a crash or an
/// out-of-bounds read: truncation at every length, a flipped bit at every byte, and files
/// whose checksum is right but whose contents lie.
@Suite struct ModelFileDamageTests {
    /// k-nearest-neighbours on 12 rows: its `x` and `y` (12 values each) are in the data section.
    static func knnFile() throws -> [UInt8] {
        let x = (0..<12).map { Double($0) + 0.5 }
        let t = try Table(names: ["x", "y"], columns: [Column(floats: x), Column(floats: x.map { $0 * 0.5 + 0.125 })])
        let m = try fit(PipelineSpec(try ModelSpec.make(kind: "knn", settings: [:])), on: t, target: "y", features: nil)
        return try ModelFile.encode(m, mlshVersion: "t")
    }

    /// The header text and the data section of a version 2 file.
    static func parts(_ bytes: [UInt8]) throws -> (header: String, data: [UInt8]) {
        let r = ByteReader(bytes: bytes)
        let h = Int(try #require(r.uint64(at: 16))), d = Int(try #require(r.uint64(at: 24)))
        let header = try #require(String(bytes: bytes[32..<(32 + h)], encoding: .utf8))
        return (header.trimmingCharacters(in: .whitespaces), Array(bytes[(32 + h)..<(32 + h + d)]))
    }

    /// A version 2 file from parts with a correct checksum, for damage a checksum cannot see.
    static func build(header: String, data: [UInt8], version: UInt32 = 2, flags: UInt32 = 0, pad: Bool = true) -> [UInt8] {
        var h = Array(header.utf8)
        while pad && h.count % 8 != 0 { h.append(UInt8(ascii: " ")) }
        var out = Array("MLSHMODL".utf8)
        ModelFile.appendLittleEndian(version, to: &out)
        ModelFile.appendLittleEndian(flags, to: &out)
        ModelFile.appendLittleEndian(UInt64(h.count), to: &out)
        ModelFile.appendLittleEndian(UInt64(data.count), to: &out)
        out += h + data
        var sha = SHA256()
        sha.update(out)
        return out + sha.finalize()
    }

    @Test func rebuildingFromPartsGivesTheSameFile() throws {
        let bytes = try Self.knnFile()
        let (header, data) = try Self.parts(bytes)
        #expect(Self.build(header: header, data: data) == bytes)
        #expect(header.contains(#""x":{"$array":0}"#) && header.contains(#""y":{"$array":1}"#))
    }

    @Test func truncatedAtEveryLengthIsAnError() throws {
        let bytes = try Self.knnFile()
        for n in 0..<bytes.count {
            #expect(throws: StoreError.self, "truncated to \(n) bytes") { try ModelFile.decode(Array(bytes[0..<n])) }
        }
        #expect(throws: StoreError("model file is truncated: 10 bytes, too short to hold its format version")) {
            try ModelFile.decode(Array(bytes[0..<10]))
        }
        let n = bytes.count, h = n - 32 - 192 - 32
        #expect(throws: StoreError("model file is truncated or has extra bytes: its lengths (header \(h), data 192) need \(n) bytes, the file has \(n - 1)")) {
            try ModelFile.decode(Array(bytes[0..<(n - 1)]))
        }
        #expect(throws: StoreError.self) { try ModelFile.decode(bytes + [0]) }
    }

    @Test func flippedBitAnywhereIsAnError() throws {
        let bytes = try Self.knnFile()
        for i in bytes.indices {
            var damaged = bytes
            damaged[i] ^= 0x10
            #expect(throws: StoreError.self, "bit flipped in byte \(i)") { try ModelFile.decode(damaged) }
        }
        for i in [40, bytes.count - 60, bytes.count - 1] {
            var damaged = bytes
            damaged[i] ^= 0x01
            #expect(throws: StoreError("model file checksum mismatch: the file is damaged (its bytes no longer match the SHA-256 it ends with)")) {
                try ModelFile.decode(damaged)
            }
        }
    }

    /// Files with a valid checksum whose contents are wrong, and the message each gets.
    @Test func lyingContentsAreRefused() throws {
        let (header, data) = try Self.parts(try Self.knnFile())
        func swap(_ a: String, _ b: String) throws -> String {
            #expect(header.contains(a), "the header holds \(a)")
            return header.replacingOccurrences(of: a, with: b)
        }
        var unaligned = header
        while unaligned.utf8.count % 8 != 4 { unaligned += " " }
        var nan = data
        nan.replaceSubrange(8..<16, with: [0, 0, 0, 0, 0, 0, 0xF8, 0x7F])
        let cases: [([UInt8], String)] = [
            (Self.build(header: header, data: data, version: 3), "model file version 3 is newer than this mlsh reads (2)"),
            (Self.build(header: header, data: data, version: 1),
             "malformed model file: binary model files start at format version 2, this one says 1"),
            (Self.build(header: header, data: data, flags: 4), "malformed model file: unknown flags 4 (version 2 writes 0)"),
            (Self.build(header: unaligned, data: data, pad: false),
             "malformed model file: header and data lengths must be multiples of 8 (\(unaligned.utf8.count), 192)"),
            (Self.build(header: try swap(#""count":12,"dtype":"f64","offset":0"#, #""count":1152921504606846976,"dtype":"f64","offset":0"#), data: data),
             "malformed model file: array estimator.knn._0.x (offset 0, 1152921504606846976 values) does not lie at offset 0 within the 192-byte data section"),
            (Self.build(header: try swap(#""count":12,"dtype":"f64","offset":96"#, #""count":12,"dtype":"f64","offset":88"#), data: data),
             "malformed model file: array estimator.knn._0.y (offset 88, 12 values) does not lie at offset 96 within the 192-byte data section"),
            (Self.build(header: try swap(#""count":12,"dtype":"f64","offset":96"#, #""count":-1,"dtype":"f64","offset":96"#), data: data),
             "malformed model file: array estimator.knn._0.y (offset 96, -1 values) does not lie at offset 96 within the 192-byte data section"),
            (Self.build(header: try swap(#""count":12,"dtype":"f64","offset":96"#, #""count":11,"dtype":"f64","offset":96"#), data: data),
             "malformed model file: the data section has 8 bytes no array uses"),
            (Self.build(header: header, data: data + [UInt8](repeating: 0, count: 8)),
             "malformed model file: the data section has 8 bytes no array uses"),
            (Self.build(header: try swap(#""dtype":"f64","offset":0"#, #""dtype":"f32","offset":0"#), data: data),
             "malformed model file: array estimator.knn._0.x has dtype 'f32' (expected f64 or i64)"),
            (Self.build(header: header, data: nan), "malformed model file: array estimator.knn._0.x holds a non-finite number (nan)"),
            (Self.build(header: try swap(#""y":{"$array":1}"#, #""y":{"$array":0}"#), data: data),
             "malformed model file: array 0 is referenced twice"),
            (Self.build(header: try swap(#""y":{"$array":1}"#, #""y":{"$array":7}"#), data: data),
             "malformed model file: array reference 7 is out of range (2 arrays)"),
            (Self.build(header: try swap(#""y":{"$array":1}"#, #""y":{"$array":1,"z":2}"#), data: data),
             "malformed model file: an array reference must be {\"$array\": index} alone"),
            (Self.build(header: try swap(#""kind":"knn""#, #""kind":"ridge""#), data: data),
             "malformed model file: the header says kind 'ridge' but the state holds 'knn'"),
            (Self.build(header: try swap(#""format":"mlsh-model""#, #""format":"other""#), data: data),
             "malformed model file header: format 'other' version 2, expected 'mlsh-model' version 2"),
            (Self.build(header: try swap(#""rows":12"#, #""rows":13"#), data: data),
             "invalid model file: the model file is inconsistent: knn training set shapes"),
        ]
        for (bytes, message) in cases {
            #expect(throws: StoreError(message)) { try ModelFile.decode(bytes) }
        }
        // A header that is not JSON, and a state JSONDecoder cannot read, name what failed.
        for bad in ["{", try swap(#""features":1"#, #""features":"one""#)] {
            let e = #expect(throws: StoreError.self) { try ModelFile.decode(Self.build(header: bad, data: data)) }
            #expect(e?.message.hasPrefix("malformed model file") == true)
        }
    }

    @Test func otherBytesAreNotModelFiles() throws {
        let message = "not an mlsh model file (it starts with neither the MLSHMODL magic bytes nor a version 1 JSON header)"
        for bytes in [[], Array("MLSH".utf8), Array("PK\u{3}\u{4}".utf8), [UInt8](repeating: 0, count: 100)] {
            #expect(throws: StoreError(message)) { try ModelFile.decode(bytes) }
        }
    }

    @Test func version1HeaderIsChecked() throws {
        #expect(throws: StoreError("not an mlsh model file (missing the {\"format\": \"mlsh-model\"} header)")) {
            try ModelFile.decode(Array("{\"state\": 1}".utf8))
        }
        #expect(throws: StoreError("model file version 3 is newer than this mlsh reads (2)")) {
            try ModelFile.decode(Array("{\"format\": \"mlsh-model\", \"version\": 3}".utf8))
        }
        #expect(throws: StoreError("malformed model file: a JSON model file must be format version 1, this one says 2")) {
            try ModelFile.decode(Array("{\"format\": \"mlsh-model\", \"version\": 2}".utf8))
        }
        let e = #expect(throws: StoreError.self) { try ModelFile.decode(Array("{\"format\": \"mlsh-model\", \"version\": 1}".utf8)) }
        #expect(e?.message.hasPrefix("malformed model file: ") == true)
    }
}
