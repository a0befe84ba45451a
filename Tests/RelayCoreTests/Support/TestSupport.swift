import Foundation
import RelayIO
import Synchronization
import Testing
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Loops for test clients and test backends, separate from any server's loops.
let clientLoops = try! EventLoopGroup(loops: 2, bufferSize: 64 * 1024)

struct TestTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "test step did not finish within \(limit)" }
}

/// Runs `body`, failing (instead of hanging the run) if it takes longer than `limit`.
func withTimeout<T: Sendable>(_ limit: Duration = .seconds(20), _ body: @escaping @Sendable () async throws -> T)
    async throws -> T
{
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        guard let first = try await group.next(), let value = first else {
            group.cancelAll()
            throw TestTimeout(limit: limit)
        }
        group.cancelAll()
        return value
    }
}

/// A relay server running in-process, started from JSON5 text, always shut down by `stop()`.
final class RunningRelay: Sendable {
    let server: RelayServer
    let task: Task<Result<Void, any Error>, Never>
    let logs: LogCapture

    /// With `configPath`, the config is read from that file (so `reload()` can read it again) and
    /// `configText` is ignored.
    init(_ configText: String, configPath: String? = nil, level: Logger.Level = .debug) throws {
        let config = try configPath.map { try RelayConfig.load(path: $0) } ?? RelayConfig.parse(configText)
        let logs = LogCapture()
        let server = try RelayServer(config: config, configPath: configPath,
                                     logger: Logger(level: level, sink: .capture(logs)), restartPolicy: RestartPolicy())
        self.logs = logs
        self.server = server
        self.task = Task {
            do {
                try await server.run()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    func address(_ listener: String) throws -> SocketAddress {
        try #require(server.address(of: listener))
    }

    /// Graceful shutdown; returns how `run()` ended.
    @discardableResult
    func stop(within limit: Duration = .seconds(20)) async throws -> Result<Void, any Error> {
        server.shutdown()
        let task = self.task
        return try await withTimeout(limit) { await task.value }
    }
}

/// Runs `body` with a relay, stopping it afterwards even when `body` throws.
func withRelay<T: Sendable>(_ configText: String, _ body: (RunningRelay) async throws -> T) async throws -> T {
    let relay = try RunningRelay(configText)
    do {
        let value = try await body(relay)
        try await relay.stop()
        return value
    } catch {
        _ = try? await relay.stop()
        // The relay's own log is the first thing to read when a relay test fails.
        let tail = relay.logs.lines.suffix(60).joined(separator: "\n")
        Issue.record("relay log:\n\(tail)")
        throw error
    }
}

/// Runs `body` with a relay started from `configText` written to a temporary file (so `reload()` can read
/// the file again after `body` rewrites it), within `limit`, and always stops the relay; on failure the
/// relay's log is recorded.
func withReloadableRelay(_ configText: String, limit: Duration = .seconds(20),
                                 _ body: @escaping @Sendable (RunningRelay, String) async throws -> Void) async throws {
    let path = try temporaryFile(configText)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let relay = try RunningRelay("", configPath: path)
    do {
        try await withTimeout(limit) { try await body(relay, path) }
        try await relay.stop()
    } catch {
        _ = try? await relay.stop()
        Issue.record("relay log:\n\(relay.logs.lines.suffix(60).joined(separator: "\n"))")
        throw error
    }
}

extension TCPConnection {
    /// Waits for the first byte (without consuming it) or end of stream; true when data came.
    func bringsData() async -> Bool {
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

/// A test backend on 127.0.0.1 or ::1 port 0 that runs `handler` for each connection, counting the
/// connections that carry data (health probes, which connect and close, are not counted).
final class TestBackend: Sendable {
    let listener: TCPListener
    let task: Task<Void, Never>
    let connections = CountBox()

    init(ip: String = "127.0.0.1", port: UInt16 = 0,
         handler: @escaping @Sendable (TCPConnection) async throws -> Void) throws {
        let loop = clientLoops.next()
        let listener = try TCPListener(bindingTo: try SocketAddress(ip: ip, port: port), on: loop, reusePort: false)
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
    static func echo(ip: String = "127.0.0.1") throws -> TestBackend {
        try TestBackend(ip: ip) { connection in
            _ = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
        }
    }

    var address: SocketAddress { listener.localAddress }

    func stop() async {
        listener.stop()
        await task.value
        listener.close()
    }
}

final class CountBox: Sendable {
    private let value = Mutex<Int>(0)
    func increment() { value.withLock { $0 += 1 } }
    var count: Int { value.withLock { $0 } }
}


/// A client connection with byte-array helpers.
struct TestClient {
    let connection: TCPConnection

    static func connect(_ address: SocketAddress) async throws -> TestClient {
        TestClient(connection: try await TCPConnection.connect(to: address, on: clientLoops.next(), timeout: .seconds(5)))
    }

    func send(_ bytes: [UInt8]) async throws { try await connection.write(bytes) }

    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// Reads until end of stream (bounded by `limit` bytes).
    func readToEnd(limit: Int = 64 << 20) async throws -> [UInt8] {
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
    func read(exactly count: Int) async throws -> [UInt8] {
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

    func close() { connection.close() }
}

/// A bound-then-closed loopback port: nothing listens there, so connecting is refused.
func deadAddress(ip: String = "127.0.0.1") throws -> SocketAddress {
    let listener = try TCPListener(bindingTo: try SocketAddress(ip: ip, port: 0), on: clientLoops.loops[0], reusePort: false)
    let address = listener.localAddress
    listener.close()
    return address
}

/// A loopback address where connection attempts hang: a listener with a backlog of 0 that never
/// accepts, whose queue the returned connections fill. Keep the result alive while it is used.
final class BlackHole: Sendable {
    let listener: TCPListener
    let held: [TCPConnection]

    init() async throws {
        let loop = clientLoops.loops[1]
        listener = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: loop, backlog: 0,
                                   reusePort: false)
        var held: [TCPConnection] = []
        for _ in 0..<8 {
            do {
                held.append(try await TCPConnection.connect(to: listener.localAddress, on: loop,
                                                            timeout: .milliseconds(150)))
            } catch IOError.timedOut {
                break
            }
        }
        self.held = held
    }

    var address: SocketAddress { listener.localAddress }

    deinit {
        for connection in held { connection.close() }
        listener.close()
    }
}

/// An HTTP backend answering every request with `status` after `delay`.
func httpBackend(status: Int = 200, delay: Duration = .zero, ip: String = "127.0.0.1") throws -> TestBackend {
    try TestBackend(ip: ip) { connection in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        var request: [UInt8] = []
        while !String(decoding: request, as: UTF8.self).contains("\r\n\r\n"), request.count < 4096 {
            let count = try await connection.read(into: buffer)
            if count == 0 { return }
            request += buffer[0..<count]
        }
        if delay > .zero { try await connection.loop.sleep(for: delay) }
        try await connection.write(Array("HTTP/1.1 \(status) Test\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8))
        connection.shutdownWrite()
    }
}

/// A UDP echo server on loopback (port 0 unless given), optionally answering the relay's flows after
/// `delay` (health probes are answered at once, so they never queue up behind flows); counts the datagrams
/// it got, those of flows and its replies to them, and the distinct senders (the relay's flows).
final class UDPEchoBackend: Sendable {
    let socket: UDPSocket
    let task: Task<Void, Never>
    /// Every datagram received, health probes included.
    let datagrams = CountBox()
    /// Datagrams of the relay's flows (not probes).
    let requests = CountBox()
    /// Replies sent to the relay's flows.
    let echoes = CountBox()
    let senders = AddressSet()

    init(ip: String = "127.0.0.1", port: UInt16 = 0, delay: Duration = .zero) throws {
        let loop = clientLoops.next()
        let socket = try UDPSocket.bind(try SocketAddress(ip: ip, port: port), on: loop)
        self.socket = socket
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
                    if delay > .zero { try? await loop.sleep(for: delay) }
                }
                try? await socket.send(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), to: sender)
                if !probe { echoes.increment() }
            }
        }
    }

    var address: SocketAddress { (try? socket.localAddress())! }

    var flowCount: Int { senders.count }

    func stop() async {
        socket.abort()
        await task.value
        socket.close()
    }
}

/// A set of addresses filled from several tasks.
final class AddressSet: Sendable {
    private let storage = SanitizerVisibleMutex<Set<SocketAddress>>([])
    func insert(_ address: SocketAddress) { storage.withLock { _ = $0.insert(address) } }
    var count: Int { storage.withLock { $0.count } }
}
