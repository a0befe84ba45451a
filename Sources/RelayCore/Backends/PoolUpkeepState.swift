import RelayIO

/// What a connection pool's upkeep decides: which servers have a pool, how many dials each gets and when,
/// when the pool of a server that left the active set is closed, and when the pools are scaled and swept.
///
/// A pure state machine over monotonic nanoseconds, the clock injected as `now` on every event, so it is
/// tested synchronously. The `ConnectionPool` actor wraps it: each upkeep pass is one `tick` given the active
/// set and the warm counts the `ServerPool`s publish, each finished dial one `dialFinished`; the actor carries
/// out the actions. The warm connections themselves are not here: they live in each `ServerPool`, where the
/// forwarding path takes them under a lock without awaiting anything.
///
/// **Following the active set.** A server in the active set without a pool gets one and is dialed in the same
/// pass. A server that leaves is retired: it gets no more dials, and its pool is closed `drain_timeout` after
/// it left ("0s": in the same pass), unless it comes back first and keeps its warm connections.
///
/// **Dials.** Each pass tops every pool up: its size minus its warm connections minus the dials in flight,
/// at most `dialBurst` per pass. A dial that fails backs the server off: no dial for 100 ms, doubling with each
/// failure in a row up to 5 s; a dial that connects ends the back-off. A dial relayd could not start for lack
/// of its own sockets, memory or ports says nothing about the server: dialing pauses for `localPause`, the
/// failure count stays as it was.
///
/// **Intervals.** A dynamic pool ends a scaling interval every `scaling.interval`; warm connections are swept
/// every `min(1s, idle_timeout / 2)`.
struct PoolUpkeepState: Sendable {
    /// Tells a pool from its successor: a server that leaves and comes back after its pool closed gets a new
    /// pool, and a dial of the old one that finishes late must not count for (or feed) the new one.
    typealias PoolID = UInt64

    /// What a `ServerPool` publishes that the dial count depends on.
    struct Warm: Equatable, Sendable {
        /// Warm connections ready now.
        var available: Int
        /// Warm connections the pool aims for (`PoolSizing.size`).
        var size: Int
    }

    /// How one dial ended.
    enum DialResult: Equatable, Sendable {
        /// It connected.
        case connected
        /// The server refused, did not answer in `dial_timeout`, or failed otherwise: back off from it.
        case failed
        /// relayd itself was out of sockets, memory or ports: pause, but do not blame the server.
        case skippedLocally
    }

    /// What the `ConnectionPool` must do after a pass, in order.
    enum Action: Equatable, Sendable {
        /// The server joined the active set: create its (empty) pool.
        case createPool(ServerHandle, PoolID)
        /// Start `count` dials to the server for its pool; report each with `dialFinished`.
        case dial(ServerHandle, PoolID, count: Int)
        /// The server left the active set `drain_timeout` ago: close its warm connections and drop its pool.
        case closePool(ServerHandle)
        /// Every dynamic pool ends a scaling interval (`PoolSizing.tick`).
        case scale
        /// Every pool closes its dead, dirty and idle-too-long warm connections, and those beyond its size.
        case sweep
    }

    /// One server's pool as upkeep sees it.
    struct Entry: Equatable, Sendable {
        /// Which pool this is.
        let id: PoolID
        /// When the server left the active set; nil while it is in it.
        var retiredAt: UInt64?
        /// Dials in flight.
        var dialing = 0
        /// Failed dials in a row, for the back-off.
        var dialFailures = 0
        /// No dial before this time.
        var nextDialAt: UInt64 = 0
    }

    /// Most dials started per server per pass, so warming a large pool does not send a burst of SYNs.
    static let dialBurst = 64
    /// The back-off after the first failed dial in a row; it doubles with each further one.
    static let firstBackoff: UInt64 = 100_000_000
    /// The longest back-off, however many dials failed.
    static let maxBackoff: UInt64 = 5_000_000_000
    /// How long dialing pauses after relayd ran short of its own resources (one upkeep tick).
    static let localPause: UInt64 = 250_000_000

    /// Sizes, intervals and timeouts.
    let config: PoolConfig
    /// Every pool by server, including retired ones still draining.
    private(set) var entries: [ServerHandle: Entry] = [:]
    /// Last pool id handed out.
    private var lastPoolID: PoolID = 0
    /// When the last scaling interval ended (or upkeep began).
    private(set) var lastScale: UInt64
    /// When warm connections were last swept (or upkeep began).
    private(set) var lastSweep: UInt64

    /// Upkeep beginning at `now`, with no pool yet.
    init(config: PoolConfig, now: UInt64) {
        self.config = config
        lastScale = now
        lastSweep = now
    }

    /// How often warm connections are swept: often enough to close one soon after `idle_timeout`, at most
    /// once a second.
    var sweepPeriod: UInt64 {
        min(Duration.seconds(1), config.idleTimeout / 2).nanosecondsClamped
    }

    /// The wait before the next dial after `failures` failed dials in a row (≥ 1): 100 ms, 200 ms, ... 5 s.
    static func backoff(afterFailures failures: Int) -> UInt64 {
        min(maxBackoff, firstBackoff << UInt64(min(max(failures - 1, 0), 6)))
    }

    // MARK: - Events

    /// One upkeep pass at `now`. `active` is the active set without drained servers; `warm` what each
    /// existing pool publishes (a pool missing from it counts as new: empty, at its initial size).
    mutating func tick(now: UInt64, active: Set<ServerHandle>, warm: [ServerHandle: Warm]) -> [Action] {
        var actions: [Action] = []
        for server in active.sorted(by: Self.byID) where entries[server] == nil {
            lastPoolID += 1
            entries[server] = Entry(id: lastPoolID)
            actions.append(.createPool(server, lastPoolID))
        }
        let fresh = Warm(available: 0, size: PoolSizing(config: config).size)
        let drainTimeout = config.drainTimeout.nanosecondsClamped
        for server in entries.keys.sorted(by: Self.byID) {
            var entry = entries[server]!
            if active.contains(server) {
                entry.retiredAt = nil
            } else if entry.retiredAt == nil {
                entry.retiredAt = now
            }
            if let since = entry.retiredAt, now &- since >= drainTimeout {
                entries[server] = nil
                actions.append(.closePool(server))
                continue
            }
            if entry.retiredAt == nil, now >= entry.nextDialAt {
                let counts = warm[server] ?? fresh
                let count = max(0, min(counts.size - counts.available - entry.dialing, Self.dialBurst))
                if count > 0 {
                    entry.dialing += count
                    actions.append(.dial(server, entry.id, count: count))
                }
            }
            entries[server] = entry
        }
        if config.strategy == .dynamic, now &- lastScale >= config.scalingInterval.nanosecondsClamped {
            lastScale = now
            actions.append(.scale)
        }
        if now &- lastSweep >= sweepPeriod {
            lastSweep = now
            actions.append(.sweep)
        }
        return actions
    }

    /// A dial for pool `id` of `server` finished at `now`. Returns whether its connection (if it connected)
    /// should be offered to the pool's warm connections: not when the server left the active set, nor when
    /// that pool is closed.
    mutating func dialFinished(_ server: ServerHandle, pool id: PoolID, _ result: DialResult, now: UInt64) -> Bool {
        guard var entry = entries[server], entry.id == id else { return false }
        entry.dialing -= 1
        var wanted = false
        switch result {
        case .connected:
            entry.dialFailures = 0
            wanted = entry.retiredAt == nil
        case .failed:
            entry.dialFailures += 1
            entry.nextDialAt = now + Self.backoff(afterFailures: entry.dialFailures)
        case .skippedLocally:
            entry.nextDialAt = max(entry.nextDialAt, now + Self.localPause)
        }
        entries[server] = entry
        return wanted
    }

    /// Upkeep order: by server id, so passes are reproducible.
    private static func byID(_ lhs: ServerHandle, _ rhs: ServerHandle) -> Bool { lhs.id < rhs.id }
}
