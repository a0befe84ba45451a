import Synchronization

/// A `Mutex` whose ordering ThreadSanitizer can see.
///
/// On Linux, `Mutex` hands a contended lock to the next owner inside the kernel (a priority-inheritance
/// futex), where ThreadSanitizer cannot observe it, so `swift test --sanitize=thread` reports races
/// between critical sections that the lock does serialize. Touching an atomic with acquire-release
/// ordering on the way in and out of every critical section gives the sanitizer the same
/// happens-before edges the lock already guarantees. The cost is two uncontended atomic adds per
/// locking, which is nothing on the paths this guards (a few per connection or wake-up,
/// next to system calls that cost a thousand times more).
///
/// `withLock` is `@inlinable` so that callers in other modules get it specialized for their `Value`: called
/// through the generic entry point, every locking looked up the type's metadata in the runtime's cache first,
/// which cost more than the lock itself (measured with the rate limiter's benchmark, BENCHMARKS.md).
public struct SanitizerVisibleMutex<Value: Sendable>: ~Copyable, Sendable {
    /// The actual lock and the state it protects.
    @usableFromInline let mutex: Mutex<Value>
    /// Touched only inside the lock; exists purely so the sanitizer sees the lock's ordering.
    @usableFromInline let order = Atomic<UInt>(0)

    public init(_ value: Value) {
        mutex = Mutex(value)
    }

    /// Runs `body` with exclusive access to the protected value.
    @inlinable @inline(__always)
    public borrowing func withLock<Result: Sendable>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try mutex.withLock { value in
            order.add(1, ordering: .acquiringAndReleasing)
            defer { order.add(1, ordering: .acquiringAndReleasing) }
            return try body(&value)
        }
    }
}
