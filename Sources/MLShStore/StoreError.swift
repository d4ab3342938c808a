/// What went wrong in the store, said in the user's terms (positionless; the
/// runtime attaches the span).
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message shown after `store error:`.
    public let message: String
    /// Whether the store's database could not be reached or the connection to it was lost
    /// (trying again later may succeed), rather than the store refusing what was asked.
    public let unreachable: Bool
    /// An error with a message.
    public init(_ message: String, unreachable: Bool = false) { self.message = message; self.unreachable = unreachable }
    public var description: String { message }

    /// `error` itself when it is a store error, else its description as one.
    static func wrapping(_ error: any Error) -> StoreError { error as? StoreError ?? StoreError("\(error)") }
}

/// Names of experiments, models and aliases: they become keys and, through
/// lineage and artifacts, sometimes paths, so path-like names are refused.
public enum StoreName {
    /// The longest name accepted, in UTF-8 bytes.
    public static let maxBytes = 200

    /// Throws unless `name` is a usable `what` name (non-empty, at most 200 bytes, no
    /// `/`, `..`, NUL or `@`).
    public static func validate(_ name: String, _ what: String) throws(StoreError) {
        if name.isEmpty { throw StoreError("\(what) name must not be empty") }
        if name.utf8.count > maxBytes {
            throw StoreError("\(what) name is \(name.utf8.count) bytes long; at most \(maxBytes) are allowed")
        }
        if name.contains("\0") { throw StoreError("\(what) name must not contain a NUL character") }
        if name.contains("/") { throw StoreError("\(what) name '\(name)' must not contain '/'") }
        if name.contains("..") { throw StoreError("\(what) name '\(name)' must not contain '..'") }
        if name.contains("@") { throw StoreError("\(what) name '\(name)' must not contain '@'") }
    }
}
