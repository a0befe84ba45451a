import RelayCore
import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// A TCP backend on loopback (port 0 unless given) that runs `handler` for each connection, counting the
/// connections that carry data (health probes, which connect and close, are not counted).
public final class TestBackend: TestServer {
    public let listener: TCPListener
    private let task: Task<Void, Never>
    /// Connections that brought data.
    public let connections = CountBox()

    /// - Parameter reusePort: binds with `SO_REUSEPORT`, so that a `PortReservation` can hold the port while
    ///   the backend is down and a new backend can take it back.
    public init(ip: String = "127.0.0.1", port: UInt16 = 0, reusePort: Bool = false,
                handler: @escaping @Sendable (TCPConnection) async throws -> Void) throws {
        let loop = clientLoops.next()
        let listener = try TCPListener(bindingTo: try SocketAddress(ip: ip, port: port), on: loop, reusePort: reusePort)
        self.listener = listener
        let connections = self.connections
        self.task = Task(executorPreference: loop) {
            await withDiscardingTaskGroup { group in
                do {
                    for try await accepted in listener.connections() {
                        group.addTask(executorPreference: loop) {
                            guard let connection = try? TCPConnection(adopting: accepted, on: loop) else { return }
                            defer { connection.close() }
                            // Count only connections that bring data: health probes connect and leave.
                            if await connection.bringsData() { connections.increment() }
                            try? await handler(connection)
                        }
                    }
                } catch {}
            }
        }
    }

    /// An echo backend: sends every byte back and half-closes at end of stream.
    public static func echo(ip: String = "127.0.0.1", port: UInt16 = 0, reusePort: Bool = false) throws -> TestBackend {
        try TestBackend(ip: ip, port: port, reusePort: reusePort) { connection in
            _ = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
        }
    }

    /// An echo backend that answers each chunk after `delay`: a server that is up but slow.
    public static func slowEcho(delay: Duration) throws -> TestBackend {
        try TestBackend { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            while true {
                let count = try await connection.read(into: buffer)
                if count == 0 { break }
                // The slowness is the behaviour under test.
                if delay > .zero { try await connection.loop.sleep(for: delay) }
                try await connection.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            }
            connection.shutdownWrite()
        }
    }

    /// An HTTP backend answering every request with `status` after `delay`.
    public static func http(status: Int = 200, delay: Duration = .zero, ip: String = "127.0.0.1") throws -> TestBackend {
        try TestBackend(ip: ip) { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            var request: [UInt8] = []
            while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n"), request.count < 4096 {
                let count = try await connection.read(into: buffer)
                if count == 0 { return }
                request += buffer[0..<count]
            }
            // The slowness is the behaviour under test.
            if delay > .zero { try await connection.loop.sleep(for: delay) }
            try await connection.write(Array("HTTP/1.1 \(status) Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8))
            connection.shutdownWrite()
        }
    }

    public var address: SocketAddress { listener.localAddress }

    /// Stops accepting, ends the connections still open (their handlers are cancelled, and each connection is
    /// closed as its handler returns), and waits for all of it.
    public func stop() async {
        listener.stop()
        task.cancel()
        await task.value
        listener.close()
    }
}

extension TCPConnection {
    /// Waits for the first byte (without consuming it) or end of stream; true when data came.
    public func bringsData() async -> Bool {
        var byte: UInt8 = 0
        while true {
            let peeked = recv(fd, &byte, 1, Int32(MSG_PEEK))
            if peeked > 0 { return true }
            if peeked == 0 { return false }
            if errno != EAGAIN && errno != EINTR { return false }
            do { try await waitReadable() } catch { return false }
        }
    }
}
