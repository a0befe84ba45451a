import RelayIO

/// A count bumped from several tasks.
public final class CountBox: Sendable {
    private let value = SanitizerVisibleMutex<Int>(0)

    public init() {}

    public func increment() { value.withLock { $0 += 1 } }

    public var count: Int { value.withLock { $0 } }
}
