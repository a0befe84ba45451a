import RelayIO

/// relayd as a library: the event loops, the listeners and the supervisor that runs them.
///
/// `init` validates the wiring and binds every listener, so bind errors surface before anything runs
/// and tests that listen on port 0 can read the chosen ports with `address(of:)` before `run()`.
/// `run()` returns after a graceful `shutdown()` has drained; it throws when the supervisor gives up
/// on a failing component. `reload(to:)` applies a new config as a diff while everything runs.
public final class RelayServer: Sendable {
    /// The event loops every socket of this server lives on.
    public let loops: EventLoopGroup
    /// Runs and restarts the listeners.
    public let supervisor: Supervisor
    /// The file the config was read from; `reload()` reads it again. nil for a config given as a value.
    public let configPath: String?
    let logger: Logger
    /// Where finished connections and flows are recorded (`log.access`); nil when off.
    public let accessLog: AccessLog?
    /// Every metric, rendered for Prometheus at `metrics.listen` and the admin API's `/metrics`.
    public let metrics = MetricsRegistry()
    /// Lets the admin and metrics services reach this server without owning it.
    let reference = ServerReference()
    /// What runs now; replaced as a whole by each reload.
    let runtime: SanitizerVisibleMutex<Runtime>
    /// Runs one reload at a time, in the order they were asked for.
    let reloads = ReloadQueue()
    /// The cluster as this node sees it, read without awaiting (standalone when `cluster.mode` is off).
    public let cluster: ClusterView
    /// Membership and leadership when `cluster.mode` is static or etcd.
    public let clusterManager: ClusterManager?

    /// The components built from one config.
    struct Runtime {
        var config: RelayConfig
        var tcpListeners: [String: TCPListenerService] = [:]
        var udpListeners: [String: UDPListenerService] = [:]
        var reliableListeners: [String: ReliableUDPListenerService] = [:]
        /// Multipath client and server listeners (docs/multipath.md).
        var multipathClients: [String: MultipathClientService] = [:]
        var multipathServers: [String: MultipathServerService] = [:]
        var backendGroups: [String: BackendGroup] = [:]
        /// The admin API (`admin.listen`), when configured.
        var admin: HTTPServerService?
        /// The Prometheus endpoint (`metrics.listen`), when configured.
        var metricsEndpoint: HTTPServerService?
        /// 1 for the config the server started with, +1 for each applied reload.
        var generation = 1
        var reloadsSucceeded = 0
        var reloadsFailed = 0
        var lastReload: ReloadResult?
        /// When the running config was loaded (start or last applied reload), seconds since 1970.
        var loadedAt = WallClock.seconds()
    }

    /// When the server was created, seconds since 1970.
    public let startedAt = WallClock.seconds()
    /// Where the daemon's log lines go, reopened by each reload (`log.output`); nil when the embedder chose.
    let logOutput: LogOutput?
    /// systemd's notify socket (`Type=notify`, watchdog), when relayd was started with one.
    let notifier: SystemdNotifier?

    /// Everything that runs now, in one consistent copy.
    var runtimeSnapshot: Runtime { runtime.withLock { $0 } }

    /// `logOutput` is where `logger` writes, when the config chooses it (`log.output`): reloads reopen it.
    public init(config: RelayConfig, configPath: String? = nil, logger: Logger,
                restartPolicy: RestartPolicy = RestartPolicy(), logOutput: LogOutput? = nil,
                notifier: SystemdNotifier? = nil) throws {
        self.logger = logger
        self.logOutput = logOutput
        self.notifier = notifier
        self.configPath = configPath
        let accessLog = try Self.makeAccessLog(config.log)
        self.accessLog = accessLog
        let loops = try EventLoopGroup(loops: config.io.loops, bufferSize: config.io.bufferSize)
        var runtime = Runtime(config: config)
        let cluster = ClusterView()
        var clusterManager: ClusterManager?
        do {
            if config.cluster.mode != .off {
                clusterManager = try ClusterManager(config: config.cluster, reference: reference, loop: loops.next(),
                                                    view: cluster, logger: logger)
            }
            for (name, backend) in config.backends.sorted(by: { $0.key < $1.key }) {
                runtime.backendGroups[name] = try Self.makeGroup(name: name, config: backend, logger: logger)
            }
            for listener in config.listeners {
                switch try Self.makeListener(listener, groups: runtime.backendGroups, io: config.io, loops: loops,
                                             sharing: false, accessLog: accessLog, logger: logger) {
                case let .tcp(service): runtime.tcpListeners[listener.name] = service
                case let .udp(service): runtime.udpListeners[listener.name] = service
                case let .reliable(service): runtime.reliableListeners[listener.name] = service
                case let .multipathClient(service): runtime.multipathClients[listener.name] = service
                case let .multipathServer(service): runtime.multipathServers[listener.name] = service
                }
            }
            runtime.admin = try Self.makeAdmin(config.admin, reference: reference, loops: loops, sharing: false,
                                               logger: logger)
            runtime.metricsEndpoint = try Self.makeMetricsEndpoint(config.metrics, reference: reference, loops: loops,
                                                                   sharing: false, logger: logger)
        } catch {
            clusterManager?.discard()
            runtime.admin?.discard()
            for service in runtime.tcpListeners.values { service.discard() }
            for service in runtime.udpListeners.values { service.discard() }
            for service in runtime.reliableListeners.values { service.discard() }
            for service in runtime.multipathClients.values { service.discard() }
            for service in runtime.multipathServers.values { service.discard() }
            loops.shutdown()
            throw error
        }
        self.loops = loops
        self.cluster = cluster
        self.clusterManager = clusterManager
        // Backend groups first: the listeners depend on what they learn.
        var ordered: [any Service] = runtime.backendGroups.keys.sorted().map {
            BackendGroupService(group: runtime.backendGroups[$0]!, loops: loops, logger: logger, cluster: cluster)
        }
        if let clusterManager { ordered.append(clusterManager) }
        ordered += config.listeners.flatMap { listener -> [any Service] in
            if let client = runtime.multipathClients[listener.name] { return [client.monitor, client] }
            let service: (any Service)? = runtime.tcpListeners[listener.name] ?? runtime.udpListeners[listener.name]
                ?? runtime.reliableListeners[listener.name] ?? runtime.multipathServers[listener.name]
            return service.map { [$0] } ?? []
        }
        ordered += [runtime.admin, runtime.metricsEndpoint].compactMap { $0 }
        self.runtime = SanitizerVisibleMutex(runtime)
        self.supervisor = Supervisor(services: ordered, policy: restartPolicy, drainTimeout: config.drainTimeout,
                                     logger: logger)
        reference.set(self)
    }

    /// The admin API service, bound, when `admin.listen` is set.
    static func makeAdmin(_ config: AdminConfig, reference: ServerReference, loops: EventLoopGroup, sharing: Bool,
                          logger: Logger) throws -> HTTPServerService? {
        guard let listen = config.listen else { return nil }
        let api = AdminAPI(reference: reference)
        return try HTTPServerService(name: "admin", address: try SocketAddress(ip: listen.host, port: listen.port),
                                     loop: loops.next(), sharingAddress: sharing, logger: logger) { request, peer in
            await api.handle(request, peer: peer)
        }
    }

    /// The Prometheus endpoint service, bound, when `metrics.listen` is set.
    static func makeMetricsEndpoint(_ config: MetricsConfig, reference: ServerReference, loops: EventLoopGroup,
                                    sharing: Bool, logger: Logger) throws -> HTTPServerService? {
        guard let listen = config.listen else { return nil }
        let endpoint = MetricsEndpoint(reference: reference)
        return try HTTPServerService(name: "metrics", address: try SocketAddress(ip: listen.host, port: listen.port),
                                     loop: loops.next(), sharingAddress: sharing, logger: logger) { request, peer in
            await endpoint.handle(request, peer: peer)
        }
    }

    /// The bound address of the admin API, when it runs.
    public var adminAddress: SocketAddress? { runtime.withLock { $0.admin?.address } }
    /// The bound address of the Prometheus endpoint, when it runs.
    public var metricsAddress: SocketAddress? { runtime.withLock { $0.metricsEndpoint?.address } }

    /// Puts the collectors in the registry (once, when the server starts running).
    func registerMetrics() async {
        await metrics.register(ProcessMetrics(), key: "process")
        await metrics.register(BuildInfoCollector(version: RelaydVersion.current), key: "build")
        let reference = self.reference
        await metrics.register(ClosureCollector { await reference.server?.collectMetrics() ?? [] }, key: "relayd")
        await metrics.register(ClosureCollector { reference.server?.collectClusterMetrics() ?? [] }, key: "cluster")
    }

    /// The configuration running now (the last one applied).
    public var config: RelayConfig { runtime.withLock { $0.config } }
    /// The TCP listener services by listener name.
    public var tcpListeners: [String: TCPListenerService] { runtime.withLock { $0.tcpListeners } }
    /// The UDP listener services by listener name.
    public var udpListeners: [String: UDPListenerService] { runtime.withLock { $0.udpListeners } }
    /// The reliable-UDP listener services by listener name.
    public var reliableListeners: [String: ReliableUDPListenerService] { runtime.withLock { $0.reliableListeners } }
    /// The multipath-client listener services by listener name.
    public var multipathClients: [String: MultipathClientService] { runtime.withLock { $0.multipathClients } }
    /// The multipath-server listener services by listener name.
    public var multipathServers: [String: MultipathServerService] { runtime.withLock { $0.multipathServers } }
    /// The backend groups by name.
    public var backendGroups: [String: BackendGroup] { runtime.withLock { $0.backendGroups } }
    /// 1 for the starting config, +1 for each applied reload.
    public var generation: Int { runtime.withLock { $0.generation } }
    /// Reloads applied and refused so far, and the last outcome.
    public var reloadHistory: (succeeded: Int, failed: Int, last: ReloadResult?) {
        runtime.withLock { ($0.reloadsSucceeded, $0.reloadsFailed, $0.lastReload) }
    }

    /// The bound address of a listener (with the real port when the config asked for port 0).
    public func address(of listener: String) -> SocketAddress? {
        runtime.withLock {
            $0.tcpListeners[listener]?.address ?? $0.udpListeners[listener]?.address
                ?? $0.reliableListeners[listener]?.address
                ?? $0.multipathClients[listener]?.address ?? $0.multipathServers[listener]?.address
        }
    }

    /// Runs every component until `shutdown()` completes, then stops the event loops.
    public func run() async throws {
        defer { loops.shutdown() }
        let (tcp, udp, reliable) = runtime.withLock {
            ($0.tcpListeners.count, $0.udpListeners.count, $0.reliableListeners.count)
        }
        logger.info("relayd started", ["tcp_listeners": tcp, "udp_listeners": udp, "reliable_udp_listeners": reliable,
                                       "loops": loops.loops.count,
                                       "buffer_size": config.io.bufferSize])
        defer { accessLog?.flushNow() }
        await registerMetrics()
        if let admin = adminAddress { logger.info("admin API ready", ["address": admin, "dashboard": "http://\(admin)/dashboard"]) }
        if let address = metricsAddress {
            logger.info("metrics ready", ["address": address, "path": config.metrics.path])
        }
        // Every listener is bound (when the server was built): clients queue in the kernel from now on.
        notifier?.ready(status: statusLine)
        let watchdog = notifier.flatMap { notifier in
            notifier.watchdogInterval.map { interval in Task { await self.watchdog(notifier, every: interval) } }
        }
        defer { watchdog?.cancel() }
        try await supervisor.run()
        logger.info("relayd stopped")
    }

    /// Starts a graceful shutdown: stop accepting now, drain for up to `drain_timeout`, then close.
    public func shutdown() {
        notifier?.stopping()
        supervisor.shutdown()
    }

    /// The one-line summary systemd shows (`systemctl status`).
    var statusLine: String {
        let state = runtimeSnapshot
        let listeners = state.config.listeners.count
        return "serving \(listeners) listener\(listeners == 1 ? "" : "s"), \(state.config.backends.count) backend "
            + "group\(state.config.backends.count == 1 ? "" : "s"), config generation \(state.generation)"
    }

    /// Sends `WATCHDOG=1` every `interval` for as long as every event loop runs a job handed to it: a loop stuck
    /// in a busy loop or a blocking call stops the pings, and systemd restarts relayd.
    private func watchdog(_ notifier: SystemdNotifier, every interval: Duration) async {
        while !Task.isCancelled {
            for loop in loops.loops {
                await Task(executorPreference: loop) {}.value
            }
            notifier.send(["WATCHDOG=1"])
            notifier.watchdogPings.add(1, ordering: .relaxed)
            guard (try? await Task.sleep(for: interval)) != nil else { return }
        }
    }

    // MARK: - Building components

    /// A listener service of either kind.
    enum ListenerService {
        case tcp(TCPListenerService)
        case udp(UDPListenerService)
        case reliable(ReliableUDPListenerService)
        case multipathClient(MultipathClientService)
        case multipathServer(MultipathServerService)

        var service: any Service {
            switch self {
            case let .tcp(service): service
            case let .udp(service): service
            case let .reliable(service): service
            case let .multipathClient(service): service
            case let .multipathServer(service): service
            }
        }

        /// Closes sockets bound for a service that will never run (a reload that was called off).
        func discard() {
            switch self {
            case let .tcp(service): service.discard()
            case let .udp(service): service.discard()
            case let .reliable(service): service.discard()
            case let .multipathClient(service): service.discard()
            case let .multipathServer(service): service.discard()
            }
        }
    }

    /// The access log the `log` section asks for; an access file that cannot be opened is an error that names it.
    static func makeAccessLog(_ config: LogConfig) throws -> AccessLog? {
        guard config.access else { return nil }
        do {
            return try AccessLog(format: config.format, destination: config.accessFile.map { .file($0) } ?? .standardError)
        } catch {
            throw ListenerError(listener: "access log", address: config.accessFile ?? "stderr",
                                reason: "cannot open the access log file: \(error); check `log.access_file` and its directory's permissions")
        }
    }

    /// A group with the servers its config names by address; host names are resolved by its service.
    static func makeGroup(name: String, config: BackendConfig, logger: Logger) throws -> BackendGroup {
        var servers: [ServerHandle] = []
        var seen = Set<SocketAddress>()
        for entry in config.servers {
            if case let .address(endpoint) = entry.target {
                let address = try SocketAddress(ip: endpoint.host, port: endpoint.port)
                if seen.insert(address).inserted {
                    servers.append(ServerHandle(group: name, address: address, weight: entry.weight))
                }
            }
        }
        return BackendGroup(config: config, servers: servers, logger: logger)
    }

    /// Binds a listener's sockets. `sharing` binds beside sockets this process already holds on that address.
    static func makeListener(_ listener: ListenerConfig, groups: [String: BackendGroup], io: IOConfig,
                             loops: EventLoopGroup, sharing: Bool, accessLog: AccessLog?, logger: Logger) throws
        -> ListenerService
    {
        let address = try SocketAddress(ip: listener.listen.host, port: listener.listen.port)
        switch listener.proto {
        case .udp:
            let group = try group(for: listener, in: groups)
            let udp = try UDPListenerService(
                name: listener.name, address: address, group: group, loops: loops.loops,
                idleTimeout: listener.idleTimeout, maxFlows: listener.maxFlows, responses: listener.responses,
                rateLimit: listener.rateLimit, segmentation: io.udpSegmentation, accessLog: accessLog, logger: logger)
            udp.updateRoutes(try routes(for: listener, fallback: group, in: groups))
            return .udp(udp)
        case .reliableUDP:
            let group = try group(for: listener, in: groups)
            guard let reliable = listener.reliable else {
                throw ListenerError(listener: listener.name, address: listener.listen.description,
                                    reason: "a reliable-udp listener needs `keys_file`")
            }
            return .reliable(try ReliableUDPListenerService(
                name: listener.name, address: address, group: group, loops: loops.loops,
                idleTimeout: listener.idleTimeout, reliable: reliable, rateLimit: listener.rateLimit,
                accessLog: accessLog, logger: logger))
        case .multipathClient:
            return .multipathClient(try MultipathClientService(listener: listener, loop: loops.next(),
                                                               accessLog: accessLog, logger: logger))
        case .multipathServer:
            return .multipathServer(try MultipathServerService(listener: listener, group: try group(for: listener, in: groups),
                                                               loop: loops.next(), accessLog: accessLog, logger: logger))
        case .tcp, .echo, .http:
            let role = try role(for: listener, in: groups, accessLog: accessLog, logger: logger)
            return .tcp(try TCPListenerService(
                name: listener.name, address: address, role: role, loops: loops.loops,
                maxConnections: listener.maxConnections, maxConnectionsPerIP: listener.maxConnectionsPerIP,
                backlog: Int32(listener.backlog),
                options: TCPOptions(noDelay: listener.tcpNoDelay, keepalive: listener.keepalive),
                splice: io.splice, sharingAddress: sharing, timeouts: listener.connectionTimeouts,
                rateLimit: listener.rateLimit, accessLog: accessLog, acceptProxy: listener.acceptProxy,
                logger: logger))
        }
    }

    /// What a TCP listener's connections get: echo, its group, or its routes and its group as their fallback.
    static func role(for listener: ListenerConfig, in groups: [String: BackendGroup], accessLog: AccessLog?,
                     logger: Logger) throws -> TCPConnectionRole {
        if listener.proto == .echo { return .echo }
        if listener.proto == .http {
            let fallback = try listener.backend.map { name in
                guard let group = groups[name] else {
                    throw ListenerError(listener: listener.name, address: listener.listen.description,
                                        reason: "no backend group is named \(name)")
                }
                return group
            }
            let routes = try listener.routes.map { route -> (RouteConfig, BackendGroup) in
                guard let group = groups[route.backend] else {
                    throw ListenerError(listener: listener.name, address: listener.listen.description,
                                        reason: "route \(route.name): no backend group is named \(route.backend)")
                }
                return (route, group)
            }
            return .http(HTTPGateway(listener: listener.name, routes: routes, fallback: fallback, settings: listener.http,
                                     accessLog: accessLog, logger: logger.module("listener").with(["listener": listener.name])))
        }
        let fallback = try group(for: listener, in: groups)
        guard let routes = try routes(for: listener, fallback: fallback, in: groups) else { return .proxy(fallback) }
        return .routed(routes)
    }

    /// A listener's `routes` with their groups, nil when it has none.
    static func routes(for listener: ListenerConfig, fallback: BackendGroup, in groups: [String: BackendGroup]) throws
        -> ListenerRoutes?
    {
        guard !listener.routes.isEmpty else { return nil }
        let routes = try listener.routes.map { route -> (RouteConfig, BackendGroup) in
            guard let group = groups[route.backend] else {
                throw ListenerError(listener: listener.name, address: listener.listen.description,
                                    reason: "route \(route.name): backend group \(route.backend) is not defined")
            }
            return (route, group)
        }
        return ListenerRoutes(routes: routes, fallback: fallback)
    }

    static func group(for listener: ListenerConfig, in groups: [String: BackendGroup]) throws -> BackendGroup {
        guard let name = listener.backend, let group = groups[name] else {
            throw ListenerError(listener: listener.name, address: listener.listen.description,
                                reason: "backend group \(listener.backend ?? "(none)") is not defined")
        }
        return group
    }
}
