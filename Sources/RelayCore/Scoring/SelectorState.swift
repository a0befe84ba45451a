/// Which servers of a group get new connections: the active set, and the rules that change it.
///
/// A pure state machine; the clock is injected as `now` on every event, so it is tested synchronously. The
/// `Selector` actor wraps it and publishes each new set.
///
/// **Ranking.** Servers are ranked by score, highest first, ties broken by id so equal scores never
/// reshuffle the set. Unhealthy servers and servers scoring below `minScore` are not eligible. The
/// proposal is the top `activeSetSize` eligible servers.
///
/// **Switching.** A proposal with the same members as the current set is no change (a different order
/// alone is not worth a new generation: balancers would rebuild their state for nothing, so the published
/// order is the ranking at the last switch). Otherwise the switch happens when the debounce has elapsed
/// since the last switch, or inside it when the proposal's average score beats the current members'
/// average (their scores now, not when they were picked) by at least `improvementThreshold`.
///
/// **Exceptions to the debounce.**
/// - Debounce never keeps a dead server: a current member that is unhealthy or no longer a candidate is
///   removed at once, and its slot filled by the best eligible server not in the set. The other members
///   stay (minimal change: a forced eviction is no reason to reshuffle healthy members early).
/// - An empty set is filled at once; the first evaluation always switches when anything is eligible.
/// - A set smaller than `activeSetSize` (too few servers were eligible when it was chosen) takes newly
///   eligible servers into its free slots at once, keeping its members; replacing members still waits.
/// Every switch, forced or not, restarts the debounce and increments the generation.
///
/// **Nothing eligible.** The healthy current members are kept (below `minScore` is bad, not dead); when
/// none is healthy the set becomes empty, and the caller falls back to trying every server of the group,
/// so traffic still flows while scores recover or before the first probe round.
public struct SelectorState: Sendable {
    /// The outcome of one evaluation or eviction, with a reason for the log line.
    public enum Decision: Sendable, Equatable {
        /// The active set stays as it is.
        case keep(reason: String)
        /// The active set changed from `old` to `new` (best first).
        case switched(old: [ServerHandle], new: [ServerHandle], reason: String)

        /// The reason, whichever the case.
        public var reason: String {
            switch self {
            case .keep(let reason), .switched(_, _, let reason): reason
            }
        }

        /// Whether the active set changed.
        public var didSwitch: Bool {
            if case .switched = self { return true }
            return false
        }
    }

    /// One server as the Selector sees it: its score now and whether it is up.
    public typealias Candidate = (ServerHandle, score: Double, healthy: Bool)

    /// The rules: set size, minimum score, debounce, improvement threshold.
    public let parameters: SelectorParameters
    /// The active set, best first as ranked at the last switch.
    public private(set) var current: [ServerHandle] = []
    /// When the set last changed; nil before the first switch. The debounce counts from here.
    public private(set) var lastSwitch: ContinuousClock.Instant?
    /// Incremented on every switch, so balancers can tell sets apart; 0 before the first.
    public private(set) var generation: UInt64 = 0
    /// Switches so far, for metrics and tests.
    public private(set) var switchCount = 0

    public init(parameters: SelectorParameters = SelectorParameters()) {
        self.parameters = parameters
    }

    /// Continues `previous` under new rules (config reload): members of its set that are in `servers` stay
    /// in the set and the debounce keeps counting from the last switch, so a reload that changes nothing
    /// about a server never moves traffic off it. Dropping members counts as a switch.
    public init(parameters: SelectorParameters, continuing previous: SelectorState, servers: Set<ServerHandle>) {
        self.parameters = parameters
        current = Array(previous.current.filter { servers.contains($0) }.prefix(max(0, parameters.activeSetSize)))
        lastSwitch = previous.lastSwitch
        generation = previous.generation
        switchCount = previous.switchCount
        if current.count != previous.current.count {
            generation += 1
            switchCount += 1
        }
    }

    /// Re-ranks `candidates` and decides whether the active set changes. `downReasons` explains, for the
    /// log line, why an unhealthy member is down (`3 consecutive failures`).
    @discardableResult
    public mutating func evaluate(candidates: [Candidate], now: ContinuousClock.Instant,
                                  downReasons: [ServerHandle: String] = [:]) -> Decision {
        let table = Table(candidates, minScore: parameters.minScore)
        let ranked = table.ranked
        let proposal = Array(ranked.prefix(max(0, parameters.activeSetSize)))

        if current.isEmpty {
            guard !proposal.isEmpty else { return .keep(reason: "no eligible server") }
            return commit(proposal, now: now, reason: lastSwitch == nil ? "initial" : "active set was empty")
        }

        let dead = current.filter { !table.isHealthy($0) }
        if !dead.isEmpty {
            let reasons = dead.map { server in
                "evicted \(server.id) (\(downReasons[server] ?? (table.contains(server) ? "unhealthy" : "removed")))"
            }
            return replace(dead, table: table, now: now, reason: reasons.joined(separator: ", "))
        }

        if proposal.isEmpty {
            return .keep(reason: "no eligible server, keeping \(current.count) healthy member(s)")
        }
        if Set(proposal) == Set(current) { return .keep(reason: "unchanged") }

        if let lastSwitch, now - lastSwitch >= parameters.debounce {
            return commit(proposal, now: now, reason: "debounce elapsed")
        }
        let improvement = Self.average(proposal, table) - Self.average(current, table)
        let threshold = parameters.improvementThreshold
        if improvement >= threshold {
            return commit(proposal, now: now, reason: "improvement \(improvement.scoreText) ≥ \(threshold.scoreText)")
        }

        let freeSlots = parameters.activeSetSize - current.count
        if freeSlots > 0, current.allSatisfy(table.isEligible) {
            let additions = ranked.filter { !current.contains($0) }.prefix(freeSlots)
            if !additions.isEmpty {
                let filled = table.sorted(current + additions)
                return commit(filled, now: now, reason: "filled \(additions.count) free slot(s)")
            }
        }
        return .keep(reason: "debounced: improvement \(improvement.scoreText) < \(threshold.scoreText)")
    }

    /// Removes a server that just failed hard, at once and whatever the debounce, and fills its slot with
    /// the best eligible server not in the set. `server` counts as down even if `candidates` still says
    /// otherwise (its scores may predate the failure). `cause` goes into the reason.
    @discardableResult
    public mutating func evict(_ server: ServerHandle, now: ContinuousClock.Instant, candidates: [Candidate],
                               cause: String? = nil) -> Decision {
        guard current.contains(server) else { return .keep(reason: "\(server.id) is not in the active set") }
        var table = Table(candidates, minScore: parameters.minScore)
        table.markDown(server)
        return replace([server], table: table, now: now, reason: "evicted \(server.id) (\(cause ?? "hard failure"))")
    }

    // MARK: - Helpers

    /// Drops `dead` members, keeps the other eligible members, fills the freed slots with the best eligible
    /// servers; when nothing is eligible at all, keeps the healthy members instead.
    private mutating func replace(_ dead: [ServerHandle], table: Table, now: ContinuousClock.Instant,
                                  reason: String) -> Decision {
        let survivors = current.filter { !dead.contains($0) && table.isEligible($0) }
        let fill = table.ranked.filter { !survivors.contains($0) }
            .prefix(max(0, parameters.activeSetSize - survivors.count))
        var next = table.sorted(survivors + fill)
        if next.isEmpty {
            next = current.filter { !dead.contains($0) && table.isHealthy($0) }
        }
        return commit(next, now: now, reason: reason)
    }

    private mutating func commit(_ next: [ServerHandle], now: ContinuousClock.Instant, reason: String) -> Decision {
        let old = current
        current = next
        lastSwitch = now
        generation += 1
        switchCount += 1
        return .switched(old: old, new: next, reason: reason)
    }

    private static func average(_ servers: [ServerHandle], _ table: Table) -> Double {
        guard !servers.isEmpty else { return 0 }
        return servers.reduce(0) { $0 + table.score($1) } / Double(servers.count)
    }

    /// The candidates of one evaluation, indexed by server.
    private struct Table {
        private var entries: [ServerHandle: (score: Double, healthy: Bool)] = [:]
        private let minScore: Double
        /// Eligible servers, best first, ties by id.
        private(set) var ranked: [ServerHandle] = []

        init(_ candidates: [Candidate], minScore: Double) {
            self.minScore = minScore
            for (server, score, healthy) in candidates where entries[server] == nil {
                entries[server] = (score, healthy)
            }
            ranked = sorted(entries.keys.filter { isEligible($0) })
        }

        func contains(_ server: ServerHandle) -> Bool { entries[server] != nil }

        /// A candidate that is up; a server missing from the candidates is dead.
        func isHealthy(_ server: ServerHandle) -> Bool { entries[server]?.healthy ?? false }

        func isEligible(_ server: ServerHandle) -> Bool {
            guard let entry = entries[server] else { return false }
            return entry.healthy && entry.score >= minScore
        }

        func score(_ server: ServerHandle) -> Double { entries[server]?.score ?? 0 }

        /// `servers` by score, highest first, ties by id.
        func sorted(_ servers: [ServerHandle]) -> [ServerHandle] {
            servers.sorted { lhs, rhs in
                let left = score(lhs), right = score(rhs)
                return left != right ? left > right : lhs.id < rhs.id
            }
        }

        mutating func markDown(_ server: ServerHandle) {
            entries[server]?.healthy = false
            ranked.removeAll { $0 == server }
        }
    }
}
