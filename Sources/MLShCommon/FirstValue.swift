import Foundation

/// A value handed over once between threads: the first `offer` is kept (later ones are
/// ignored) and `take` waits until there is one. A server reports the port it bound (or
/// nil when it could not) this way to the thread that started it.
public final class FirstValue<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let offered = DispatchSemaphore(value: 0)
    private var value: Value
    private var done = false

    /// `placeholder` is what `take` would return were it read before an offer (it is not).
    public init(_ placeholder: Value) { value = placeholder }

    public func offer(_ v: Value) {
        lock.lock()
        let first = !done
        if first { value = v; done = true }
        lock.unlock()
        if first { offered.signal() }
    }

    /// The offered value, once there is one.
    public func take() -> Value {
        offered.wait()
        offered.signal()
        lock.lock(); defer { lock.unlock() }
        return value
    }
}
