#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

/// Shared loops for the I/O tests; never shut down (the test process ends with them).
let testLoops = try! EventLoopGroup(loops: 2, bufferSize: 64 * 1024)

@Suite struct TCPConnectionTests {
    @Test func echoesThroughListenerAndConnection() async throws {
        let loop = testLoops.loops[0]
        let listener = try TCPListener(bindingTo: try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { listener.close() }
        let address = listener.localAddress
        #expect(address.port != 0)
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask(executorPreference: loop) {
                    let accepted = try await listener.accept()
                    let connection = try TCPConnection(adopting: accepted, on: loop)
                    defer { connection.close() }
                    for try await chunk in connection.inbound(pool: loop.buffers) {
                        try await connection.write(chunk)
                    }
                    connection.shutdownWrite()
                }
                let client = try await TCPConnection.connect(to: address, on: testLoops.loops[1], timeout: .seconds(2))
                defer { client.close() }
                try await client.write(Array("hello relay".utf8))
                client.shutdownWrite()
                var received: [UInt8] = []
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
                defer { buffer.deallocate() }
                while true {
                    let count = try await client.read(into: buffer)
                    if count == 0 { break }
                    received += buffer[0..<count]
                }
                #expect(String(decoding: received, as: UTF8.self) == "hello relay")
                try await group.waitForAll()
            }
        }
        #expect(loop.buffers.inUse == 0)
    }

    @Test func connectToClosedPortIsRefused() async throws {
        // Bind a port, then close it, so nothing listens there.
        let probe = try TCPListener(bindingTo: try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        let address = probe.localAddress
        probe.close()
        await #expect(throws: IOError.syscall(call: "connect", errno: ECONNREFUSED)) {
            _ = try await TCPConnection.connect(to: address, on: testLoops.loops[1], timeout: .seconds(2))
        }
    }

    @Test func stopWakesAcceptWithClosed() async throws {
        let loop = testLoops.loops[1]
        let listener = try TCPListener(bindingTo: try SocketAddress(parsing: "[::1]:0"), on: loop)
        defer { listener.close() }
        try await withTimeout {
            try await withThrowingTaskGroup(of: Void.self) { group in
                let started = CountBox()
                group.addTask(executorPreference: loop) {
                    started.increment()
                    var count = 0
                    for try await _ in listener.connections() { count += 1 }
                    #expect(count == 0)
                }
                // Stopped on its way into accept or parked in it, the accept loop must end.
                try await eventually("the accept loop started") { started.count == 1 }
                listener.stop()
                try await group.waitForAll()
            }
        }
    }
}
