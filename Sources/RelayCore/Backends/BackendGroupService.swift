import RelayIO

/// Keeps one backend group's knowledge current: probes its servers, feeds the Scoreboard with probe
/// results and real traffic, runs the Selector, and re-resolves host names.
///
/// Run by the supervisor (a failure restarts it without touching established connections). Its
/// activities are independent loops in one task group:
/// - an initial probe of every server at start (bounded concurrency, its own timeout), then a selection, and
///   every `probe.interval` a probe of the `candidates` least recently probed servers (both `ProbeScheduler`);
/// - every `selector.evaluation_interval`, a selection;
/// - for each hard failure the Scoreboard reports (a server went down, or real traffic was refused),
///   an immediate eviction from the active set;
/// - the passive samples the forwarding path reports;
/// - every `dns_refresh`, when the group names servers by host name, a new resolution.
public final class BackendGroupService: Service {
    public let name: String
    /// The group this service keeps current.
    public let group: BackendGroup
    /// Where probes and the pool's dials run.
    let loops: EventLoopGroup
    let logger: Logger
    /// Probes the group's servers: once at start, then the least recently probed every `probe.interval`.
    let probes: ProbeScheduler

    /// `cluster` says whether this node probes (a cluster follower adopts its leader's scores instead).
    public init(group: BackendGroup, loops: EventLoopGroup, logger: Logger, cluster: ClusterView = ClusterView()) {
        self.name = "backend:\(group.name)"
        self.group = group
        self.loops = loops
        self.logger = logger.module("probing").with(["backend": group.name])
        self.probes = ProbeScheduler(group: group, loops: loops, logger: self.logger, cluster: cluster)
    }

    struct ShutdownRequested: Error {}

    public func run(_ context: ServiceContext) async throws {
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    await context.shutdown.wait()
                    throw ShutdownRequested()
                }
                tasks.addTask { await self.consumePassiveSamples() }
                tasks.addTask { await self.evictOnHardFailures() }
                if let pool = self.group.pool {
                    tasks.addTask { await pool.run(group: self.group, loops: self.loops, options: self.group.options) }
                }
                tasks.addTask {
                    try await self.resolveHostNames()
                    var initialProbePending = false
                    if self.group.config.probe.initialEnabled { initialProbePending = await !self.probes.initialProbe() }
                    await self.group.selector.evaluate(scoreboard: self.group.scoreboard)
                    try await withThrowingTaskGroup(of: Void.self) { loops in
                        loops.addTask { [initialProbePending] in
                            try await self.probes.run(initialProbePending: initialProbePending)
                        }
                        loops.addTask { try await self.evaluationLoop() }
                        loops.addTask { try await self.dnsLoop() }
                        while try await loops.next() != nil {}
                    }
                }
                // `next()` rethrows the first error at once (`waitForAll` would wait for every loop first);
                // leaving the group by throwing cancels the loops still running.
                while try await tasks.next() != nil {}
            }
        } catch is ShutdownRequested {
            return
        }
    }

    func evaluationLoop() async throws {
        while true {
            try await Task.sleep(for: group.config.selector.evaluationInterval)
            await group.selector.evaluate(scoreboard: group.scoreboard)
        }
    }

    /// Hands real-traffic samples to the Scoreboard in batches: every 100 ms, or at once when a hard
    /// failure is queued. Soft samples come as each server's sums (`PassiveTally`), hard failures from the queue.
    func consumePassiveSamples() async {
        await withTaskGroup(of: Void.self) { ticks in
            let queue = group.passiveSamples
            let urgent = queue.subscribeToUrgentSamples()
            let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            ticks.addTask {
                for await _ in urgent { wake.yield() }
            }
            ticks.addTask {
                while (try? await Task.sleep(for: .milliseconds(100))) != nil { wake.yield() }
                wake.finish()
            }
            for await _ in wakeups {
                let samples = queue.drain()
                if !samples.isEmpty { await group.scoreboard.recordPassive(samples) }
                var sums: [(ServerHandle, PassiveTally.Sums)] = []
                for server in group.servers {
                    let taken = server.passiveTally.take()
                    if !taken.isEmpty { sums.append((server, taken)) }
                }
                if !sums.isEmpty { await group.scoreboard.recordPassive(sums) }
            }
            ticks.cancelAll()
        }
    }

    func evictOnHardFailures() async {
        for await server in await group.scoreboard.subscribeToHardFailures() {
            await group.selector.evict(server, scoreboard: group.scoreboard)
        }
    }

    /// True when some server of the group is named by host name.
    var hasHostNames: Bool {
        group.config.servers.contains { if case .hostname = $0.target { true } else { false } }
    }

    func dnsLoop() async throws {
        guard hasHostNames else { return }
        while true {
            try await Task.sleep(for: group.config.dnsRefresh)
            try await resolveHostNames()
        }
    }

    /// Resolves the group's host names and updates its server list, keeping servers that stay (and
    /// their scores). If a name does not resolve, the current list stays as it is until the next try.
    func resolveHostNames() async throws {
        guard hasHostNames else { return }
        var addresses: [(SocketAddress, Int)] = []
        var seen = Set<SocketAddress>()
        for entry in group.config.servers {
            switch entry.target {
            case let .address(endpoint):
                if let address = try? SocketAddress(ip: endpoint.host, port: endpoint.port),
                   seen.insert(address).inserted {
                    addresses.append((address, entry.weight))
                }
            case let .hostname(host, port):
                let resolved: [SocketAddress]
                do {
                    resolved = try await HostResolver.resolve(host, port: port)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.warn("could not resolve a server name; keeping the current server list",
                                ["server": "\(host):\(port)", "origin": entry.origin,
                                 "error": String(describing: error), "retry_in": DurationParser.format(group.config.dnsRefresh)])
                    return
                }
                for address in resolved where seen.insert(address).inserted {
                    addresses.append((address, entry.weight))
                }
            }
        }
        let previous = Set(group.servers)
        let servers = group.replaceServers(with: addresses)
        await group.scoreboard.register(servers)
        if Set(servers) != previous {
            logger.info("server list changed", ["servers": servers.count])
            await group.selector.evaluate(scoreboard: group.scoreboard)
        }
    }
}
