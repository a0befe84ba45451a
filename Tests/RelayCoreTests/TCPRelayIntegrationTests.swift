import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Config text for one TCP listener on port 0 in front of `servers`.
func relayConfig(listen: String = "127.0.0.1:0", servers: [SocketAddress], extraListener: String = "",
                 drain: String = "5s", loops: Int = 2, splice: Bool = false) -> String {
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
        {
          listeners: [ { name: "front", protocol: "tcp", listen: "\(listen)", backend: "app" \(extraListener) } ],
          backends: { app: { servers: [\(list)], connect_timeout: "1s" } },
          drain_timeout: "\(drain)",
          io: { loops: \(loops), splice: \(splice) },
          log: { level: "debug" },
        }
        """
}

@Suite struct TCPRelayIntegrationTests {
    @Test(arguments: [false, true])
    func relays32MiBIntactWithHalfClose(splice: Bool) async throws {
        // The backend reads everything until the client's FIN reaches it, and only then answers with the
        // whole payload: this passes only if the relay forwards the half-close and keeps the other
        // direction open afterwards.
        try await withTestServers { servers in
            let backend = servers.add(try TestBackend { connection in
                var received: [UInt8] = []
                received.reserveCapacity(32 << 20)
                for try await chunk in connection.inbound(pool: connection.loop.buffers) { received += chunk }
                try await connection.write(received)
                connection.shutdownWrite()
            })
            let payload = pattern(32 << 20)
            try await withRelay(relayConfig(servers: [backend.address], splice: splice)) { relay in
                let front = try relay.address("front")
                try await withTimeout(.seconds(60)) {
                    let client = try await TestClient.connect(front)
                    defer { client.close() }
                    async let echoed = client.readToEnd(limit: 33 << 20)
                    try await client.send(payload)
                    client.connection.shutdownWrite()
                    let back = try await echoed
                    #expect(back.count == payload.count)
                    #expect(back == payload)
                }
            }
        }
    }

    @Test func serves500ConcurrentConnections() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(relayConfig(servers: [backend.address])) { relay in
                let front = try relay.address("front")
                let ok = try await withTimeout(.seconds(60)) {
                    try await withThrowingTaskGroup(of: Bool.self) { group in
                        for index in 0..<500 {
                            group.addTask {
                                let client = try await TestClient.connect(front)
                                defer { client.close() }
                                let message = Array("connection \(index) says hello".utf8)
                                try await client.send(message)
                                let reply = try await client.read(exactly: message.count)
                                return reply == message
                            }
                        }
                        var ok = 0
                        for try await result in group where result { ok += 1 }
                        return ok
                    }
                }
                #expect(ok == 500)
            }
            #expect(backend.connections.count == 500)
        }
    }

    @Test func relaysOverIPv6() async throws {
        try await withTestServer(TestBackend.echo(ip: "::1")) { backend in
            try await withRelay(relayConfig(listen: "[::1]:0", servers: [backend.address])) { relay in
                let front = try relay.address("front")
                #expect(front.isIPv6)
                try await withTimeout {
                    let client = try await TestClient.connect(front)
                    defer { client.close() }
                    try await client.send("over v6")
                    client.connection.shutdownWrite()
                    #expect(try await client.readToEnd() == Array("over v6".utf8))
                }
            }
        }
    }

    @Test func skipsDeadBackend() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            // Two different dead servers: a group may list a server only once.
            let deadServers = [try deadAddress(), try deadAddress(ip: "127.0.0.2")]
            try await withRelay(relayConfig(servers: [deadServers[0], backend.address, deadServers[1]])) { relay in
                let front = try relay.address("front")
                try await withTimeout {
                    for index in 0..<12 {
                        let client = try await TestClient.connect(front)
                        defer { client.close() }
                        try await client.send("ping \(index)")
                        client.connection.shutdownWrite()
                        #expect(try await client.readToEnd() == Array("ping \(index)".utf8))
                    }
                }
            }
            #expect(backend.connections.count == 12)
        }
    }

    @Test func skipsBackendThatTimesOut() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let hole = try await BlackHole()
            let config = relayConfig(servers: [hole.address, backend.address]).replacingOccurrences(
                of: "connect_timeout: \"1s\"", with: "connect_timeout: \"200ms\"")
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                try await withTimeout {
                    for index in 0..<4 {
                        let client = try await TestClient.connect(front)
                        defer { client.close() }
                        try await client.send("ping \(index)")
                        client.connection.shutdownWrite()
                        #expect(try await client.readToEnd() == Array("ping \(index)".utf8))
                    }
                }
                #expect(relay.logs.lines.contains { $0.contains("backend connect failed") && $0.contains("timed out") })
            }
            #expect(backend.connections.count == 4)
        }
    }

    @Test func closesClientWhenNoBackendIsAlive() async throws {
        try await withRelay(relayConfig(servers: [try deadAddress(), try deadAddress(ip: "127.0.0.2")])) { relay in
            let front = try relay.address("front")
            try await withTimeout {
                let client = try await TestClient.connect(front)
                defer { client.close() }
                // The relay accepts, fails every server, and closes: the client reads end of stream.
                let reply = try? await client.readToEnd()
                #expect(reply == nil || reply == [])
            }
            #expect(relay.logs.lines.contains { $0.contains("no backend reachable") })
        }
    }

    @Test func refusesOverMaxConnectionsPolitely() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = relayConfig(servers: [backend.address], extraListener: ", max_connections: 2")
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                try await withTimeout {
                    let first = try await TestClient.connect(front)
                    let second = try await TestClient.connect(front)
                    defer { first.close(); second.close() }
                    try await first.send("a")
                    try await second.send("b")
                    #expect(try await first.read(exactly: 1) == Array("a".utf8))
                    #expect(try await second.read(exactly: 1) == Array("b".utf8))
                    // The third is accepted and closed at once.
                    let third = try await TestClient.connect(front)
                    defer { third.close() }
                    let reply = try? await third.readToEnd()
                    #expect(reply == nil || reply == [])
                    #expect(relay.server.tcpListeners["front"]?.tracker.refusedOverLimit.load(ordering: .relaxed) == 1)
                }
            }
        }
    }

    @Test func refusesOverPerIPLimit() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = relayConfig(servers: [backend.address], extraListener: ", max_connections_per_ip: 1")
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                try await withTimeout {
                    let first = try await TestClient.connect(front)
                    defer { first.close() }
                    try await first.send("a")
                    #expect(try await first.read(exactly: 1) == Array("a".utf8))
                    let second = try await TestClient.connect(front)
                    defer { second.close() }
                    let reply = try? await second.readToEnd()
                    #expect(reply == nil || reply == [])
                    #expect(relay.server.tcpListeners["front"]?.tracker.refusedPerIP.load(ordering: .relaxed) == 1)
                }
            }
        }
    }

    @Test func drainKeepsInFlightFlowsAndRefusesNewOnes() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(relayConfig(servers: [backend.address], drain: "10s")) { relay in
                let front = try relay.address("front")
                try await withTimeout {
                    let client = try await TestClient.connect(front)
                    defer { client.close() }
                    try await client.send("before")
                    #expect(try await client.read(exactly: 6) == Array("before".utf8))

                    relay.server.shutdown()
                    // Wait until the listener has stopped accepting: new connections are refused by the kernel.
                    try await eventually("new connections refused", poll: .milliseconds(20)) {
                        do {
                            let late = try await TestClient.connect(front)
                            late.close()
                            return false
                        } catch let error as IOError where error.errno == ECONNREFUSED {
                            return true
                        } catch let error as IOError where error.errno == ECONNRESET {
                            // Reached the listener's queue just as it closed: reset, not served; try again.
                            return false
                        }
                    }
                    // The established flow still works both ways during the drain.
                    try await client.send("during drain")
                    #expect(try await client.read(exactly: 12) == Array("during drain".utf8))
                    client.connection.shutdownWrite()
                    #expect(try await client.readToEnd() == [])
                }
                let ended = try await relay.stop()
                #expect(throws: Never.self) { try ended.get() }
                #expect(relay.logs.lines.contains { $0.contains("drained") })
            }
        }
    }

    @Test func drainTimeoutClosesIdleConnections() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(relayConfig(servers: [backend.address], drain: "200ms")) { relay in
                let front = try relay.address("front")
                let client = try await TestClient.connect(front)
                defer { client.close() }
                try await client.send("x")
                #expect(try await client.read(exactly: 1) == Array("x".utf8))
                let started = ContinuousClock.now
                let ended = try await relay.stop(within: .seconds(10))
                #expect(throws: Never.self) { try ended.get() }
                #expect(ContinuousClock.now - started < .seconds(10))
                // The relay reset or closed our connection when the drain time ran out.
                let rest = try? await withTimeout(.seconds(5)) { try await client.readToEnd() }
                #expect(rest == nil || rest == [])
                #expect(relay.logs.lines.contains { $0.contains("drain timeout passed") })
            }
        }
    }
}
