import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Connections a test holds open from several tasks, closed together.
final class HeldConnections: Sendable {
    private let connections = SanitizerVisibleMutex<[TCPConnection]>([])
    func add(_ connection: TCPConnection) { connections.withLock { $0.append(connection) } }
    func closeAll() {
        for connection in connections.withLock({ list in defer { list.removeAll() }; return list }) { connection.close() }
    }
}

/// relayd running out of its own resources must never count against a server.
@Suite struct LocalResourceTests {
    /// The real binary under `ulimit -n 64` (soft and hard): clients are held until the descriptor for a
    /// backend connection cannot be had, then one more (echo) connection takes the last descriptor so
    /// probes cannot get a socket either. Afterwards every server must be healthy and unblamed.
    @Test func runningOutOfFileDescriptors_neverMarksAServerDown() async throws {
        try await withTestServers { servers in
            let first = servers.add(try TestBackend.echo())
            let second = servers.add(try TestBackend.echo())
            let path = try temporaryFile("""
                {
                  listeners: [
                    { name: "front", listen: "127.0.0.1:0", backend: "app" },
                    { name: "spare", protocol: "echo", listen: "127.0.0.1:0" },
                  ],
                  backends: { app: { servers: ["\(first.address)", "\(second.address)"], balance: "round_robin",
                                     probe: { interval: "100ms", candidates: 2 } } },
                  admin: { listen: "127.0.0.1:0" },
                  io: { loops: 1 },
                  log: { level: "info" },
                }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let held = HeldConnections()
            defer { held.closeAll() }
            try await withRelayd(["serve", "-c", path], openFilesLimit: 64) { child in
                try await Self.exhaustDescriptors(child, held: held, first: first.address, second: second.address)
            }
        }
    }

    /// The body of the test above, with relayd running and its descriptors to be used up.
    private static func exhaustDescriptors(_ child: RelaydProcess, held: HeldConnections, first: SocketAddress,
                                           second: SocketAddress) async throws {
        let front = try SocketAddress(parsing: try await child.listenerAddress("front"))
        let spare = try SocketAddress(parsing: try await child.listenerAddress("spare"))
        let adminLine = try await child.waitForOutput { $0.contains("admin API ready") }
        let admin = try SocketAddress(parsing: try #require(adminLine.split(separator: "\n")
            .first { $0.contains("admin API ready") }?.split(separator: " ")
            .first { $0.hasPrefix("address=") }?.dropFirst("address=".count)).description)
        try await withTimeout(.seconds(60)) {
            // Both servers measured and up before anything runs short.
            try await eventually("both servers up") { try await Self.healthyServers(admin) == 2 }
            // Echo connections take one descriptor each: closing one frees exactly one.
            var spares: [TestClient] = []
            for _ in 0..<6 {
                let client = try await TestClient.connect(spare)
                try await client.send("s")
                #expect(try await client.read(exactly: 1) == Array("s".utf8))
                spares.append(client)
            }
            // Hold relayed connections (two descriptors each) until one is refused: the client sees an end
            // of stream instead of its echo. When relayd cannot even accept (no descriptor at all, which it
            // logs as "accept paused"), free one by closing a spare, so the next accept gets the last
            // descriptor and the backend socket cannot be had. Told by the log, not guessed from a silence: on
            // a loaded machine an echo can take seconds.
            func pauses() -> Int { child.text.components(separatedBy: "accept paused").count - 1 }
            var pausesSeen = pauses()
            var refused = false
            for _ in 0..<64 where !refused {
                let client = try await TestClient.connect(front)
                try await client.send("x")
                var answer: [UInt8]?
                try await eventually("an echo, an end of stream, or accept paused", poll: .zero) {
                    answer = try await Self.reply(client, within: .milliseconds(100))
                    if answer == nil, pauses() > pausesSeen, let freed = spares.popLast() {
                        pausesSeen = pauses()
                        freed.close()
                    }
                    return answer != nil
                }
                if answer == Array("x".utf8) {
                    held.add(client.connection)
                } else {
                    client.close()
                    refused = answer == []
                }
            }
            #expect(refused, "no relayed connection was refused for lack of descriptors")
            for client in spares { held.add(client.connection) }
            // The last descriptor goes to one more echo connection: now probes cannot get a socket.
            let last = try await TestClient.connect(spare)
            held.add(last.connection)
            try await last.send("y")
        }
        // Probes run every 100 ms and now find no descriptor.
        try await child.waitForOutput("a probe skipped for want of a descriptor") {
            $0.contains("probe skipped: relayd is out of file descriptors")
        }
        // Nothing happening is the behaviour under test: five probe rounds without a descriptor, in which
        // no server may be blamed.
        try await Task.sleep(for: .milliseconds(500))
        #expect(child.text.contains("relayd is out of file descriptors; refusing connections"))
        held.closeAll()
        // Descriptors are free again: a new connection relays at once.
        try await withTimeout(.seconds(10)) {
            let client = try await TestClient.connect(front)
            defer { client.close() }
            try await client.send("back")
            #expect(try await client.read(exactly: 4) == Array("back".utf8))
        }
        let backends = try await http(admin, "/backends").json()
        let group = try #require((backends["groups"] as? [[String: Any]])?.first)
        let servers = try #require(group["servers"] as? [[String: Any]])
        #expect(servers.count == 2)
        for server in servers {
            #expect(server["state"] as? String == "up", "\(server)")
            #expect(server["in_active_set"] as? Bool == true, "\(server)")
            #expect(server["consecutive_failures"] as? Int == 0, "\(server)")
            #expect(server["connect_failures"] as? Int == 0, "\(server)")
        }
        let metrics = try await http(admin, "/metrics").text
        #expect(Self.sample(metrics, #"relayd_connections_refused_total{listener="front",reason="local_resources"}"#)
            .map { $0 >= 1 } == true)
        #expect(Self.sample(metrics, #"relayd_probes_total{backend="app",result="local_error"}"#)
            .map { $0 >= 1 } == true)
        #expect(Self.sample(metrics, #"relayd_backend_connect_failures_total{backend="app",server="\#(first)"}"#) == 0)
        #expect(Self.sample(metrics, #"relayd_backend_connect_failures_total{backend="app",server="\#(second)"}"#) == 0)
        child.signal(SIGTERM)
        #expect(try await child.waitForExit() == 0)
    }

    /// The client's one-byte echo, [] at end of stream, nil when nothing came within `limit`.
    private static func reply(_ client: TestClient, within limit: Duration) async throws -> [UInt8]? {
        let connection = client.connection
        let deadline = EventLoop.now() + limit.nanosecondsClamped
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
        defer { buffer.deallocate() }
        do {
            let count = try await connection.read(into: buffer, deadline: deadline)
            return count == 0 ? [] : [buffer[0]]
        } catch IOError.timedOut {
            return nil
        } catch {
            return []
        }
    }

    /// Servers of the first group that are measured and up.
    private static func healthyServers(_ admin: SocketAddress) async throws -> Int {
        let backends = try await http(admin, "/backends").json()
        let servers = (backends["groups"] as? [[String: Any]])?.first?["servers"] as? [[String: Any]] ?? []
        return servers.filter { $0["state"] as? String == "up" }.count
    }

    /// The value of the sample named exactly `series` (name and labels) in exposition text.
    private static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
