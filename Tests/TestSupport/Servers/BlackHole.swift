import RelayIO

/// A loopback address where connection attempts hang: a listener with a backlog of 0 that never accepts,
/// whose queue the returned connections fill. Keep the result alive while it is used; it closes everything
/// when it goes away.
public final class BlackHole: Sendable {
    public let listener: TCPListener
    private let held: [TCPConnection]

    public init() async throws {
        let loop = clientLoops.loops[1]
        listener = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: loop, backlog: 0,
                                   reusePort: false)
        var held: [TCPConnection] = []
        // The queue is full when a connect times out; one that timed out before any got through only met a
        // busy loop (a loaded machine), so try again.
        for _ in 0..<16 {
            do {
                held.append(try await TCPConnection.connect(to: listener.localAddress, on: loop,
                                                            timeout: .milliseconds(300)))
            } catch IOError.timedOut where !held.isEmpty {
                break
            } catch IOError.timedOut {
                continue
            }
        }
        self.held = held
    }

    public var address: SocketAddress { listener.localAddress }

    deinit {
        for connection in held { connection.close() }
        listener.close()
    }
}
