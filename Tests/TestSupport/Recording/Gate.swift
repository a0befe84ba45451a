import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A door a test opens once, and a flag saying someone is waiting behind it.
public final class Gate: Sendable {
    private let opened = Atomic<Bool>(false)
    private let entered = Atomic<Bool>(false)

    public init() {}

    public func open() { opened.store(true, ordering: .releasing) }

    public var isOpen: Bool { opened.load(ordering: .acquiring) }

    public var isEntered: Bool { entered.load(ordering: .acquiring) }

    /// Blocks the calling thread (not just the task) until `open()`: what a long critical section does to the
    /// executor it runs on. Polling a millisecond at a time is the blocking under test, not a wait for it.
    public func block() {
        entered.store(true, ordering: .releasing)
        while !isOpen { usleep(1_000) }
    }
}
