import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// One server's warm connections, shared by the forwarding path (`take`) and the `ConnectionPool` that fills
/// it. A lock-protected stack: the hot path takes one connection under the lock and checks it outside it,
/// never awaiting anything.
public final class ServerPool: Sendable {
    /// The server these connections go to.
    public let server: ServerHandle
    /// Pooled connections handed to clients.
    public let hits = Counter()
    /// Client connections to this server that found no warm connection and dialed.
    public let misses = Counter()
    /// Warm connections found dead or dirty (closed by the server, data sent while idle, idle too long) and
    /// closed instead of being used.
    public let discarded = Counter()
    private let state: SanitizerVisibleMutex<State>
    /// Wakes the pool's upkeep so a taken connection is replaced at once.
    private let onTake: @Sendable () -> Void

    struct State {
        /// Warm connections, most recently opened last (taken first: the least likely to have been dropped).
        var idle: [Idle] = []
        /// Dials in flight.
        var dialing = 0
        /// How many warm connections to keep.
        var sizing: PoolSizing
        /// When the server left the active set (monotonic ns); nil while it is in it.
        var retiredAt: UInt64?
        /// Consecutive failed dials, for back-off.
        var dialFailures = 0
        /// No dial before this time (monotonic ns).
        var nextDialAt: UInt64 = 0
        /// Closed for good: nothing is added any more.
        var closed = false
    }

    struct Idle {
        let connection: TCPConnection
        /// When it was opened (monotonic ns), for `idle_timeout`.
        let since: UInt64
    }

    init(server: ServerHandle, config: PoolConfig, onTake: @escaping @Sendable () -> Void = {}) {
        self.server = server
        self.onTake = onTake
        state = SanitizerVisibleMutex(State(sizing: PoolSizing(config: config)))
    }

    /// A warm connection, checked, or nil (a miss). Prefers one registered on `loop`, so the relay's wakeups
    /// stay on its thread.
    public func take(on loop: EventLoop) -> TCPConnection? {
        for _ in 0..<4 {
            let candidate = state.withLock { state -> TCPConnection? in
                state.sizing.observe(concurrency: server.inFlight.load(ordering: .relaxed))
                guard !state.idle.isEmpty else { return nil }
                let scan = max(0, state.idle.count - 8)
                let index = state.idle[scan...].lastIndex { $0.connection.loop === loop } ?? state.idle.count - 1
                return state.idle.remove(at: index).connection
            }
            guard let candidate else { break }
            onTake()
            if Self.isUsable(candidate) {
                hits.increment()
                return candidate
            }
            discarded.increment()
            candidate.close()
        }
        misses.increment()
        onTake()
        return nil
    }

    /// Whether a warm connection can carry a client: still open, and nothing received while idle (a server
    /// that spoke first or closed would feed a client bytes it never asked for). One non-blocking peek.
    static func isUsable(_ connection: TCPConnection) -> Bool {
        var byte: UInt8 = 0
        let peeked = recv(connection.fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
    }

    // MARK: - Upkeep (called by ConnectionPool)

    /// Warm connections now.
    public var available: Int { state.withLock { $0.idle.count } }
    /// How many warm connections the pool keeps.
    public var size: Int { state.withLock { $0.sizing.size } }
    /// The sizing state, for metrics and tests.
    public var sizing: PoolSizing { state.withLock { $0.sizing } }

    /// How many dials to start now to reach the size: the size minus connections warm and dialing.
    func dialsWanted(now: UInt64, limit: Int) -> Int {
        state.withLock { state in
            guard !state.closed, state.retiredAt == nil, now >= state.nextDialAt else { return 0 }
            let wanted = state.sizing.size - state.idle.count - state.dialing
            let count = max(0, min(wanted, limit))
            state.dialing += count
            return count
        }
    }

    /// A dial finished: keep the connection if the pool still wants it, close it otherwise.
    func dialed(_ connection: TCPConnection?, now: UInt64) {
        let keep = state.withLock { state -> Bool in
            state.dialing -= 1
            guard let connection else {
                state.dialFailures += 1
                // 100 ms, 200 ms, ... up to 5 s between dials to a server that does not answer.
                let backoff = min(UInt64(5_000_000_000), UInt64(100_000_000) << UInt64(min(state.dialFailures - 1, 6)))
                state.nextDialAt = now + backoff
                return false
            }
            state.dialFailures = 0
            guard !state.closed, state.retiredAt == nil, state.idle.count < state.sizing.size else {
                return false
            }
            state.idle.append(Idle(connection: connection, since: now))
            return true
        }
        if !keep { connection?.close() }
    }

    /// A dial could not start because relayd itself was short of sockets, memory or ports: the server is not
    /// backed off from (its failure count stays), dialing pauses for `localPause` and tries again.
    func dialSkipped(now: UInt64) {
        state.withLock { state in
            state.dialing -= 1
            state.nextDialAt = max(state.nextDialAt, now + Self.localPause)
        }
    }

    /// How long dialing pauses after relayd ran short of its own resources (one upkeep tick).
    static let localPause: UInt64 = 250_000_000

    /// Closes warm connections that are dead, dirty or idle for `idleTimeout`, and (after a scale-down) those
    /// beyond what the pool should hold. Returns how many were closed.
    @discardableResult
    func sweep(now: UInt64, idleTimeout: Duration) -> Int {
        let limit = idleTimeout.nanosecondsClamped
        let removed = state.withLock { state -> [TCPConnection] in
            var removed: [TCPConnection] = []
            state.idle.removeAll { idle in
                // A dial that finished after `now` was read has `since` > `now`: it is new, not stale.
                let stale = (now > idle.since && now - idle.since >= limit) || !Self.isUsable(idle.connection)
                if stale { removed.append(idle.connection) }
                return stale
            }
            let excess = state.idle.count - state.sizing.size
            if excess > 0 {
                removed += state.idle.prefix(excess).map(\.connection)
                state.idle.removeFirst(excess)
            }
            return removed
        }
        for connection in removed { connection.close() }
        discarded.increment(by: UInt64(removed.count))
        return removed.count
    }

    /// Ends one scaling interval.
    func scale() {
        state.withLock { state in
            state.sizing.observe(concurrency: server.inFlight.load(ordering: .relaxed))
            state.sizing.tick()
        }
    }

    /// The server left the active set at `now` (or came back, with nil).
    func setRetired(_ now: UInt64?) {
        state.withLock { state in
            if now == nil || state.retiredAt == nil { state.retiredAt = now }
        }
    }

    /// Whether the server has been out of the active set for `drainTimeout`.
    func drainExpired(now: UInt64, drainTimeout: Duration) -> Bool {
        state.withLock { state in
            guard let since = state.retiredAt else { return false }
            return now &- since >= drainTimeout.nanosecondsClamped
        }
    }

    /// Closes every warm connection and takes no more.
    func close() {
        let idle = state.withLock { state -> [Idle] in
            state.closed = true
            defer { state.idle.removeAll() }
            return state.idle
        }
        for entry in idle { entry.connection.close() }
    }
}
