import RelayIO
import RelayProtocol

#if canImport(Glibc)
import Glibc
#endif

/// One event loop's share of a reliable-UDP listener: its `SO_REUSEPORT` socket, the sessions it made, their
/// deadlines, and the per-packet path.
///
/// Everything here runs on the loop's thread: the receive task, the sessions' backend reader tasks (pinned to the
/// loop) and the timer's action. The per-packet path never awaits anything: a datagram is decoded, checked and
/// handed to its session's state machine under that session's lock (uncontended on this thread), and what the
/// machine wants sent goes out at once with a non-blocking send. A client that moved (NAT rebinding) may land on
/// another loop's socket; that loop finds the session in the listener's directory and handles the packet under
/// the same lock, so a session never needs a hop between threads.
///
/// Each session's next deadline (acknowledgement delay, loss, retransmission, keep-alive, idle) sits in the
/// loop's `DeadlineHeap`, and one `LoopTimer` is armed for the earliest.
final class ReliableUDPLoop: Sendable {
    /// The listening socket of this loop.
    let socket: UDPSocket
    /// The listener: settings, counters, store, directory, handshake.
    let service: ReliableUDPListenerService
    /// The sessions this loop made, and their deadlines.
    private let table = SanitizerVisibleMutex<Table>(Table())
    /// Fires for the earliest deadline of `table.schedule`.
    private let timer = SanitizerVisibleMutex<LoopTimer?>(nil)

    private struct Table {
        var sessions: [UInt64: ReliableUDPSession] = [:]
        var schedule = DeadlineHeap()
    }

    init(socket: UDPSocket, service: ReliableUDPListenerService) {
        self.socket = socket
        self.service = service
        let timer = LoopTimer(on: socket.loop) { [weak self] in self?.fire() }
        self.timer.withLock { $0 = timer }
    }

    /// Sessions this loop holds (closing ones included).
    var sessionCount: Int { table.withLock { $0.sessions.count } }

    // MARK: - Receiving from clients

    /// Receives client datagrams a batch at a time until the socket is aborted (then returns) or fails (then
    /// throws); each new session's backend reader runs in this loop's task group, so none outlives it. On the way
    /// out every session of the loop ends (CLOSE `shuttingDown`, or `internalError` when the run failed).
    func run(_ context: ServiceContext) async throws {
        let batch = DatagramBatch()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        // Every reader task of this loop receives into this one buffer, between two awaits, on this thread.
        let shared = LoopConfined(buffer)
        let loop = socket.loop
        try await withThrowingDiscardingTaskGroup { readers in
            // Ends every session, closing its backend socket: the reader tasks wake and end, and the group waits.
            defer { closeAll(context.shutdown.isTriggered ? .shuttingDown : .internalError) }
            while true {
                do {
                    _ = try await socket.receive(into: batch)
                } catch IOError.closed {
                    return
                }
                try service.checkInjectedFailure()
                let now = EventLoop.now()
                // `packets_per_ip` first, for the whole batch under one lock, before any cryptography.
                let limited = service.rateLimiter.admitPackets(in: batch, now: now)
                if limited > 0 { service.counters.droppedRateLimited.add(limited, ordering: .relaxed) }
                for index in 0..<batch.count {
                    let datagram = batch[index]
                    guard let source = datagram.peer else { continue }
                    if let session = receive(datagram, from: source, now: now) {
                        readers.addTask(executorPreference: loop) { await self.serveBackend(of: session, shared) }
                    }
                }
            }
        }
    }

    /// Handles one client datagram; returns a session it opened, whose backend reader the caller starts.
    private func receive(_ datagram: Datagram, from source: SocketAddress, now: UInt64) -> ReliableUDPSession? {
        let counters = service.counters
        let bytes = datagram.bytes
        if datagram.truncated {
            counters.droppedOversized.add(1, ordering: .relaxed)
            return nil
        }
        guard bytes.count >= ReliableWire.prefixSize, bytes[0] == 0x52, bytes[1] == 0x4C, bytes[2] == 0x59,
            bytes[3] == 0x55
        else {
            counters.droppedGarbage.add(1, ordering: .relaxed)
            return nil
        }
        guard bytes[5] >= ReliablePacketType.data.rawValue else {
            return handshake(Array(bytes), from: source, now: now)
        }
        // A session packet: routed by the session id at offset 8, before anything is decrypted.
        if bytes.count > service.maxPacketSize {
            counters.droppedOversized.add(1, ordering: .relaxed)
            return nil
        }
        guard bytes.count >= ReliableWire.sessionOverhead else {
            counters.droppedMalformed.add(1, ordering: .relaxed)
            return nil
        }
        var id: UInt64 = 0
        for offset in 8..<16 { id = id << 8 | UInt64(bytes[offset]) }
        guard let session = table.withLock({ $0.sessions[id] }) ?? service.directory.lookup(id) else {
            counters.droppedUnknownSession.add(1, ordering: .relaxed)
            return nil
        }
        let packet = Array(bytes)
        session.owner.update(session, now: now, source: source) { state in
            let peer = source == state.client ? state.clientPeer : source.reliablePeer
            if state.machine.handleDatagram(packet, from: peer, now: now) == .accepted {
                session.lastActivity.store(now, ordering: .relaxed)
            }
        }
        return nil
    }

    // MARK: - Handshakes

    /// Answers a handshake packet (HELLO, RESPONSE, or one a client must not send) and makes the session a valid
    /// RESPONSE asks for. Nothing is stored for a client that has not authenticated; no answer is larger than
    /// the datagram it answers.
    private func handshake(_ bytes: [UInt8], from source: SocketAddress, now: UInt64) -> ReliableUDPSession? {
        let counters = service.counters
        if bytes[5] == ReliablePacketType.hello.rawValue,
            case .limited = service.rateLimiter.admitNew(ip: source.ipKey, now: now)
        {
            counters.count(.rateLimited)
            let refusal = service.handshake.withLock {
                $0.refusal(answering: bytes, reason: .rateLimited, retryAfterSeconds: 1)
            }
            if let refusal { sendToClient(refusal, to: source) }
            return nil
        }
        let accepting = service.acceptsSessions && service.store.hasRoom
        let outcome = service.handshake.withLock {
            $0.handle(bytes, from: source.reliablePeer, acceptingSessions: accepting)
        }
        switch outcome {
        case .drop(let reason):
            switch reason {
            case .malformed: counters.count(.malformed)
            case .badCookie: counters.count(.badCookie)
            case .garbage, .sessionPacket, .unexpected: counters.droppedGarbage.add(1, ordering: .relaxed)
            }
        case .challenge(let challenge):
            counters.count(.challenged)
            sendToClient(challenge, to: source)
        case .refuse(let reason, let refusal):
            counters.count(Self.result(of: reason))
            sendToClient(refusal, to: source)
            if reason == .badAuth {
                service.logger.info("handshake refused: bad key or unknown client id",
                                    ["client": source, "hint": "check the client's key against keys_file"])
            }
        case .repeated(let id, let welcome):
            counters.count(.repeated)
            // The first WELCOME was lost if the session has not heard from its client yet: send it again.
            if let session = service.directory.lookup(id),
                session.state.withLock({ !$0.machine.isConfirmed && $0.end == nil })
            {
                sendToClient(welcome, to: source)
            }
        case .established(let setup, let welcome):
            return open(setup, welcome: welcome, response: bytes, from: source, now: now)
        }
        return nil
    }

    /// Makes the session of an authenticated RESPONSE: picks its server, opens its backend socket, admits it
    /// against `max_sessions`, and sends WELCOME.
    private func open(_ setup: ReliableSessionSetup, welcome: [UInt8], response: [UInt8], from source: SocketAddress,
                      now: UInt64) -> ReliableUDPSession? {
        let counters = service.counters
        let (group, configuration) = service.sessionSettings
        guard let server = group.pick(client: source.ipKey) else {
            welcomeAndClose(setup, welcome: welcome, to: source, now: now, reason: "no server of the group is up",
                            server: nil)
            return nil
        }
        let backend: UDPSocket
        do {
            backend = try UDPSocket.connect(to: server.address, on: socket.loop)
        } catch {
            welcomeAndClose(setup, welcome: welcome, to: source, now: now,
                            reason: "cannot open a socket to the server: \(error)", server: server)
            return nil
        }
        let session = ReliableUDPSession(
            setup: setup, configuration: configuration, client: source, server: server, group: group,
            socket: backend, owner: self, cryptography: service.cryptography, now: now)
        guard service.store.admit(session) else {
            backend.close()
            counters.count(.serverFull)
            if let refusal = service.handshake.withLock({ $0.refusal(answering: response, reason: .serverFull) }) {
                sendToClient(refusal, to: source)
            }
            return nil
        }
        guard service.directory.insert(session) else {
            // Two transcripts giving one session id: 2⁻⁶⁴; refuse rather than mix them up.
            service.store.remove(session)
            backend.close()
            counters.count(.serverFull)
            return nil
        }
        table.withLock { $0.sessions[session.id] = session }
        server.inFlight.add(1, ordering: .relaxed)
        server.connectionsTotal.add(1, ordering: .relaxed)
        counters.sessionsOpened.add(1, ordering: .relaxed)
        counters.count(.established)
        sendToClient(welcome, to: source)
        service.logger.debug("session opened", ["session": Self.hex(session.id), "client_id": session.clientID,
                                                "client": source, "server": server.address])
        update(session, now: now) { _ in }
        return session
    }

    /// Answers an authenticated client that cannot be served (no server, no socket) with WELCOME and at once
    /// CLOSE "internal error", so it learns now rather than after its retransmissions give up.
    private func welcomeAndClose(_ setup: ReliableSessionSetup, welcome: [UInt8], to source: SocketAddress,
                                 now: UInt64, reason: String, server: ServerHandle?) {
        service.counters.count(.noBackend)
        var machine = ReliableSession(setup: setup, cryptography: service.cryptography, now: now)
        machine.close(.internalError, now: now)
        sendToClient(welcome, to: source)
        while let datagram = machine.pollDatagram(now: now) { sendToClient(datagram.bytes, to: source) }
        var fields = [("client", source.description), ("client_id", setup.clientID), ("error", reason)]
        if let server { fields.append(("server", server.address.description)) }
        fields.append(("hint", "check the backend group's servers and relayd's open-files limit"))
        service.logger.log(.warn, "session closed at once: relayd cannot reach the backend group", fields: fields)
    }

    // MARK: - Receiving from the server

    /// Relays a session's server datagrams to the client as messages, until the session ends or its socket
    /// fails. When the send queue is full it stops reading (the kernel's buffer then fills and drops), and waits
    /// for acknowledgements to make room: no queue grows without bound.
    private func serveBackend(of session: ReliableUDPSession, _ buffer: LoopConfined<UnsafeMutableRawBufferPointer>)
        async
    {
        defer { session.socket.close() }
        let counters = service.counters
        reading: while !Task.isCancelled {
            let waiting = session.state.withLock { state -> Bool? in
                if state.end != nil { return nil }
                if state.machine.canSend { return false }
                state.readerWaiting = true
                return true
            }
            guard let waiting else { break }
            if waiting {
                await session.room.wait()
                continue
            }
            do {
                try await session.socket.registration.wait(for: .read)
            } catch {
                break
            }
            while true {
                let received: IOResult<Int>
                do {
                    received = try session.socket.receiveNow(into: buffer.value)
                } catch let error where error.errno == ECONNREFUSED {
                    session.group.report(session.server, .connectFailed("udp: port unreachable (ICMP)"))
                    service.logger.warn("server unreachable (ICMP); the session ends",
                                        ["session": Self.hex(session.id), "server": session.server.address])
                    close(session, .internalError, now: EventLoop.now())
                    break reading
                } catch {
                    break reading
                }
                guard case let .processed(count) = received else { break }
                guard count <= ReliableWire.maxMessageSize else {
                    counters.droppedBackendTooLarge.add(1, ordering: .relaxed)
                    continue
                }
                let message = Array(buffer.value[0..<count])
                var full = false
                update(session, now: EventLoop.now()) { state in
                    guard state.end == nil else { return }
                    do {
                        try state.machine.send(message, now: EventLoop.now())
                        session.bytesOut.add(count, ordering: .relaxed)
                        counters.messagesDown.add(1, ordering: .relaxed)
                        counters.messageBytesDown.add(count, ordering: .relaxed)
                    } catch {
                        counters.droppedBackendTooLarge.add(1, ordering: .relaxed)
                    }
                    full = !state.machine.canSend
                }
                if full { continue reading }
            }
        }
    }

    // MARK: - Driving sessions

    /// Runs `body` on the session's state under its lock, then does everything the state machine asks for:
    /// messages on to the server, datagrams to the client, counters, the session's next deadline, its end.
    /// `source` is where the datagram being handled came from, if one is: the client moved there when the
    /// machine reports a new peer address.
    func update(_ session: ReliableUDPSession, now: UInt64, source: SocketAddress? = nil,
                _ body: (inout ReliableUDPSession.State) -> Void) {
        let counters = service.counters
        var ended: (reason: ReliableCloseReason, byClient: Bool)?
        var finished = false
        var wakeReader = false
        var deadline: UInt64?
        session.state.withLock { state in
            body(&state)
            while let message = state.machine.takeMessage() {
                if state.end == nil { forwardToServer(message, of: session) }
            }
            while let event = state.machine.pollEvent() {
                switch event {
                case .closed(let reason, let byPeer):
                    if state.end == nil { state.end = (reason, byPeer) }
                case .peerAddressChanged(_, let to):
                    if let source {
                        service.logger.debug("session followed its client to a new address",
                                             ["session": Self.hex(session.id), "from": state.client, "to": source])
                        state.client = source
                        state.clientPeer = to
                    }
                }
            }
            while let datagram = state.machine.pollDatagram(now: now) {
                sendToClient(datagram.bytes, to: state.client)
            }
            for sample in state.machine.takeRTTSamples() { counters.rtt.observe(Double(sample) / 1e9) }
            for sample in state.machine.takeLatencySamples() { counters.deliveryLatency.observe(Double(sample) / 1e9) }
            counters.add(state.machine.stats, since: &state.reported)
            if let end = state.end, !state.endRecorded {
                state.endRecorded = true
                ended = end
            }
            if state.readerWaiting, state.machine.canSend || state.end != nil {
                state.readerWaiting = false
                wakeReader = true
            }
            if state.machine.isClosed {
                finished = true
                state.scheduledAt = nil
            } else if let next = state.machine.nextTimeout, next != state.scheduledAt {
                state.scheduledAt = next
                deadline = next
            }
        }
        if let deadline { schedule(session.id, at: deadline) }
        if wakeReader { session.room.ring() }
        if let ended { recordEnd(of: session, ended, now: now) }
        if finished { forget(session) }
    }

    /// Sends one client message to the session's server without waiting; a datagram the kernel will not take
    /// now is dropped and counted, as for a plain UDP flow (the message was acknowledged to the client already:
    /// delivery to the server is as reliable as plain UDP is, which is what the backend expects).
    private func forwardToServer(_ message: [UInt8], of session: ReliableUDPSession) {
        let counters = service.counters
        let sent = message.withUnsafeBytes { try? session.socket.sendNow($0) }
        switch sent ?? .wouldBlock {
        case .processed:
            session.bytesIn.add(message.count, ordering: .relaxed)
            counters.messagesUp.add(1, ordering: .relaxed)
            counters.messageBytesUp.add(message.count, ordering: .relaxed)
        case .wouldBlock:
            counters.droppedBackendSendFailed.add(1, ordering: .relaxed)
        }
    }

    /// Sends one datagram to a client from this loop's socket (every loop's socket has the listener's address),
    /// without waiting; one the kernel will not take now is dropped and counted, and the protocol sends it again.
    func sendToClient(_ bytes: [UInt8], to client: SocketAddress) {
        let sent = bytes.withUnsafeBytes { try? socket.sendNow($0, to: client) }
        if case .processed = sent ?? .wouldBlock { return }
        service.counters.droppedSendFailed.add(1, ordering: .relaxed)
    }

    /// Ends the session now with CLOSE `reason` (an operator, the listener's end, a failed server). Idempotent.
    func close(_ session: ReliableUDPSession, _ reason: ReliableCloseReason, now: UInt64) {
        update(session, now: now) { state in state.machine.close(reason, now: now) }
    }

    /// Counts a session's end, frees its slot in the store and its server, closes its backend socket and writes
    /// its access-log line. The session may stay in the tables a little longer to answer late packets with CLOSE.
    private func recordEnd(of session: ReliableUDPSession, _ end: (reason: ReliableCloseReason, byClient: Bool),
                           now: UInt64) {
        service.store.remove(session)
        service.counters.countClosed(end.reason, byClient: end.byClient)
        session.server.inFlight.subtract(1, ordering: .relaxed)
        session.socket.close()
        session.room.ring()
        let client = session.state.withLock { $0.client }
        let duration = Duration.nanoseconds(Int64(clamping: now &- session.opened))
        let label = end.reason.label + (end.byClient ? "_by_client" : "")
        service.accessLog?.record(AccessLogEntry(
            listener: service.name, proto: "reliable-udp", client: client, server: session.server.address,
            bytesIn: session.bytesIn.load(ordering: .relaxed), bytesOut: session.bytesOut.load(ordering: .relaxed),
            duration: duration, end: label))
        service.logger.debug("session ended", ["session": Self.hex(session.id), "client_id": session.clientID,
                                               "client": client, "end": label])
    }

    /// Takes a finished session out of the loop's and the listener's tables.
    private func forget(_ session: ReliableUDPSession) {
        table.withLock { table in
            if table.sessions[session.id] === session { table.sessions[session.id] = nil }
        }
        service.directory.remove(session)
    }

    /// Ends every session of this loop at once (CLOSE `reason` sent to each) and forgets them: the loop's run is
    /// over. Their reader tasks wake as their sockets close.
    func closeAll(_ reason: ReliableCloseReason) {
        let now = EventLoop.now()
        let sessions = table.withLock { Array($0.sessions.values) }
        for session in sessions {
            close(session, reason, now: now)
            forget(session)
        }
        table.withLock { $0.schedule.removeAll() }
    }

    /// Ends the timer for good (the loop's run is over).
    func stop() {
        timer.withLock { $0?.stop() }
    }

    // MARK: - Timers

    /// Puts `deadline` in the schedule and makes sure the timer fires by then.
    private func schedule(_ id: UInt64, at deadline: UInt64) {
        table.withLock { $0.schedule.push(deadline, id: id) }
        timer.withLock { $0?.arm(at: deadline) }
    }

    /// The timer's action: hands every session whose deadline passed its timeout, then arms for the next.
    private func fire() {
        let now = EventLoop.now()
        let due = table.withLock { table in
            table.schedule.popDue(now: now).compactMap { entry in
                table.sessions[entry.id].map { (entry.deadline, $0) }
            }
        }
        for (deadline, session) in due {
            update(session, now: now) { state in
                guard state.scheduledAt == deadline else { return }
                state.scheduledAt = nil
                state.machine.handleTimeout(now: now)
            }
        }
        if let next = table.withLock({ $0.schedule.first?.deadline }) {
            timer.withLock { $0?.arm(at: next) }
        }
    }

    /// The result label of a refusal.
    private static func result(of reason: ReliableRefusalReason) -> ReliableHandshakeResult {
        switch reason {
        case .serverFull: .serverFull
        case .rateLimited: .rateLimited
        case .badAuth: .badAuth
        case .unsupportedVersion: .unsupportedVersion
        case .expiredCookie: .expiredCookie
        }
    }

    /// A session id as 16 hex digits, for logs and the admin API.
    static func hex(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
