import RelayIO

/// Owns the open flows of one UDP listener: admission against `max_flows`, idle expiry, and the counts
/// the metrics and the admin API read.
///
/// The flows live in a `SessionTable` behind a lock, so the datagram path never awaits this actor: a
/// receive loop admits a new flow with `admit` (one uncontended lock, no suspension, the rest of its
/// batch does not wait) and its reply task removes it with `remove`. Lookups per datagram do not come
/// here at all: each loop keeps its own table of its flows. The actor serialises what is policy: new
/// limits, expiry, closing every flow when the listener's run ends, and the reads for operators.
public actor SessionStore {
    /// The open flows and their counts; `admit` and `remove` take the lock from the event loops.
    private nonisolated let table: SanitizerVisibleMutex<SessionTable<UDPFlow>>
    /// A flow idle this long is closed.
    public private(set) var idleTimeout: Duration

    public init(maxFlows: Int, idleTimeout: Duration) {
        self.table = SanitizerVisibleMutex(SessionTable(limit: maxFlows))
        self.idleTimeout = idleTimeout
    }

    /// New limits (config reload): open flows beyond a lower `maxFlows` stay until they end; the new idle
    /// timeout applies to every flow from the next expiry check.
    func update(maxFlows: Int, idleTimeout: Duration) {
        table.withLock { $0.setLimit(maxFlows) }
        self.idleTimeout = idleTimeout
    }

    /// Registers a new flow, or refuses it (counted) when `maxFlows` are open. Synchronous, for the
    /// datagram path.
    nonisolated func admit(_ flow: UDPFlow) -> Bool {
        table.withLock { $0.admit(flow) }
    }

    /// Forgets a flow that closed for another reason than idleness. Synchronous, for the datagram path.
    nonisolated func remove(_ flow: UDPFlow) {
        table.withLock { _ = $0.remove(flow) }
    }

    /// Closes and forgets the flows idle for `idleFor` (by default `idleTimeout`; 0 closes every flow).
    @discardableResult
    func expire(now: UInt64, idleFor: Duration? = nil) -> [UDPFlow] {
        let limit = (idleFor ?? idleTimeout).nanosecondsClamped
        let idle = table.withLock { $0.expire(now: now, idleFor: limit) { $0.lastActivity.load(ordering: .relaxed) } }
        for flow in idle { flow.close(.idle) }
        return idle
    }

    /// Closes and forgets every flow, for `reason`: the listener's run ended (shutdown or failure), so
    /// the flows it relayed are gone, and a restarted run admits their clients afresh.
    @discardableResult
    func closeAll(_ reason: UDPFlow.End) -> [UDPFlow] {
        let flows = table.withLock { $0.removeAll() }
        for flow in flows { flow.close(reason) }
        return flows
    }

    /// Most flows open at once.
    public var maxFlows: Int { table.withLock { $0.limit } }

    /// Flows open now.
    public var count: Int { table.withLock { $0.count } }

    /// Flows admitted since the listener was made.
    public var admitted: Int { table.withLock { $0.admitted } }

    /// Flows refused because `maxFlows` were open.
    public var refused: Int { table.withLock { $0.refused } }

    /// Flows closed for idleness.
    public var expired: Int { table.withLock { $0.expired } }

    /// The open flows (for the admin API and tests).
    public var open: [UDPFlow] { table.withLock { $0.all } }
}
