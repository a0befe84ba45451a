import RelayIO
import RelayProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A UDP listener: one `SO_REUSEPORT` socket per event loop; each client address is a flow with its own
/// connected socket to one server of the backend group, so replies come back from the listener's address
/// and an ICMP unreachable from the server reaches exactly the flow that caused it.
///
/// The first datagram of a client picks a server with the group's balancer (the hash balancer keeps a
/// client on one server across flows), is admitted by the `SessionStore` (`max_flows`, synchronously:
/// the rest of the batch never waits for an actor), and opens the flow. Later datagrams find the flow in
/// the loop's own table. Flows end after `idle_timeout` without traffic, after `responses` replies when
/// set, when their server answers with ICMP unreachable (reported to the Scoreboard; the next datagram
/// moves the flow), or with the listener's run.
public final class UDPListenerService: Service {
    public let name: String
    /// The address actually bound.
    public let address: SocketAddress
    /// Where new flows go and how many replies each may get; a config reload may change both. Read once
    /// per new flow, so a flow keeps the group it started with.
    private let settings: SanitizerVisibleMutex<(group: BackendGroup, responses: Int)>
    /// `routes` by client address; nil when the listener has none.
    private let currentRoutes = SanitizerVisibleMutex<ListenerRoutes?>(nil)
    /// Admission and expiry of flows.
    public let store: SessionStore<UDPFlow>
    /// The `rate_limit`: `packets_per_ip` on every datagram, before any other work; `per_ip` and `total` on
    /// every datagram that would open a flow.
    public let rateLimiter: RateLimiter
    /// What happened to the datagrams.
    public let counters = UDPCounters()
    let loops: [EventLoop]
    let logger: Logger
    /// Where ended flows are recorded, when the access log is on.
    let accessLog: AccessLog?
    private let prebound: SanitizerVisibleMutex<[UDPSocket]>
    /// The sockets of the run in progress; see `runningSockets`.
    private let running = SanitizerVisibleMutex<[UDPSocket]>([])
    /// Set by `failNextReceive(with:)` (tests only): the receive loops check it once per batch.
    private let failureInjected = Atomic<Bool>(false)
    /// The error `failNextReceive(with:)` asked for.
    private let injectedFailure = SanitizerVisibleMutex<(any Error)?>(nil)
    /// Opens a new flow's socket to its server: `UDPSocket.connect`, or a stand-in in tests (to fail the
    /// way a process out of descriptors does).
    let openBackendSocket: BackendSocketOpener
    /// Whether runs of one flow's datagrams go as segmented sends (`io.udp_segmentation`).
    let segmentation: Bool
    /// Lets one line a second through about drops for a local shortage (a flood of new clients while
    /// out of descriptors would otherwise log a line per datagram); the rest are counted in the next.
    private let shortageLog = EventThrottle(limit: 1, window: .seconds(1))

    /// Opens a flow's connected socket to `server` on `loop`.
    typealias BackendSocketOpener = @Sendable (_ server: SocketAddress, _ loop: EventLoop) throws(IOError) -> UDPSocket

    public convenience init(name: String, address requested: SocketAddress, group: BackendGroup, loops: [EventLoop],
                            idleTimeout: Duration, maxFlows: Int, responses: Int, rateLimit: RateLimitConfig = .none,
                            segmentation: Bool = true, accessLog: AccessLog? = nil, logger: Logger) throws {
        try self.init(name: name, address: requested, group: group, loops: loops, idleTimeout: idleTimeout,
                      maxFlows: maxFlows, responses: responses, rateLimit: rateLimit, segmentation: segmentation,
                      accessLog: accessLog, logger: logger,
                      openBackendSocket: { server, loop throws(IOError) in try UDPSocket.connect(to: server, on: loop) })
    }

    init(name: String, address requested: SocketAddress, group: BackendGroup, loops: [EventLoop],
         idleTimeout: Duration, maxFlows: Int, responses: Int, rateLimit: RateLimitConfig = .none,
         segmentation: Bool = true, accessLog: AccessLog? = nil, logger: Logger,
         openBackendSocket: @escaping BackendSocketOpener) throws {
        self.openBackendSocket = openBackendSocket
        self.segmentation = segmentation
        self.accessLog = accessLog
        self.name = name
        self.settings = SanitizerVisibleMutex((group, responses))
        self.loops = loops
        self.logger = logger.module("listener").with(["listener": name])
        self.store = SessionStore(limit: maxFlows, idleTimeout: idleTimeout)
        self.rateLimiter = RateLimiter(config: rateLimit)
        let sockets = try UDPListenerService.bind(name: name, address: requested, loops: loops)
        self.address = try sockets[0].localAddress()
        self.prebound = SanitizerVisibleMutex(sockets)
    }

    /// Dropped datagrams by reason, for the metrics and the admin API.
    public var dropCounts: [(String, Int)] {
        [("flow_limit", counters.droppedFlowLimit.load(ordering: .relaxed)),
         ("truncated", counters.droppedTruncated.load(ordering: .relaxed)),
         ("no_backend", counters.droppedNoServer.load(ordering: .relaxed)),
         ("send_failed", counters.droppedSendFailed.load(ordering: .relaxed)),
         ("local_resources", counters.droppedLocalResources.load(ordering: .relaxed)),
         ("rate_limited", counters.droppedRateLimited.load(ordering: .relaxed))]
    }

    /// The group new flows are relayed to.
    public var group: BackendGroup { settings.withLock { $0.group } }

    /// The listener's routes (by client address), if it has any.
    public var routes: ListenerRoutes? { currentRoutes.withLock { $0 } }

    /// New flows are routed by `routes` (nil: all to the group); open flows keep their server.
    public func updateRoutes(_ routes: ListenerRoutes?) {
        currentRoutes.withLock { $0 = routes }
    }

    /// Applies a reloaded config that keeps this listener's sockets: new flows go to `group`, with the new
    /// limits; open flows keep their server until they end. The new rate limits apply from the next datagram.
    public func update(group: BackendGroup, idleTimeout: Duration, maxFlows: Int, responses: Int,
                       rateLimit: RateLimitConfig? = nil) async {
        settings.withLock { $0 = (group, responses) }
        await store.update(limit: maxFlows, idleTimeout: idleTimeout)
        if let rateLimit { await rateLimiter.update(rateLimit) }
    }

    /// Closes the sockets bound by `init` when the service will never run (a reload that was called off).
    func discard() {
        prebound.withLock { sockets in
            for socket in sockets { socket.close() }
            sockets.removeAll()
        }
    }

    ///
    /// Port 0 is resolved first with a socket without `SO_REUSEPORT`, for which the kernel picks a port no socket
    /// holds: asked by an `SO_REUSEPORT` socket, it may pick a port another such socket of the same user already
    /// holds, and the two would then split each other's datagrams. Should another socket take the port between
    /// the pick and the bind, the pick is made again.
    static func bind(name: String, address: SocketAddress, loops: [EventLoop]) throws -> [UDPSocket] {
        var attempt = 0
        while true {
            attempt += 1
            var sockets: [UDPSocket] = []
            do {
                var target = address
                if address.port == 0 {
                    let probe = try UDPSocket.bind(address, on: loops[0], reusePort: false)
                    defer { probe.close() }
                    target = try probe.localAddress()
                }
                for loop in loops {
                    sockets.append(try UDPSocket.bind(target, on: loop, reusePort: true))
                }
                return sockets
            } catch {
                for socket in sockets { socket.close() }
                if address.port == 0, attempt < 8, error.errno == EADDRINUSE { continue }
                throw ListenerError(listener: name, address: address.description, reason: "\(error)")
            }
        }
    }

    /// Relays until `context.shutdown` fires (then returns) or a receive loop fails (then throws, and the
    /// supervisor restarts the listener). Either way every flow of this run ends before it returns: the
    /// reply tasks are child tasks of its receive loops, so none outlives the sockets it sends on, and the
    /// `SessionStore` forgets the flows, so a restarted run admits their clients afresh.
    public func run(_ context: ServiceContext) async throws {
        let sockets = try prebound.withLock { sockets -> [UDPSocket] in
            if sockets.isEmpty { return try UDPListenerService.bind(name: name, address: address, loops: loops) }
            defer { sockets.removeAll() }
            return sockets
        }
        defer { for socket in sockets { socket.close() } }
        let stop = context.shutdown.onTrigger {
            for socket in sockets { socket.abort() }
        }
        defer { stop.cancel() }
        running.withLock { $0 = sockets }
        defer { running.withLock { $0 = [] } }
        logger.info("listening", ["address": address, "protocol": "udp", "loops": sockets.count])
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for socket in sockets {
                    tasks.addTask(executorPreference: socket.loop) { try await self.receiveLoop(socket, context) }
                }
                tasks.addTask { try await self.expiryLoop(context) }
                while try await tasks.next() != nil {
                    if context.shutdown.isTriggered { break }
                }
                tasks.cancelAll()
            }
        } catch {
            let left = await store.closeAll(.error)
            if !left.isEmpty { logger.info("closed the flows of the failed run", ["flows": left.count]) }
            throw error
        }
        // Shutdown: a UDP flow has nothing to drain, so close them all.
        let left = await store.closeAll(.shutdown)
        if !left.isEmpty { logger.info("closed flows on shutdown", ["flows": left.count]) }
    }

    /// Closes idle flows, checking a few times per idle timeout (at least once a second); also reports the
    /// shortage drops that went unlogged once their second is over, in case no later drop reports them, and
    /// has the rate limiter forget the buckets of clients gone quiet.
    private func expiryLoop(_ context: ServiceContext) async throws {
        while !context.shutdown.isTriggered {
            let period = max(Duration.milliseconds(50), min(.seconds(1), await store.idleTimeout / 4))
            try await Task.sleep(for: period)
            await rateLimiter.sweep(now: EventLoop.now())
            let expired = await store.expire(now: EventLoop.now())
            for flow in expired {
                logger.debug("flow expired", ["client": flow.client, "server": flow.server.address,
                                              "requests": flow.requests.load(ordering: .relaxed),
                                              "replies": flow.replies.load(ordering: .relaxed)])
            }
            let unlogged = shortageLog.flush()
            if unlogged > 0 {
                logger.warn("more datagrams dropped: relayd was out of a local resource", ["suppressed": unlogged])
            }
        }
    }

    /// Receives client datagrams on one loop's socket, a batch (`recvmmsg`) at a time, and relays each to
    /// its flow's server. The batches are allocated once per socket: no allocation per datagram.
    ///
    /// The loop's flows belong to it: their reply tasks run in its task group, and when it ends (the
    /// socket aborted on shutdown, a receive error, or cancellation because another loop failed) it
    /// closes them and waits for those tasks before returning.
    private func receiveLoop(_ socket: UDPSocket, _ context: ServiceContext) async throws {
        let table = FlowTable()
        let batch = DatagramBatch()
        // Replies of every flow of this loop are received into, and sent from, this one batch: each
        // reply task uses it between two awaits, on this loop's thread, so they never overlap.
        let replies = LoopConfined(DatagramBatch())
        let loop = socket.loop
        try await withThrowingDiscardingTaskGroup { replyTasks in
            // Wakes every reply task (its socket aborted); the group then waits for them.
            defer { table.closeAll(context.shutdown.isTriggered ? .shutdown : .error) }
            while true {
                do {
                    _ = try await socket.receive(into: batch)
                } catch IOError.closed {
                    return
                }
                if failureInjected.load(ordering: .relaxed), let error = takeInjectedFailure() { throw error }
                let now = EventLoop.now()
                // `packets_per_ip` first, for the whole batch under one lock: a flood costs nothing more.
                let limited = rateLimiter.admitPackets(in: batch, now: now)
                if limited > 0 { counters.droppedRateLimited.add(limited, ordering: .relaxed) }
                // Consecutive datagrams of one flow are a run, sent on with one `sendmmsg`: a client that
                // sends fast fills a batch with its own datagrams, and they cost the kernel one call.
                var run: UDPFlow?
                var runStart = 0
                for index in 0..<batch.count {
                    let datagram = batch[index]
                    if let open = run, !datagram.truncated, let client = datagram.peer, continues(open, with: client) {
                        continue
                    }
                    if let open = run {
                        UDPRelay.forward(batch, from: runStart, to: index, on: open, segmenting: segmentation,
                                         counters: counters, logger: logger)
                        run = nil
                    }
                    guard let client = datagram.peer else { continue }
                    if datagram.truncated {
                        counters.droppedTruncated.add(1, ordering: .relaxed)
                        continue
                    }
                    guard let (flow, opened) = flow(for: client, on: socket, table: table, now: now) else { continue }
                    if opened {
                        replyTasks.addTask(executorPreference: loop) {
                            await self.serveReplies(of: flow, listener: socket, replies: replies)
                        }
                    }
                    flow.touch(now)
                    run = flow
                    runStart = index
                }
                if let open = run {
                    UDPRelay.forward(batch, from: runStart, to: batch.count, on: open, segmenting: segmentation,
                                     counters: counters, logger: logger)
                }
            }
        }
    }

    /// Whether a datagram from `client` joins the run being gathered for `flow`: it is the flow's client and
    /// the flow is still open, so the table need not be asked again.
    @inline(__always)
    private func continues(_ flow: UDPFlow, with client: SocketAddress) -> Bool {
        flow.client == client && !flow.unreachable.load(ordering: .relaxed) && !flow.closed.load(ordering: .relaxed)
    }

    /// The open flow of `client`, opening one (or moving one whose server became unreachable) as needed;
    /// `opened` says the flow is new and needs its reply task.
    private func flow(for client: SocketAddress, on socket: UDPSocket, table: FlowTable, now: UInt64)
        -> (flow: UDPFlow, opened: Bool)?
    {
        guard let existing = table.lookup(client) else {
            guard admitNewFlow(from: client, now: now) else { return nil }
            return openFlow(for: client, on: socket, table: table, now: now, avoiding: nil).map { ($0, true) }
        }
        let moved = existing.unreachable.load(ordering: .relaxed)
        guard moved || existing.closed.load(ordering: .relaxed) else { return (existing, false) }
        // A flow moved off an unreachable server is the same flow to the client: not a new one to rate-limit.
        if !moved, !admitNewFlow(from: client, now: now) { return nil }
        existing.close(moved ? .moved : .error)
        store.remove(existing)
        if moved { counters.flowsMoved.add(1, ordering: .relaxed) }
        return openFlow(for: client, on: socket, table: table, now: now, avoiding: moved ? existing.server : nil)
            .map { ($0, true) }
    }

    /// Whether `rate_limit` (`per_ip`, `total`) lets `client` open a flow now; a datagram it refuses is counted
    /// as dropped.
    private func admitNewFlow(from client: SocketAddress, now: UInt64) -> Bool {
        guard case .limited = rateLimiter.admitNew(ip: client.ipKey, now: now) else { return true }
        counters.droppedRateLimited.add(1, ordering: .relaxed)
        return false
    }

    /// Opens a flow for `client`: nil when refused or no server is left. Its reply task is the caller's
    /// to start.
    private func openFlow(for client: SocketAddress, on listener: UDPSocket, table: FlowTable, now: UInt64,
                          avoiding failed: ServerHandle?) -> UDPFlow? {
        let excluded = failed.map { [$0] } ?? []
        var (group, responses) = settings.withLock { $0 }
        if let routes { group = routes.pick(client: client, hello: nil).group }
        guard let server = group.pick(client: client.ipKey, excluding: excluded) else {
            counters.droppedNoServer.add(1, ordering: .relaxed)
            return nil
        }
        let backendSocket: UDPSocket
        do {
            backendSocket = try openBackendSocket(server.address, listener.loop)
        } catch {
            if let resource = error.origin.localResource {
                // relayd's own shortage: the server is not told (no Scoreboard sample), nor counted as down.
                droppedForShortage(of: resource, error: error, server: server)
            } else {
                counters.droppedNoServer.add(1, ordering: .relaxed)
                logger.warn("cannot open a socket to the server", ["server": server.address, "error": error])
            }
            return nil
        }
        let flow = UDPFlow(client: client, server: server, group: group, responses: responses, socket: backendSocket,
                           table: table, now: now, proxyPrefix: proxyPrefix(for: group, client: client))
        guard store.admit(flow) else {
            backendSocket.close()
            counters.droppedFlowLimit.add(1, ordering: .relaxed)
            return nil
        }
        table.insert(flow)
        server.inFlight.add(1, ordering: .relaxed)
        server.connectionsTotal.add(1, ordering: .relaxed)
        counters.flowsOpened.add(1, ordering: .relaxed)
        return flow
    }

    /// The PROXY protocol version 2 header (`DGRAM`) that `group` wants before each datagram of a flow from
    /// `client` (`send_proxy: "v2"`), nil when none: the client and the listener's address.
    private func proxyPrefix(for group: BackendGroup, client: SocketAddress) -> [UInt8]? {
        guard group.config.sendProxy == .v2 else { return nil }
        let addresses = ProxyHeader.Addresses(source: client.addressBytes, sourcePort: client.port,
                                              destination: address.addressBytes, destinationPort: address.port)
        return ProxyHeader.forGroup(group.config, transport: .datagram, addresses: addresses, serverName: nil)
    }

    /// Counts a datagram dropped because opening its flow's socket ran into relayd's own limits, and logs
    /// what ran out and what to do about it, at most once a second.
    private func droppedForShortage(of resource: LocalResource, error: IOError, server: ServerHandle) {
        counters.droppedLocalResources.add(1, ordering: .relaxed)
        guard case let .emit(suppressed) = shortageLog.event() else { return }
        var fields = [("resource", resource.rawValue), ("error", error.description),
                      ("server", server.address.description), ("hint", resource.hint)]
        if suppressed > 0 { fields.append(("suppressed", String(suppressed))) }
        logger.log(.warn, "datagram dropped: relayd is out of \(resource.phrase) (no server is blamed)", fields: fields)
    }

    /// Relays a flow's replies (`UDPRelay.relayReplies`), then ends the flow: closes and forgets it unless it
    /// already closed, gives back its server slot and socket, and records it in the access log.
    ///
    /// A flow whose server answered with ICMP unreachable stays in the table (socket closed, marked
    /// `unreachable`) so the client's next datagram moves it to another server; idle expiry removes it if
    /// none comes.
    private func serveReplies(of flow: UDPFlow, listener: UDPSocket, replies: LoopConfined<DatagramBatch>) async {
        defer {
            flow.server.inFlight.subtract(1, ordering: .relaxed)
            flow.socket.close()
            if let accessLog {
                let duration = Duration.nanoseconds(Int64(clamping: EventLoop.now() &- flow.opened))
                accessLog.record(AccessLogEntry(
                    listener: name, proto: "udp", client: flow.client, server: flow.server.address,
                    bytesIn: flow.bytesUp.load(ordering: .relaxed), bytesOut: flow.bytesDown.load(ordering: .relaxed),
                    duration: duration, end: flow.end.description))
            }
        }
        await UDPRelay.relayReplies(of: flow, to: listener, through: replies.value, segmenting: segmentation,
                                    counters: counters, logger: logger)
        // Acquiring: a flow another thread closed is seen with the reason it gave, which the access log writes.
        if !flow.unreachable.load(ordering: .relaxed), !flow.closed.load(ordering: .acquiring) {
            let done = flow.responses > 0 && flow.replies.load(ordering: .relaxed) >= flow.responses
            flow.close(done ? .responses : .error)
            store.remove(flow)
        }
    }

    // MARK: - Test hooks

    /// The listening sockets of the run in progress (empty between runs), so tests can check that
    /// nothing uses a run's sockets once it has ended.
    var runningSockets: [UDPSocket] { running.withLock { $0 } }

    /// Makes the receive loop that gets the next batch throw `error` instead of relaying it, as a failing
    /// `recvmmsg` would, so tests can watch the supervisor restart this listener. Costs the receive loops
    /// one relaxed load per batch.
    func failNextReceive(with error: any Error) {
        injectedFailure.withLock { $0 = error }
        failureInjected.store(true, ordering: .releasing)
    }

    private func takeInjectedFailure() -> (any Error)? {
        guard failureInjected.exchange(false, ordering: .acquiring) else { return nil }
        return injectedFailure.withLock { error in
            defer { error = nil }
            return error
        }
    }
}
