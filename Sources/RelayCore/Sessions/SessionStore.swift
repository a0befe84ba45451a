import RelayIO

/// Owns the open sessions of one listener (a UDP listener's flows, a reliable-UDP listener's sessions):
/// admission against the limit (`max_flows`, `max_sessions`), idle expiry, and the counts the metrics and the
/// admin API read.
///
/// The sessions live in a `SessionTable` behind a lock, so the datagram path never awaits this actor: a
/// receive loop admits a new session with `admit` (one uncontended lock, no suspension, the rest of its
/// batch does not wait) and removes it with `remove` when it ends. Lookups per datagram do not come here at
/// all: each loop keeps its own table of its sessions. The actor serialises what is policy: new limits,
/// expiry, closing every session when the listener's run ends, and the reads for operators.
public actor SessionStore<Session: StoredSession> {
    /// The open sessions and their counts; `admit` and `remove` take the lock from the event loops.
    private nonisolated let table: SanitizerVisibleMutex<SessionTable<Session>>
    /// A session idle this long is closed.
    public private(set) var idleTimeout: Duration

    public init(limit: Int, idleTimeout: Duration) {
        self.table = SanitizerVisibleMutex(SessionTable(limit: limit))
        self.idleTimeout = idleTimeout
    }

    /// New limits (config reload): open sessions beyond a lower `limit` stay until they end; the new idle
    /// timeout applies to every session from the next expiry check.
    func update(limit: Int, idleTimeout: Duration) {
        table.withLock { $0.setLimit(limit) }
        self.idleTimeout = idleTimeout
    }

    /// Registers a new session, or refuses it (counted) when `limit` are open. Synchronous, for the
    /// datagram path.
    nonisolated func admit(_ session: Session) -> Bool {
        table.withLock { $0.admit(session) }
    }

    /// Whether a new session would be admitted now (fewer than `limit` are open). Synchronous, for the
    /// datagram path; a session admitted meanwhile by another loop can still make `admit` refuse.
    nonisolated var hasRoom: Bool {
        table.withLock { $0.count < $0.limit }
    }

    /// Forgets a session that closed for another reason than idleness. Synchronous, for the datagram path.
    nonisolated func remove(_ session: Session) {
        table.withLock { _ = $0.remove(session) }
    }

    /// Closes and forgets the sessions idle for `idleFor` (by default `idleTimeout`; 0 closes every session).
    @discardableResult
    func expire(now: UInt64, idleFor: Duration? = nil) -> [Session] {
        let limit = (idleFor ?? idleTimeout).nanosecondsClamped
        let idle = table.withLock { $0.expire(now: now, idleFor: limit) { $0.lastActivityTime } }
        for session in idle { session.close(Session.idleEnd) }
        return idle
    }

    /// Closes and forgets every session, for `reason`: the listener's run ended (shutdown or failure), so
    /// the sessions it relayed are gone, and a restarted run admits their clients afresh.
    @discardableResult
    func closeAll(_ reason: Session.End) -> [Session] {
        let sessions = table.withLock { $0.removeAll() }
        for session in sessions { session.close(reason) }
        return sessions
    }

    /// Most sessions open at once.
    public var limit: Int { table.withLock { $0.limit } }

    /// Sessions open now.
    public var count: Int { table.withLock { $0.count } }

    /// Sessions admitted since the listener was made.
    public var admitted: Int { table.withLock { $0.admitted } }

    /// Sessions refused because `limit` were open.
    public var refused: Int { table.withLock { $0.refused } }

    /// Sessions closed for idleness.
    public var expired: Int { table.withLock { $0.expired } }

    /// The open sessions (for the admin API and tests).
    public var open: [Session] { table.withLock { $0.all } }
}
