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
    /// How often upkeep looks at the pools: short, so a taken connection is replaced before the next client.
    static let tick = Duration.milliseconds(20)
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
    func run(group: BackendGroup, loops: EventLoopGroup, options: TCPOptions) async {
        defer {
            for pool in pools.withLock({ $0.values }) { pool.close() }
            pools.withLock { $0.removeAll() }
        }
        let sweepPeriod = min(Duration.seconds(1), config.idleTimeout / 2).nanosecondsClamped
        var lastScale = EventLoop.now()
        var lastSweep = lastScale
        logger.info("connection pool started", ["strategy": config.strategy.rawValue])
        await withDiscardingTaskGroup { dials in
            while !Task.isCancelled {
                let now = EventLoop.now()
                followActiveSet(group, now: now)
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
                        dials.addTask(executorPreference: loop) {
                            let connection = try? await TCPConnection.connect(to: address, on: loop, timeout: timeout,
                                                                              options: options)
                            pool.dialed(connection, now: EventLoop.now())
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
                try? await Task.sleep(for: Self.tick)
            }
        }
    }

    /// Creates pools for servers that joined the active set and marks those that left.
    private nonisolated func followActiveSet(_ group: BackendGroup, now: UInt64) {
        let active = Set(group.selector.current.servers.filter { !$0.drained.load(ordering: .relaxed) })
        let (joined, current) = pools.withLock { pools -> ([ServerHandle], [ServerPool]) in
            var joined: [ServerHandle] = []
            for server in active where pools[server] == nil {
                pools[server] = ServerPool(server: server, config: config)
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
