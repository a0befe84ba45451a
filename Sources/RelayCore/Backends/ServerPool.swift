import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// One server's warm connections, shared by the forwarding path (`take`) and the `ConnectionPool` that fills
/// it. A lock-protected stack: the hot path takes one connection under the lock and checks it outside it,
/// never awaiting anything.
///
/// This is the part of a pool the hot path sees; what upkeep decides (dials, back-off, retirement) is the
/// `ConnectionPool`'s, in `PoolUpkeepState`.
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
        /// How many warm connections to keep; the hot path records the concurrency it sees at each take.
        var sizing: PoolSizing
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

    /// What upkeep needs to know to top the pool up, read under one lock.
    var warm: PoolUpkeepState.Warm {
        state.withLock { PoolUpkeepState.Warm(available: $0.idle.count, size: $0.sizing.size) }
    }

    /// A connection dialed for this pool: kept warm while the pool is open and short of its size, closed
    /// otherwise. Returns whether it was kept.
    @discardableResult
    func offer(_ connection: TCPConnection, now: UInt64) -> Bool {
        let keep = state.withLock { state -> Bool in
            guard !state.closed, state.idle.count < state.sizing.size else { return false }
            state.idle.append(Idle(connection: connection, since: now))
            return true
        }
        if !keep { connection.close() }
        return keep
    }

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
