import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// A relay config for one TCP listener in front of `servers` with the given balance and fast probing.
func intelligentConfig(servers: [SocketAddress], balance: String, probeInterval: String = "200ms",
                       evaluation: String = "200ms", extraProbe: String = "", extraSelector: String = "") -> String {
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
        {
          listeners: [ { name: "front", listen: "127.0.0.1:0", backend: "app" } ],
          backends: { app: {
            servers: [\(list)], balance: "\(balance)", connect_timeout: "500ms",
            probe: { kind: "tcp", interval: "\(probeInterval)", timeout: "300ms", rise: 2, fall: 2 \(extraProbe) },
            selector: { evaluation_interval: "\(evaluation)", debounce: "0s", active_set_size: 3 \(extraSelector) },
          } },
          drain_timeout: "2s",
          io: { loops: 2 },
          log: { level: "debug" },
        }
        """
}

/// One request through the relay on a new connection: send, read the echo, close.
func exchange(_ front: SocketAddress, _ text: String) async throws -> Bool {
    let client = try await TestClient.connect(front)
    defer { client.close() }
    try await client.send(text)
    return try await client.read(exactly: text.utf8.count) == Array(text.utf8)
}

@Suite struct BackendIntelligenceTests {
    @Test func p2cEWMASendsLittleToASlowBackend() async throws {
        try await withTestServers { servers in
            let fast1 = servers.add(try TestBackend.echo())
            let fast2 = servers.add(try TestBackend.echo())
            let slow = servers.add(try TestBackend.slowEcho(delay: .milliseconds(300)))
            let config = intelligentConfig(servers: [fast1.address, slow.address, fast2.address], balance: "p2c_ewma")
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                let total = 150
                let ok = try await withTimeout(.seconds(90)) {
                    try await withThrowingTaskGroup(of: Int.self) { group in
                        for worker in 0..<6 {
                            group.addTask {
                                var ok = 0
                                for index in stride(from: worker, to: total, by: 6) where try await exchange(front, "request \(index)") {
                                    ok += 1
                                }
                                return ok
                            }
                        }
                        return try await group.reduce(0, +)
                    }
                }
                #expect(ok == total)
            }
            let slowShare = Double(slow.connections.count) / 150
            #expect(slowShare < 0.10, "the slow backend got \(slow.connections.count) of 150 requests")
            #expect(fast1.connections.count + fast2.connections.count + slow.connections.count == 150)
        }
    }

    @Test func killedBackendIsEvictedAtOnceAndComesBackAfterRecovery() async throws {
        try await withTestServers { servers in
            let a = servers.add(try TestBackend.echo())
            // SO_REUSEPORT, so that a reservation can hold b's port while b is dead: no other socket of a test
            // running in parallel can take it before b comes back.
            let b = servers.add(try TestBackend.echo(reusePort: true))
            let c = servers.add(try TestBackend.echo())
            let config = intelligentConfig(servers: [a.address, b.address, c.address], balance: "round_robin")
            let bAddress = b.address
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                let group = try #require(relay.server.backendGroups["app"])
                // Wait for the first selection (initial probe), then check every server takes traffic.
                try await eventually("all three servers in the active set") { group.selector.current.servers.count == 3 }
                for index in 0..<9 { #expect(try await exchange(front, "warm \(index)")) }
                #expect(b.connections.count > 0)

                let reservation = try PortReservation(.tcp, bAddress, reusePort: true)
                defer { reservation.release() }
                await b.stop()
                func failuresOnB() -> Int {
                    relay.logs.lines.filter { $0.contains("backend connect failed") && $0.contains("\(bAddress)") }.count
                }
                // Every request still succeeds: the one that hits the dead server is retried elsewhere. Round robin
                // reaches b within three requests; that first failure evicts it, without waiting for probes.
                for index in 0..<3 { #expect(try await exchange(front, "after kill \(index)")) }
                #expect(failuresOnB() >= 1)
                // The eviction goes through the Scoreboard and the Selector, which a loaded machine may schedule
                // late; once the new active set is out, b is never tried again.
                try await eventually("b evicted") { !group.selector.current.servers.contains { $0.address == bAddress } }
                let failedBefore = failuresOnB()
                #expect(failedBefore <= 3, "the dead server was tried \(failedBefore) times before its eviction")
                for index in 3..<30 { #expect(try await exchange(front, "after kill \(index)")) }
                #expect(failuresOnB() == failedBefore, "the dead server was tried after its eviction")

                // Bring it back on the same port: after `rise` good probes and an evaluation it serves again.
                let revived = servers.add(try TestBackend.echo(port: bAddress.port, reusePort: true))
                reservation.release()
                try await eventually("b back in the active set") {
                    group.selector.current.servers.contains { $0.address == bAddress }
                }
                for index in 0..<9 { #expect(try await exchange(front, "revived \(index)")) }
                #expect(revived.connections.count > 0)
            }
        }
    }

    @Test func everyBalancerRelays() async throws {
        try await withTestServers { servers in
            let a = servers.add(try TestBackend.echo())
            let b = servers.add(try TestBackend.echo())
            for balance in ["round_robin", "weighted", "least_connections", "random", "p2c_ewma", "hash"] {
                let config = intelligentConfig(servers: [a.address, b.address], balance: balance)
                try await withRelay(config) { relay in
                    let front = try relay.address("front")
                    for index in 0..<6 { #expect(try await exchange(front, "\(balance) \(index)")) }
                }
            }
        }
    }
}
