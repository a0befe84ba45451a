import RelayIO
import RelayProtocol

/// Membership, leadership and score sharing for one node: a thin actor over `ClusterState`, run by the
/// supervisor as the `cluster` service.
///
/// **Static mode**: every `heartbeat` it sends each peer an authenticated heartbeat (with every group's scores
/// while it leads) and reads theirs from `cluster.static.listen`. **etcd mode**: every third of the TTL it
/// renews its lease (granting one and registering `PREFIX/members/NODE_ID` under it when it has none), runs
/// for the leader key when nobody holds it, publishes every group's scores under `PREFIX/scores/GROUP` while it
/// leads (a transaction fenced on the leader key's create revision, so a deposed leader's write fails in etcd
/// itself), then reads the whole prefix: members, leader, scores. A failed keepalive makes a leader step down
/// before anything else happens.
///
/// After every event it publishes a `ClusterSnapshot` to `view`, which the probe schedulers read without
/// awaiting: the leader probes, followers adopt its scores into their Scoreboards, and every node probes when
/// no leader has been known for `dead_after`/`ttl`.
public actor ClusterManager: Service {
    public nonisolated let name = "cluster"
    /// What the rest of relayd reads.
    public nonisolated let view: ClusterView
    /// The running settings (peers, endpoints, timings change on reload; node id and mode do not).
    private var config: ClusterConfig
    private var state: ClusterState
    /// Reaches the backend groups (their Scoreboards) of whatever config runs now.
    private let reference: ServerReference
    private let loop: EventLoop
    private let logger: Logger

    // Static mode.
    /// Bound at construction, so a bad `static.listen` fails the start like a listener's address.
    private nonisolated let socket: UDPSocket?
    /// The heartbeat MAC under the shared key.
    private var mac: HMACSHA256
    /// The stamp of the last heartbeat sent: starts at the wall clock in microseconds and rises by one per
    /// heartbeat, so it outgrows any stamp of an earlier run of this node.
    private var stamp: UInt64
    /// Where heartbeats go.
    private var peerAddresses: [(String, SocketAddress)] = []
    /// Warned once that the scores do not fit a heartbeat.
    private var warnedTooLarge = false
    /// Tests only: drop every heartbeat sent and received, as a node cut off from the network (or frozen)
    /// would, without the goodbye a graceful stop sends.
    private var partitioned = false
    /// At most one warning a second about dropped heartbeats.
    private let dropLog = EventThrottle(limit: 1, window: .seconds(1))

    // etcd mode.
    private let client: HTTPClient?
    /// The lease this node's keys are bound to; nil until granted, or after etcd said it expired.
    private var lease: Int64?
    /// Whether the last etcd call succeeded, to log a failure and the recovery once each.
    private var etcdReachable = true

    struct ShutdownRequested: Error {}

    /// A manager for `config` (mode static or etcd); binds the heartbeat socket in static mode.
    init(config: ClusterConfig, reference: ServerReference, loop: EventLoop, view: ClusterView,
         logger: Logger) throws {
        precondition(config.mode != .off, "a cluster manager for a node outside any cluster")
        let nodeID = config.nodeID ?? ""
        self.config = config
        self.reference = reference
        self.loop = loop
        self.view = view
        self.logger = logger.module("cluster").with(["node_id": nodeID])
        self.mac = HMACSHA256(key: config.staticMode.key)
        let (seconds, nanoseconds) = WallClock.now()
        self.stamp = UInt64(max(0, seconds)) * 1_000_000 + UInt64(nanoseconds / 1000)
        let now = ContinuousClock.now
        switch config.mode {
        case .static:
            guard let listen = config.staticMode.listen else {
                throw ListenerError(listener: "cluster", address: "-", reason: "cluster.static.listen is not set")
            }
            let address = try SocketAddress(ip: listen.host, port: listen.port)
            do {
                socket = try UDPSocket.bind(address, on: loop)
            } catch {
                throw ListenerError(listener: "cluster", address: listen.description,
                                    reason: "cannot bind the cluster heartbeat port: \(error); check "
                                        + "`cluster.static.listen` (another process, or another node on this "
                                        + "machine, may hold it)")
            }
            client = nil
            state = ClusterState(nodeID: nodeID, mode: .static, deadAfter: config.staticMode.deadAfter,
                                 peers: config.staticMode.peers.map { ($0.nodeID, $0.address.description) }, now: now)
            peerAddresses = try Self.resolve(config.staticMode.peers)
        case .etcd, .off:
            socket = nil
            client = HTTPClient(endpoints: try config.etcd.endpoints.map { try SocketAddress(ip: $0.host, port: $0.port) },
                                loop: loop)
            state = ClusterState(nodeID: nodeID, mode: .etcd, deadAfter: config.etcd.ttl, now: now)
        }
        view.publish(state.snapshot(now: now))
    }

    /// Closes the heartbeat socket of a manager that will never run (the server failed to start).
    nonisolated func discard() {
        socket?.close()
    }

    /// The bound heartbeat address (static mode), with the real port when the config asked for port 0.
    public nonisolated var heartbeatAddress: SocketAddress? { try? socket?.localAddress() }

    private static func resolve(_ peers: [ClusterPeer]) throws -> [(String, SocketAddress)] {
        try peers.map { ($0.nodeID, try SocketAddress(ip: $0.address.host, port: $0.address.port)) }
    }

    private var nodeID: String { state.nodeID }
    private var leaderKey: String { config.etcd.prefix + "leader" }

    // MARK: - Running

    public func run(_ context: ServiceContext) async throws {
        logger.info("cluster node started", ["mode": config.mode.rawValue, "address": describeAddress()])
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    await context.shutdown.wait()
                    throw ShutdownRequested()
                }
                // On the event loop's thread, not the shared cooperative pool: heartbeats and keepalives are
                // what the other nodes judge this one alive by, so they must not wait behind other work.
                if let socket = self.socket {
                    tasks.addTask(executorPreference: self.loop) { try await self.receiveLoop(socket) }
                    tasks.addTask(executorPreference: self.loop) { try await self.heartbeatLoop() }
                } else {
                    tasks.addTask(executorPreference: self.loop) { try await self.etcdLoop() }
                }
                while try await tasks.next() != nil {}
            }
        } catch is ShutdownRequested {
            await leave()
        }
    }

    private func describeAddress() -> String {
        if let address = heartbeatAddress { return address.description }
        return config.etcd.endpoints.map { "http://\($0)" }.joined(separator: ",")
    }

    /// Leaving on purpose: tell the others at once rather than let them wait out `dead_after`/the TTL.
    private func leave() async {
        if socket != nil {
            // A last heartbeat that is not ready: peers stop counting this node as a candidate at once.
            stamp += 1
            let beat = ClusterHeartbeat(nodeID: nodeID, stamp: stamp, term: state.term, leader: nil,
                                        claimsLeadership: false, ready: false)
            if let bytes = try? beat.encoded(mac: mac) { send(bytes) }
        } else if let client, let lease {
            // Revoking the lease deletes the member and leader keys: another node is elected at once.
            let call = EtcdGateway.revoke(lease: lease)
            _ = try? await client.post(call.path, body: call.body, timeout: .seconds(1))
            client.close()
        }
        socket?.close()
        logger.info("cluster node left", ["was_leader": state.isLeader])
    }

    /// Applies a reloaded config: peers, key and timings (static), endpoints and TTL (etcd). The node id,
    /// mode, heartbeat address and etcd prefix need a restart (`ReloadPlan` says so and keeps them).
    func reconfigure(_ next: ClusterConfig) {
        let now = ContinuousClock.now
        config.staticMode.peers = next.staticMode.peers
        config.staticMode.key = next.staticMode.key
        config.staticMode.keyFile = next.staticMode.keyFile
        config.staticMode.heartbeat = next.staticMode.heartbeat
        config.staticMode.deadAfter = next.staticMode.deadAfter
        config.etcd.endpoints = next.etcd.endpoints
        config.etcd.ttl = next.etcd.ttl
        mac = HMACSHA256(key: config.staticMode.key)
        switch config.mode {
        case .static:
            peerAddresses = (try? Self.resolve(config.staticMode.peers)) ?? peerAddresses
            apply(state.setPeers(config.staticMode.peers.map { ($0.nodeID, $0.address.description) }, now: now))
            apply(state.setDeadAfter(config.staticMode.deadAfter, now: now))
        case .etcd:
            client?.setEndpoints(config.etcd.endpoints.compactMap { try? SocketAddress(ip: $0.host, port: $0.port) })
            apply(state.setDeadAfter(config.etcd.ttl, now: now))
        case .off:
            break
        }
        logger.info("cluster settings reloaded", ["peers": config.staticMode.peers.count,
                                                 "endpoints": config.etcd.endpoints.count])
        publishSnapshot()
    }

    // MARK: - Events

    private func apply(_ events: [ClusterEvent]) {
        for event in events {
            switch event {
            case let .becameLeader(term):
                logger.info("this node now leads the cluster: it probes every backend and publishes the scores",
                            ["term": term])
            case let .steppedDown(reason):
                logger.warn("this node stopped leading the cluster and no longer publishes scores",
                            ["reason": reason, "term": state.term])
            case let .leaderChanged(from, to):
                logger.info("cluster leader changed", ["from": from ?? "none", "to": to ?? "none", "term": state.term])
            case let .memberAlive(id):
                logger.info("cluster member alive", ["member": id])
            case let .memberDead(id):
                let why = config.mode == .etcd ? "its etcd lease expired or its key is gone"
                                               : "no heartbeat within \(DurationParser.format(state.deadAfter))"
                logger.warn("cluster member dead: \(why)", ["member": id])
            case .failingOpen:
                logger.warn("no cluster leader known for \(DurationParser.format(state.deadAfter)); this node probes "
                            + "every backend itself until one is (fail open)", [:])
            case let .following(leader):
                logger.info("following the cluster leader: adopting its scores, not probing", ["leader": leader])
            }
        }
    }

    private func publishSnapshot() {
        view.publish(state.snapshot(now: .now))
    }

    /// Every group's scores, for a publication.
    private func collectScores() async -> [ClusterGroupScores] {
        guard let server = reference.server else { return [] }
        var out: [ClusterGroupScores] = []
        for (name, group) in server.backendGroups.sorted(by: { $0.key < $1.key }) {
            var scores = await group.scoreboard.published()
            scores.group = name
            out.append(scores)
        }
        return out
    }

    /// Hands a leader's publication to the Scoreboards of the groups it names.
    private func adopt(_ groups: [ClusterGroupScores]) async {
        guard let server = reference.server else { return }
        let running = server.backendGroups
        for scores in groups {
            guard let group = running[scores.group] else { continue }
            await group.scoreboard.adopt(scores)
            // A follower's Selector last ran when nothing was measured here: the first adopted scores pick the
            // active set at once rather than at the next evaluation interval.
            if group.selector.current.servers.isEmpty { await group.selector.evaluate(scoreboard: group.scoreboard) }
        }
        view.adoptions.add(1, ordering: .relaxed)
    }

    // MARK: - Static mode

    private nonisolated func receiveLoop(_ socket: UDPSocket) async throws {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: ClusterHeartbeat.maximumSize + 1, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let (count, sender, truncated) = try await socket.receive(into: buffer)
            if truncated {
                await dropped("a datagram larger than a heartbeat", from: sender)
                continue
            }
            await handle(Array(buffer[0..<count]), from: sender)
        }
    }

    /// Cuts this node off from its peers (tests), or reconnects it.
    func setPartitioned(_ value: Bool) {
        partitioned = value
    }

    private func handle(_ datagram: [UInt8], from sender: SocketAddress) async {
        guard !partitioned else { return }
        let heartbeat: ClusterHeartbeat
        do throws(ClusterHeartbeatError) {
            heartbeat = try ClusterHeartbeat.decode(datagram, mac: mac)
        } catch {
            dropped(error.description, from: sender)
            return
        }
        let (verdict, events) = state.receive(heartbeat, from: sender.description, now: .now)
        apply(events)
        switch verdict {
        case .accepted(let adopt):
            if adopt, let scores = heartbeat.scores { await self.adopt(scores) }
        case .unknownNode:
            dropped("node `\(heartbeat.nodeID)` is not in cluster.static.peers", from: sender)
        case .ownID:
            view.heartbeatsDropped.add(1, ordering: .relaxed)
            if case .emit = dropLog.event() {
                logger.error("another node uses this node's id; give every node its own cluster.node_id",
                             ["from": sender])
            }
        case .replayed:
            dropped("a replayed or reordered heartbeat", from: sender)
        }
        publishSnapshot()
    }

    private func dropped(_ reason: String, from sender: SocketAddress) {
        view.heartbeatsDropped.add(1, ordering: .relaxed)
        if case let .emit(suppressed) = dropLog.event() {
            logger.warn("cluster heartbeat dropped", ["from": sender, "reason": reason, "suppressed": suppressed])
        }
    }

    private nonisolated func heartbeatLoop() async throws {
        while true {
            await heartbeatRound()
            try await Task.sleep(for: await heartbeatInterval)
        }
    }

    private var heartbeatInterval: Duration { config.staticMode.heartbeat }

    /// One heartbeat to every peer, with the scores while this node leads.
    private func heartbeatRound() async {
        apply(state.tick(now: .now))
        var scores: [ClusterGroupScores]?
        if state.mayPublish(now: .now) {
            scores = await collectScores()
            // The lead may have changed while the Scoreboards were read.
            if !state.mayPublish(now: .now) { scores = nil }
        }
        let fields = state.heartbeatFields(now: .now)
        stamp += 1
        var beat = ClusterHeartbeat(nodeID: nodeID, stamp: stamp, term: fields.term, leader: fields.leader,
                                    claimsLeadership: fields.claims, ready: fields.ready, scores: scores)
        var bytes: [UInt8]
        do throws(ClusterHeartbeatError) {
            bytes = try beat.encoded(mac: mac)
        } catch {
            if !warnedTooLarge {
                warnedTooLarge = true
                logger.warn("the backend scores do not fit one heartbeat datagram; followers probe for themselves "
                            + "(use mode etcd for this many servers)", ["error": error.description])
            }
            beat.scores = nil
            bytes = (try? beat.encoded(mac: mac)) ?? []
        }
        if beat.scores != nil { view.publications.add(1, ordering: .relaxed) }
        send(bytes)
        publishSnapshot()
    }

    private func send(_ bytes: [UInt8]) {
        guard let socket, !bytes.isEmpty, !partitioned else { return }
        bytes.withUnsafeBytes { raw in
            for (_, address) in peerAddresses {
                // Best effort: a full socket buffer or an unreachable peer costs one heartbeat, which
                // `dead_after` (at least two heartbeats) absorbs.
                _ = try? socket.sendNow(raw, to: address)
            }
        }
    }

    // MARK: - etcd mode

    private nonisolated func etcdLoop() async throws {
        while true {
            await etcdRound()
            try await Task.sleep(for: await etcdInterval)
        }
    }

    /// Keepalives (and everything else) every third of the TTL.
    private var etcdInterval: Duration { config.etcd.ttl / 3 }

    private func etcdCall(_ call: EtcdCall) async throws(EtcdError) -> [UInt8] {
        guard let client else { throw .unreachable("no client") }
        do throws(EtcdError) {
            let response = try await client.post(call.path, body: call.body, timeout: etcdInterval)
            guard response.status == 200 else {
                throw EtcdError.status(response.status, EtcdGateway.errorMessage(response.body))
            }
            if !etcdReachable {
                etcdReachable = true
                logger.info("etcd reachable again", ["endpoints": describeAddress()])
            }
            return response.body
        } catch {
            etcdFailed(error, call: call)
            throw error
        }
    }

    private func etcdFailed(_ error: EtcdError, call: EtcdCall) {
        view.etcdErrors.add(1, ordering: .relaxed)
        if etcdReachable {
            etcdReachable = false
            logger.error("etcd call failed; retrying every \(DurationParser.format(etcdInterval))",
                         ["call": call.path, "endpoints": describeAddress(), "error": error.description,
                          "hint": "check that etcd runs and cluster.etcd.endpoints points at its client URL"])
        }
    }

    private func etcdRound() async {
        let ttl = config.etcd.ttl
        // 1. The lease: granted and registered, or renewed. A failure here ends any leadership at once.
        let sent = ContinuousClock.now
        if let current = lease {
            do throws(EtcdError) {
                let remaining = try EtcdGateway.decodeKeepAlive(try await etcdCall(EtcdGateway.keepAlive(lease: current)))
                guard remaining > 0 else {
                    lease = nil
                    apply(state.etcdLost(reason: "etcd says the lease expired", now: .now))
                    publishSnapshot()
                    return
                }
                state.etcdLeaseRenewed(validUntil: sent + .seconds(remaining))
            } catch {
                apply(state.etcdLost(reason: "keepalive failed: \(error)", now: .now))
                publishSnapshot()
                return
            }
        } else {
            do throws(EtcdError) {
                let (granted, seconds) = try EtcdGateway.decodeGrant(
                    try await etcdCall(EtcdGateway.grant(ttlSeconds: config.etcd.ttlSeconds)))
                lease = granted
                state.etcdLeaseRenewed(validUntil: sent + .seconds(seconds))
                let address = reference.server?.adminAddress?.description ?? ""
                let member: JSONValue = .object([("node_id", .string(nodeID)), ("address", .string(address))])
                try EtcdGateway.decodeAcknowledgement(try await etcdCall(EtcdGateway.put(
                    key: config.etcd.prefix + "members/" + nodeID, value: Array(member.text.utf8), lease: granted)))
                logger.info("registered in etcd", ["lease": granted, "ttl": DurationParser.format(ttl)])
            } catch {
                apply(state.etcdLost(reason: "could not register: \(error)", now: .now))
                publishSnapshot()
                return
            }
        }
        guard let lease else { return }

        // 2. Run for the leader key when not leading.
        if !state.isLeader {
            do throws(EtcdError) {
                let result = try EtcdGateway.decodeTxn(try await etcdCall(
                    EtcdGateway.campaign(key: leaderKey, value: Array(nodeID.utf8), lease: lease)))
                if result.succeeded {
                    apply(state.etcdWon(term: UInt64(max(0, result.revision)), validUntil: sent + ttl, now: .now))
                } else if let holder = result.kvs.first, holder.lease == lease,
                          String(decoding: holder.value, as: UTF8.self) == nodeID {
                    // Our own key from before (this service restarted): still ours.
                    apply(state.etcdWon(term: UInt64(max(0, holder.createRevision)), validUntil: sent + ttl, now: .now))
                }
            } catch {
                publishSnapshot()
                return
            }
        }

        // 3. Publish while leading, fenced on the leader key's create revision.
        if state.mayPublish(now: .now) {
            let term = state.term
            let groups = await collectScores()
            for scores in groups where state.mayPublish(now: .now) && state.term == term {
                view.publications.add(1, ordering: .relaxed)
                let value = EtcdScorePublication(term: term, leader: nodeID, scores: scores).encoded()
                do throws(EtcdError) {
                    let result = try EtcdGateway.decodeTxn(try await etcdCall(EtcdGateway.putIfLeader(
                        leaderKey: leaderKey, term: Int64(term), key: config.etcd.prefix + "scores/" + scores.group,
                        value: value)))
                    if !result.succeeded {
                        apply(state.etcdLost(reason: "the leader key is no longer this node's (term \(term))",
                                             now: .now))
                        break
                    }
                } catch {
                    apply(state.etcdLost(reason: "publishing failed: \(error)", now: .now))
                    break
                }
            }
        }

        // 4. Read everything under the prefix: members, leader, scores.
        do throws(EtcdError) {
            let (_, kvs) = try EtcdGateway.decodeRange(try await etcdCall(EtcdGateway.range(prefix: config.etcd.prefix)))
            await observe(kvs)
        } catch {
            apply(state.tick(now: .now))
        }
        publishSnapshot()
    }

    private func observe(_ kvs: [EtcdKeyValue]) async {
        let prefix = config.etcd.prefix
        var members: [(String, String)] = []
        var holder: (String, UInt64)?
        var publications: [EtcdScorePublication] = []
        for kv in kvs where kv.key.hasPrefix(prefix) {
            let name = kv.key.dropFirst(prefix.count)
            if name == "leader" {
                holder = (String(decoding: kv.value, as: UTF8.self), UInt64(max(0, kv.createRevision)))
            } else if name.hasPrefix("members/") {
                let id = String(name.dropFirst("members/".count))
                var address = ""
                if case .string(let text)? = (try? EtcdGateway.object(kv.value)).flatMap({ EtcdGateway.member($0, "address") }) {
                    address = text
                }
                members.append((id, address))
            } else if name.hasPrefix("scores/") {
                if let publication = try? EtcdScorePublication.decode(kv.value) { publications.append(publication) }
            }
        }
        apply(state.etcdObserved(members: members, leader: holder, now: .now))
        guard let (leader, term) = holder, leader != nodeID else { return }
        let current = publications.filter { $0.leader == leader && $0.term == term }
        guard !current.isEmpty, state.acceptsPublication(from: leader, term: term) else { return }
        await adopt(current.map(\.scores))
    }
}
