import RelayIO
import RelayProtocol
import TestSupport
import Testing
@testable import RelayCore

/// The etcd client's HTTP/1.1: keep-alive reuse, chunked replies, the deadline, the size bound, fail-over to the
/// next endpoint.
@Suite struct HTTPClientTests {
    /// A server answering every request on a connection with `reply`, after reading its head and body.
    static func server(_ reply: @escaping @Sendable (Int) -> String) throws -> TestBackend {
        try TestBackend { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            var pending: [UInt8] = []
            var served = 0
            while true {
                guard case let .request(_, used) = HTTPRequestParser().parse(pending) else {
                    let count = try await connection.read(into: buffer)
                    if count == 0 { return }
                    pending += buffer[0..<count]
                    continue
                }
                pending.removeFirst(used)
                served += 1
                try await connection.write(Array(reply(served).utf8))
            }
        }
    }

    func client(_ addresses: [SocketAddress]) -> HTTPClient {
        HTTPClient(endpoints: addresses, loop: clientLoops.next(),
                   limits: HTTPLimits(maxHeaderBytes: 4096, maxBodyBytes: 1024))
    }

    @Test(.timeLimit(.minutes(1)))
    func keepAliveReusesOneConnectionAndReadsChunkedReplies() async throws {
        try await withTestServer(try Self.server { number in
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"n\"\r\n\(String(number).count + 2)\r\n:\(number)}\r\n0\r\n\r\n"
        }) { backend in
            let client = client([backend.address])
            defer { client.close() }
            for number in 1...3 {
                let reply = try await client.post("/v3/kv/range", body: "{}", timeout: .seconds(5))
                #expect(reply.status == 200)
                #expect(String(decoding: reply.body, as: UTF8.self) == "{\"n\":\(number)}")
            }
            #expect(backend.connections.count == 1)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func silentServerTimesOutAndOversizedReplyIsRefused() async throws {
        try await withTestServer(try TestBackend { connection in
            // Reads the request and never answers.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            while try await connection.read(into: buffer) > 0 {}
        }) { silent in
            let start = ContinuousClock.now
            await #expect(throws: EtcdError.self) {
                try await client([silent.address]).post("/x", body: "{}", timeout: .milliseconds(300))
            }
            #expect(ContinuousClock.now - start < .seconds(3))
        }
        try await withTestServer(try Self.server { _ in "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n" }) { big in
            do throws(EtcdError) {
                _ = try await client([big.address]).post("/x", body: "{}", timeout: .seconds(5))
                Issue.record("an oversized reply was accepted")
            } catch {
                guard case .malformed(let reason) = error else { throw error }
                #expect(reason.contains("larger than 1024 bytes"))
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func deadEndpointIsSkippedAndTheLiveOneKept() async throws {
        let dead = try PortReservation(.tcp)
        defer { dead.release() }
        try await withTestServer(try Self.server { _ in "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}" }) { live in
            let client = client([dead.address, live.address])
            defer { client.close() }
            let first = try await client.post("/x", body: "{}", timeout: .seconds(5))
            let second = try await client.post("/x", body: "{}", timeout: .seconds(5))
            #expect(first.body == Array("{}".utf8) && second.status == 200)
            #expect(live.connections.count == 1)
        }
        let nobody = try PortReservation(.tcp)
        defer { nobody.release() }
        await #expect(throws: EtcdError.self) {
            try await client([nobody.address]).post("/x", body: "{}", timeout: .seconds(2))
        }
    }
}
