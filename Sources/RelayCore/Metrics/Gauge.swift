import Synchronization

/// A value that goes up and down: open connections, live UDP flows, servers in the active set.
///
/// Every operation is one relaxed atomic, like `Counter`. Adds and subtracts wrap instead of trapping, so a
/// mismatched pair of `add`/`sub` shows up as a wrong number on a dashboard, not as a crash of the relay.
public final class Gauge: Sendable {
    /// The value (usable from inlinable code so the updates inline into other modules' hot paths).
    @usableFromInline let current = Atomic<Int64>(0)

    public init() {}

    /// Replaces the value.
    @inlinable
    public func set(_ value: Int64) {
        current.store(value, ordering: .relaxed)
    }

    /// Adds `delta` to the value.
    @inlinable
    public func add(_ delta: Int64) {
        current.wrappingAdd(delta, ordering: .relaxed)
    }

    /// Subtracts `delta` from the value.
    @inlinable
    public func sub(_ delta: Int64) {
        current.wrappingSubtract(delta, ordering: .relaxed)
    }

    /// The current value.
    public var value: Int64 {
        current.load(ordering: .relaxed)
    }
}
