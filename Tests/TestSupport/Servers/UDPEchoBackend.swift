import RelayIO

/// A UDP echo server on loopback (port 0 unless given); counts the datagrams it got, those of flows and its
/// replies to them, and the distinct senders (the relay's flows). A test can hold its replies to flows (health
/// probes are always answered at once) to have a reply on its way at a moment of its choosing.
public final class UDPEchoBackend: TestServer {
    public let socket: UDPSocket
    private let task: Task<Void, Never>
    /// Every datagram received, health probes included.
    public let datagrams = CountBox()
    /// Datagrams of the relay's flows (not probes).
    public let requests = CountBox()
    /// Replies sent to the relay's flows.
    public let echoes = CountBox()
    /// The relay's flows that reached this server.
    public let senders = AddressSet()
    /// The bound address, read once: it stays valid for a report after `stop()`.
    public let address: SocketAddress
    /// Whether replies to flows wait, and who waits.
    private let valve = ReplyValve()

    /// Binds without `SO_REUSEPORT`: a UDP socket that asks for port 0 with it may get a port that another such
    /// socket holds (see `freeUDPAddress`). A stopped backend's port stays dead for the rest of the run.
    public init(ip: String = "127.0.0.1", port: UInt16 = 0) throws {
        let loop = clientLoops.next()
        let socket = try UDPSocket.bind(try SocketAddress(ip: ip, port: port), on: loop)
        self.socket = socket
        address = try socket.localAddress()
        let datagrams = self.datagrams
        let requests = self.requests
        let echoes = self.echoes
        let senders = self.senders
        let valve = self.valve
        task = Task(executorPreference: loop) {
            await withDiscardingTaskGroup { replies in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                defer { buffer.deallocate() }
                while true {
                    guard let (count, sender, _) = try? await socket.receive(into: buffer) else { return }
                    datagrams.increment()
                    let bytes = Array(buffer[0..<count])
                    // UDP health probes send "ping" from a socket of their own: not a flow.
                    if bytes == Array("ping".utf8) {
                        try? await socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: sender)
                        continue
                    }
                    senders.insert(sender)
                    requests.increment()
                    // Each reply on its own, so that a held one holds up nothing else.
                    replies.addTask(executorPreference: loop) {
                        await valve.pass()
                        guard (try? await Self.send(bytes, to: sender, on: socket)) != nil else { return }
                        echoes.increment()
                    }
                }
            }
        }
    }

    /// Sends `bytes` from a buffer of their own (the receive buffer is reused meanwhile).
    private static func send(_ bytes: [UInt8], to peer: SocketAddress, on socket: UDPSocket) async throws {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try await socket.send(UnsafeRawBufferPointer(copy), to: peer)
    }

    /// The number of flows (distinct senders other than probes) seen.
    public var flowCount: Int { senders.count }

    /// Replies to flows wait from now on until `releaseReplies()`.
    public func holdReplies() { valve.close() }

    /// Sends the replies held, and later ones at once.
    public func releaseReplies() { valve.open() }

    /// Stops answering and keeps the port dead for the rest of the run (a reservation takes it at once): a relay
    /// still sending to it would otherwise reach whatever socket of another test the kernel gives the port to next.
    public func stop() async {
        valve.open()
        socket.abort()
        task.cancel()
        await task.value
        socket.close()
        keepDead(.udp, address)
    }
}

/// Open: replies pass at once. Closed: they wait until it opens.
final class ReplyValve: Sendable {
    private let state = SanitizerVisibleMutex<(closed: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func close() { state.withLock { $0.closed = true } }

    func open() {
        let waiting = state.withLock { state in
            defer { state = (false, []) }
            return state.waiting
        }
        for waiter in waiting { waiter.resume() }
    }

    func pass() async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { state in
                if !state.closed { return true }
                state.waiting.append(continuation)
                return false
            }
            if passNow { continuation.resume() }
        }
    }
}
