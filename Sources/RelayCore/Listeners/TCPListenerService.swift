import RelayIO
import RelayProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener run by the supervisor: one `SO_REUSEPORT` socket per event loop, each accepting
/// on its own loop, and one task per connection pinned to the loop that accepted it.
///
/// The sockets are bound when the service is created, so the embedding code (and tests binding port
/// 0) learn the address before anything runs. If the accept loop fails, the supervisor restarts the
/// service, which binds again to the same address; established connections are untouched.
/// On graceful shutdown it stops accepting at once (closing the sockets, so the kernel refuses new
/// connections), lets open connections finish for up to the drain timeout, then cancels the rest.
public final class TCPListenerService: Service {
    public let name: String
    /// The address actually bound (with the OS-chosen port when the config said port 0).
    public let address: SocketAddress
    /// Counts and limits of this listener's connections.
    public let tracker: ConnectionTracker
    /// The `rate_limit` on new connections (`per_ip`, `total`), checked before any other admission.
    public let rateLimiter: RateLimiter
    /// Bytes, durations and endings of this listener's connections.
    public let stats = ListenerStats()
    /// What new connections get; a config reload may point the listener at another group. Read once per
    /// connection, so a connection keeps the group it started with.
    private let currentRole: SanitizerVisibleMutex<TCPConnectionRole>
    /// The idle and first-byte timeouts of new connections (`idle_timeout`, `first_byte_timeout`).
    private let currentTimeouts: SanitizerVisibleMutex<ConnectionTimeouts>
    /// Whether new connections start with a PROXY protocol header, and whose are believed (`accept_proxy`,
    /// `proxy_trusted`).
    private let currentProxy: SanitizerVisibleMutex<ProxyAcceptConfig>
    /// One warning a second at most when relayd runs short of its own resources.
    private let shortageLog = EventThrottle(limit: 1, window: .seconds(1))
    /// Access-log lines of refused connections, at most 10 a second per reason.
    private let refusalLines: [ConnectionRefusal: EventThrottle]
    let loops: [EventLoop]
    let backlog: Int32
    let options: TCPOptions
    /// Relay with `splice(2)` through a pipe per direction instead of pooled buffers.
    let splice: Bool
    let logger: Logger
    /// Where finished connections are recorded, when the access log is on.
    let accessLog: AccessLog?
    /// Sockets bound by `init` and not yet handed to a run; later runs bind anew.
    private let prebound: SanitizerVisibleMutex<[TCPListener]>

    public init(name: String, address requested: SocketAddress, role: TCPConnectionRole, loops: [EventLoop],
                maxConnections: Int, maxConnectionsPerIP: Int, backlog: Int32 = 1024,
                options: TCPOptions = TCPOptions(), splice: Bool = false, sharingAddress: Bool = false,
                timeouts: ConnectionTimeouts = .off, rateLimit: RateLimitConfig = .none, accessLog: AccessLog? = nil,
                acceptProxy: ProxyAcceptConfig = .off, logger: Logger) throws {
        self.accessLog = accessLog
        self.currentProxy = SanitizerVisibleMutex(acceptProxy)
        self.name = name
        self.splice = splice
        self.currentRole = SanitizerVisibleMutex(role)
        self.currentTimeouts = SanitizerVisibleMutex(timeouts)
        var refusalLines: [ConnectionRefusal: EventThrottle] = [:]
        for refusal in ConnectionRefusal.allCases { refusalLines[refusal] = EventThrottle(limit: 10, window: .seconds(1)) }
        self.refusalLines = refusalLines
        self.loops = loops
        self.backlog = backlog
        self.options = options
        self.logger = logger.module("listener").with(["listener": name])
        self.tracker = ConnectionTracker(maxConnections: maxConnections, maxPerIP: maxConnectionsPerIP)
        self.rateLimiter = RateLimiter(config: rateLimit)
        let sockets = try TCPListenerService.bind(name: name, address: requested, loops: loops, backlog: backlog,
                                                  options: options, sharing: sharingAddress)
        self.address = sockets[0].localAddress
        self.prebound = SanitizerVisibleMutex(sockets)
    }

    /// What new connections get.
    public var role: TCPConnectionRole { currentRole.withLock { $0 } }

    /// The timeouts new connections get.
    public var timeouts: ConnectionTimeouts { currentTimeouts.withLock { $0 } }

    /// Whether new connections start with a PROXY protocol header.
    public var acceptProxy: ProxyAcceptConfig { currentProxy.withLock { $0 } }

    /// Connections refused for `reason` since the listener was made: the tracker counts those over a limit,
    /// the rate limiter those over `rate_limit`, the stats those that ended without a server.
    func refusedCount(_ reason: ConnectionRefusal) -> Int {
        switch reason {
        case .maxConnections: tracker.refusedOverLimit.load(ordering: .relaxed)
        case .maxConnectionsPerIP: tracker.refusedPerIP.load(ordering: .relaxed)
        case .noBackend: Int(stats.ended(.noBackend).value)
        case .localResources: Int(stats.ended(.localResources).value)
        case .rateLimited: rateLimiter.limited(.perIP) + rateLimiter.limited(.total)
        case .badProxyHeader: Int(stats.ended(.badProxyHeader).value)
        }
    }

    /// Applies a reloaded config that keeps this listener's sockets: new connections go to `role` and are
    /// admitted under the new limits, rate limits and timeouts; connections already open keep their backend,
    /// their slot and their timeouts.
    public func update(role: TCPConnectionRole, maxConnections: Int, maxConnectionsPerIP: Int,
                       timeouts: ConnectionTimeouts? = nil, rateLimit: RateLimitConfig? = nil,
                       acceptProxy: ProxyAcceptConfig? = nil) async {
        currentRole.withLock { $0 = role }
        if let acceptProxy { currentProxy.withLock { $0 = acceptProxy } }
        if let timeouts { currentTimeouts.withLock { $0 = timeouts } }
        tracker.updateLimits(maxConnections: maxConnections, maxPerIP: maxConnectionsPerIP)
        if let rateLimit { await rateLimiter.update(rateLimit) }
    }

    /// Closes the sockets bound by `init` when the service will never run (a reload that was called off).
    func discard() {
        prebound.withLock { sockets in
            for socket in sockets { socket.close() }
            sockets.removeAll()
        }
    }

    /// Binds one socket per loop; the first picks the port when `address` asks for port 0.
    /// `sharing` skips the check that nobody holds the address: a reload rebinding an address this process
    /// already listens on binds beside the old sockets (`SO_REUSEPORT`) before closing them.
    static func bind(name: String, address: SocketAddress, loops: [EventLoop], backlog: Int32,
                     options: TCPOptions, sharing: Bool = false) throws -> [TCPListener] {
        var sockets: [TCPListener] = []
        var target = address
        do {
            if !sharing { try TCPListener.checkNotInUse(address) }
            for loop in loops {
                let socket = try TCPListener(bindingTo: target, on: loop, backlog: backlog, reusePort: true,
                                             options: options)
                target = socket.localAddress
                sockets.append(socket)
            }
        } catch {
            for socket in sockets { socket.close() }
            var hint = ""
            if error.errno == EADDRINUSE { hint = "; another process (or listener) uses this address: change `listen` or stop it" }
            if error.errno == EACCES { hint = "; ports below 1024 need privileges" }
            if error.errno == EADDRNOTAVAIL { hint = "; this machine has no such address" }
            throw ListenerError(listener: name, address: address.description, reason: "\(error)\(hint)")
        }
        return sockets
    }

    public func run(_ context: ServiceContext) async throws {
        let sockets = try prebound.withLock { sockets -> [TCPListener] in
            if sockets.isEmpty {
                return try TCPListenerService.bind(name: name, address: address, loops: loops, backlog: backlog,
                                                   options: options)
            }
            defer { sockets.removeAll() }
            return sockets
        }
        defer { for socket in sockets { socket.close() } }
        let stopAccepting = context.shutdown.onTrigger {
            for socket in sockets { socket.stop() }
        }
        defer { stopAccepting.cancel() }
        logger.info("listening", ["address": address, "loops": sockets.count, "attempt": context.attempt])

        // The sweep runs as long as this run does, through the drain too: draining connections keep their
        // timeouts.
        try await withThrowingTaskGroup(of: Void.self) { sweeper in
            sweeper.addTask { await self.sweepLoop() }
            defer { sweeper.cancelAll() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for socket in sockets {
                    group.addTask(executorPreference: socket.loop) { try await self.acceptLoop(socket) }
                }
                // The first accept loop to fail ends the group at once (cancelling the others), so the
                // supervisor restarts the listener instead of waiting on loops that still run.
                while try await group.next() != nil {}
            }
            guard context.shutdown.isTriggered else {
                throw ListenerError(listener: name, address: address.description,
                                    reason: "accept loop ended unexpectedly")
            }
            for socket in sockets { socket.close() }
            await drain(timeout: context.drainTimeout)
        }
    }

    /// Closes connections whose idle or first-byte timeout passed, a few times per shortest timeout (at
    /// most once a second), writes out the counts of refusal lines the access log suppressed, and has the
    /// rate limiter forget the buckets of clients gone quiet.
    private func sweepLoop() async {
        while !Task.isCancelled {
            let period = timeouts.sweepPeriod
            guard (try? await Task.sleep(for: period)) != nil else { return }
            let now = EventLoop.now()
            let closed = tracker.sweepTimeouts(now: now)
            if closed > 0 { logger.debug("closed connections past their timeouts", ["connections": closed]) }
            flushSuppressedRefusals(now: now)
            await rateLimiter.sweep(now: now)
        }
    }

    private func drain(timeout: Duration) async {
        let open = tracker.active
        if open == 0 {
            logger.info("stopped accepting; no connections to drain")
            return
        }
        logger.info("stopped accepting; draining", ["connections": open, "timeout": DurationParser.format(timeout)])
        if await tracker.waitUntilIdle(timeout: timeout) {
            logger.info("drained")
            return
        }
        let left = tracker.active
        logger.warn("drain timeout passed; closing the connections left", ["connections": left])
        tracker.cancelAll()
        if !(await tracker.waitUntilIdle(timeout: .seconds(2))) {
            logger.error("connections still open after cancellation", ["connections": tracker.active])
        }
    }

    private func acceptLoop(_ socket: TCPListener) async throws {
        let loop = socket.loop
        let connections = socket.connections { [logger, address] error, backoff in
            logger.warn("accept paused: out of resources; retrying after back-off",
                        ["address": address, "error": error, "backoff": DurationParser.format(backoff),
                         "hint": "raise the open-files limit (ulimit -n) or lower max_connections"])
        }
        var burst = 0
        for try await accepted in connections {
            // Let the connections already accepted make progress between bursts of accepts, so a
            // flood of new connections cannot delay established ones (HAProxy's tune.maxaccept).
            burst += 1
            if burst == 16 {
                burst = 0
                await Task.yield()
            }
            // A trusted proxy's connections are limited by the client its PROXY header names, once read.
            let (proxied, inspect) = admissionPlan(for: accepted.peer)
            if !proxied, case let .limited(scope) = rateLimiter.admitNew(ip: accepted.peer.ipKey, now: EventLoop.now()) {
                accepted.refuse()
                logger.debug("connection refused", ["client": accepted.peer,
                                                    "reason": ConnectionRefusal.rateLimited.rawValue,
                                                    "scope": scope.rawValue])
                recordRefusal(.rateLimited, client: accepted.peer)
                continue
            }
            let ticket: ConnectionTracker.Ticket
            switch tracker.admit(accepted.peer, countingIP: !proxied) {
            case let .success(admitted):
                ticket = admitted
            case let .failure(refusal):
                accepted.refuse()
                logger.debug("connection refused", ["client": accepted.peer, "reason": refusal])
                recordRefusal(refusal == .overLimit ? .maxConnections : .maxConnectionsPerIP, client: accepted.peer)
                continue
            }
            let target = EventLoop.leastLoaded(preferring: loop, among: loops)
            target.connections.add(1, ordering: .relaxed)
            let timeouts = self.timeouts
            let activity = timeouts.isEnabled ? ConnectionActivity(accepted: EventLoop.now(), timeouts: timeouts) : nil
            let task = Task(executorPreference: target) { [self] in
                if inspect {
                    await self.serveInspected(accepted, on: target, activity: activity, ticket: ticket)
                } else {
                    await self.serve(accepted, on: target, activity: activity)
                }
                target.connections.subtract(1, ordering: .relaxed)
                self.tracker.finish(ticket)
            }
            tracker.attach(task, activity: activity, to: ticket)
        }
    }

    /// Writes the access-log line of a refused connection, unless this reason already had its 10 lines
    /// this second.
    private func recordRefusal(_ refusal: ConnectionRefusal, client: SocketAddress, server: SocketAddress? = nil,
                               error: String? = nil) {
        guard let accessLog, let throttle = refusalLines[refusal] else { return }
        guard case let .emit(suppressed) = throttle.event() else { return }
        if suppressed > 0 {
            accessLog.recordSuppressed(listener: name, proto: "tcp", end: refusal.rawValue, count: suppressed)
        }
        accessLog.record(AccessLogEntry(listener: name, proto: "tcp", client: client, server: server, bytesIn: 0,
                                        bytesOut: 0, duration: .zero, end: refusal.rawValue, error: error))
    }

    /// Writes the "N more suppressed" lines of reasons whose flood has ended.
    private func flushSuppressedRefusals(now: UInt64) {
        guard let accessLog else { return }
        for refusal in ConnectionRefusal.allCases {
            let suppressed = refusalLines[refusal]?.flush(now: now) ?? 0
            if suppressed > 0 {
                accessLog.recordSuppressed(listener: name, proto: "tcp", end: refusal.rawValue, count: suppressed)
            }
        }
    }

    /// Logs that relayd ran short of `resource`, at most once a second, with how many more times it did.
    private func reportShortage(_ resource: LocalResource, client: SocketAddress, error: String) {
        guard case let .emit(suppressed) = shortageLog.event() else { return }
        var fields: KeyValuePairs<String, any CustomStringConvertible> {
            ["resource": resource.rawValue, "client": client, "error": error, "hint": resource.hint,
             "suppressed": suppressed]
        }
        logger.warn("relayd is out of \(resource.phrase); refusing connections (no server is blamed)", fields)
    }

    /// What one connection did, for the access log and the metrics.
    struct ConnectionSummary {
        var server: SocketAddress?
        var bytesIn = 0
        var bytesOut = 0
        var end = ConnectionEnd.closed
        var error: String?

        init(server: SocketAddress? = nil, bytesIn: Int = 0, bytesOut: Int = 0, end: ConnectionEnd = .closed,
             error: String? = nil) {
            self.server = server
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
            self.end = end
            self.error = error
        }

        init(server: SocketAddress?, outcome: RelayOutcome) {
            self.init(server: server, bytesIn: outcome.bytesUp, bytesOut: outcome.bytesDown)
            switch (outcome.up, outcome.down) {
            case (.endOfStream, .endOfStream):
                end = .closed
            case let (.failed(reason), _), let (_, .failed(reason)):
                end = .error
                error = reason
            case (.cancelled, _), (_, .cancelled):
                end = .cancelled
            }
        }
    }

    /// Serves one connection, then records it in the access log.
    ///
    /// The connection's task keeps what its async functions hold for as long as it lives, idle or not: the
    /// async path here holds references and little else, and everything that only runs before or after the
    /// relay (opening, logging, the summary) is in synchronous functions, which use the thread's stack.
    @inline(never)
    private func serve(_ accepted: AcceptedSocket, on loop: EventLoop, activity: ConnectionActivity?) async {
        let start = EventLoop.now()
        let summary: ConnectionSummary
        switch open(accepted, on: loop) {
        case let .success(client):
            activity?.watch(client)
            // One call site each: every inlined call of `relay(to:)` would be a frame's worth more per connection.
            if let group = directGroup() {
                summary = await relay(client, to: group, peer: accepted.peer, on: loop, activity: activity)
            } else {
                summary = await echo(client, on: loop, activity: activity, clientRead: false)
            }
            activity?.release()
            client.close()
        case let .failure(refused):
            summary = refused.summary
        }
        record(summary, client: accepted.peer, start: start, activity: activity)
    }

    /// `serve` for a listener that reads a PROXY header (`accept_proxy`) or has `routes`: a task body of its own,
    /// so the frames of plain connections hold nothing for these features.
    @inline(never)
    private func serveInspected(_ accepted: AcceptedSocket, on loop: EventLoop, activity: ConnectionActivity?,
                                ticket: ConnectionTracker.Ticket) async {
        let start = EventLoop.now()
        let summary: Inspected
        switch open(accepted, on: loop) {
        case let .success(client):
            activity?.watch(client)
            summary = await relayInspected(client, peer: accepted.peer, ticket: ticket, start: start, on: loop,
                                           activity: activity)
            activity?.release()
            client.close()
        case let .failure(refused):
            summary = Inspected(refused.summary)
        }
        guard !summary.refused else { return }
        record(summary.summary, client: summary.client ?? accepted.peer, route: summary.route, start: start,
               activity: activity)
    }

    /// The group a plain connection goes to; nil for an echo listener. Routes added by a reload after the
    /// connection was accepted do not apply to it: it goes to the listener's backend.
    @inline(never)
    private func directGroup() -> BackendGroup? {
        switch role {
        case .echo, .http: nil
        case let .proxy(group): group
        case let .routed(routes): routes.fallback
        }
    }

    /// For a connection from `peer`, read once per accept: whether a PROXY header from it will be read (so its
    /// per-IP limits wait for the client the header names), and whether it goes through `serveInspected` (a
    /// PROXY header to read or to write, or routes to pick from).
    @inline(never)
    private func admissionPlan(for peer: SocketAddress) -> (proxied: Bool, inspect: Bool) {
        let proxy = acceptProxy
        if proxy.mode != .off { return (proxy.trusts(peer), true) }
        switch role {
        case .echo: return (false, false)
        case let .proxy(group): return (false, group.config.sendProxy != .off)
        case .routed, .http: return (false, true)
        }
    }

    /// A plain connection: straight to a server of `group`, nothing written before the client's bytes. Inlined into
    /// `serve`, whose one frame is what an idle plain connection keeps besides the bridge's.
    @inline(__always)
    private func relay(_ client: TCPConnection, to group: BackendGroup, peer: SocketAddress, on loop: EventLoop,
                       activity: ConnectionActivity?) async -> ConnectionSummary {
        let backend: TCPConnection
        let server: ServerHandle
        do {
            (backend, server) = try await group.connect(client: peer, on: loop, logger: logger)
        } catch {
            return unreachable(group, client: peer, error: error)
        }
        return await relay(client, through: backend, server: server, group: group, peer: peer, clientRead: false,
                           on: loop, activity: activity)
    }

    /// What `relayInspected` did: the summary, the client a PROXY header named and the route that picked the
    /// group (for the access log), or that the connection was refused once its client was known.
    struct Inspected {
        var summary: ConnectionSummary
        var client: SocketAddress?
        var route: String?
        var refused = false

        init(_ summary: ConnectionSummary, client: SocketAddress? = nil, route: String? = nil, refused: Bool = false) {
            self.summary = summary
            self.client = client
            self.route = route
            self.refused = refused
        }
    }

    /// Where a connection comes from when a trusted proxy's PROXY header said (or a route read the ClientHello).
    /// A class, so the frames of connections that have none hold one reference.
    final class Origin: Sendable {
        /// The client: balancing (hash), the access log and the header relayd sends on use it.
        let client: SocketAddress
        /// The address the client connected to, when a PROXY header said so.
        let destination: SocketAddress?
        /// Whether the client socket was read (or peeked) before the relay, so the relay must read before waiting.
        let clientRead: Bool
        /// The TLS server name of the ClientHello, when a route read it.
        let serverName: String?

        init(client: SocketAddress, destination: SocketAddress? = nil, clientRead: Bool, serverName: String? = nil) {
            self.client = client
            self.destination = destination
            self.clientRead = clientRead
            self.serverName = serverName
        }

        func reading(serverName: String?) -> Origin {
            Origin(client: client, destination: destination, clientRead: true, serverName: serverName)
        }
    }

    /// A connection of a listener that reads a PROXY header (`accept_proxy`) or has `routes`: the header, the
    /// admission for the client it names, the route, then the relay.
    @inline(never)
    private func relayInspected(_ client: TCPConnection, peer: SocketAddress, ticket: ConnectionTracker.Ticket,
                                start: UInt64, on loop: EventLoop, activity: ConnectionActivity?) async -> Inspected
    {
        // The reading and deciding happen in a callee: this frame, kept for the whole relay, holds one reference.
        let decision = await inspect(client, peer: peer, ticket: ticket, start: start, on: loop)
        guard let relayTo = decision.relayTo else { return decision.finished }
        let origin = decision.origin
        let summary: ConnectionSummary
        if let gateway = relayTo.gateway {
            let (bytesIn, bytesOut) = await gateway.serve(client, peer: origin.client, on: loop, activity: activity)
            summary = ConnectionSummary(bytesIn: bytesIn, bytesOut: bytesOut)
        } else if let group = relayTo.group {
            summary = await relay(client, to: group, peer: origin.client, origin: origin, on: loop, activity: activity)
        } else {
            summary = await echo(client, on: loop, activity: activity, clientRead: origin.clientRead)
        }
        return Inspected(summary, client: origin.client, route: relayTo.route)
    }

    /// What `inspect` decided: where to relay (a group, or echo when it is nil), for which origin, by which route;
    /// or how the connection already ended.
    final class InspectDecision: Sendable {
        struct RelayTo: Sendable {
            let group: BackendGroup?
            let route: String?
            /// An http listener's gateway: the connection is served request by request.
            var gateway: HTTPGateway?
        }

        let origin: Origin
        let relayTo: RelayTo?
        let finished: Inspected

        init(origin: Origin, relayTo: RelayTo?, finished: Inspected = Inspected(ConnectionSummary())) {
            self.origin = origin
            self.relayTo = relayTo
            self.finished = finished
        }
    }

    /// The PROXY header (and the admission for the client it names), then the route (reading the ClientHello when a
    /// route needs it).
    @inline(never)
    private func inspect(_ client: TCPConnection, peer: SocketAddress, ticket: ConnectionTracker.Ticket,
                         start: UInt64, on loop: EventLoop) async -> InspectDecision {
        var origin = Origin(client: peer, clientRead: false)
        let proxy = acceptProxy
        switch proxy.mode == .off ? false : admitProxy(proxy, peer: peer) {
        case true?:
            let outcome = await ProxyHeaderReader.read(from: client, optional: proxy.mode == .optional,
                                                       deadline: proxyDeadline(start), pool: loop.buffers)
            let summary = proxied(outcome, origin: &origin)
            guard summary.end == .closed, summary.error == nil else {
                return InspectDecision(origin: origin, relayTo: nil, finished: Inspected(summary, client: origin.client))
            }
            guard admitProxied(origin.client, ticket: ticket) else {
                return InspectDecision(origin: origin, relayTo: nil, finished: Inspected(summary, refused: true))
            }
        case false?:
            // No header expected (or none believed from this peer): the bytes go to the server untouched.
            break
        case nil:
            let refused = ConnectionSummary(end: .badProxyHeader, error: Self.untrustedMessage(peer))
            return InspectDecision(origin: origin, relayTo: nil, finished: Inspected(refused))
        }
        switch role {
        case .echo:
            return InspectDecision(origin: origin, relayTo: .init(group: nil, route: nil))
        case let .http(gateway):
            return InspectDecision(origin: origin, relayTo: .init(group: nil, route: nil, gateway: gateway))
        case let .proxy(group):
            return InspectDecision(origin: origin, relayTo: .init(group: group, route: nil))
        case let .routed(routes):
            var hello: TLSClientHello?
            if routes.readsHello {
                hello = await TLSHelloReader.read(from: client, deadline: helloDeadline(), pool: loop.buffers)
                origin = origin.reading(serverName: hello?.serverName)
            }
            let (route, group) = routes.pick(client: origin.client, hello: hello)
            return InspectDecision(origin: origin, relayTo: .init(group: group, route: route))
        }
    }

    /// The admission left for after the header: `rate_limit` and `max_connections_per_ip` for the client it named
    /// (the peer itself when it sent none). False when refused: counted, logged, and the connection to be closed.
    @inline(never)
    private func admitProxied(_ client: SocketAddress, ticket: ConnectionTracker.Ticket) -> Bool {
        let refusal: ConnectionRefusal
        if case let .limited(scope) = rateLimiter.admitNew(ip: client.ipKey, now: EventLoop.now()) {
            refusal = .rateLimited
            logger.debug("connection refused", ["client": client, "reason": refusal.rawValue, "scope": scope.rawValue])
        } else if !tracker.claimPerIP(ticket, ip: client.ipKey) {
            refusal = .maxConnectionsPerIP
            logger.debug("connection refused", ["client": client, "reason": refusal.rawValue])
        } else {
            return true
        }
        recordRefusal(refusal, client: client)
        return false
    }

    /// Whether to read a PROXY header from `peer` (true: trusted; false: untrusted but optional, so the bytes
    /// are relayed untouched; nil: refuse, the header is required and `peer` is not trusted).
    @inline(never)
    private func admitProxy(_ proxy: ProxyAcceptConfig, peer: SocketAddress) -> Bool? {
        if proxy.trusts(peer) { return true }
        if proxy.mode == .optional { return false }
        logger.debug("connection refused", ["client": peer, "reason": ConnectionEnd.badProxyHeader.rawValue,
                                            "error": Self.untrustedMessage(peer)])
        return nil
    }

    static func untrustedMessage(_ peer: SocketAddress) -> String {
        "\(peer.ip) may not send a PROXY header (not in proxy_trusted)"
    }

    private func proxyDeadline(_ start: UInt64) -> UInt64 {
        let firstByte = timeouts.firstByte
        let wait = firstByte > .zero ? firstByte : ProxyAcceptConfig.defaultTimeout
        return start &+ wait.nanosecondsClamped
    }

    /// Applies what the PROXY header reader found: the client's address, or why the connection ends.
    @inline(never)
    private func proxied(_ outcome: ProxyHeaderReader.Outcome, origin: inout Origin) -> ConnectionSummary {
        switch outcome {
        case let .header(header):
            if header.command == .proxy, let source = header.addresses.source,
               let client = SocketAddress(addressBytes: source.address, port: source.port) {
                let destination = header.addresses.destination.flatMap {
                    SocketAddress(addressBytes: $0.address, port: $0.port)
                }
                origin = Origin(client: client, destination: destination, clientRead: true)
            } else {
                origin = Origin(client: origin.client, clientRead: true)
            }
            stats.proxyHeaders.increment()
            return ConnectionSummary()
        case .absent:
            origin = Origin(client: origin.client, clientRead: true)
            return ConnectionSummary()
        case .closed:
            return ConnectionSummary(end: .closed, error: "client closed before its PROXY header was whole")
        case let .refused(reason):
            logger.debug("connection refused", ["client": origin.client, "reason": ConnectionEnd.badProxyHeader.rawValue,
                                                "error": reason])
            return ConnectionSummary(end: .badProxyHeader, error: reason)
        case .cancelled:
            return ConnectionSummary(end: .cancelled)
        }
    }

    /// The summary of a connection that ended before it was relayed, as an `Error` for `Result`.
    private struct Unserved: Error {
        let summary: ConnectionSummary
    }

    /// Registers the accepted socket in its loop; on failure, says why (and logs it).
    @inline(never)
    private func open(_ accepted: AcceptedSocket, on loop: EventLoop) -> Result<TCPConnection, Unserved> {
        do {
            return .success(try TCPConnection(adopting: accepted, on: loop))
        } catch {
            let text = String(describing: error)
            if let resource = error.origin.localResource {
                reportShortage(resource, client: accepted.peer, error: text)
                return .failure(Unserved(summary: ConnectionSummary(end: .localResources, error: text)))
            }
            logger.warn("could not register accepted connection", ["client": accepted.peer, "error": text])
            return .failure(Unserved(summary: ConnectionSummary(end: .error, error: text)))
        }
    }

    /// Counts the finished connection and writes its access-log line.
    @inline(never)
    private func record(_ summary: ConnectionSummary, client: SocketAddress, route: String? = nil, start: UInt64,
                        activity: ConnectionActivity?) {
        var summary = summary
        if let expiry = activity?.expiry, summary.end == .cancelled || summary.end == .closed {
            summary.end = expiry
        }
        let duration = Duration.nanoseconds(Int64(EventLoop.now() &- start))
        stats.finished(end: summary.end, duration: duration)
        if let refusal = ConnectionRefusal(summary.end) {
            recordRefusal(refusal, client: client, server: summary.server, error: summary.error)
        } else if let accessLog {
            var entry = AccessLogEntry(listener: name, proto: "tcp", client: client, server: summary.server,
                                       bytesIn: summary.bytesIn, bytesOut: summary.bytesOut,
                                       duration: duration, end: summary.end.rawValue, error: summary.error)
            entry.route = route
            accessLog.record(entry)
        }
    }

    /// Relays to a server of `group` for `client` (the peer, or the client its PROXY header named); `origin` when a
    /// PROXY header or a route read the client's first bytes. The plain path has its own, inlined twin: this one's
    /// PROXY header step would grow the frame every idle plain connection keeps.
    @inline(never)
    private func relay(_ client: TCPConnection, to group: BackendGroup, peer: SocketAddress, origin: Origin?,
                       on loop: EventLoop, activity: ConnectionActivity?) async -> ConnectionSummary {
        let backend: TCPConnection
        let server: ServerHandle
        do {
            (backend, server) = try await group.connect(client: peer, on: loop, logger: logger)
        } catch {
            return unreachable(group, client: peer, error: error)
        }
        if group.config.sendProxy != .off, let failed = sendProxyHeader(to: backend, server: server, group: group,
                                                                        client: client, peer: peer, origin: origin) {
            return failed
        }
        return await relay(client, through: backend, server: server, group: group, peer: peer,
                           clientRead: origin?.clientRead ?? false, on: loop, activity: activity)
    }

    /// The relay once the server's connection is open, and its release.
    @inline(__always)
    private func relay(_ client: TCPConnection, through backend: TCPConnection, server: ServerHandle,
                       group: BackendGroup, peer: SocketAddress, clientRead: Bool, on loop: EventLoop,
                       activity: ConnectionActivity?) async -> ConnectionSummary {
        activity?.watch(backend)
        let outcome = await TCPRelay.run(client: client, backend: backend, pool: loop.buffers, splice: splice,
                                         bytesUp: stats.bytesIn, bytesDown: stats.bytesOut, activity: activity,
                                         clientRead: clientRead) {
            group.report(server, .firstByte($0))
        }
        backend.close()
        group.release(server)
        return relayed(outcome, client: peer, server: server.address)
    }

    /// When a client's ClientHello must have arrived: `first_byte_timeout` from now, else `ListenerRoutes.helloTimeout`.
    private func helloDeadline() -> UInt64 {
        let firstByte = timeouts.firstByte
        return EventLoop.now() &+ (firstByte > .zero ? firstByte : ListenerRoutes.helloTimeout).nanosecondsClamped
    }

    /// Writes `group`'s PROXY header first on a new connection to `server` (whose send buffer is empty, so it goes
    /// whole or the connection is dead); on failure closes it and gives the summary of a connection no server took.
    @inline(never)
    private func sendProxyHeader(to backend: TCPConnection, server: ServerHandle, group: BackendGroup,
                                 client: TCPConnection, peer: SocketAddress, origin: Origin?) -> ConnectionSummary? {
        guard let header = proxyHeader(for: group, client: client, peer: peer, origin: origin),
              !BackendGroup.writeHeader(header, to: backend) else { return nil }
        backend.close()
        group.release(server)
        let error = IOError.syscall(call: "send (PROXY header)", errno: EPIPE)
        group.report(server, .connectFailed(error.description))
        return unreachable(group, client: peer, error: BackendGroup.Unavailable(
            group: group.name, failures: [BackendGroup.AttemptFailure(server: server.address, error: error.description)]))
    }

    /// The PROXY header `group` wants written first on the connection to its server, nil when it wants none:
    /// the client and the address it connected to (a header relayd read says which; else the socket's own).
    @inline(never)
    private func proxyHeader(for group: BackendGroup, client: TCPConnection, peer: SocketAddress, origin: Origin?)
        -> [UInt8]?
    {
        guard group.config.sendProxy != .off else { return nil }
        let source = peer
        let destination = origin?.destination ?? (try? client.localAddress()) ?? address
        let addresses = ProxyHeader.Addresses(
            source: source.addressBytes, sourcePort: source.port,
            destination: destination.addressBytes, destinationPort: destination.port)
        return ProxyHeader.forGroup(group.config, transport: .stream, addresses: addresses,
                                    serverName: origin?.serverName)
    }

    /// The echo role: the client's bytes go back to it.
    private func echo(_ client: TCPConnection, on loop: EventLoop, activity: ConnectionActivity?,
                      clientRead: Bool) async -> ConnectionSummary
    {
        let state = activity.map { RelayState(activity: $0) }
        let (bytes, ending) = await TCPRelay.pump(from: client, to: client, pool: loop.buffers, state: state,
                                                  freshlyRegistered: !clientRead, counter: stats.bytesIn)
        stats.bytesOut.increment(by: UInt64(bytes))
        return ConnectionSummary(server: nil, outcome: RelayOutcome(bytesUp: bytes, bytesDown: bytes, up: ending,
                                                                    down: ending))
    }

    /// The summary (and the log line) of a connection no server of `group` accepted.
    @inline(never)
    private func unreachable(_ group: BackendGroup, client: SocketAddress, error: any Error) -> ConnectionSummary {
        if let shortage = error as? BackendGroup.LocalShortage {
            reportShortage(shortage.resource, client: client, error: String(describing: shortage.error))
            return ConnectionSummary(end: .localResources, error: shortage.description)
        }
        let text = String(describing: error)
        logger.warn("no backend reachable; closing client connection",
                    ["client": client, "backend": group.name, "error": text])
        return ConnectionSummary(end: .noBackend, error: text)
    }

    /// The summary of a relayed connection, and its debug line.
    @inline(never)
    private func relayed(_ outcome: RelayOutcome, client: SocketAddress, server: SocketAddress) -> ConnectionSummary {
        logger.debug("connection closed", ["client": client, "server": server,
                                           "bytes_up": outcome.bytesUp, "bytes_down": outcome.bytesDown])
        return ConnectionSummary(server: server, outcome: outcome)
    }
}
