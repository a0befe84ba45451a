import RelayIO

/// Keeps warm connections to the servers of one group's active set (`pool` in the config), so a client's
/// first byte does not wait for a backend handshake.
///
/// The forwarding path takes a connection with `take` (a lock and a non-blocking peek, no await); this actor's
/// `run` loop does the upkeep, never on a client's path:
/// - follows the Selector's active set: a server that joins gets a pool and is warmed at once; one that leaves
///   (or is drained by an operator) gets no more dials, and its warm connections are closed after
///   `drain_timeout`;
/// - replaces every connection taken as soon as it is taken (up to the pool's size in warm connections,
///   whatever is in use), dialing with `dial_timeout` and backing off from a server that does not answer;
/// - closes warm connections that the server closed, that received data while idle, or that are older than
///   `idle_timeout`;
/// - every `scaling.interval`, moves each dynamic pool's size toward the recent peak (`PoolSizing`).
///
/// A thin actor around `PoolUpkeepState`, where those decisions live: each pass hands it the clock, the active
/// set and the warm counts, and carries out what comes back (create or close a `ServerPool`, start dials,
/// scale, sweep); each dial reports back to it. The `ServerPool`s hold what the hot path shares: the warm
/// connections and their sizing, behind a lock.
public actor ConnectionPool {
    public nonisolated let config: PoolConfig
    let logger: Logger
    /// The pools by server, read by the hot path; changed only by upkeep's `createPool` and `closePool`.
    private nonisolated let pools = SanitizerVisibleMutex<[ServerHandle: ServerPool]>([:])
    /// What upkeep decides: which pools exist, their dials and back-off, retirement, intervals. Begins anew
    /// with each `run`.
    private var upkeep: PoolUpkeepState
    /// How often upkeep looks at the pools without being woken by a take: how soon a server that joined the
    /// active set starts warming, and the resolution of back-off, sweeps and scaling intervals.
    /// At most 250 ms, and no longer than a dynamic pool's scaling interval.
    nonisolated var tick: Duration {
        config.strategy == .dynamic ? min(.milliseconds(250), config.scalingInterval) : .milliseconds(250)
    }
    /// One warning a second at most when dials cannot start for lack of relayd's own resources.
    private nonisolated let shortageLog = EventThrottle(limit: 1, window: .seconds(1))

    public init(config: PoolConfig, group: String, logger: Logger = .disabled) {
        self.config = config
        self.logger = logger.module("pool").with(["backend": group])
        self.upkeep = PoolUpkeepState(config: config, now: EventLoop.now())
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
        upkeep = PoolUpkeepState(config: config, now: EventLoop.now())
        defer {
            for pool in pools.withLock({ $0.values }) { pool.close() }
            pools.withLock { $0.removeAll() }
        }
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        logger.info("connection pool started", ["strategy": config.strategy.rawValue])
        let tick = self.tick
        await withDiscardingTaskGroup { tasks in
            tasks.addTask {
                while (try? await Task.sleep(for: tick)) != nil { wake.yield() }
                wake.finish()
            }
            for await _ in wakeups {
                let now = EventLoop.now()
                let active = Set(group.selector.current.servers.filter { !$0.drained.load(ordering: .relaxed) })
                let warm = pools.withLock { $0 }.mapValues(\.warm)
                for action in upkeep.tick(now: now, active: active, warm: warm) {
                    switch action {
                    case let .createPool(server, _):
                        pools.withLock { $0[server] = ServerPool(server: server, config: config) { wake.yield() } }
                        logger.debug("warming a pool", ["server": server.address])
                    case let .dial(server, id, count):
                        for _ in 0..<count {
                            dial(server, pool: id, stats: group.stats, loop: loops.next(), options: options,
                                 in: &tasks)
                        }
                    case let .closePool(server):
                        pools.withLock { $0.removeValue(forKey: server) }?.close()
                        logger.debug("pool closed: the server left the active set", ["server": server.address])
                    case .scale:
                        for pool in serverPools { pool.scale() }
                    case .sweep:
                        for pool in serverPools { pool.sweep(now: now, idleTimeout: config.idleTimeout) }
                    }
                }
            }
        }
    }

    /// Starts one dial to `server` on `loop`, reported to `dialFinished` when it ends.
    private func dial(_ server: ServerHandle, pool id: PoolUpkeepState.PoolID, stats: BackendGroupStats,
                      loop: EventLoop, options: TCPOptions, in tasks: inout DiscardingTaskGroup) {
        let address = server.address
        let timeout = config.dialTimeout
        tasks.addTask(executorPreference: loop) { [logger, shortageLog] in
            do {
                let connection = try await TCPConnection.connect(to: address, on: loop, timeout: timeout,
                                                                 options: options)
                await self.dialFinished(server, pool: id, .connected, connection, now: EventLoop.now())
            } catch let error as IOError where error.origin.localResource != nil {
                // relayd's own shortage: no back-off from the server, just a pause.
                await self.dialFinished(server, pool: id, .skippedLocally, nil, now: EventLoop.now())
                stats.poolDialLocalErrors.increment()
                if case let .emit(suppressed) = shortageLog.event(), let resource = error.origin.localResource {
                    logger.warn("pool dial skipped: relayd is out of \(resource.phrase) (the server is not blamed)",
                                ["server": address, "error": error, "hint": resource.hint, "suppressed": suppressed])
                }
            } catch {
                await self.dialFinished(server, pool: id, .failed, nil, now: EventLoop.now())
            }
        }
    }

    /// A dial ended: the state machine accounts for it, and a connection the pool still wants is offered to
    /// it; any other is closed.
    private func dialFinished(_ server: ServerHandle, pool id: PoolUpkeepState.PoolID,
                              _ result: PoolUpkeepState.DialResult, _ connection: TCPConnection?, now: UInt64) {
        let wanted = upkeep.dialFinished(server, pool: id, result, now: now)
        guard let connection else { return }
        if wanted, let pool = pool(for: server) {
            pool.offer(connection, now: now)
        } else {
            connection.close()
        }
    }
}
