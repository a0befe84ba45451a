import RelayProtocol

/// Membership, leadership and term of one node's cluster, as a pure state machine: events in (heartbeats,
/// etcd observations, election results, the passing of time), decisions out (`ClusterEvent`s and a
/// `ClusterSnapshot`). The clock is injected as `now` on every call, so every rule is tested synchronously.
///
/// **Static mode** (the seed's rule): the leader is the smallest id among this node and the peers heard from
/// within `deadAfter`. A node spends its first `deadAfter` *joining* — sending heartbeats, learning who is alive
/// and the highest term — and only then may be elected, so a node that restarts does not take over with a term
/// the others have already passed. A node that becomes leader takes the highest term it knows plus one; a
/// leader that sees another node claim the lead with a term as high as its own raises its term past it, so the
/// followers' "ignore older terms" rule always lets the current leader through. A follower follows the elected
/// node once that node's heartbeat claims the lead.
///
/// **etcd mode**: etcd elects (a transaction on the leader key, reported with `etcdWon`); the term is the leader
/// key's create revision. A leader steps down at once when its lease is lost or a keepalive fails (`etcdLost`),
/// when `leaseValidUntil` passes without a renewal (`tick`), or when etcd shows someone else holding the key.
///
/// **Fail open**: when no leader has been known for longer than `deadAfter` (static) or the TTL (etcd), every
/// node probes for itself again; it never stops probing with nobody else doing it.
///
/// **Fencing**: a follower adopts a publication only from the leader it knows and only if its term is not older
/// than any term it has seen (`acceptsPublication`).
public struct ClusterState: Sendable {
    /// Another node, as this one knows it.
    struct Peer: Sendable {
        /// Its heartbeat address (static, from the config) or registered address (etcd).
        var address: String?
        /// When it was last heard from (static) or seen registered in etcd.
        var lastSeen: ContinuousClock.Instant?
        /// Static: the highest heartbeat stamp accepted from it (replays carry lower ones).
        var stamp: UInt64 = 0
        /// Static: its last heartbeat claimed the lead. etcd: it holds the leader key.
        var claimsLeadership = false
        /// Static: past its joining period.
        var ready = false
        /// The term it announced.
        var term: UInt64 = 0
        /// etcd: listed in the last observation of etcd.
        var registered = false
        /// Alive at the last evaluation, to report changes once.
        var wasAlive = false
    }

    /// This node's id.
    public let nodeID: String
    /// Static or etcd.
    public let mode: ClusterMode
    /// Static: `dead_after`; etcd: the lease TTL. A peer unheard for this long is dead, and a node with no known
    /// leader for this long probes for itself.
    public private(set) var deadAfter: Duration
    /// When this node started: the joining period runs from here.
    let startedAt: ContinuousClock.Instant
    /// The other nodes by id.
    private(set) var peers: [String: Peer]
    /// The highest term this node knows (its own while it leads).
    public private(set) var term: UInt64 = 0
    /// Whether this node leads.
    public private(set) var isLeader = false
    /// The leader this node knows, itself included; nil when none.
    public private(set) var leader: String?
    /// Since when no leader has been known (nil while one is).
    private var noLeaderSince: ContinuousClock.Instant?
    /// Whether this node probes for itself because no leader has been known for `deadAfter`.
    public private(set) var failingOpen = false
    /// Leadership changes seen (a new leader became known).
    public private(set) var leaderChanges = 0
    /// The term of the last publication adopted.
    public private(set) var adoptedTerm: UInt64 = 0
    /// etcd: until when this node's lease is surely alive (the moment the last keepalive was *sent*, plus the
    /// TTL etcd granted); a leader steps down when it passes.
    private var leaseValidUntil: ContinuousClock.Instant?
    /// etcd: the leader key's holder at the last observation, and when that was.
    private var observedLeader: String?
    private var lastObservation: ContinuousClock.Instant?

    /// A node that has just started. `peers` (static) are `(node id, address)`; in etcd mode peers are learned
    /// from etcd.
    public init(nodeID: String, mode: ClusterMode, deadAfter: Duration, peers: [(String, String)] = [],
                now: ContinuousClock.Instant) {
        self.nodeID = nodeID
        self.mode = mode
        self.deadAfter = deadAfter
        self.startedAt = now
        // A static node gives the cluster its joining period before it counts the time without a leader: the
        // smallest node may be joining too, and fail-open probes from every node would be for nothing.
        self.noLeaderSince = mode == .static ? now + deadAfter : now
        var known: [String: Peer] = [:]
        for (id, address) in peers where id != nodeID { known[id] = Peer(address: address) }
        self.peers = known
    }

    // MARK: - Configuration (reload)

    /// A new peer list (static reload): peers that stay keep what is known about them.
    public mutating func setPeers(_ list: [(String, String)], now: ContinuousClock.Instant) -> [ClusterEvent] {
        var next: [String: Peer] = [:]
        for (id, address) in list where id != nodeID {
            var peer = peers[id] ?? Peer()
            peer.address = address
            next[id] = peer
        }
        peers = next
        return tick(now: now)
    }

    /// A new `dead_after` or TTL (reload).
    public mutating func setDeadAfter(_ value: Duration, now: ContinuousClock.Instant) -> [ClusterEvent] {
        deadAfter = value
        return tick(now: now)
    }

    // MARK: - Static mode

    /// Whether this node is past its joining period.
    public func isReady(now: ContinuousClock.Instant) -> Bool { now - startedAt >= deadAfter }

    /// What a heartbeat drop means, for counting.
    public enum HeartbeatVerdict: Sendable, Equatable {
        /// Taken into account; `adopt` says its scores are to be adopted (from the leader, term not older).
        case accepted(adopt: Bool)
        /// From a node id that is not a configured peer.
        case unknownNode
        /// From a node using this node's own id: two nodes share an id.
        case ownID
        /// A stamp not above the last one accepted from that node: a replay or a reordered datagram.
        case replayed
    }

    /// A heartbeat whose tag was valid, from `address`.
    public mutating func receive(_ heartbeat: ClusterHeartbeat, from address: String, now: ContinuousClock.Instant)
        -> (HeartbeatVerdict, [ClusterEvent])
    {
        guard heartbeat.nodeID != nodeID else { return (.ownID, []) }
        guard var peer = peers[heartbeat.nodeID] else { return (.unknownNode, []) }
        guard heartbeat.stamp > peer.stamp else { return (.replayed, []) }
        peer.stamp = heartbeat.stamp
        peer.lastSeen = now
        peer.claimsLeadership = heartbeat.claimsLeadership
        peer.ready = heartbeat.ready
        peer.term = heartbeat.term
        peers[heartbeat.nodeID] = peer
        term = max(term, heartbeat.term)
        let events = tick(now: now)
        let adopt = heartbeat.scores != nil && heartbeat.claimsLeadership
            && acceptsPublication(from: heartbeat.nodeID, term: heartbeat.term)
        return (.accepted(adopt: adopt), events)
    }

    /// What this node's next heartbeat says: its term, the leader it knows, whether it claims the lead and
    /// whether it is ready.
    public func heartbeatFields(now: ContinuousClock.Instant) -> (term: UInt64, leader: String?, claims: Bool,
                                                                  ready: Bool) {
        (term, leader, isLeader, isReady(now: now))
    }

    // MARK: - etcd mode

    /// This node won the election in `term` (the leader key's create revision); its lease is alive until
    /// `validUntil`.
    public mutating func etcdWon(term newTerm: UInt64, validUntil: ContinuousClock.Instant,
                                 now: ContinuousClock.Instant) -> [ClusterEvent] {
        leaseValidUntil = validUntil
        guard !isLeader else { return tick(now: now) }
        isLeader = true
        term = max(term, newTerm)
        return [.becameLeader(term: term)] + tick(now: now)
    }

    /// A keepalive sent at some moment was answered: the lease is alive until `validUntil`.
    public mutating func etcdLeaseRenewed(validUntil: ContinuousClock.Instant) {
        leaseValidUntil = validUntil
    }

    /// The lease is lost or its state unknown (a keepalive failed, etcd unreachable): a leader steps down at once.
    public mutating func etcdLost(reason: String, now: ContinuousClock.Instant) -> [ClusterEvent] {
        leaseValidUntil = nil
        var events: [ClusterEvent] = []
        if isLeader {
            isLeader = false
            events.append(.steppedDown(reason: reason))
        }
        return events + tick(now: now)
    }

    /// What a read of etcd showed: the registered members (`(node id, address)`) and the leader key's holder
    /// with its create revision.
    public mutating func etcdObserved(members: [(String, String)], leader holder: (String, UInt64)?,
                                      now: ContinuousClock.Instant) -> [ClusterEvent] {
        lastObservation = now
        var listed: Set<String> = []
        for (id, address) in members where id != nodeID {
            listed.insert(id)
            var peer = peers[id] ?? Peer()
            peer.address = address
            peer.lastSeen = now
            peer.registered = true
            peers[id] = peer
        }
        for id in peers.keys where !listed.contains(id) {
            peers[id]!.registered = false
            peers[id]!.claimsLeadership = false
        }
        var events: [ClusterEvent] = []
        observedLeader = nil
        if let (holder, holderTerm) = holder {
            term = max(term, holderTerm)
            if holder != nodeID {
                observedLeader = holder
                peers[holder]?.claimsLeadership = true
                peers[holder]?.term = holderTerm
                if isLeader {
                    isLeader = false
                    events.append(.steppedDown(reason: "etcd shows node \(holder) holding the leader key"))
                }
            }
        } else if isLeader {
            isLeader = false
            events.append(.steppedDown(reason: "the leader key is gone from etcd (lease expired or deleted)"))
        }
        return events + tick(now: now)
    }

    /// Whether a leader may publish now: it leads and (etcd) its lease is surely alive.
    public func mayPublish(now: ContinuousClock.Instant) -> Bool {
        guard isLeader else { return false }
        if mode == .etcd { return leaseValidUntil.map { now < $0 } ?? false }
        return true
    }

    // MARK: - Publications

    /// Whether a publication from `node` in `term` is to be adopted: this node follows `node` and the term is
    /// not older than any it has seen. Accepting records the term.
    public mutating func acceptsPublication(from node: String, term publicationTerm: UInt64) -> Bool {
        guard !isLeader, !failingOpen, leader == node, publicationTerm >= term, publicationTerm >= adoptedTerm else {
            return false
        }
        adoptedTerm = publicationTerm
        return true
    }

    // MARK: - Time

    /// Re-evaluates liveness and leadership at `now`.
    public mutating func tick(now: ContinuousClock.Instant) -> [ClusterEvent] {
        var events: [ClusterEvent] = []
        for id in peers.keys.sorted() {
            let alive = isAlive(peers[id]!, now: now)
            if alive != peers[id]!.wasAlive {
                peers[id]!.wasAlive = alive
                events.append(alive ? .memberAlive(id) : .memberDead(id))
            }
        }

        var next: String?
        switch mode {
        case .off:
            next = nil
        case .static:
            let ready = isReady(now: now)
            let candidates = (ready ? [nodeID] : [])
                + peers.filter { $0.value.ready && isAlive($0.value, now: now) }.map(\.key)
            let elected = candidates.min()
            if elected == nodeID, !isLeader {
                isLeader = true
                term += 1
                events.append(.becameLeader(term: term))
            } else if elected != nodeID, isLeader {
                isLeader = false
                events.append(.steppedDown(reason: elected.map { "node \($0), whose id is smaller, is alive" }
                                           ?? "this node is not ready"))
            }
            if isLeader {
                // Another node claims the lead with a term as high as ours (it has not seen us yet): go past it,
                // so followers that adopted its term accept ours.
                let rival = peers.values.filter { $0.claimsLeadership && isAlive($0, now: now) }.map(\.term).max()
                if let rival, rival >= term { term = rival + 1 }
                next = nodeID
            } else if let elected, peers[elected]?.claimsLeadership == true {
                next = elected
            }
        case .etcd:
            if isLeader, leaseValidUntil.map({ now >= $0 }) ?? true {
                isLeader = false
                events.append(.steppedDown(reason: "no keepalive was answered within the lease TTL"))
            }
            if isLeader {
                next = nodeID
            } else if let observedLeader, let lastObservation, now - lastObservation < deadAfter {
                next = observedLeader
            }
        }

        if next != leader {
            events.append(.leaderChanged(from: leader, to: next))
            if next != nil { leaderChanges += 1 }
            leader = next
        }
        if leader == nil {
            if noLeaderSince == nil { noLeaderSince = now }
        } else {
            noLeaderSince = nil
        }
        let failOpen = noLeaderSince.map { now - $0 >= deadAfter } ?? false
        if failOpen != failingOpen {
            failingOpen = failOpen
            if failOpen {
                events.append(.failingOpen)
            } else if let leader, leader != nodeID {
                events.append(.following(leader))
            }
        } else if let leader, leader != nodeID, events.contains(where: {
            if case .leaderChanged = $0 { true } else { false }
        }) {
            events.append(.following(leader))
        }
        return events
    }

    private func isAlive(_ peer: Peer, now: ContinuousClock.Instant) -> Bool {
        guard let lastSeen = peer.lastSeen, now - lastSeen < deadAfter else { return false }
        return mode == .etcd ? peer.registered : true
    }

    /// Whether this node runs its own active probes: it leads, or no leader has been known for `deadAfter`.
    public var probesLocally: Bool { mode == .off || isLeader || failingOpen }

    /// The published view at `now`.
    public func snapshot(now: ContinuousClock.Instant) -> ClusterSnapshot {
        var members = [ClusterMember(nodeID: nodeID, address: nil, alive: true, lastSeenMs: 0)]
        for id in peers.keys.sorted() {
            let peer = peers[id]!
            let age = peer.lastSeen.map { now - $0 }
            members.append(ClusterMember(
                nodeID: id, address: peer.address, alive: isAlive(peer, now: now),
                lastSeenMs: age.map { Int(max(0, $0.components.seconds) * 1000 + $0.components.attoseconds / 1_000_000_000_000_000) }))
        }
        return ClusterSnapshot(nodeID: nodeID, mode: mode, leader: leader, isLeader: isLeader, term: term,
                               members: members, probesLocally: probesLocally, leaderChanges: leaderChanges)
    }
}
