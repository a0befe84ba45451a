#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Fixed-size I/O buffers, recycled per event loop.
///
/// Allocating a 256 KiB buffer per connection halved the connection rate in measurements, and holding
/// one per idle connection would cost 10,000 idle connections 5 GiB: forwarding code takes a buffer
/// only while bytes are in flight and gives it back as soon as the source would block.
public final class BufferPool: Sendable {
    /// Size of every buffer handed out.
    public let bufferSize: Int
    /// Buffers kept for reuse beyond this count are freed when returned, bounding idle memory.
    public let maxCached: Int
    /// Addresses (as integers: raw pointers are not `Sendable`) of buffers ready for reuse.
    private let free = SanitizerVisibleMutex<[UInt]>([])
    /// Buffers currently lent out, for tests and metrics.
    private let outstanding = Atomic<Int>(0)

    public init(bufferSize: Int, maxCached: Int) {
        precondition(bufferSize > 0 && maxCached >= 0)
        self.bufferSize = bufferSize
        self.maxCached = maxCached
    }

    deinit {
        for address in free.withLock({ $0 }) { UnsafeMutableRawPointer(bitPattern: address)!.deallocate() }
    }

    /// Lends a buffer of `bufferSize` bytes; give it back with `release(_:)`.
    public func take() -> UnsafeMutableRawBufferPointer {
        outstanding.add(1, ordering: .relaxed)
        let pointer = free.withLock { $0.popLast() }.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
            ?? UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
        return UnsafeMutableRawBufferPointer(start: pointer, count: bufferSize)
    }

    /// Returns a buffer lent by `take()`.
    public func release(_ buffer: UnsafeMutableRawBufferPointer) {
        outstanding.subtract(1, ordering: .relaxed)
        let pointer = buffer.baseAddress!
        let address = UInt(bitPattern: pointer)
        let kept = free.withLock { list -> Bool in
            guard list.count < maxCached else { return false }
            list.append(address)
            return true
        }
        if !kept { pointer.deallocate() }
    }

    /// Buffers lent and not yet returned.
    public var inUse: Int { outstanding.load(ordering: .relaxed) }

    /// Buffers held for reuse.
    public var cached: Int { free.withLock { $0.count } }
}
