import RelayIO
import RelayProtocol

#if canImport(Glibc)
import Glibc
#endif

/// The client side of relayd's reliable UDP (docs/reliable-udp.md): one session with one server, messages sent
/// and received in order, exactly once. Used by `relayd connect`, the tests and the benchmark.
///
/// `connect` does the handshake and runs `body` with the client while a task on `loop` receives the server's
/// datagrams; when `body` returns or throws, the session is closed (CLOSE normal if it is still open) and that
/// task ends before `connect` returns: nothing outlives the call. One task may send and one receive at a time.
///
/// For a benchmark: `send` returns the monotonic time the message was handed over, `receive` the time the
/// message was complete, `sendPaced` sends at a fixed rate, and `takeDeliveryLatencies` gives the time from
/// hand-over to the server's acknowledgement of each message.
public final class ReliableUDPClient: Sendable {
    /// The server's address.
    public let server: SocketAddress
    /// The client's configuration.
    public let configuration: ReliableUDPClientConfiguration
    /// The session id WELCOME gave.
    public let sessionID: UInt64
    /// What WELCOME said: encryption, packet size, idle timeout.
    public let parameters: ReliableSessionParameters
    private let socket: UDPSocket
    private let state: SanitizerVisibleMutex<State>
    private let timer: LoopTimer
    /// Rung when a message is ready or the session ended (the receiving task waits on it).
    private let arrived = Doorbell()
    /// Rung when the send queue has room or the session ended (the sending task waits on it).
    private let room = Doorbell()
    /// Rung when everything sent is acknowledged or the session ended (`finish` waits on it).
    private let settled = Doorbell()

    private struct State {
        var machine: ReliableSession
        /// How the session ended, once it has.
        var end: (reason: ReliableCloseReason, byServer: Bool)?
    }

    /// A message from the server and when it was complete (monotonic ns).
    public struct Message: Sendable {
        public var bytes: [UInt8]
        public var receivedAt: UInt64
    }

    private init(server: SocketAddress, configuration: ReliableUDPClientConfiguration, setup: ReliableSessionSetup,
                 socket: UDPSocket, now: UInt64) {
        self.server = server
        self.configuration = configuration
        self.socket = socket
        sessionID = setup.sessionID
        parameters = setup.parameters
        let machine = ReliableSession(setup: setup, configuration: configuration.session,
                                      cryptography: ReliableStandardCryptography(), now: now)
        let state = SanitizerVisibleMutex(State(machine: machine))
        self.state = state
        let box = TimerTarget()
        timer = LoopTimer(on: socket.loop) { box.client?.timerFired() }
        box.client = self
    }

    /// The timer's way back to the client, set once the client exists (weakly: the timer must not keep it).
    private final class TimerTarget: @unchecked Sendable {
        weak var client: ReliableUDPClient?
    }

    // MARK: - Connecting

    /// Connects to `server` (handshake within `configuration.handshakeTimeout`), runs `body` with the session,
    /// then closes it. Throws `ReliableUDPClientError` when the server refuses or does not answer.
    public static func connect<T: Sendable>(
        to server: SocketAddress, configuration: ReliableUDPClientConfiguration, on loop: EventLoop,
        _ body: @Sendable (ReliableUDPClient) async throws -> T
    ) async throws -> T {
        guard ReliableClientID.isValid(configuration.clientID) else {
            throw ReliableUDPClientError.invalidCredentials(
                "invalid client id '\(configuration.clientID)': 1 to 64 of A-Z a-z 0-9 . _ @ -")
        }
        guard configuration.key.count == ReliableWire.keySize else {
            throw ReliableUDPClientError.invalidCredentials("a key must be 32 bytes (64 hex digits)")
        }
        let socket = try UDPSocket.connect(to: server, on: loop)
        defer { socket.close() }
        let (setup, now) = try await handshake(with: server, configuration: configuration, socket: socket)
        let client = ReliableUDPClient(server: server, configuration: configuration, setup: setup, socket: socket,
                                       now: now)
        defer { client.timer.stop() }
        return try await withThrowingTaskGroup(of: Void.self, returning: T.self) { tasks in
            tasks.addTask(executorPreference: loop) { await client.receiveLoop() }
            client.drive(now: EventLoop.now())
            let result: Result<T, any Error>
            do {
                result = .success(try await body(client))
            } catch {
                result = .failure(error)
            }
            client.close()
            socket.abort()
            tasks.cancelAll()
            try? await tasks.waitForAll()
            return try result.get()
        }
    }

    /// HELLO → CHALLENGE → RESPONSE → WELCOME, resending on the handshake's timer, within the overall timeout.
    private static func handshake(with server: SocketAddress, configuration: ReliableUDPClientConfiguration,
                                  socket: UDPSocket) async throws -> (ReliableSessionSetup, UInt64) {
        var handshake = ReliableClientHandshake(
            clientID: configuration.clientID, key: configuration.key,
            clientNonce: SecureRandom.bytes(count: ReliableWire.nonceSize), serverAddress: server.reliablePeer,
            configuration: .init(helloSize: configuration.helloSize, requireEncryption: configuration.requireEncryption),
            cryptography: ReliableStandardCryptography())
        let start = EventLoop.now()
        let giveUp = start &+ configuration.handshakeTimeout.nanosecondsClamped
        sendIgnoringErrors(handshake.start(now: start), on: socket)
        let batch = DatagramBatch(capacity: 8)
        while true {
            var outcomes: [ReliableClientHandshake.Outcome] = []
            let wake = min(handshake.nextTimeout ?? giveUp, giveUp)
            do {
                _ = try await socket.receive(into: batch, deadline: wake)
                let now = EventLoop.now()
                for index in 0..<batch.count where !batch[index].truncated {
                    outcomes.append(handshake.handleDatagram(Array(batch[index].bytes), now: now))
                }
            } catch IOError.timedOut {
                let now = EventLoop.now()
                if now >= giveUp {
                    throw ReliableUDPClientError.noAnswer(server: server.description,
                                                          after: configuration.handshakeTimeout)
                }
                outcomes.append(handshake.handleTimeout(now: now))
            } catch let error as IOError where error.errno == ECONNREFUSED {
                // Nothing listens there (yet): ICMP says so. Keep trying until the timeout, as for silence.
                try await socket.loop.sleep(for: .milliseconds(20))
                if EventLoop.now() >= giveUp {
                    throw ReliableUDPClientError.noAnswer(server: server.description,
                                                          after: configuration.handshakeTimeout)
                }
            }
            for outcome in outcomes {
                switch outcome {
                case .none:
                    continue
                case .send(let packet):
                    sendIgnoringErrors(packet, on: socket)
                case .established(let setup):
                    return (setup, EventLoop.now())
                case .failed(let failure):
                    switch failure {
                    case let .refused(reason, retryAfter):
                        throw ReliableUDPClientError.refused(reason, clientID: configuration.clientID,
                                                             retryAfterSeconds: retryAfter)
                    case let .unsupportedVersion(highest):
                        throw ReliableUDPClientError.unsupportedVersion(highestVersion: highest)
                    case .timedOut:
                        // Every attempt was spent (REFUSED "expired cookie" restarts count too): say how long
                        // that took, which may be less than the handshake timeout.
                        let elapsed = (EventLoop.now() &- start) / 1_000_000
                        throw ReliableUDPClientError.noAnswer(
                            server: server.description,
                            after: min(.milliseconds(Int64(clamping: elapsed)), configuration.handshakeTimeout))
                    case .encryptionRequired:
                        throw ReliableUDPClientError.encryptionRequired(server: server.description)
                    }
                }
            }
        }
    }

    private static func sendIgnoringErrors(_ bytes: [UInt8], on socket: UDPSocket) {
        _ = bytes.withUnsafeBytes { try? socket.sendNow($0) }
    }

    // MARK: - Sending and receiving

    /// Hands a message over for ordered, reliable delivery, waiting while the send queue is full; returns when it
    /// was handed over (monotonic ns).
    @discardableResult
    public func send(_ message: [UInt8]) async throws -> UInt64 {
        while true {
            let now = EventLoop.now()
            let outcome = state.withLock { state -> Result<Bool, ReliableUDPClientError> in
                if let end = state.end { return .failure(.closed(end.reason, byServer: end.byServer)) }
                do throws(ReliableSession.SendError) {
                    try state.machine.send(message, now: now)
                    return .success(true)
                } catch {
                    switch error {
                    case .wouldBlock: return .success(false)
                    case .tooLarge: return .failure(.messageTooLarge(message.count))
                    case .closed: return .failure(.closed(.normal, byServer: false))
                    }
                }
            }
            switch outcome {
            case .success(true):
                drive(now: now)
                return now
            case .success(false):
                await room.wait()
                try Task.checkCancellation()
            case .failure(let error):
                throw error
            }
        }
    }

    /// Sends `count` messages, message `i` made by `make(i)` and handed over at `start + i · interval` (or as soon
    /// after as the send queue allows); returns when each was handed over (monotonic ns).
    public func sendPaced(count: Int, interval: Duration, _ make: (Int) -> [UInt8]) async throws -> [UInt64] {
        var sentAt: [UInt64] = []
        sentAt.reserveCapacity(count)
        let start = EventLoop.now()
        let step = interval.nanosecondsClamped
        for index in 0..<count {
            let due = start &+ UInt64(index) &* step
            let now = EventLoop.now()
            if due > now { try await socket.loop.sleep(for: .nanoseconds(Int64(clamping: due - now))) }
            sentAt.append(try await send(make(index)))
        }
        return sentAt
    }

    /// The next message from the server, in order; nil once the session ended and every message was taken.
    public func receive() async throws -> Message? {
        while true {
            let now = EventLoop.now()
            let (message, ended) = state.withLock { state in (state.machine.takeMessage(), state.end != nil) }
            if let message {
                drive(now: now)
                return Message(bytes: message, receivedAt: now)
            }
            if ended { return nil }
            await arrived.wait()
            try Task.checkCancellation()
        }
    }

    /// Stops sending, waits until the server acknowledged everything sent (at most `timeout`), then CLOSE. Throws
    /// `unacknowledged` when time ran out first, `closed` when the session had ended otherwise.
    public func finish(timeout: Duration = .seconds(10)) async throws {
        let now = EventLoop.now()
        let deadline = now &+ timeout.nanosecondsClamped
        state.withLock { $0.machine.finish(.normal, now: now, deadline: deadline) }
        drive(now: now)
        while true {
            let (end, unacknowledged) = state.withLock { state in
                (state.end, Int(state.machine.stats.messagesSent - state.machine.stats.messagesAcknowledged))
            }
            if let end {
                if end.byServer || end.reason != .normal { throw ReliableUDPClientError.closed(end.reason, byServer: end.byServer) }
                if unacknowledged > 0 { throw ReliableUDPClientError.unacknowledged(unacknowledged) }
                return
            }
            await settled.wait()
            try Task.checkCancellation()
        }
    }

    /// Waits until the server acknowledged everything sent so far (at most `timeout`; then throws
    /// `unacknowledged`), keeping the session open.
    public func flush(timeout: Duration = .seconds(10)) async throws {
        let deadline = EventLoop.now() &+ timeout.nanosecondsClamped
        while true {
            let (queued, end) = state.withLock { ($0.machine.queuedMessages, $0.end) }
            if let end { throw ReliableUDPClientError.closed(end.reason, byServer: end.byServer) }
            if queued == 0 { return }
            if EventLoop.now() >= deadline { throw ReliableUDPClientError.unacknowledged(queued) }
            try await socket.loop.sleep(for: .milliseconds(5))
        }
    }

    /// Ends the session now with CLOSE normal (messages not yet acknowledged are dropped). Idempotent.
    public func close() {
        let now = EventLoop.now()
        state.withLock { $0.machine.close(.normal, now: now) }
        drive(now: now)
    }

    // MARK: - What the benchmark and tests read

    /// The session's counters.
    public var stats: ReliableSessionStats { state.withLock { $0.machine.stats } }

    /// The smoothed round-trip time (ns).
    public var smoothedRTT: UInt64 { state.withLock { $0.machine.rtt.smoothed } }

    /// How the session ended, if it has: the reason, and whether the server closed it.
    public var end: (reason: ReliableCloseReason, byServer: Bool)? { state.withLock { $0.end } }

    /// From each message's hand-over to the server's acknowledgement of all of it (ns), in the order the
    /// acknowledgements completed, since the last call (at most 1,024 are kept between calls).
    public func takeDeliveryLatencies() -> [UInt64] {
        state.withLock { $0.machine.takeLatencySamples() }
    }

    // MARK: - Driving the session

    /// Receives the server's datagrams until the socket is aborted.
    private func receiveLoop() async {
        let batch = DatagramBatch()
        while true {
            do {
                _ = try await socket.receive(into: batch)
            } catch let error as IOError where error.errno == ECONNREFUSED {
                // The server's port answered ICMP unreachable; the session's timers decide what that means.
                continue
            } catch {
                return
            }
            let now = EventLoop.now()
            state.withLock { state in
                for index in 0..<batch.count where !batch[index].truncated {
                    state.machine.handleDatagram(Array(batch[index].bytes), from: state.machine.peerAddress,
                                                 now: now)
                }
            }
            drive(now: now)
        }
    }

    private func timerFired() {
        let now = EventLoop.now()
        state.withLock { $0.machine.handleTimeout(now: now) }
        drive(now: now)
    }

    /// Sends what the session wants sent, notes its end, wakes whoever waits, and arms the timer.
    private func drive(now: UInt64) {
        let (ready, canSend, settledNow, next) = state.withLock { state in
            while let event = state.machine.pollEvent() {
                if case .closed(let reason, let byPeer) = event, state.end == nil { state.end = (reason, byPeer) }
            }
            while let datagram = state.machine.pollDatagram(now: now) {
                Self.sendIgnoringErrors(datagram.bytes, on: socket)
            }
            let ended = state.end != nil
            return (state.machine.messagesReady > 0 || ended, state.machine.canSend || ended,
                    state.machine.queuedMessages == 0 || ended, state.machine.nextTimeout)
        }
        if ready { arrived.ring() }
        if canSend { room.ring() }
        if settledNow { settled.ring() }
        if let next { timer.arm(at: next) }
    }
}
