import RelayIO

/// A TCP client connection with byte-array helpers.
public struct TestClient: Sendable {
    public let connection: TCPConnection

    /// Wraps a connection made elsewhere.
    public init(connection: TCPConnection) {
        self.connection = connection
    }

    /// Connects to `address`; the time-out is generous, a bound against a hang rather than a measure.
    public static func connect(_ address: SocketAddress, timeout: Duration = .seconds(20)) async throws -> TestClient {
        TestClient(connection: try await TCPConnection.connect(to: address, on: clientLoops.next(), timeout: timeout))
    }

    public func send(_ bytes: [UInt8]) async throws { try await connection.write(bytes) }

    public func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Reads until end of stream (bounded by `limit` bytes).
    public func readToEnd(limit: Int = 64 << 20) async throws -> [UInt8] {
        var received: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while received.count <= limit {
            let count = try await connection.read(into: buffer)
            if count == 0 { break }
            received += buffer[0..<count]
        }
        return received
    }

    /// Reads exactly `count` bytes (or fewer at end of stream).
    public func read(exactly count: Int) async throws -> [UInt8] {
        var received: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while received.count < count {
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, count - received.count)])
            let got = try await connection.read(into: slice)
            if got == 0 { break }
            received += slice[0..<got]
        }
        return received
    }

    public func close() { connection.close() }
}
