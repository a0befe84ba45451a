import RelayIO

/// Keeps warm connections to the servers of one group's active set (`pool` in the config), so a client's
/// first byte does not wait for a backend handshake.
///
/// The forwarding path takes a connection with `take` (a lock and a non-blocking peek, no await); this actor's
/// `run` loop does the upkeep, never on a client's path:
/// - follows the Selector's active set: a server that joins gets a pool and is warmed at once; one that leaves
///   (or is drained by an operator) gets no more dials, and its warm connections are closed after
///   `drain_timeout`;
/// - replaces every connection taken as soon as it is taken (up to the pool's size, counting connections in
///   use), dialing with `dial_timeout` and backing off from a server that does not answer;
/// - closes warm connections that the server closed, that received data while idle, or that are older than
///   `idle_timeout`;
/// - every `scaling.interval`, moves each dynamic pool's size toward the recent peak (`PoolSizing`).
public actor ConnectionPool {
    public nonisolated let config: PoolConfig
    let groupName: String
    let logger: Logger
    /// The pools by server, read by the hot path.
    private nonisolated let pools = SanitizerVisibleMutex<[ServerHandle: ServerPool]>([:])
    /// How often upkeep looks at the pools without being woken by a take: how soon a server that joined the
    /// active set starts warming, and the resolution of back-off, sweeps and scaling intervals.
    /// At most 250 ms, and no longer than a dynamic pool's scaling interval.
    nonisolated var tick: Duration {
        config.strategy == .dynamic ? min(.milliseconds(250), config.scalingInterval) : .milliseconds(250)
    }
    /// One warning a second at most when dials cannot start for lack of relayd's own resources.
    private nonisolated let shortageLog = EventThrottle(limit: 1, window: .seconds(1))
    /// Most dials started per server per tick, so warming a large pool does not send a burst of SYNs.
    static let dialBurst = 64

    public init(config: PoolConfig, group: String, logger: Logger = .disabled) {
        self.config = config
        self.groupName = group
        self.logger = logger.with(["backend": group])
    }

    /// The pool of `server`, when it has one (it is, or was recently, in the active set).
    public nonisolated func pool(for server: ServerHandle) -> ServerPool? {
        pools.withLock { $0[server] }
    }

    /// Every server's pool.
    public nonisolated var serverPools: [ServerPool] {
        pools.withLock { Array($0.values) }.sorted { $0.server.id < $1.server.id }
    }

    /// Runs the upkeep until cancelled, then closes every warm connection.
    ///
    /// Upkeep runs when a connection is taken (so it is replaced at once) and every `tick` (active-set
    /// changes, dial back-off, sweeps, scaling); with no traffic the pool wakes only four times a second.
    func run(group: BackendGroup, loops: EventLoopGroup, options: TCPOptions) async {
        defer {
            for pool in pools.withLock({ $0.values }) { pool.close() }
            pools.withLock { $0.removeAll() }
        }
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let sweepPeriod = min(Duration.seconds(1), config.idleTimeout / 2).nanosecondsClamped
        var lastScale = EventLoop.now()
        var lastSweep = lastScale
        logger.info("connection pool started", ["strategy": config.strategy.rawValue])
        let tick = self.tick
        await withDiscardingTaskGroup { tasks in
            tasks.addTask {
                while (try? await Task.sleep(for: tick)) != nil { wake.yield() }
                wake.finish()
            }
            for await _ in wakeups {
                let now = EventLoop.now()
                followActiveSet(group, now: now) { wake.yield() }
                for pool in pools.withLock({ Array($0.values) }) {
                    if pool.drainExpired(now: now, drainTimeout: config.drainTimeout) {
                        pool.close()
                        pools.withLock { $0[pool.server] = nil }
                        logger.debug("pool closed: the server left the active set", ["server": pool.server.address])
                        continue
                    }
                    let count = pool.dialsWanted(now: now, limit: Self.dialBurst)
                    for _ in 0..<count {
                        let loop = loops.next()
                        let address = pool.server.address
                        let timeout = config.dialTimeout
                        let stats = group.stats
                        tasks.addTask(executorPreference: loop) { [logger, shortageLog] in
                            do {
                                let connection = try await TCPConnection.connect(to: address, on: loop,
                                                                                 timeout: timeout, options: options)
                                pool.dialed(connection, now: EventLoop.now())
                            } catch let error as IOError where error.origin.localResource != nil {
                                // relayd's own shortage: no back-off from the server, just a pause.
                                pool.dialSkipped(now: EventLoop.now())
                                stats.poolDialLocalErrors.increment()
                                if case let .emit(suppressed) = shortageLog.event(),
                                   let resource = error.origin.localResource {
                                    logger.warn("pool dial skipped: relayd is out of \(resource.phrase) "
                                                + "(the server is not blamed)",
                                                ["server": address, "error": error, "hint": resource.hint,
                                                 "suppressed": suppressed])
                                }
                            } catch {
                                pool.dialed(nil, now: EventLoop.now())
                            }
                        }
                    }
                }
                if config.strategy == .dynamic, now &- lastScale >= config.scalingInterval.nanosecondsClamped {
                    lastScale = now
                    for pool in serverPools { pool.scale() }
                }
                if now &- lastSweep >= sweepPeriod {
                    lastSweep = now
                    for pool in serverPools { pool.sweep(now: now, idleTimeout: config.idleTimeout) }
                }
            }
        }
    }

    /// Creates pools for servers that joined the active set and marks those that left.
    private nonisolated func followActiveSet(_ group: BackendGroup, now: UInt64,
                                             onTake: @escaping @Sendable () -> Void) {
        let active = Set(group.selector.current.servers.filter { !$0.drained.load(ordering: .relaxed) })
        let (joined, current) = pools.withLock { pools -> ([ServerHandle], [ServerPool]) in
            var joined: [ServerHandle] = []
            for server in active where pools[server] == nil {
                pools[server] = ServerPool(server: server, config: config, onTake: onTake)
                joined.append(server)
            }
            return (joined, Array(pools.values))
        }
        for pool in current {
            pool.setRetired(active.contains(pool.server) ? nil : now)
        }
        for server in joined {
            logger.debug("warming a pool", ["server": server.address])
        }
    }
}
