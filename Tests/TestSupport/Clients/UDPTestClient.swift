import RelayIO
import Testing

/// A UDP client socket connected to a relay (or a backend).
public struct UDPTestClient: Sendable {
    public let socket: UDPSocket

    public init(_ front: SocketAddress) throws {
        socket = try UDPSocket.connect(to: front, on: clientLoops.next())
    }

    /// Sends `bytes` and waits (bounded) for one reply. The default time-out only stops a lost datagram from
    /// hanging the test: a loaded machine can take seconds to relay one. A test that expects no reply gives a
    /// short one of its own.
    public func roundTrip(_ bytes: [UInt8], timeout: Duration = .seconds(20)) async throws -> [UInt8] {
        try await socket.send(bytes)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { buffer.deallocate() }
        let (count, _, truncated) = try await socket.receive(into: buffer,
                                                             deadline: EventLoop.now() + timeout.nanosecondsClamped)
        #expect(!truncated)
        return Array(buffer[0..<count])
    }

    public func close() { socket.close() }
}
