import RelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One backend group at run time: its servers, what is known about them, and how the forwarding path
/// picks one for a new connection.
///
/// The hot path (`connect`) reads the Selector's published active set and asks the balancer for a
/// server, without awaiting any actor; what it observes (connect time, refusals, time to first byte)
/// goes to the Scoreboard through a bounded stream that `BackendGroupService` drains. A server that
/// refuses or times out is skipped and the next candidate tried; when the active set has no usable
/// server left (nothing measured yet, everything evicted), every other server of the group is tried, so
/// a client never sees a dead server while a live one exists (within `maxAttempts`).
public final class BackendGroup: Sendable {
    /// The group's name in the config.
    public let name: String
    /// The group's configuration.
    public let config: BackendConfig
    /// Scores of the group's servers.
    public let scoreboard: Scoreboard
    /// Picks and publishes the active set.
    public let selector: Selector
    /// Picks among the active set.
    let balancer: any Balancer
    /// Picks among every server when the active set has nothing usable (own instance, so its per-set
    /// state does not thrash with the main balancer's).
    let fallbackBalancer: any Balancer
    /// Every server of the group (hostnames as last resolved) and a set of them for the fallback.
    private let all: SanitizerVisibleMutex<ActiveSet>
    /// How long one connection attempt may take.
    public let connectTimeout: Duration
    /// Servers tried per client connection before giving up (0 = every server once).
    let maxAttempts: Int
    /// Socket options for backend connections.
    let options: TCPOptions
    /// Observations of real traffic, for the Scoreboard; bounded so a stalled consumer costs no memory.
    let passiveSamples = PassiveSampleQueue()
    /// Connect times, failures and probe results, handed on to a successor group.
    public let stats: BackendGroupStats
    /// Warm connections to the active servers (`pool`); nil when the strategy is `none`.
    public let pool: ConnectionPool?
    /// How many of the group's servers an operator drained; while 0, picking skips the drain check.
    private let drainedCount = Atomic<Int>(0)

    /// `carrying` and `continuing` hand over what a group this one replaces knew (config reload): the
    /// scores of servers that stay, and the active set with its debounce.
    public init(config: BackendConfig, servers: [ServerHandle], options: TCPOptions = .backend,
                carrying: [ServerHandle: ServerScoreState] = [:], continuing selection: SelectorState? = nil,
                stats: BackendGroupStats = BackendGroupStats(), logger: Logger = .disabled) {
        self.stats = stats
        self.pool = config.pool.isEnabled ? ConnectionPool(config: config.pool, group: config.name, logger: logger) : nil
        self.name = config.name
        self.config = config
        self.connectTimeout = config.connectTimeout
        self.maxAttempts = config.maxConnectAttempts
        self.options = options
        self.balancer = makeBalancer(config.balance)
        self.fallbackBalancer = makeBalancer(config.balance)
        self.all = SanitizerVisibleMutex(ActiveSet(servers: servers, generation: 1))
        drainedCount.store(servers.filter { $0.drained.load(ordering: .relaxed) }.count, ordering: .relaxed)
        let groupLogger = logger.module("selection").with(["backend": config.name])
        self.scoreboard = Scoreboard(servers: servers, scoring: config.scoring, probe: config.probe,
                                     carrying: carrying, logger: groupLogger)
        if let selection {
            self.selector = Selector(parameters: config.selector, continuing: selection, servers: Set(servers),
                                     logger: groupLogger)
        } else {
            self.selector = Selector(parameters: config.selector, logger: groupLogger)
        }
    }

    /// Handles for the servers `config` names by address, reusing this group's handle for every server that
    /// stays with the same weight (so its counters and in-flight count carry over).
    func handles(for config: BackendConfig) throws -> [ServerHandle] {
        var byAddress: [SocketAddress: ServerHandle] = [:]
        for server in servers { byAddress[server.address] = server }
        var seen = Set<SocketAddress>()
        var handles: [ServerHandle] = []
        for entry in config.servers {
            guard case let .address(endpoint) = entry.target else { continue }
            let address = try SocketAddress(ip: endpoint.host, port: endpoint.port)
            guard seen.insert(address).inserted else { continue }
            if let old = byAddress[address], old.weight == entry.weight {
                handles.append(old)
            } else {
                handles.append(ServerHandle(group: name, address: address, weight: entry.weight))
            }
        }
        return handles
    }

    /// The group that replaces this one when a config reload changes its settings: servers that stay keep
    /// their handles, scores and place in the active set; new servers start unknown and are probed when the
    /// successor's service starts. Servers named by host name join after that service's first resolution.
    public func successor(config: BackendConfig, options: TCPOptions = .backend, logger: Logger) async throws
        -> BackendGroup
    {
        let servers = try handles(for: config)
        let states = await scoreboard.states
        var byAddress: [SocketAddress: ServerScoreState] = [:]
        for (server, state) in states { byAddress[server.address] = state }
        var carrying: [ServerHandle: ServerScoreState] = [:]
        for server in servers { carrying[server] = byAddress[server.address] }
        return BackendGroup(config: config, servers: servers, options: options, carrying: carrying,
                            continuing: await selector.snapshot, stats: stats, logger: logger)
    }

    /// Every server of the group.
    public var servers: [ServerHandle] { all.withLock { $0.servers } }

    /// Replaces the server list (after DNS re-resolution), keeping the handles of servers that stay so
    /// their scores and counters carry over. Returns the new list.
    @discardableResult
    func replaceServers(with addresses: [(SocketAddress, Int)]) -> [ServerHandle] {
        all.withLock { current in
            var byAddress: [SocketAddress: ServerHandle] = [:]
            for server in current.servers { byAddress[server.address] = server }
            let next = addresses.map { address, weight in
                byAddress[address] ?? ServerHandle(group: name, address: address, weight: weight)
            }
            current = ActiveSet(servers: next, generation: current.generation + 1)
            return next
        }
    }

    /// Reports what real traffic saw about `server`.
    func report(_ server: ServerHandle, _ sample: PassiveSample) {
        // Soft samples are summed on the server; hard failures are queued, each with its error.
        if !server.passiveTally.add(sample) { passiveSamples.append(server, sample) }
    }

    /// One failed attempt, for logs.
    public struct AttemptFailure: Sendable, CustomStringConvertible {
        public let server: SocketAddress
        public let error: String
        public var description: String { "\(server): \(error)" }
    }

    /// Every attempt failed, or the group has no server.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public let group: String
        public let failures: [AttemptFailure]
        public var description: String {
            if failures.isEmpty { return "backend \(group) has no server to try" }
            return "no server of backend \(group) accepted the connection ("
                + failures.map(\.description).joined(separator: "; ") + ")"
        }
    }

    /// relayd itself ran short of something while connecting (file descriptors, memory, local ports): the
    /// client's connection is refused, and no server is blamed for it.
    public struct LocalShortage: Error, Sendable, CustomStringConvertible {
        /// What ran out.
        public let resource: LocalResource
        /// The failed call and its errno.
        public let error: IOError
        /// The server relayd was connecting to (which did nothing wrong).
        public let server: SocketAddress
        public var description: String {
            "relayd ran out of \(resource.phrase) connecting to \(server) "
                + "(\(error)); \(resource.hint)"
        }
    }

    /// Connects to the best server for `client`, skipping servers that fail. The returned server's
    /// `inFlight` has been incremented: call `release(_:)` when the connection ends.
    ///
    /// A failure of relayd's own (`IOError.origin` is local) ends the attempt at once with `LocalShortage`:
    /// it is not the server's, so it reaches neither the Scoreboard nor the failure counters, and trying
    /// the next server would only fail the same way.
    public func connect(client: SocketAddress?, on loop: EventLoop, logger: Logger) async throws
        -> (TCPConnection, ServerHandle)
    {
        var attempts = ConnectAttempts(group: self, client: client?.ipKey)
        while let server = attempts.next() {
            if let warm = pool?.pool(for: server)?.take(on: loop) {
                server.connectionsTotal.add(1, ordering: .relaxed)
                return (warm, server)
            }
            let start = EventLoop.now()
            do {
                let connection = try await TCPConnection.connect(to: server.address, on: loop, timeout: connectTimeout,
                                                                 options: options)
                connected(server, since: start)
                return (connection, server)
            } catch {
                try attempts.failed(server, error, logger: logger)
            }
        }
        throw attempts.unavailable()
    }

    /// Writes a PROXY header on a connection whose send buffer is empty (new, or pooled and never written): it
    /// goes whole at once or the connection is dead.
    @inline(never)
    static func writeHeader(_ header: [UInt8], to connection: TCPConnection) -> Bool {
        header.withUnsafeBytes { bytes in
            guard case .processed(bytes.count)? = try? connection.writeNow(bytes) else { return false }
            return true
        }
    }

    /// The servers a new connection tries, one after the other, and why each failed. Kept out of the async
    /// `connect`, whose frame every relayed connection's task holds for as long as it lives.
    struct ConnectAttempts {
        let group: BackendGroup
        let client: IPKey?
        let active: ActiveSet
        let everyone: ActiveSet
        let limit: Int
        var excluded: [ServerHandle] = []
        var failures: [AttemptFailure] = []

        init(group: BackendGroup, client: IPKey?) {
            self.group = group
            self.client = client
            active = group.selector.current
            everyone = group.all.withLock { $0 }
            limit = group.maxAttempts > 0 ? group.maxAttempts : max(1, everyone.servers.count)
        }

        /// The next server to try (counted in flight), or nil when every attempt is spent.
        @inline(never)
        mutating func next() -> ServerHandle? {
            guard failures.count < limit,
                  let server = group.pick(active: active, everyone: everyone, client: client, excluding: excluded)
            else { return nil }
            server.inFlight.add(1, ordering: .relaxed)
            return server
        }

        /// Records a failed attempt; rethrows what is not the server's fault (cancellation, relayd's own
        /// shortage), which ends the attempts at once.
        @inline(never)
        mutating func failed(_ server: ServerHandle, _ error: any Error, logger: Logger) throws {
            server.inFlight.subtract(1, ordering: .relaxed)
            guard let error = error as? IOError else { throw error }
            if let resource = error.origin.localResource {
                throw LocalShortage(resource: resource, error: error, server: server.address)
            }
            excluded.append(server)
            failures.append(AttemptFailure(server: server.address, error: error.description))
            group.report(server, .connectFailed(error.description))
            group.stats.connectFailures.increment()
            server.connectFailures.add(1, ordering: .relaxed)
            logger.debug("backend connect failed", ["backend": group.name, "server": server.address, "error": error])
        }

        func unavailable() -> Unavailable {
            Unavailable(group: group.name, failures: failures)
        }
    }

    /// Reports a connection's set-up time to the Scoreboard and the metrics.
    @inline(never)
    private func connected(_ server: ServerHandle, since start: UInt64) {
        let connectTime = Duration.nanoseconds(Int64(EventLoop.now() &- start))
        report(server, .connected(connectTime))
        stats.connectDuration.observe(connectTime)
        server.connectionsTotal.add(1, ordering: .relaxed)
    }

    /// The server for a new connection or flow from `client`: the balancer's pick from the active set or,
    /// when it has nothing usable, from every server of the group. nil when every server is excluded.
    public func pick(client: IPKey?, excluding excluded: [ServerHandle] = []) -> ServerHandle? {
        pick(active: selector.current, everyone: all.withLock { $0 }, client: client, excluding: excluded)
    }

    private func pick(active: ActiveSet, everyone: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle])
        -> ServerHandle?
    {
        var excluded = excluded
        if drainedCount.load(ordering: .relaxed) > 0 {
            excluded += everyone.servers.filter { $0.drained.load(ordering: .relaxed) && !excluded.contains($0) }
        }
        return balancer.pick(from: active, client: client, excluding: excluded)
            ?? fallbackBalancer.pick(from: everyone, client: client, excluding: excluded)
    }

    /// Drains `server` (no new connections or flows; open ones go on) or puts it back in service, and has
    /// the Selector re-pick the active set at once. Returns false when the state was already that.
    @discardableResult
    public func setDrained(_ server: ServerHandle, _ drained: Bool) async -> Bool {
        guard server.drained.exchange(drained, ordering: .relaxed) != drained else { return false }
        drainedCount.add(drained ? 1 : -1, ordering: .relaxed)
        if drained {
            await selector.evict(server, scoreboard: scoreboard)
        } else {
            await selector.evaluate(scoreboard: scoreboard)
        }
        return true
    }

    /// Ends a connection made by `connect`.
    public func release(_ server: ServerHandle) {
        server.inFlight.subtract(1, ordering: .relaxed)
    }
}
