#if canImport(Glibc)
import Glibc
#endif
import RelayIO
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

/// The relay's side of the tests: one loop with small buffers, so that chunks are many and the socket
/// buffers fill (partial writes, held chunks). Never shut down (the test process ends with it).
private let bridgeLoops = try! EventLoopGroup(loops: 1, bufferSize: 16 * 1024)

/// Two connected sockets: `outer` on a client loop (the test's end), `inner` on the relay's loop.
private func socketPair() async throws -> (outer: TCPConnection, inner: TCPConnection) {
    let loop = bridgeLoops.loops[0]
    let listener = try TCPListener(bindingTo: try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
    defer { listener.close() }
    async let accepted = listener.accept()
    let outer = try await TCPConnection.connect(to: listener.localAddress, on: clientLoops.next(), timeout: .seconds(20))
    let inner = try TCPConnection(adopting: try await accepted, on: loop)
    return (outer, inner)
}

/// Reads until end of stream.
private func readToEnd(_ connection: TCPConnection) async throws -> [UInt8] {
    try await TestClient(connection: connection).readToEnd()
}

/// Reads exactly `count` bytes (fewer at end of stream).
private func read(_ connection: TCPConnection, exactly count: Int) async throws -> [UInt8] {
    try await TestClient(connection: connection).read(exactly: count)
}

/// The peers of a relay under test.
private struct BridgeSides: Sendable {
    /// The test's ends: the client and the backend.
    let client: TCPConnection
    let backend: TCPConnection
    /// The relay's end of the client connection.
    let clientInner: TCPConnection
    /// The task running the relay.
    let relay: Task<RelayOutcome, Never>
}

/// A client pair and a backend pair with `TCPRelay.run` between their inner ends, in a task on the relay's
/// loop. `body` gets the peers; the outcome comes back when the relay has ended.
private func withBridge(onFirstResponse: (@Sendable (Duration) -> Void)? = nil,
                        _ body: @escaping @Sendable (BridgeSides) async throws -> Void) async throws -> RelayOutcome
{
    let (client, clientInner) = try await socketPair()
    let (backend, backendInner) = try await socketPair()
    defer {
        client.close()
        backend.close()
    }
    let loop = bridgeLoops.loops[0]
    let relay = Task(executorPreference: loop) {
        let outcome = await TCPRelay.run(client: clientInner, backend: backendInner, pool: loop.buffers,
                                         onFirstResponse: onFirstResponse)
        clientInner.close()
        backendInner.close()
        return outcome
    }
    do {
        let sides = BridgeSides(client: client, backend: backend, clientInner: clientInner, relay: relay)
        try await withTimeout { try await body(sides) }
    } catch {
        relay.cancel()
        _ = await relay.value
        throw error
    }
    return try await withTimeout { await relay.value }
}

/// Whether reading `connection` ends in a reset (ECONNRESET) rather than an orderly end of stream.
private func endsInReset(_ connection: TCPConnection) async -> Bool {
    do {
        _ = try await readToEnd(connection)
        return false
    } catch let error as IOError {
        return error == .syscall(call: "recv", errno: ECONNRESET)
    } catch {
        return false
    }
}

/// The single-task relay of both directions: full duplex, half-close, held chunks, resets, cancellation.
@Suite(.serialized) struct TCPBridgeTests {
    @Test func streamsBothWaysAtOnce() async throws {
        let size = 4 << 20
        let up = pattern(size, seed: 1)
        let down = pattern(size, seed: 2)
        let outcome = try await withBridge { sides in
            let (client, backend) = (sides.client, sides.backend)
            // Both peers write and read at the same time; neither waits for the other's data to end.
            async let clientSends: Void = { try await client.write(up); client.shutdownWrite() }()
            async let backendSends: Void = { try await backend.write(down); backend.shutdownWrite() }()
            async let clientGot = readToEnd(client)
            let backendGot = try await readToEnd(backend)
            try await clientSends
            try await backendSends
            #expect(backendGot == up)
            #expect(try await clientGot == down)
        }
        #expect(outcome.bytesUp == size)
        #expect(outcome.bytesDown == size)
        #expect(outcome.up == .endOfStream)
        #expect(outcome.down == .endOfStream)
        #expect(bridgeLoops.loops[0].buffers.inUse == 0)
    }

    @Test func halfCloseKeepsTheOtherDirectionFlowing() async throws {
        let outcome = try await withBridge { sides in
            let (client, backend) = (sides.client, sides.backend)
            try await client.write(Array("request".utf8))
            client.shutdownWrite()
            // The backend sees the request and its end, then answers at length on the half-open connection.
            #expect(try await readToEnd(backend) == Array("request".utf8))
            let answer = pattern(1 << 20, seed: 3)
            try await backend.write(answer)
            backend.shutdownWrite()
            #expect(try await readToEnd(client) == answer)
        }
        #expect(outcome.up == .endOfStream)
        #expect(outcome.down == .endOfStream)
        #expect(outcome.bytesDown == 1 << 20)
    }

    @Test func aSlowReaderHoldsOneChunkNotTheStream() async throws {
        let size = 16 << 20
        let data = pattern(size, seed: 4)
        let pool = bridgeLoops.loops[0].buffers
        let outcome = try await withBridge { sides in
            let (client, backend) = (sides.client, sides.backend)
            async let backendSends: Void = { try await backend.write(data); backend.shutdownWrite() }()
            // The client reads nothing for a while: the socket buffers fill, the relay holds what it read
            // last and reads no more, so the backend's writes stall instead of relayd buffering the stream.
            try await Task.sleep(for: .milliseconds(300))
            #expect(pool.inUse <= 1)
            #expect(try await read(client, exactly: size) == data)
            try await backendSends
            #expect(try await readToEnd(client) == [])
            client.shutdownWrite()
        }
        #expect(outcome.bytesDown == size)
        #expect(pool.inUse == 0)
    }

    @Test func aResetFromTheBackendResetsTheClient() async throws {
        let outcome = try await withBridge { sides in
            let (client, backend) = (sides.client, sides.backend)
            try await client.write(Array("hello".utf8))
            #expect(try await read(backend, exactly: 5) == Array("hello".utf8))
            backend.setResetOnClose()
            backend.close()
            #expect(await endsInReset(client))
        }
        guard case .failed = outcome.down else {
            Issue.record("the backend's reset should fail the downstream direction, got \(outcome.down)")
            return
        }
        #expect(outcome.up == .cancelled)
        #expect(bridgeLoops.loops[0].buffers.inUse == 0)
    }

    @Test func cancellingAnIdleRelayResetsBothPeers() async throws {
        let outcome = try await withBridge { sides in
            let (client, backend, relay) = (sides.client, sides.backend, sides.relay)
            try await client.write(Array("x".utf8))
            #expect(try await read(backend, exactly: 1) == Array("x".utf8))
            relay.cancel()
            #expect(await endsInReset(client))
            #expect(await endsInReset(backend))
        }
        #expect(outcome.up == .cancelled)
        #expect(outcome.down == .cancelled)
        #expect(outcome.bytesUp == 1)
        #expect(bridgeLoops.loops[0].buffers.inUse == 0)
    }

    @Test func cancellingWithAChunkHeldReturnsTheBuffer() async throws {
        let pool = bridgeLoops.loops[0].buffers
        let outcome = try await withBridge { sides in
            let (client, backend, relay) = (sides.client, sides.backend, sides.relay)
            // The client never reads: the relay ends up holding a chunk it cannot write.
            let sender = Task { try? await backend.write(pattern(16 << 20, seed: 5)) }
            try await eventually("the relay holds a chunk") { pool.inUse == 1 }
            relay.cancel()
            // The backend's writes fail once the relay has reset its connection.
            _ = await sender.value
            _ = client
        }
        #expect(outcome.down == .cancelled)
        #expect(pool.inUse == 0)
    }

    @Test func abortingASocketFromAnotherThreadEndsTheRelay() async throws {
        let outcome = try await withBridge { sides in
            try await sides.client.write(Array("x".utf8))
            #expect(try await read(sides.backend, exactly: 1) == Array("x".utf8))
            // What the idle-timeout sweep and the drain do, from a thread of their own.
            await Task.detached { sides.clientInner.abort() }.value
            #expect(await endsInReset(sides.client))
            #expect(await endsInReset(sides.backend))
        }
        #expect(outcome.up == .cancelled)
        #expect(outcome.down == .cancelled)
    }

    @Test func theFirstResponseIsTimedOnceFromTheFirstRequestByte() async throws {
        let timings = Mutex<[Duration]>([])
        _ = try await withBridge(onFirstResponse: { duration in timings.withLock { $0.append(duration) } }) { sides in
            let (client, backend) = (sides.client, sides.backend)
            try await client.write(Array("q".utf8))
            #expect(try await read(backend, exactly: 1) == Array("q".utf8))
            try await Task.sleep(for: .milliseconds(50))
            try await backend.write(Array("a".utf8))
            #expect(try await read(client, exactly: 1) == Array("a".utf8))
            // Later exchanges are not first responses.
            try await client.write(Array("q".utf8))
            #expect(try await read(backend, exactly: 1) == Array("q".utf8))
            try await backend.write(Array("a".utf8))
            #expect(try await read(client, exactly: 1) == Array("a".utf8))
            client.shutdownWrite()
            backend.shutdownWrite()
        }
        let recorded = timings.withLock { $0 }
        #expect(recorded.count == 1)
        #expect((recorded.first ?? .zero) >= .milliseconds(50))
    }
}
