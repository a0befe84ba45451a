import RelayIO
import RelayProtocol

/// A `multipath-client` listener: local UDP applications send to `listen`; each datagram becomes a DATA frame
/// of the application's flow, authenticated with the client's key, and goes out on the links the LinkMonitor's
/// published route names (more than one while redundancy is on). Replies come back on any link, are checked and
/// deduplicated by the channel, and go to the application whose flow they name.
///
/// Every path here runs on one event loop: the local socket, each link's sockets and the flow table. The send
/// path reads the route without awaiting the LinkMonitor, which runs as its own supervised service.
public final class MultipathClientService: Service {
    public let name: String
    /// The address actually bound.
    public let address: SocketAddress
    /// The links, in configuration order (their sockets are this service's).
    public let links: [MultipathLink]
    /// Heartbeats, scores and the route.
    public let monitor: LinkMonitor
    /// What happened to frames and datagrams.
    public let counters = MultipathCounters()
    /// The client's keys, numbering and replay filter, shared with the monitor.
    let channel: SharedMultipathChannel
    let flows: MultipathClientFlows
    let idleTimeout: Duration
    let loop: EventLoop
    let logger: Logger
    private let prebound: SanitizerVisibleMutex<UDPSocket?>

    init(listener: ListenerConfig, loop: EventLoop, accessLog: AccessLog?, logger: Logger) throws {
        guard let config = listener.multipath else {
            throw ListenerError(listener: listener.name, address: listener.listen.description,
                                reason: "a multipath-client listener needs links, client_id and key_file")
        }
        name = listener.name
        self.loop = loop
        self.logger = logger.module("multipath").with(["listener": listener.name])
        idleTimeout = listener.idleTimeout
        flows = MultipathClientFlows(limit: listener.maxFlows)
        let requested = try SocketAddress(ip: listener.listen.host, port: listener.listen.port)
        let socket: UDPSocket
        do {
            socket = try UDPSocket.bind(requested, on: loop, reusePort: requested.port != 0)
            address = try socket.localAddress()
        } catch {
            throw ListenerError(listener: listener.name, address: requested.description, reason: "\(error)")
        }
        var links: [MultipathLink] = []
        do {
            for (index, link) in config.links.enumerated() {
                links.append(try MultipathLink(index: index, config: link, loop: loop))
            }
        } catch {
            socket.close()
            for link in links { link.close() }
            throw error
        }
        self.links = links
        prebound = SanitizerVisibleMutex(socket)
        let session = UInt64(max(0, WallClock.seconds() * 1e9))
        channel = SharedMultipathChannel(MultipathChannel(clientID: config.clientID, key: config.key, role: .client,
                                                         session: session))
        monitor = LinkMonitor(listener: listener.name, links: links, channel: channel, parameters: config.parameters,
                              accessLog: accessLog, logger: logger)
    }

    /// Closes the sockets when the service will never run.
    func discard() {
        prebound.withLock { socket in
            socket?.close()
            socket = nil
        }
        for link in links { link.close() }
    }

    /// Relays until `context.shutdown` fires. The sockets live as long as the listener's config: a restart after
    /// a failure binds the local address again and keeps the links' sockets.
    public func run(_ context: ServiceContext) async throws {
        let socket = try prebound.withLock { socket -> UDPSocket in
            if let bound = socket {
                socket = nil
                return bound
            }
            do {
                return try UDPSocket.bind(address, on: loop, reusePort: true)
            } catch {
                throw ListenerError(listener: name, address: address.description, reason: "\(error)")
            }
        }
        defer { socket.close() }
        let stop = context.shutdown.onTrigger { [links] in
            socket.abort()
            for link in links { link.abort() }
        }
        defer { stop.cancel() }
        logger.info("listening", ["address": address, "protocol": "multipath-client", "links": links.count])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask(executorPreference: loop) { try await self.localLoop(socket) }
            for link in links {
                for linkSocket in link.sockets {
                    tasks.addTask(executorPreference: loop) { try await self.linkLoop(link, linkSocket, local: socket) }
                }
            }
            tasks.addTask { try await self.expiryLoop(context) }
            while try await tasks.next() != nil {
                if context.shutdown.isTriggered { break }
            }
            tasks.cancelAll()
        }
        if context.shutdown.isTriggered { for link in links { link.close() } }
    }

    /// Local datagrams to DATA frames on the route's links.
    private func localLoop(_ socket: UDPSocket) async throws {
        let batch = DatagramBatch()
        while true {
            do {
                _ = try await socket.receive(into: batch)
            } catch IOError.closed {
                return
            }
            let now = EventLoop.now()
            let route = monitor.route
            for index in 0..<batch.count {
                let datagram = batch[index]
                guard let peer = datagram.peer, !datagram.truncated,
                      let (flow, opened) = flows.id(for: peer, now: now) else {
                    counters.datagramsDropped.add(1, ordering: .relaxed)
                    continue
                }
                if opened {
                    counters.flowsOpened.add(1, ordering: .relaxed)
                    logger.debug("flow opened", ["client": peer, "flow": flow])
                }
                let payload = Array(datagram.bytes)
                let frame = try? channel.withLock { channel in
                    try channel.seal(.data(flow: flow, payload: payload),
                                     activeLink: route.activeLink.map(UInt8.init), replyFanout: route.replyFanout)
                }
                guard let frame, !route.sendTargets.isEmpty else {
                    counters.datagramsDropped.add(1, ordering: .relaxed)
                    continue
                }
                counters.datagramsSent.add(1, ordering: .relaxed)
                for (position, target) in route.sendTargets.enumerated() where links[target].send(frame) {
                    if position > 0 {
                        counters.duplicatesSent.add(1, ordering: .relaxed)
                        counters.duplicateBytesSent.add(frame.count, ordering: .relaxed)
                    }
                }
            }
        }
    }

    /// Frames from the server on one link's socket: replies to their flows, heartbeat answers to the monitor.
    private func linkLoop(_ link: MultipathLink, _ socket: UDPSocket, local: UDPSocket) async throws {
        let batch = DatagramBatch()
        while true {
            do {
                _ = try await socket.receive(into: batch)
            } catch IOError.closed {
                return
            }
            let now = EventLoop.now()
            for index in 0..<batch.count {
                let datagram = batch[index]
                guard !datagram.truncated else {
                    counters.malformedDropped.add(1, ordering: .relaxed)
                    continue
                }
                link.bytesReceived.add(datagram.bytes.count, ordering: .relaxed)
                link.framesReceived.add(1, ordering: .relaxed)
                let bytes = Array(datagram.bytes)
                let opened = channel.withLock { $0.open(bytes) }
                switch opened {
                case .failure(let drop):
                    counters.count(drop)
                case .success(let authenticated):
                    switch authenticated.frame.body {
                    case .data(let flow, let payload):
                        guard let application = flows.address(of: flow, now: now) else {
                            counters.datagramsDropped.add(1, ordering: .relaxed)
                            continue
                        }
                        let sent = payload.withUnsafeBytes { try? local.sendNow($0, to: application) }
                        if case .processed = sent {
                            counters.datagramsDelivered.add(1, ordering: .relaxed)
                        } else {
                            counters.datagramsDropped.add(1, ordering: .relaxed)
                        }
                    case .heartbeatAck(let ack):
                        monitor.answered(link: Int(ack.link), timestamp: ack.echoedTimestamp)
                    case .heartbeat:
                        counters.unknownClientDropped.add(1, ordering: .relaxed)
                    }
                }
            }
        }
    }

    /// Forgets local flows idle for `idle_timeout`, checking a few times per timeout.
    private func expiryLoop(_ context: ServiceContext) async throws {
        let idle = idleTimeout.nanosecondsClamped
        let period = max(Duration.milliseconds(50), min(.seconds(1), idleTimeout / 4))
        while !context.shutdown.isTriggered {
            try await Task.sleep(for: period)
            let expired = flows.expire(now: EventLoop.now(), idle: idle)
            if expired > 0 { logger.debug("flows expired", ["flows": expired]) }
        }
    }
}
