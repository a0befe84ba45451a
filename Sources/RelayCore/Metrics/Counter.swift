import Synchronization

/// A count that only goes up: connections accepted, bytes relayed, probe failures.
///
/// One relaxed atomic add per `increment`, so hot paths keep the handle and bump it without locking or
/// awaiting anything; the registry reads `value` when it is scraped. The count wraps at 2^64 instead of
/// trapping (Prometheus reads a drop as a counter reset), which no real workload reaches.
public final class Counter: Sendable {
    /// The count (usable from inlinable code so `increment` inlines into other modules' hot paths).
    @usableFromInline let count = Atomic<UInt64>(0)

    public init() {}

    /// Adds `amount` to the count.
    @inlinable
    public func increment(by amount: UInt64 = 1) {
        count.wrappingAdd(amount, ordering: .relaxed)
    }

    /// The current count.
    public var value: UInt64 {
        count.load(ordering: .relaxed)
    }
}
