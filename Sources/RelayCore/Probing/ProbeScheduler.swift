import RelayIO

/// Probes one backend group's servers and hands each result to the group's Scoreboard: every server once when
/// the group starts (`initialProbe`), then, every `probe.interval`, the `probe.candidates` least recently probed
/// (`run`), so a large group is covered in turn without a burst of probes.
///
/// Run by the group's `BackendGroupService`, beside its selection and DNS loops. Probes run on the event loops in
/// turn, at most `concurrency` in flight. A probe that could not run because relayd itself ran short of
/// descriptors, memory or ports says nothing about the server: it is counted apart and never scored.
struct ProbeScheduler: Sendable {
    /// The group whose servers are probed.
    let group: BackendGroup
    /// Where probes run.
    let loops: EventLoopGroup
    let logger: Logger
    /// Whether this node probes at all: in a cluster only the leader does (or every node, when no leader is
    /// known); read without awaiting before each round.
    let cluster: ClusterView
    /// One warning a second at most when probes cannot run for lack of relayd's own resources.
    private let shortageLog = EventThrottle(limit: 1, window: .seconds(1))

    init(group: BackendGroup, loops: EventLoopGroup, logger: Logger, cluster: ClusterView = ClusterView()) {
        self.group = group
        self.cluster = cluster
        self.loops = loops
        self.logger = logger
    }

    /// Probes every server once, `initial.concurrency` at a time, with the initial timeout. Returns false without
    /// probing when this node does not probe now (a cluster follower, or a node still joining its cluster).
    @discardableResult
    func initialProbe() async -> Bool {
        guard cluster.probesLocally else { return false }
        let servers = await group.scoreboard.registered
        let parameters = group.config.probe
        await probe(servers, timeout: parameters.initialTimeout, concurrency: parameters.initialConcurrency)
        logger.info("initial probe done", ["servers": servers.count])
        return true
    }

    /// Probes `servers` with at most `concurrency` in flight and records every result.
    func probe(_ servers: [ServerHandle], timeout: Duration, concurrency: Int) async {
        let kind = group.config.probe.kind
        let proxyHeader = group.config.probe.proxyHeader
        await withTaskGroup(of: (ServerHandle, ProbeResult).self) { probes in
            var pending = servers[...]
            func startNext() {
                guard let server = pending.popFirst() else { return }
                let loop = loops.next()
                probes.addTask(executorPreference: loop) {
                    let start = ContinuousClock.now
                    let result = await Prober.probe(server.address, kind: kind, timeout: timeout,
                                                    proxyHeader: proxyHeader, on: loop)
                    self.group.stats.probeDuration.observe(ContinuousClock.now - start)
                    return (server, result)
                }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            for await (server, result) in probes {
                if let resource = result.localShortage {
                    // relayd's own shortage says nothing about the server: not scored, counted apart.
                    group.stats.probeLocalErrors.increment()
                    if case let .emit(suppressed) = shortageLog.event() {
                        logger.warn("probe skipped: relayd is out of \(resource.phrase) (the server is not blamed)",
                                    ["server": server.address, "resource": resource.rawValue,
                                     "error": result.error ?? "?", "hint": resource.hint, "suppressed": suppressed])
                    }
                    startNext()
                    continue
                }
                await group.scoreboard.recordProbe(server, success: result.success, latency: result.latency,
                                                   error: result.error)
                (result.success ? group.stats.probeSuccesses : group.stats.probeFailures).increment()
                if !result.success {
                    logger.debug("probe failed", ["server": server.address, "error": result.error ?? "?"])
                }
                startNext()
            }
        }
    }

    /// Every `probe.interval`, probes the `probe.candidates` servers probed least recently; runs until cancelled.
    /// `initialProbePending`: the initial probe was due but skipped (a cluster node that did not probe at start);
    /// it runs, with a selection after it, the first time this node probes.
    func run(initialProbePending: Bool = false) async throws {
        let parameters = group.config.probe
        var pending = initialProbePending
        while true {
            try await Task.sleep(for: parameters.interval)
            // A cluster follower adopts the leader's scores instead of probing.
            guard cluster.probesLocally else { continue }
            if pending {
                pending = false
                await initialProbe()
                await group.selector.evaluate(scoreboard: group.scoreboard)
                continue
            }
            let due = await group.scoreboard.probeOrder(limit: parameters.candidates)
            await probe(due, timeout: parameters.timeout, concurrency: parameters.candidates)
        }
    }
}
