/// Holds the lent buffer between chunks and returns it to the pool when idle or when dropped.
public final class ChunkReader {
    let connection: TCPConnection
    let pool: BufferPool
    private var buffer: UnsafeMutableRawBufferPointer?
    /// The last read filled less than the buffer: the kernel queue was empty then, so wait for the next
    /// edge instead of spending a `recv` to learn `EAGAIN`.
    private var drained: Bool

    init(connection: TCPConnection, pool: BufferPool, drained: Bool) {
        self.connection = connection
        self.pool = pool
        self.drained = drained
    }

    deinit {
        if let buffer { pool.release(buffer) }
    }

    func next() async throws -> UnsafeRawBufferPointer? {
        while true {
            if drained {
                drained = false
                if let held = buffer {
                    pool.release(held)
                    buffer = nil
                }
                try await connection.registration.wait(for: .read)
            }
            let target: UnsafeMutableRawBufferPointer
            if let held = buffer {
                target = held
            } else {
                target = pool.take()
                buffer = target
            }
            switch try connection.readNow(into: target) {
            case let .processed(count):
                if count == 0 {
                    pool.release(target)
                    buffer = nil
                    return nil
                }
                drained = count < target.count
                return UnsafeRawBufferPointer(rebasing: target[0..<count])
            case .wouldBlock:
                drained = true
            }
        }
    }
}
