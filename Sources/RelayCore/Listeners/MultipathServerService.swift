import RelayIO
import RelayProtocol
import Synchronization

/// A `multipath-server` listener: multipath clients' frames arrive on `listen` over any of their links; each
/// frame is decoded, matched to its client's key by the client id, screened by the replay filter and its tag
/// checked. HEARTBEATs are answered at once on the link they came from; DATA goes to the flow's backend socket
/// (opened on the first frame of a flow, to a server the backend group picks). Replies are sealed for the client
/// and sent over its return path — the link its newest frame names as active, learnt only from authenticated
/// frames — and over a second or every link when the client asks for duplicated replies.
///
/// One socket on one event loop: a client's links must meet one replay filter and one return path, and the
/// lock over them is never contended across threads.
public final class MultipathServerService: Service {
    public let name: String
    /// The address actually bound.
    public let address: SocketAddress
    /// What happened to frames and datagrams.
    public let counters = MultipathCounters()
    /// Every client in the keys file, by id.
    let clients: [String: MultipathServerClient]
    private let group: BackendGroup
    private let idleTimeout: Duration
    private let maxFlows: Int
    /// Flows open now, over all clients.
    private let openFlows = Atomic<Int>(0)
    let loop: EventLoop
    let logger: Logger
    let accessLog: AccessLog?
    private let prebound: SanitizerVisibleMutex<UDPSocket?>

    init(listener: ListenerConfig, group: BackendGroup, loop: EventLoop, accessLog: AccessLog?, logger: Logger) throws {
        guard let config = listener.multipath else {
            throw ListenerError(listener: listener.name, address: listener.listen.description,
                                reason: "a multipath-server listener needs keys_file")
        }
        name = listener.name
        self.group = group
        self.loop = loop
        self.accessLog = accessLog
        self.logger = logger.module("multipath").with(["listener": listener.name])
        idleTimeout = listener.idleTimeout
        maxFlows = listener.maxFlows
        let session = UInt64(max(0, WallClock.seconds() * 1e9))
        clients = config.keys.reduce(into: [:]) { clients, entry in
            clients[entry.key] = MultipathServerClient(id: entry.key, key: entry.value, linkTimeout: config.linkTimeout,
                                                       session: session)
        }
        let requested = try SocketAddress(ip: listener.listen.host, port: listener.listen.port)
        do {
            let socket = try UDPSocket.bind(requested, on: loop, reusePort: requested.port != 0)
            address = try socket.localAddress()
            prebound = SanitizerVisibleMutex(socket)
        } catch {
            throw ListenerError(listener: listener.name, address: requested.description, reason: "\(error)")
        }
    }

    /// Closes the socket when the service will never run.
    func discard() {
        prebound.withLock { socket in
            socket?.close()
            socket = nil
        }
    }

    /// Flows open now.
    public var flowCount: Int { openFlows.load(ordering: .relaxed) }

    /// Relays until `context.shutdown` fires; every flow of the run ends with it.
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
        let stop = context.shutdown.onTrigger { socket.abort() }
        defer { stop.cancel() }
        logger.info("listening", ["address": address, "protocol": "multipath-server", "clients": clients.count])
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask(executorPreference: loop) { try await self.receiveLoop(socket) }
            tasks.addTask { try await self.expiryLoop(context) }
            while try await tasks.next() != nil {
                if context.shutdown.isTriggered { break }
            }
            tasks.cancelAll()
        }
    }

    /// Frames from clients; each flow's reply task is a child of this loop and ends with it.
    private func receiveLoop(_ socket: UDPSocket) async throws {
        let batch = DatagramBatch()
        let replies = LoopConfined(DatagramBatch())
        try await withThrowingDiscardingTaskGroup { replyTasks in
            defer { closeAllFlows() }
            while true {
                do {
                    _ = try await socket.receive(into: batch)
                } catch IOError.closed {
                    return
                }
                let now = EventLoop.now()
                for index in 0..<batch.count {
                    let datagram = batch[index]
                    guard let peer = datagram.peer else { continue }
                    guard !datagram.truncated else {
                        counters.malformedDropped.add(1, ordering: .relaxed)
                        continue
                    }
                    if let flow = handle(Array(datagram.bytes), from: peer, on: socket, now: now) {
                        replyTasks.addTask(executorPreference: loop) {
                            await self.relayReplies(of: flow, to: socket, through: replies.value)
                        }
                    }
                }
            }
        }
    }

    /// Checks and acts on one frame; returns a flow it opened, whose reply task the caller starts.
    private func handle(_ bytes: [UInt8], from peer: SocketAddress, on socket: UDPSocket, now: UInt64)
        -> MultipathServerFlow?
    {
        let frame: MultipathFrame
        do {
            frame = try MultipathFrame.decode(bytes)
        } catch {
            counters.malformedDropped.add(1, ordering: .relaxed)
            return nil
        }
        guard let client = clients[frame.clientID] else {
            counters.unknownClientDropped.add(1, ordering: .relaxed)
            return nil
        }
        enum Work {
            case answer([UInt8])
            case deliver(flow: UInt32, payload: [UInt8])
        }
        let work: Work? = client.state.withLock { state in
            let authenticated: MultipathAuthenticatedFrame
            switch state.channel.open(frame, datagram: bytes) {
            case .failure(let drop):
                counters.count(drop)
                return nil
            case .success(let opened):
                authenticated = opened
            }
            if let change = state.returnPath.record(authenticated, from: peer, now: now) {
                counters.returnPathSwitches.add(1, ordering: .relaxed)
                logger.info("return path switch", ["client": client.id, "from": change.from.map { "\($0)" } ?? "-",
                                                   "to": change.to.map { "\($0)" } ?? "-",
                                                   "reason": change.reason])
            }
            switch frame.body {
            case .heartbeat(let heartbeat):
                let ack = try? state.channel.seal(.heartbeatAck(MultipathHeartbeatAck(answering: heartbeat)))
                return ack.map(Work.answer)
            case .data(let flow, let payload):
                return .deliver(flow: flow, payload: payload)
            case .heartbeatAck:
                return nil
            }
        }
        switch work {
        case .answer(let ack):
            _ = ack.withUnsafeBytes { try? socket.sendNow($0, to: peer) }
            counters.heartbeatsAnswered.add(1, ordering: .relaxed)
            return nil
        case .deliver(let id, let payload):
            let (flow, opened) = flow(id, of: client, peer: peer, now: now)
            guard let flow else {
                counters.datagramsDropped.add(1, ordering: .relaxed)
                return nil
            }
            flow.lastSeen.store(now, ordering: .relaxed)
            let sent = payload.withUnsafeBytes { try? flow.socket.sendNow($0) }
            if case .processed = sent {
                counters.datagramsDelivered.add(1, ordering: .relaxed)
                flow.bytesUp.add(payload.count, ordering: .relaxed)
            } else {
                counters.datagramsDropped.add(1, ordering: .relaxed)
            }
            return opened ? flow : nil
        case nil:
            return nil
        }
    }

    /// The open flow `id` of `client`, or a new one to a server the group picks (nil at `max_flows` or with no
    /// server to take it).
    private func flow(_ id: UInt32, of client: MultipathServerClient, peer: SocketAddress, now: UInt64)
        -> (MultipathServerFlow?, opened: Bool)
    {
        if let existing = client.state.withLock({ $0.flows[id] }) { return (existing, false) }
        guard openFlows.load(ordering: .relaxed) < maxFlows else { return (nil, false) }
        guard let server = group.pick(client: peer.ipKey) else { return (nil, false) }
        let socket: UDPSocket
        do {
            socket = try UDPSocket.connect(to: server.address, on: loop)
        } catch {
            logger.warn("cannot open a socket to the backend server", ["server": server.address, "error": error])
            return (nil, false)
        }
        let flow = MultipathServerFlow(client: client, id: id, server: server, socket: socket, now: now)
        client.state.withLock { $0.flows[id] = flow }
        openFlows.add(1, ordering: .relaxed)
        server.inFlight.add(1, ordering: .relaxed)
        server.connectionsTotal.add(1, ordering: .relaxed)
        counters.flowsOpened.add(1, ordering: .relaxed)
        return (flow, true)
    }

    /// The backend's replies to one flow, sealed for the client and sent on its return path (and further links
    /// when the client asks); then the flow's end.
    private func relayReplies(of flow: MultipathServerFlow, to socket: UDPSocket, through batch: DatagramBatch) async {
        defer {
            flow.server.inFlight.subtract(1, ordering: .relaxed)
            openFlows.subtract(1, ordering: .relaxed)
            flow.socket.close()
            flow.client.state.withLock { state in
                if state.flows[flow.id] === flow { state.flows[flow.id] = nil }
            }
            if let accessLog {
                let duration = Duration.nanoseconds(Int64(clamping: EventLoop.now() &- flow.opened))
                accessLog.record(AccessLogEntry(
                    listener: name, proto: "multipath", client: flow.client.state.withLock { $0.returnPath.current }
                        ?? address, server: flow.server.address, bytesIn: flow.bytesUp.load(ordering: .relaxed),
                    bytesOut: flow.bytesDown.load(ordering: .relaxed), duration: duration, end: "idle"))
            }
        }
        while true {
            do {
                _ = try await flow.socket.receive(into: batch)
            } catch {
                return
            }
            let now = EventLoop.now()
            flow.lastSeen.store(now, ordering: .relaxed)
            for index in 0..<batch.count {
                let datagram = batch[index]
                guard !datagram.truncated else {
                    counters.datagramsDropped.add(1, ordering: .relaxed)
                    continue
                }
                let payload = Array(datagram.bytes)
                flow.bytesDown.add(payload.count, ordering: .relaxed)
                let sealed = flow.client.state.withLock { state -> ([UInt8], [SocketAddress])? in
                    guard let frame = try? state.channel.seal(.data(flow: flow.id, payload: payload)) else { return nil }
                    return (frame, state.returnPath.replyTargets)
                }
                guard let (frame, targets) = sealed, !targets.isEmpty else {
                    counters.datagramsDropped.add(1, ordering: .relaxed)
                    continue
                }
                counters.datagramsSent.add(1, ordering: .relaxed)
                for (position, target) in targets.enumerated() {
                    let sent = frame.withUnsafeBytes { try? socket.sendNow($0, to: target) }
                    if case .processed = sent, position > 0 {
                        counters.duplicatesSent.add(1, ordering: .relaxed)
                        counters.duplicateBytesSent.add(frame.count, ordering: .relaxed)
                    }
                }
            }
        }
    }

    /// Ends flows idle for `idle_timeout` and forgets links unheard for `link_timeout`, a few times per timeout.
    private func expiryLoop(_ context: ServiceContext) async throws {
        let idle = idleTimeout.nanosecondsClamped
        let period = max(Duration.milliseconds(50), min(.seconds(1), idleTimeout / 4))
        while !context.shutdown.isTriggered {
            try await Task.sleep(for: period)
            let now = EventLoop.now()
            for client in clients.values {
                let idleFlows = client.state.withLock { state -> [MultipathServerFlow] in
                    if let change = state.returnPath.expire(now: now) {
                        logger.info("return path switch", ["client": client.id, "to": change.to.map { "\($0)" } ?? "-",
                                                           "reason": change.reason])
                    }
                    return state.flows.values.filter { now &- $0.lastSeen.load(ordering: .relaxed) >= idle
                        && now >= $0.lastSeen.load(ordering: .relaxed) }
                }
                for flow in idleFlows { flow.socket.abort() }
            }
        }
    }

    /// Wakes every flow's reply task so it ends (the listener's run is over).
    private func closeAllFlows() {
        for client in clients.values {
            for flow in client.state.withLock({ Array($0.flows.values) }) { flow.socket.abort() }
        }
    }

    /// Each client's links as the server knows them, for the admin API.
    public var clientReports: [(id: String, returnPath: SocketAddress?, links: [SocketAddress], flows: Int)] {
        clients.values.sorted { $0.id < $1.id }.map { client in
            client.state.withLock { state in
                (client.id, state.returnPath.current, state.returnPath.links.map(\.address), state.flows.count)
            }
        }
    }
}
