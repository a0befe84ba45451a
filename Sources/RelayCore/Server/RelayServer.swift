import RelayIO

/// relayd as a library: the event loops, the listeners and the supervisor that runs them.
///
/// `init` validates the wiring and binds every listener, so bind errors surface before anything runs
/// and tests that listen on port 0 can read the chosen ports with `address(of:)` before `run()`.
/// `run()` returns after a graceful `shutdown()` has drained; it throws when the supervisor gives up
/// on a failing component.
public final class RelayServer: Sendable {
    /// The configuration this server was built from.
    public let config: RelayConfig
    /// The event loops every socket of this server lives on.
    public let loops: EventLoopGroup
    /// Runs and restarts the listeners.
    public let supervisor: Supervisor
    /// The TCP listener services by listener name.
    public let tcpListeners: [String: TCPListenerService]
    /// The UDP listener services by listener name.
    public let udpListeners: [String: UDPListenerService]
    /// The backend groups by name.
    public let backendGroups: [String: BackendGroup]
    let logger: Logger

    public init(config: RelayConfig, logger: Logger, restartPolicy: RestartPolicy = RestartPolicy()) throws {
        self.config = config
        self.logger = logger
        let loops = try EventLoopGroup(loops: config.io.loops, bufferSize: config.io.bufferSize)
        var services: [String: TCPListenerService] = [:]
        var groups: [String: BackendGroup] = [:]
        var udp: [String: UDPListenerService] = [:]
        do {
            for (name, backend) in config.backends.sorted(by: { $0.key < $1.key }) {
                // Literal addresses now; host names are resolved by the group's service as it starts.
                var servers: [ServerHandle] = []
                for entry in backend.servers {
                    if case let .address(endpoint) = entry.target {
                        let address = try SocketAddress(ip: endpoint.host, port: endpoint.port)
                        servers.append(ServerHandle(group: name, address: address, weight: entry.weight))
                    }
                }
                groups[name] = BackendGroup(config: backend, servers: servers, logger: logger)
            }
            for listener in config.listeners {
                let address = try SocketAddress(ip: listener.listen.host, port: listener.listen.port)
                if listener.proto == .udp {
                    guard let name = listener.backend, let group = groups[name] else {
                        throw ListenerError(listener: listener.name, address: listener.listen.description,
                                            reason: "backend group \(listener.backend ?? "(none)") is not defined")
                    }
                    udp[listener.name] = try UDPListenerService(
                        name: listener.name, address: address, group: group, loops: loops.loops,
                        idleTimeout: listener.idleTimeout, maxFlows: listener.maxFlows, responses: listener.responses,
                        logger: logger)
                    continue
                }
                let role: TCPConnectionRole
                switch listener.proto {
                case .echo, .udp:
                    role = .echo
                case .tcp:
                    guard let name = listener.backend, let group = groups[name] else {
                        throw ListenerError(listener: listener.name, address: listener.listen.description,
                                            reason: "backend group \(listener.backend ?? "(none)") is not defined")
                    }
                    role = .proxy(group)
                }
                services[listener.name] = try TCPListenerService(
                    name: listener.name, address: address, role: role, loops: loops.loops,
                    maxConnections: listener.maxConnections, maxConnectionsPerIP: listener.maxConnectionsPerIP,
                    backlog: Int32(listener.backlog),
                    options: TCPOptions(noDelay: listener.tcpNoDelay, keepalive: listener.keepalive),
                    splice: config.io.splice, logger: logger)
            }
        } catch {
            loops.shutdown()
            throw error
        }
        self.loops = loops
        self.tcpListeners = services
        self.backendGroups = groups
        self.udpListeners = udp
        // Backend groups first: the listeners depend on what they learn.
        var ordered: [any Service] = groups.keys.sorted().map { BackendGroupService(group: groups[$0]!, loops: loops, logger: logger) }
        ordered += config.listeners.compactMap { listener -> (any Service)? in
            services[listener.name] ?? udp[listener.name]
        }
        self.supervisor = Supervisor(services: ordered, policy: restartPolicy, drainTimeout: config.drainTimeout,
                                     logger: logger)
    }

    /// The bound address of a listener (with the real port when the config asked for port 0).
    public func address(of listener: String) -> SocketAddress? {
        tcpListeners[listener]?.address ?? udpListeners[listener]?.address
    }

    /// Runs every component until `shutdown()` completes, then stops the event loops.
    public func run() async throws {
        defer { loops.shutdown() }
        logger.info("relayd started", ["listeners": tcpListeners.count, "loops": loops.loops.count,
                                       "buffer_size": config.io.bufferSize])
        try await supervisor.run()
        logger.info("relayd stopped")
    }

    /// Starts a graceful shutdown: stop accepting now, drain for up to `drain_timeout`, then close.
    public func shutdown() {
        supervisor.shutdown()
    }
}
