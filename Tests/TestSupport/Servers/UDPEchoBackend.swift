import RelayIO

/// A UDP echo server on loopback (port 0 unless given), optionally answering the relay's flows after `delay`
/// (health probes are answered at once, so they never queue up behind flows); counts the datagrams it got,
/// those of flows and its replies to them, and the distinct senders (the relay's flows).
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

    /// - Parameter reusePort: binds with `SO_REUSEPORT`, so that a `PortReservation` can take over the port
    ///   before the backend stops (a dead server that answers with port unreachable).
    public init(ip: String = "127.0.0.1", port: UInt16 = 0, delay: Duration = .zero, reusePort: Bool = false) throws {
        let loop = clientLoops.next()
        let socket = try UDPSocket.bind(try SocketAddress(ip: ip, port: port), on: loop, reusePort: reusePort)
        self.socket = socket
        address = try socket.localAddress()
        let datagrams = self.datagrams
        let requests = self.requests
        let echoes = self.echoes
        let senders = self.senders
        task = Task(executorPreference: loop) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                guard let (count, sender, _) = try? await socket.receive(into: buffer) else { return }
                datagrams.increment()
                // UDP health probes send "ping" from a socket of their own: not a flow.
                let probe = count == 4 && Array(buffer[0..<4]) == Array("ping".utf8)
                if !probe {
                    senders.insert(sender)
                    requests.increment()
                    // The slowness is the behaviour under test.
                    if delay > .zero { try? await loop.sleep(for: delay) }
                }
                try? await socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: sender)
                if !probe { echoes.increment() }
            }
        }
    }

    /// The number of flows (distinct senders other than probes) seen.
    public var flowCount: Int { senders.count }

    public func stop() async {
        socket.abort()
        task.cancel()
        await task.value
        socket.close()
    }
}
