import RelayProtocol
import Synchronization

/// The measurements and scores of one backend group's servers.
///
/// A thin actor around one `ServerScoreState` per server, where all the scoring logic lives. The prober
/// asks `probeOrder(limit:)` whom to probe and reports with `recordProbe`; the forwarding path reports what
/// real traffic saw with `recordPassive`; the Selector reads `breakdowns()`. After every update the server's
/// `latencyEstimateNanos` is stored (relaxed) for load-aware balancers, and a server that just went down is
/// sent on `hardFailures` so the Selector can evict it without waiting for its next evaluation.
///
/// Reports about servers that are not registered (removed while a probe was in flight) are ignored.
public actor Scoreboard {
    /// One server's state and when it was last probed.
    private struct Entry {
        /// Everything measured about the server.
        var state = ServerScoreState()
        /// Sequence number of the server's last probe result (nil: never probed), for `probeOrder`. A
        /// counter rather than a time: only the order matters, and it needs no clock.
        var lastProbe: UInt64?
        /// Probe results recorded for the server, published to a cluster's followers.
        var probes: UInt64 = 0
    }

    /// How scores are computed.
    public let scoring: ScoringParameters
    /// Health thresholds (`rise`, `fall`).
    public let probe: ProbeParameters
    /// Servers that just went down: `fall` probe failures in a row, or a traffic connect that was refused
    /// or timed out. Only transitions are sent, not every failure of a server already down. Buffers the
    /// newest 1,024; a lost event only delays the eviction to the Selector's next evaluation.
    public nonisolated let hardFailures: AsyncStream<ServerHandle>
    /// The sending side of `hardFailures` (or of the latest `subscribeToHardFailures()` stream), finished when
    /// the Scoreboard goes away.
    private var hardFailureSink: AsyncStream<ServerHandle>.Continuation
    /// Logs health transitions.
    private let logger: Logger
    /// Registered servers in registration order, so listings are stable.
    private var servers: [ServerHandle]
    /// State of every registered server.
    private var entries: [ServerHandle: Entry]
    /// Last probe sequence number handed out.
    private var probeSequence: UInt64 = 0

    /// `carrying` gives servers what an earlier Scoreboard measured about them (config reload), so a server
    /// that stays in the group keeps its score; the others start unknown.
    public init(servers: [ServerHandle] = [], scoring: ScoringParameters = ScoringParameters(),
                probe: ProbeParameters = ProbeParameters(), carrying: [ServerHandle: ServerScoreState] = [:],
                logger: Logger = .disabled) {
        var order: [ServerHandle] = []
        var fresh: [ServerHandle: Entry] = [:]
        for server in servers where fresh[server] == nil {
            order.append(server)
            if let state = carrying[server] {
                fresh[server] = Entry(state: state, lastProbe: nil)
                server.latencyEstimateNanos.store(state.latencyEstimateNanos, ordering: .relaxed)
            } else {
                fresh[server] = Entry()
                server.latencyEstimateNanos.store(0, ordering: .relaxed)
            }
        }
        self.servers = order
        self.entries = fresh
        self.scoring = scoring
        self.probe = probe
        self.logger = logger
        let (stream, continuation) = AsyncStream.makeStream(of: ServerHandle.self,
                                                            bufferingPolicy: .bufferingNewest(1024))
        hardFailures = stream
        hardFailureSink = continuation
    }

    deinit {
        hardFailureSink.finish()
    }

    /// A fresh stream of hard failures that replaces `hardFailures` (and any earlier subscription) as the
    /// one the Scoreboard reports to. A consumer that is cancelled finishes its stream for good, so a
    /// consumer that may be restarted (a supervised service) subscribes anew on each run.
    public func subscribeToHardFailures() -> AsyncStream<ServerHandle> {
        let (stream, continuation) = AsyncStream.makeStream(of: ServerHandle.self, bufferingPolicy: .bufferingNewest(1024))
        hardFailureSink.finish()
        hardFailureSink = continuation
        return stream
    }

    /// The registered servers, in registration order.
    public var registered: [ServerHandle] { servers }

    /// Replaces the set of servers (config reload, DNS refresh): new servers start unknown, servers that
    /// stay keep everything measured about them, removed servers are dropped. Duplicates count once.
    public func register(_ newServers: [ServerHandle]) {
        var order: [ServerHandle] = []
        var kept: [ServerHandle: Entry] = [:]
        for server in newServers where kept[server] == nil {
            order.append(server)
            if let entry = entries[server] {
                kept[server] = entry
            } else {
                kept[server] = Entry()
                server.latencyEstimateNanos.store(0, ordering: .relaxed)
            }
        }
        for server in servers where kept[server] == nil {
            logger.debug("server unregistered", ["server": server.id])
        }
        servers = order
        entries = kept
    }

    /// One probe result; `latency` counts only for a success, `error` says what failed.
    public func recordProbe(_ server: ServerHandle, success: Bool, latency: Duration?, error: String?) {
        guard entries[server] != nil else { return }
        probeSequence += 1
        entries[server]!.lastProbe = probeSequence
        entries[server]!.probes += 1
        let transition = entries[server]!.state.recordProbe(success: success, latency: latency, error: error,
                                                            scoring: scoring, probe: probe)
        updated(server, transition)
    }

    /// What real traffic observed about `server`.
    /// Records a batch of real-traffic samples, in order, in one visit to the actor.
    public func recordPassive(_ samples: [(ServerHandle, PassiveSample)]) {
        for (server, sample) in samples { recordPassive(server, sample) }
    }

    /// Records the soft samples summed for each server since the last batch.
    public func recordPassive(_ batch: [(ServerHandle, PassiveTally.Sums)]) {
        for (server, sums) in batch {
            guard let index = entries.index(forKey: server) else { continue }
            entries.values[index].state.recordPassive(sums, scoring: scoring)
            server.latencyEstimateNanos.store(entries.values[index].state.latencyEstimateNanos, ordering: .relaxed)
        }
    }

    public func recordPassive(_ server: ServerHandle, _ sample: PassiveSample) {
        let scoring = scoring
        // Changed in place through one lookup: a copy of the entry taken out and stored back would cost a copy of
        // its state per sample, and the successful answers of an http listener come once per request.
        func record(_ state: inout ServerScoreState) -> ServerScoreState.HealthTransition {
            switch sample {
            case .connected(let connectTime):
                state.recordPassiveConnected(connectTime, scoring: scoring)
            case .firstByte(let timeToFirstByte):
                state.recordPassiveFirstByte(timeToFirstByte, scoring: scoring)
            case .connectFailed(let error):
                return state.recordPassiveRefused(error: error, scoring: scoring)
            case .answered(let success, let firstByte):
                state.recordPassiveAnswer(success: success, scoring: scoring)
                if let firstByte { state.recordPassiveFirstByte(firstByte, scoring: scoring) }
            }
            return .unchanged
        }
        guard let index = entries.index(forKey: server) else { return }
        let transition = record(&entries.values[index].state)
        guard transition == .unchanged else { return updated(server, transition) }
        server.latencyEstimateNanos.store(entries.values[index].state.latencyEstimateNanos, ordering: .relaxed)
    }

    /// Every registered server's score, in registration order.
    public func breakdowns() -> [(ServerHandle, ScoreBreakdown)] {
        servers.compactMap { server in entries[server].map { (server, $0.state.breakdown(scoring)) } }
    }

    /// One server's score; nil if it is not registered.
    public func breakdown(of server: ServerHandle) -> ScoreBreakdown? {
        entries[server]?.state.breakdown(scoring)
    }

    /// Every registered server's full state, for a successor Scoreboard to carry.
    public var states: [ServerHandle: ServerScoreState] { entries.mapValues(\.state) }

    /// One server's full state; nil if it is not registered.
    public func state(of server: ServerHandle) -> ServerScoreState? {
        entries[server]?.state
    }

    /// Up to `limit` servers to probe next: never-probed first (in registration order), then the least
    /// recently probed. Ordered by probe *results* received, so a server whose probe is still in flight is
    /// offered again until its result arrives.
    public func probeOrder(limit: Int) -> [ServerHandle] {
        let ranked = servers.enumerated().sorted { lhs, rhs in
            switch (entries[lhs.element]?.lastProbe, entries[rhs.element]?.lastProbe) {
            case let (left?, right?): left < right
            case (nil, .some): true
            case (.some, nil): false
            case (nil, nil): lhs.offset < rhs.offset
            }
        }
        return ranked.prefix(max(0, limit)).map(\.element)
    }

    /// Every registered server's score and probe-derived state, as a cluster leader publishes them.
    public func published() -> ClusterGroupScores {
        ClusterGroupScores(group: servers.first?.group ?? "", servers: servers.compactMap { server in
            guard let entry = entries[server] else { return nil }
            let state = entry.state
            let parts = state.breakdown(scoring)
            return ClusterServerScore(
                address: server.address.description, healthy: parts.healthy, measured: parts.measured,
                total: parts.total, latency: parts.latency, jitter: parts.jitter, success: parts.success,
                penalty: parts.penalty, bonus: parts.bonus, latencyMs: state.probeLatencyMs,
                jitterMs: state.probeJitterMs, successRate: state.successRate,
                consecutiveFailures: state.consecutiveFailures, consecutiveSuccesses: state.consecutiveSuccesses,
                probes: entry.probes, downReason: state.downReason, lastError: state.lastError)
        })
    }

    /// Adopts a cluster leader's publication for this group: each server it names by address takes the leader's
    /// probe-derived state (`ServerScoreState.adopt`); servers it does not name keep theirs. Returns how many
    /// servers were updated.
    @discardableResult
    public func adopt(_ published: ClusterGroupScores) -> Int {
        var byAddress: [String: ServerHandle] = [:]
        for server in servers { byAddress[server.address.description] = server }
        var count = 0
        for score in published.servers {
            guard let server = byAddress[score.address], entries[server] != nil else { continue }
            let transition = entries[server]!.state.adopt(score, probe: probe)
            updated(server, transition)
            count += 1
        }
        return count
    }

    /// Publishes the latency estimate and reports a health change.
    private func updated(_ server: ServerHandle, _ transition: ServerScoreState.HealthTransition) {
        guard let state = entries[server]?.state else { return }
        server.latencyEstimateNanos.store(state.latencyEstimateNanos, ordering: .relaxed)
        switch transition {
        case .unchanged:
            break
        case .wentDown:
            logger.warn("server down", ["server": server.id, "reason": state.downReason ?? "unknown",
                                        "error": state.lastError ?? "none"])
            hardFailureSink.yield(server)
        case .cameUp:
            logger.info("server up", ["server": server.id, "successes": state.consecutiveSuccesses])
        }
    }
}
