import RelayIO

/// One relayed connection's two directions, driven by the one task that calls `run()`.
///
/// Each turn tries, for each direction still open, to finish writing its held chunk, or else to read a
/// new chunk and write it on at once; a chunk the destination did not take whole is held (in its pooled
/// buffer) until the destination is writable again, and that direction reads nothing meanwhile. When no
/// direction can move, the task parks on a `ReadinessWatcher` that both sockets wake. Everything but the
/// park is synchronous, so the task's suspended state is this object and a small frame.
///
/// Readiness is taken from the registrations' latched edges: after a short read, a direction waits for
/// the next read edge instead of spending a `recv` to learn `EAGAIN` (both sockets start that way, as
/// freshly registered ones, unless the client was read before: `clientRead`), and a blocked write is retried
/// only after a write edge.
final class TCPBridge {
    /// One direction: bytes read from `source` are written to `destination`.
    struct Lane {
        let source: TCPConnection
        let destination: TCPConnection
        let counter: Counter?
        let direction: RelayDirection
        /// The chunk being written: its pooled buffer, the bytes already sent and the chunk's end.
        var held: UnsafeMutableRawBufferPointer?
        var sent = 0
        var end = 0
        /// The last read came up short (or would block): read again only after a read edge.
        var drained = true
        /// The last write would block: retry only after a write edge.
        var writeBlocked = false
        /// Bytes written to `destination`.
        var total = 0
        /// How this direction ended, once it has.
        var ending: RelayEnding?

        init(from source: TCPConnection, to destination: TCPConnection, counter: Counter?, direction: RelayDirection) {
            self.source = source
            self.destination = destination
            self.counter = counter
            self.direction = direction
        }
    }

    /// What one turn achieved.
    enum Turn {
        /// Bytes moved (or a direction ended): take another turn. Even after a short read the next turn
        /// looks at the latched readiness again: a FIN that came with the last data was reported by the
        /// same edge, and no later edge will come for it.
        case moved
        /// Nothing moved: every open direction waits for an edge. Park; an edge that came during the turn
        /// is kept by the watcher, so the park then returns at once.
        case blocked
        /// Both directions have ended.
        case finished
    }

    private let client: TCPConnection
    private let backend: TCPConnection
    private let pool: BufferPool
    private let activity: ConnectionActivity?
    private let onFirstResponse: (@Sendable (Duration) -> Void)?
    private let watcher = ReadinessWatcher()
    private var up: Lane
    private var down: Lane
    /// When the first upstream chunk was read (CLOCK_MONOTONIC ns), for the first response's time.
    private var firstUpstream: UInt64 = 0
    /// A direction failed: stop both once its turn is over.
    private var stopping = false

    /// Turns in a row that moved bytes before the task lets the loop's other work run.
    static let turnsBeforeYield = 64

    @inline(never)
    init(client: TCPConnection, backend: TCPConnection, pool: BufferPool, bytesUp: Counter?, bytesDown: Counter?,
         activity: ConnectionActivity?, clientRead: Bool = false, onFirstResponse: (@Sendable (Duration) -> Void)?) {
        self.client = client
        self.backend = backend
        self.pool = pool
        self.activity = activity
        self.onFirstResponse = onFirstResponse
        up = Lane(from: client, to: backend, counter: bytesUp, direction: .upstream)
        down = Lane(from: backend, to: client, counter: bytesDown, direction: .downstream)
        // A client already read from (its PROXY header) spent its first read edge: read before waiting.
        up.drained = !clientRead
    }

    /// Relays until both directions have ended, the sockets are aborted, or the task is cancelled (which
    /// aborts them).
    func run() async -> RelayOutcome {
        client.registration.watch(watcher)
        backend.registration.watch(watcher)
        await withTaskCancellationHandler {
            await drive()
        } onCancel: { [client, backend] in
            client.abort()
            backend.abort()
        }
        return finish()
    }

    nonisolated(nonsending) private func drive() async {
        var busy = 0
        while true {
            switch turn() {
            case .finished:
                return
            case .moved:
                busy += 1
                if busy >= Self.turnsBeforeYield {
                    busy = 0
                    await Task.yield()
                    if watcher.isAborted {
                        stop()
                        return
                    }
                }
            case .blocked:
                busy = 0
                if await watcher.wait() {
                    stop()
                    return
                }
            }
        }
    }

    /// Moves each open direction once.
    private func turn() -> Turn {
        var moved = false
        if up.ending == nil { moved = advance(&up) || moved }
        if down.ending == nil && !stopping { moved = advance(&down) || moved }
        if stopping { stop() }
        if up.ending != nil && down.ending != nil { return .finished }
        return moved ? .moved : .blocked
    }

    /// Writes the lane's held chunk, or reads and writes a new one; true when anything moved or ended.
    private func advance(_ lane: inout Lane) -> Bool {
        do {
            if lane.held != nil {
                if lane.writeBlocked && !lane.destination.registration.consumeReadiness(.write) { return false }
                return try flush(&lane)
            }
            if lane.drained {
                guard lane.source.registration.consumeReadiness(.read) else { return false }
                lane.drained = false
            }
            let buffer = pool.take()
            let count: Int
            do {
                switch try lane.source.readNow(into: buffer) {
                case .wouldBlock:
                    pool.release(buffer)
                    lane.drained = true
                    return false
                case let .processed(read):
                    count = read
                }
            } catch {
                pool.release(buffer)
                throw error
            }
            if count == 0 {
                pool.release(buffer)
                endOfStream(&lane)
                return true
            }
            lane.drained = count < buffer.count
            // Nothing is read while a chunk is held, so a direction that has written nothing is at its first.
            received(lane.direction, first: lane.total == 0)
            lane.held = buffer
            lane.sent = 0
            lane.end = count
            _ = try flush(&lane)
            return true
        } catch {
            fail(&lane, error)
            return true
        }
    }

    /// Writes what the destination takes of the held chunk; true when anything was written.
    private func flush(_ lane: inout Lane) throws -> Bool {
        guard let buffer = lane.held else { return false }
        switch try lane.destination.writeNow(UnsafeRawBufferPointer(rebasing: buffer[lane.sent..<lane.end])) {
        case .wouldBlock:
            lane.writeBlocked = true
            return false
        case let .processed(written):
            lane.sent += written
            lane.total += written
            lane.counter?.increment(by: UInt64(written))
            if lane.sent == lane.end {
                pool.release(buffer)
                lane.held = nil
                lane.writeBlocked = false
            } else {
                // A short write means the socket buffer is full: wait for room rather than learn EAGAIN.
                lane.writeBlocked = true
            }
            return written > 0
        }
    }

    /// A chunk was read: counts it for the timeout sweep and, on each direction's first chunk, times the
    /// backend's first response.
    private func received(_ direction: RelayDirection, first: Bool) {
        activity?.moved(direction)
        guard first, let onFirstResponse else { return }
        switch direction {
        case .upstream:
            firstUpstream = EventLoop.now()
        case .downstream:
            if firstUpstream != 0 { onFirstResponse(.nanoseconds(Int64(EventLoop.now() &- firstUpstream))) }
        }
    }

    /// The source sent FIN: pass it on as a half-close, unless the other direction has ended too (both
    /// sockets are closed right after, and the close sends the FIN).
    private func endOfStream(_ lane: inout Lane) {
        lane.ending = .endOfStream
        let otherEnded = lane.direction == .upstream ? down.ending != nil : up.ending != nil
        if !otherEnded { lane.destination.shutdownWrite() }
    }

    /// Reading or writing failed: ends both directions, with a reset passed on to both peers unless a
    /// timeout ended the connection (then both sockets were woken on purpose and close with an orderly
    /// end of stream).
    private func fail(_ lane: inout Lane, _ error: any Error) {
        if activity?.expiry == nil, !(error is CancellationError), (error as? IOError) != .closed {
            lane.ending = .failed(String(describing: error))
        } else {
            lane.ending = .cancelled
        }
        stopping = true
    }

    /// Ends every direction still open as cancelled; with a reset on both sockets unless a timeout
    /// ended the connection.
    private func stop() {
        if activity?.expiry == nil {
            client.setResetOnClose()
            backend.setResetOnClose()
            client.abort()
            backend.abort()
        }
        if up.ending == nil { up.ending = .cancelled }
        if down.ending == nil { down.ending = .cancelled }
    }

    /// Stops watching the sockets, returns held buffers and sums up.
    private func finish() -> RelayOutcome {
        client.registration.watch(nil)
        backend.registration.watch(nil)
        if let held = up.held { pool.release(held) }
        if let held = down.held { pool.release(held) }
        up.held = nil
        down.held = nil
        return RelayOutcome(bytesUp: up.total, bytesDown: down.total, up: up.ending ?? .cancelled,
                            down: down.ending ?? .cancelled)
    }
}
