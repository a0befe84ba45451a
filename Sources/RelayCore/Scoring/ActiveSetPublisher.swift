import RelayIO
/// Where a group's Selector publishes its active set and the hot path reads it.
///
/// A lock-protected reference swap: reading `current` takes the lock for one pointer copy and never waits
/// for the Selector, which builds each new `ActiveSet` before taking the lock to swap it in. The lock is
/// the `Mutex` wrapper ThreadSanitizer can see, so the sanitizer run stays quiet.
public final class ActiveSetPublisher: Sendable {
    /// The set last published.
    private let storage: SanitizerVisibleMutex<ActiveSet>

    /// Starts with `initial` (empty: the caller tries every server until the first selection).
    public init(_ initial: ActiveSet = .empty) {
        storage = SanitizerVisibleMutex(initial)
    }

    /// The set last published.
    public var current: ActiveSet { storage.withLock { $0 } }

    /// Replaces the current set.
    public func publish(_ set: ActiveSet) {
        storage.withLock { $0 = set }
    }
}
