internal import COpenSSL

/// SHA-256 (FIPS 180-4), streaming, through libcrypto (SHA-NI where the CPU has it).
/// A value: copying the state forks the hash.
public struct SHA256: Sendable {
    private var context = SHA256_CTX()

    /// A fresh hash state.
    public init() { SHA256_Init(&context) }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { update($0) }
    }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) {
        update(UnsafeRawBufferPointer(bytes))
    }

    /// Adds the bytes of any memory to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        SHA256_Update(&context, base, bytes.count)
    }

    /// The 32-byte digest (the state is not changed).
    public func finalize() -> [UInt8] {
        var copy = context
        return [UInt8](unsafeUninitializedCapacity: 32) { out, n in
            if let base = out.baseAddress { SHA256_Final(base, &copy) }
            n = 32
        }
    }

    /// The digest as lowercase hex.
    public func hexDigest() -> String { SHA256.hexString(finalize()) }

    /// `bytes` as lowercase hex.
    public static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var s = ""
        s.reserveCapacity(bytes.count * 2)
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }

    /// The hex digest of `bytes`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var h = SHA256()
        h.update(bytes)
        return h.hexDigest()
    }
}
