import RelayIO
import Synchronization

/// Counts a listener's connections, enforces its limits, and drains them on shutdown.
///
/// Admission happens right after `accept`, before any registration or task exists, so a refused
/// connection costs one accept and one close. The tracker outlives restarts of the listener's accept
/// loop: established connections never depend on the loop that accepted them.
public final class ConnectionTracker: Sendable {
    private let state: SanitizerVisibleMutex<State>
    /// Connections refused because `maxConnections` was reached.
    public let refusedOverLimit = Atomic<Int>(0)
    /// Connections refused because their IP had `maxPerIP` open.
    public let refusedPerIP = Atomic<Int>(0)
    /// Connections admitted since start.
    public let accepted = Atomic<Int>(0)

    private struct State {
        /// Most connections open at once (0 = no limit).
        var maxConnections: Int
        /// Most connections open at once from one client IP (0 = no limit).
        var maxPerIP: Int
        var active = 0
        var perIP: [IPKey: Int] = [:]
        /// Connections whose per-IP slot was taken after admission (`claimPerIP`), by ticket.
        var claimed: [UInt64: IPKey] = [:]
        var tasks: [UInt64: Task<Void, Never>] = [:]
        /// Open connections under a timeout, by ticket.
        var watched: [UInt64: ConnectionActivity] = [:]
        /// When each of them needs its next timeout look.
        var schedule = TimeoutSchedule()
        var finishedEarly: Set<UInt64> = []
        var nextID: UInt64 = 1
        var idleWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    /// Why a connection was refused.
    public enum Refusal: String, Error, Sendable, Equatable, CustomStringConvertible {
        case overLimit = "max_connections"
        case perIPLimit = "max_connections_per_ip"

        public var description: String { rawValue }
    }

    /// A slot held by one admitted connection until `finish(_:)`.
    public struct Ticket: Sendable {
        let id: UInt64
        let ip: IPKey?
    }

    public init(maxConnections: Int, maxPerIP: Int) {
        state = SanitizerVisibleMutex(State(maxConnections: maxConnections, maxPerIP: maxPerIP))
    }

    /// New limits (config reload). Connections already admitted stay; the limits apply to the next ones.
    /// Connections admitted while the per-IP limit was off are not counted against their IP later.
    public func updateLimits(maxConnections: Int, maxPerIP: Int) {
        state.withLock { state in
            state.maxConnections = maxConnections
            state.maxPerIP = maxPerIP
        }
    }

    /// Admits a connection from `peer`, or says why not. `countingIP: false` leaves the per-IP limit to
    /// `claimPerIP`, once the client's real address is known (a PROXY header from a trusted proxy).
    public func admit(_ peer: SocketAddress, countingIP: Bool = true) -> Result<Ticket, Refusal> {
        let result = state.withLock { state -> Result<Ticket, Refusal> in
            if state.maxConnections > 0, state.active >= state.maxConnections { return .failure(.overLimit) }
            let ip = state.maxPerIP > 0 && countingIP ? peer.ipKey : nil
            if let ip {
                let count = state.perIP[ip, default: 0]
                if count >= state.maxPerIP { return .failure(.perIPLimit) }
                state.perIP[ip] = count + 1
            }
            state.active += 1
            defer { state.nextID += 1 }
            return .success(Ticket(id: state.nextID, ip: ip))
        }
        switch result {
        case .success: accepted.add(1, ordering: .relaxed)
        case .failure(.overLimit): refusedOverLimit.add(1, ordering: .relaxed)
        case .failure(.perIPLimit): refusedPerIP.add(1, ordering: .relaxed)
        }
        return result
    }

    /// Counts the admitted connection of `ticket` (admitted with `countingIP: false`) against `ip`'s
    /// `max_connections_per_ip`; false, and the refusal counted, when `ip` has that many open already.
    public func claimPerIP(_ ticket: Ticket, ip: IPKey) -> Bool {
        let claimed = state.withLock { state -> Bool in
            guard state.maxPerIP > 0, ticket.ip == nil, state.claimed[ticket.id] == nil else { return true }
            let count = state.perIP[ip, default: 0]
            if count >= state.maxPerIP { return false }
            state.perIP[ip] = count + 1
            state.claimed[ticket.id] = ip
            return true
        }
        if !claimed { refusedPerIP.add(1, ordering: .relaxed) }
        return claimed
    }

    /// Remembers the task serving `ticket`, so a drain that runs out of time can cancel it, and the
    /// connection's activity, so `sweepTimeouts` can close it when one of its timeouts passes.
    public func attach(_ task: Task<Void, Never>, activity: ConnectionActivity? = nil, to ticket: Ticket) {
        state.withLock { state in
            guard state.finishedEarly.remove(ticket.id) == nil else { return }
            state.tasks[ticket.id] = task
            if let activity, let first = activity.timeouts.firstCheck(accepted: activity.accepted) {
                state.watched[ticket.id] = activity
                activity.nextCheck.store(first, ordering: .relaxed)
                state.schedule.schedule(ticket.id, at: first)
            }
        }
    }

    /// One pass of the timeout sweep: looks at the connections due at `now` (only those) and closes every one
    /// whose idle or first-byte timeout has passed (see `ConnectionTimeouts.check`). Returns how many it closed.
    @discardableResult
    public func sweepTimeouts(now: UInt64) -> Int {
        let expired = state.withLock { state -> [(ConnectionActivity, ConnectionEnd)] in
            var expired: [(ConnectionActivity, ConnectionEnd)] = []
            for id in state.schedule.popDue(now: now) {
                // Connections that finished since they were scheduled are simply gone.
                guard let activity = state.watched[id] else { continue }
                switch activity.look(now: now) {
                case let .expire(reason):
                    expired.append((activity, reason))
                    state.watched[id] = nil
                case let .checkAgain(at: next):
                    activity.nextCheck.store(next, ordering: .relaxed)
                    state.schedule.schedule(id, at: next)
                case .done:
                    state.watched[id] = nil
                }
            }
            // Entries of finished connections stay until due; rebuild once they outnumber the live ones.
            if state.schedule.count > 2 * state.watched.count + 1024 {
                state.schedule.compact(state.watched.map { ($0.key, $0.value.nextCheck.load(ordering: .relaxed)) })
            }
            return expired
        }
        for (activity, reason) in expired { activity.expire(reason) }
        return expired.count
    }

    /// Entries in the timeout schedule (live and finished connections), for tests.
    var scheduledTimeoutChecks: Int { state.withLock { $0.schedule.count } }

    /// Releases the slot of a finished connection.
    public func finish(_ ticket: Ticket) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.active -= 1
            if state.tasks.removeValue(forKey: ticket.id) == nil { state.finishedEarly.insert(ticket.id) }
            state.watched[ticket.id] = nil
            if let ip = state.claimed.removeValue(forKey: ticket.id) ?? ticket.ip {
                let left = state.perIP[ip, default: 1] - 1
                state.perIP[ip] = left > 0 ? left : nil
            }
            guard state.active == 0, !state.idleWaiters.isEmpty else { return [] }
            defer { state.idleWaiters.removeAll() }
            return Array(state.idleWaiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Connections open now.
    public var active: Int { state.withLock { $0.active } }

    /// Waits until no connection is open, or `timeout` passes; returns true when idle.
    public func waitUntilIdle(timeout: Duration) async -> Bool {
        let id = state.withLock { state -> UInt64 in
            defer { state.nextID += 1 }
            return state.nextID
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let idle = self.state.withLock { state -> Bool in
                        if state.active == 0 { return true }
                        state.idleWaiters[id] = continuation
                        return false
                    }
                    if idle { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            if !first {
                // Timed out: release our idle waiter so the first task ends.
                let waiter = self.state.withLock { $0.idleWaiters.removeValue(forKey: id) }
                waiter?.resume()
            }
            group.cancelAll()
            return first
        }
    }

    /// Cancels every open connection's task (their sockets wake with `CancellationError` and close).
    public func cancelAll() {
        let tasks = state.withLock { Array($0.tasks.values) }
        for task in tasks { task.cancel() }
    }
}
