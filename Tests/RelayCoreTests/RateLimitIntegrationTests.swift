import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Config text for one echo listener `front` (TCP, no backend needed) with `rate_limit: rateLimit`. On a loopback
/// address of its own: these tests count every connection the listener refuses, and a test running beside them may
/// keep connecting to a 127.0.0.1 port it has given up (a stopped backend its relay still probes), which the
/// kernel may give this listener.
private func tcpRateConfig(_ rateLimit: String, accessFile: String? = nil) -> String {
    """
    {
      listeners: [ { name: "front", protocol: "echo", listen: "127.0.0.31:0", rate_limit: \(rateLimit) } ],
      io: { loops: 2 },
      log: { level: "debug" \(accessFile.map { ", access_file: \"\($0)\"" } ?? "") },
    }
    """
}

/// Connects to `front` from `source`, an address of 127.0.0.0/8 (loopback answers to all of them, so each is a
/// client IP of its own), sends a byte and says whether it came back (the connection was admitted) or the
/// connection was closed on it (refused).
private func echoes(from source: String, to front: SocketAddress) async throws -> Bool {
    let client = try await TCPConnection.connect(to: front, on: clientLoops.next(), timeout: .seconds(20),
                                                 from: try SocketAddress(ip: source, port: 0))
    defer { client.close() }
    do {
        try await client.write([0x2a])
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
        defer { buffer.deallocate() }
        return try await client.read(into: buffer, deadline: EventLoop.now() + 20_000_000_000) == 1
    } catch let error as IOError where [ECONNRESET, EPIPE].contains(error.errno) {
        return false
    }
}

/// `count` connection attempts from `source`, one after the other: which were admitted.
private func attempts(_ count: Int, from source: String, to front: SocketAddress) async throws -> [Bool] {
    var admitted: [Bool] = []
    for _ in 0..<count { admitted.append(try await echoes(from: source, to: front)) }
    return admitted
}

/// The relay's metrics, parsed.
private func scrape(_ relay: RunningRelay) async throws -> PrometheusExposition {
    try PrometheusExposition(parsing: await relay.server.metrics.render())
}

/// The relay's `/stats` answer, as Foundation objects.
private func stats(_ relay: RunningRelay) async throws -> [String: Any] {
    let text = await relay.server.statsJSON().text
    return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}

@Suite struct RateLimitTCPTests {
    @Test func oneIPBeyondItsBurstIsRefusedRateLimited_whileAnotherIPIsStillAdmitted() async throws {
        let path = NSTemporaryDirectory() + "relayd-rate-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = tcpRateConfig(#"{ per_ip: { rate: 1, interval: "1m", burst: 3 } }"#, accessFile: path)
        try await withRelay(config) { relay in
            let front = try relay.address("front")
            #expect(try await attempts(5, from: "127.0.0.2", to: front) == [true, true, true, false, false])
            #expect(try await attempts(2, from: "127.0.0.3", to: front) == [true, true])

            let listener = try #require(relay.server.tcpListeners["front"])
            #expect(listener.refusedCount(.rateLimited) == 2)
            #expect(listener.tracker.accepted.load(ordering: .relaxed) == 5)
            let metrics = try await scrape(relay)
            #expect(metrics.value("relayd_connections_refused_total", ["listener": "front", "reason": "rate_limited"]) == 2)
            #expect(metrics.value("relayd_rate_limited_total", ["listener": "front", "scope": "per_ip"]) == 2)
            #expect(metrics.value("relayd_rate_limited_total", ["listener": "front", "scope": "total"]) == 0)
            #expect(metrics.value("relayd_rate_limit_tracked_addresses", ["listener": "front", "scope": "per_ip"]) == 2)
            #expect(metrics.family("relayd_rate_limited_total")?.samples.count == 2, "no packets_per_ip on TCP")

            let listeners = try #require(try await stats(relay)["listeners"] as? [[String: Any]])
            let connections = try #require(listeners.first?["connections"] as? [String: Any])
            #expect((connections["refused"] as? [String: Int])?["rate_limited"] == 2)
            let rateLimit = try #require(listeners.first?["rate_limit"] as? [String: [String: Int]])
            #expect(rateLimit["limited"] == ["per_ip": 2, "total": 0])
            #expect(rateLimit["tracked_addresses"] == ["per_ip": 2])

            // Each refusal has its access-log line, like the other refusals.
            var refusals: [String] = []
            try await eventually("two rate_limited lines in the access log, saw \(refusals.count)") {
                relay.server.accessLog?.flushNow()
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                refusals = text.split(separator: "\n").map(String.init).filter { $0.contains("end=rate_limited") }
                return refusals.count >= 2
            }
            #expect(refusals.count == 2)
            #expect(refusals.allSatisfy { $0.contains("listener=front proto=tcp client=127.0.0.2:") })
        }
    }

    @Test func tokensComeBackAfterTheInterval() async throws {
        // 2 s: the two attempts, each a connection and an echo through the relay, must fall in one interval even
        // when the machine is loaded (300 ms was not enough in parallel runs).
        try await withRelay(tcpRateConfig(#"{ per_ip: { rate: 1, interval: "2s", burst: 1 } }"#)) { relay in
            let front = try relay.address("front")
            #expect(try await attempts(2, from: "127.0.0.2", to: front) == [true, false])
            // Bounded wait for the refill: admitted again once a token is back, whenever that is.
            var admitted = false
            for _ in 0..<200 where !admitted {
                try await Task.sleep(for: .milliseconds(50))
                admitted = try await echoes(from: "127.0.0.2", to: front)
            }
            #expect(admitted)
        }
    }

    @Test func totalCapsAllIPsTogether() async throws {
        try await withRelay(tcpRateConfig(#"{ total: { rate: 1, interval: "1m", burst: 3 } }"#)) { relay in
            let front = try relay.address("front")
            var admitted: [Bool] = []
            for source in ["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"] {
                admitted.append(try await echoes(from: source, to: front))
            }
            #expect(admitted == [true, true, true, false, false])
            let metrics = try await scrape(relay)
            #expect(metrics.value("relayd_rate_limited_total", ["listener": "front", "scope": "total"]) == 2)
            #expect(metrics.value("relayd_connections_refused_total", ["listener": "front", "reason": "rate_limited"]) == 2)
            #expect(metrics.value("relayd_rate_limit_tracked_addresses", ["listener": "front", "scope": "per_ip"]) == 0)
        }
    }

    @Test func reloadChangesTheLimitInPlace_keepingEachClientsTokens() async throws {
        let before = tcpRateConfig(#"{ per_ip: { rate: 1, interval: "1m", burst: 10 } }"#)
        try await withReloadableRelay(before) { relay, path in
            let front = try relay.address("front")
            let listener = try #require(relay.server.tcpListeners["front"])
            #expect(try await attempts(2, from: "127.0.0.2", to: front) == [true, true])

            // A tighter burst: 127.0.0.2 had 8 tokens left and keeps 3 of them; the socket stays.
            try tcpRateConfig(#"{ per_ip: { rate: 1, interval: "1m", burst: 3 } }"#)
                .write(toFile: path, atomically: true, encoding: .utf8)
            let tighter = await relay.server.reload()
            #expect(tighter.applied && tighter.plan?.updatedListeners == ["front"])
            #expect(tighter.plan?.reboundListeners == [])
            #expect(relay.server.tcpListeners["front"] === listener)
            #expect(try relay.address("front") == front)
            #expect(try await attempts(4, from: "127.0.0.2", to: front) == [true, true, true, false])

            // No rate limit at all: everyone is admitted again.
            try tcpRateConfig("{}").write(toFile: path, atomically: true, encoding: .utf8)
            #expect(await relay.server.reload().applied)
            #expect(try await attempts(3, from: "127.0.0.2", to: front) == [true, true, true])
            #expect(listener.refusedCount(.rateLimited) == 1)
        }
    }
}

/// A UDP socket bound to `source` (an address of 127.0.0.0/8), to play one client IP.
private func udpClient(from source: String) throws -> UDPSocket {
    try UDPSocket.bind(try SocketAddress(ip: source, port: 0), on: clientLoops.next())
}

/// Sends `text` from `socket` to `front` (loopback takes it at once).
private func send(_ text: String, from socket: UDPSocket, to front: SocketAddress) throws {
    let sent = try Array(text.utf8).withUnsafeBytes { try socket.sendNow($0, to: front) }
    guard case .processed = sent else { throw IOError.syscall(call: "sendto", errno: EAGAIN) }
}

/// Sends `text` from `socket` to `front` and waits (bounded) for the reply.
private func roundTrip(_ socket: UDPSocket, to front: SocketAddress, _ text: String) async throws -> String {
    try send(text, from: socket, to: front)
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 1)
    defer { buffer.deallocate() }
    let (count, _, _) = try await socket.receive(into: buffer, deadline: EventLoop.now() + 20_000_000_000)
    return String(decoding: buffer[0..<count], as: UTF8.self)
}

@Suite struct RateLimitUDPTests {
    @Test func aFloodFromOneAddressStopsAtItsPacketLimit_whileAnotherClientKeepsBeingAnswered() async throws {
        let backend = try UDPEchoBackend()
        do {
            let config = try udpConfig(servers: [backend.address],
                                   extra: #", rate_limit: { packets_per_ip: { rate: 1, interval: "1m", burst: 20 } }"#)
            try await withRelay(config) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                let counters = service.counters
                let flooder = try udpClient(from: "127.0.0.2")
                defer { flooder.close() }
                // 100 datagrams, in rounds of 25 that the relay has seen before the next (so the kernel's
                // receive buffer never overflows and every datagram meets the limit).
                for round in 1...4 {
                    for _ in 0..<25 { try send("flood", from: flooder, to: front) }
                    try await eventually("round \(round) of the flood seen by the relay") {
                        counters.datagramsUp.load(ordering: .relaxed)
                            + counters.droppedRateLimited.load(ordering: .relaxed) >= 25 * round
                    }
                }
                #expect(counters.datagramsUp.load(ordering: .relaxed) == 20)
                #expect(counters.droppedRateLimited.load(ordering: .relaxed) == 80)
                #expect(service.rateLimiter.limited(.packetsPerIP) == 80)

                // The flooder is still over its limit; a second client is answered every time.
                let other = try udpClient(from: "127.0.0.3")
                defer { other.close() }
                for index in 0..<10 {
                    #expect(try await roundTrip(other, to: front, "other-\(index)") == "other-\(index)")
                }
                // Counted at the relay: the backend's port is the kernel's pick, and a test running beside this one
                // may send to a port it had reserved and given back, which the backend then holds.
                #expect(counters.datagramsUp.load(ordering: .relaxed) == 30)
                #expect(backend.requests.count >= 30)
                let metrics = try await scrape(relay)
                #expect(metrics.value("relayd_udp_dropped_datagrams_total", ["listener": "dns", "reason": "rate_limited"])
                        == 80)
                #expect(metrics.value("relayd_rate_limited_total", ["listener": "dns", "scope": "packets_per_ip"]) == 80)
                #expect(metrics.value("relayd_rate_limit_tracked_addresses",
                                      ["listener": "dns", "scope": "packets_per_ip"]) == 2)
                let listeners = try #require(try await stats(relay)["listeners"] as? [[String: Any]])
                let udp = try #require(listeners.first?["udp"] as? [String: Any])
                #expect((udp["drops"] as? [String: Int])?["rate_limited"] == 80)
                let rateLimit = try #require(listeners.first?["rate_limit"] as? [String: [String: Int]])
                #expect(rateLimit["limited"] == ["per_ip": 0, "total": 0, "packets_per_ip": 80])
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func newFlowsOverPerIPAreDropped_whileOpenFlowsGoOn() async throws {
        let backend = try UDPEchoBackend()
        do {
            let config = try udpConfig(servers: [backend.address],
                                   extra: #", rate_limit: { per_ip: { rate: 1, interval: "1m", burst: 2 } }"#)
            try await withRelay(config) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                let counters = service.counters
                // Four source ports of one IP are four flows: the first two open, the other two are refused.
                let sockets = try (0..<4).map { _ in try udpClient(from: "127.0.0.2") }
                defer { for socket in sockets { socket.close() } }
                #expect(try await roundTrip(sockets[0], to: front, "first") == "first")
                #expect(try await roundTrip(sockets[1], to: front, "second") == "second")
                try send("third", from: sockets[2], to: front)
                try send("fourth", from: sockets[3], to: front)
                try await eventually("two new flows dropped") { counters.droppedRateLimited.load(ordering: .relaxed) == 2 }
                #expect(service.rateLimiter.limited(.perIP) == 2)

                // The two open flows go on: per_ip limits new flows, not the datagrams of open ones.
                for round in 0..<5 {
                    #expect(try await roundTrip(sockets[0], to: front, "a\(round)") == "a\(round)")
                    #expect(try await roundTrip(sockets[1], to: front, "b\(round)") == "b\(round)")
                }
                #expect(counters.flowsOpened.load(ordering: .relaxed) == 2)
                // Another IP opens its flow.
                let other = try udpClient(from: "127.0.0.3")
                defer { other.close() }
                #expect(try await roundTrip(other, to: front, "other") == "other")
                let metrics = try await scrape(relay)
                #expect(metrics.value("relayd_udp_dropped_datagrams_total", ["listener": "dns", "reason": "rate_limited"])
                        == 2)
                #expect(metrics.value("relayd_rate_limited_total", ["listener": "dns", "scope": "per_ip"]) == 2)
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }
}
