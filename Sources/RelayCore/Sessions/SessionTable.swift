/// The open sessions of one listener (its UDP flows or reliable-UDP sessions): admission against a limit,
/// removal, idle expiry, and the counts behind the metrics.
///
/// Pure and clock-free: expiry is given `now` and reads each session's last activity through a closure,
/// so the rules are tested synchronously with made-up times. `SessionStore` keeps one behind a lock, so
/// the datagram path admits a new flow with one uncontended lock instead of an actor hop per datagram.
/// Sessions are kept by identity: a client that comes back after its flow ended is a new session.
public struct SessionTable<Session: AnyObject & Sendable>: Sendable {
    /// Most sessions open at once (`max_flows`, `max_sessions`); `admit` refuses beyond it. Lowering it closes nothing:
    /// sessions already open count until they end.
    public private(set) var limit: Int
    /// The open sessions, by identity.
    private var sessions: [ObjectIdentifier: Session] = [:]
    /// Sessions admitted since the table was made.
    public private(set) var admitted = 0
    /// Sessions refused because `limit` were open.
    public private(set) var refused = 0
    /// Sessions removed by `expire` for idleness (the listener's check or an operator's cleanup).
    public private(set) var expired = 0

    public init(limit: Int) {
        self.limit = limit
    }

    /// Sessions open now.
    public var count: Int { sessions.count }

    /// The open sessions, in no particular order.
    public var all: [Session] { Array(sessions.values) }

    /// Whether `session` is open here.
    public func contains(_ session: Session) -> Bool {
        sessions[ObjectIdentifier(session)] != nil
    }

    /// A new limit (config reload), for sessions admitted from now on.
    public mutating func setLimit(_ limit: Int) {
        self.limit = limit
    }

    /// Opens `session`, or refuses it (counted) when `limit` are open. Admitting an open session again
    /// changes nothing and succeeds.
    public mutating func admit(_ session: Session) -> Bool {
        let id = ObjectIdentifier(session)
        if sessions[id] != nil { return true }
        guard sessions.count < limit else {
            refused += 1
            return false
        }
        sessions[id] = session
        admitted += 1
        return true
    }

    /// Forgets a session that ended for another reason than idleness; false when it was not open.
    @discardableResult
    public mutating func remove(_ session: Session) -> Bool {
        sessions.removeValue(forKey: ObjectIdentifier(session)) != nil
    }

    /// Removes and returns the sessions whose last activity is at least `idleFor` nanoseconds before
    /// `now` (all of them for `idleFor` 0), counting them as expired. The caller closes them.
    public mutating func expire(now: UInt64, idleFor: UInt64, lastActivity: (Session) -> UInt64) -> [Session] {
        // A last activity after `now` (a datagram relayed since `now` was read) is not idle.
        let idle = sessions.values.filter { session in
            let last = lastActivity(session)
            return idleFor == 0 || (last <= now && now - last >= idleFor)
        }
        for session in idle { sessions[ObjectIdentifier(session)] = nil }
        expired += idle.count
        return idle
    }

    /// Removes and returns every session, without counting them as expired: their listener stopped.
    public mutating func removeAll() -> [Session] {
        defer { sessions.removeAll() }
        return Array(sessions.values)
    }
}
