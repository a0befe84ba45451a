#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The set of event loops of a process: by default one per CPU core.
public final class EventLoopGroup: Sendable {
    /// The loops, each with its own thread, epoll set and buffer pool.
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)

    /// Starts `count` loops (0 = one per online CPU), each lending buffers of `bufferSize` bytes.
    public init(loops count: Int = 0, bufferSize: Int = 256 * 1024) throws(IOError) {
        let wanted = count > 0 ? count : EventLoopGroup.coreCount
        var loops: [EventLoop] = []
        for index in 0..<wanted {
            do {
                loops.append(try EventLoop(index: index, bufferSize: bufferSize))
            } catch {
                for loop in loops { loop.shutdown() }
                throw error
            }
        }
        self.loops = loops
    }

    /// Online CPUs, at least 1.
    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// The next loop in round-robin order (for work not tied to an accepting loop).
    public func next() -> EventLoop {
        loops[cursor.wrappingAdd(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Stops every loop thread. Call only once nothing runs on them any more.
    public func shutdown() {
        for loop in loops { loop.shutdown() }
    }
}
