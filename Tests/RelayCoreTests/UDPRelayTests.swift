import Foundation
import RelayIO
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// Config text for one UDP listener in front of `servers`, on `listen` or else a free loopback port (not port 0:
/// see `freeUDPAddress`).
func udpConfig(listen: SocketAddress? = nil, servers: [SocketAddress], balance: String = "round_robin",
               extra: String = "", probe: String = "kind: \"udp\", interval: \"200ms\", timeout: \"300ms\"") throws
    -> String
{
    let listen = try listen ?? freeUDPAddress()
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
        {
          listeners: [ { name: "dns", protocol: "udp", listen: "\(listen)", backend: "app" \(extra) } ],
          backends: { app: { servers: [\(list)], balance: "\(balance)", probe: { \(probe) },
                             selector: { evaluation_interval: "200ms", debounce: "0s" } } },
          drain_timeout: "2s",
          io: { loops: 2 },
          log: { level: "debug" },
        }
        """
}

@Suite struct UDPRelayTests {
    @Test func thousandDatagramsFromTwentyClientsComeBackToTheirSenders() async throws {
        try await withTestServers { servers in
            let a = servers.add(try UDPEchoBackend())
            let b = servers.add(try UDPEchoBackend())
            try await withRelay(try udpConfig(servers: [a.address, b.address])) { relay in
                let front = try relay.address("dns")
                let ok = try await withTimeout(.seconds(60)) {
                    try await withThrowingTaskGroup(of: Int.self) { group in
                        for clientIndex in 0..<20 {
                            group.addTask {
                                let client = try UDPTestClient(front)
                                defer { client.close() }
                                var ok = 0
                                for sequence in 0..<50 {
                                    let message = Array("client \(clientIndex) datagram \(sequence)".utf8)
                                    if try await client.roundTrip(message) == message { ok += 1 }
                                }
                                return ok
                            }
                        }
                        return try await group.reduce(0, +)
                    }
                }
                #expect(ok == 1000)
                // 20 clients are 20 flows, spread over both servers by round robin. Counted at the relay: a backend
                // may also hear from a test running beside this one that still sends to a port it gave up, which
                // the kernel then gave this backend.
                let counters = try #require(relay.server.udpListeners["dns"]).counters
                #expect(counters.flowsOpened.load(ordering: .relaxed) == 20)
                #expect(a.flowCount >= 5 && b.flowCount >= 5, "flows: \(a.flowCount) and \(b.flowCount)")
                #expect(counters.datagramsUp.load(ordering: .relaxed) == 1000)
                // The last reply is counted just after it is sent, so the client may see it first.
                try await eventually("1000 replies counted (\(counters.datagramsDown.load(ordering: .relaxed)))") {
                    counters.datagramsDown.load(ordering: .relaxed) >= 1000
                }
                #expect(counters.datagramsDown.load(ordering: .relaxed) == 1000)
            }
        }
    }

    @Test func groupWithoutProbeConfigIsProbedOverUDPAndComesUpHealthy() async throws {
        // The echo backend has no TCP port: a TCP probe, the default before, would keep it down.
        try await withTestServer(UDPEchoBackend()) { backend in
            let config = """
                { listeners: [ { name: "dns", protocol: "udp", listen: "\(try freeUDPAddress())", backend: "app" } ],
                  backends: { app: { servers: ["\(backend.address)"] } },
                  drain_timeout: "2s", io: { loops: 2 } }
                """
            try await withRelay(config) { relay in
                #expect(relay.server.config.backends["app"]?.probe.kind == .udp(payload: Array("ping".utf8)))
                // Up alone is not enough: a server stays up until `fall` probes in a row have failed.
                let group = try #require(relay.server.backendGroups["app"])
                var breakdown: ScoreBreakdown?
                try await eventually("the server measured and up (\(String(describing: breakdown)))") {
                    breakdown = await group.scoreboard.breakdowns().first?.1
                    return breakdown?.healthy == true && breakdown?.latencyMs != nil
                }
                // A TCP probe would have been refused; a UDP probe that timed out on a loaded machine is no finding.
                #expect(breakdown?.lastError?.contains("refused") != true, "\(String(describing: breakdown))")
            }
        }
    }

    @Test func largestDatagramRelaysIntact() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            try await withRelay(try udpConfig(servers: [backend.address])) { relay in
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                let payload = pattern(65_507)
                let reply = try await withTimeout { try await client.roundTrip(payload) }
                #expect(reply.count == 65_507)
                #expect(reply == payload)
            }
        }
    }

    @Test func relaysOverIPv6() async throws {
        try await withTestServer(UDPEchoBackend(ip: "::1")) { backend in
            try await withRelay(try udpConfig(listen: try freeUDPAddress(ip: "::1"), servers: [backend.address])) { relay in
                let front = try relay.address("dns")
                #expect(front.isIPv6)
                let client = try UDPTestClient(front)
                defer { client.close() }
                #expect(try await withTimeout { try await client.roundTrip(Array("v6".utf8)) } == Array("v6".utf8))
            }
        }
    }

    @Test func idleFlowsExpire() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            // Two seconds: a reply that a loaded machine delays longer than the idle time-out is rightly dropped
            // with its flow, and the round trip would wait for it in vain.
            try await withRelay(try udpConfig(servers: [backend.address], extra: ", idle_timeout: \"2s\"")) { relay in
                let service = try #require(relay.server.udpListeners["dns"])
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                _ = try await withTimeout { try await client.roundTrip(Array("hello".utf8)) }
                // Counted rather than looked up in the store: on a loaded machine the flow may have expired already.
                #expect(service.counters.flowsOpened.load(ordering: .relaxed) == 1)
                try await eventually("the idle flow expired") { await service.store.count == 0 }
                #expect(await service.store.expired == 1)
                // The client can start again: a new flow opens. Asked again if unanswered, as a UDP client would: a
                // reply that a starved run delays past the 2 s idle time-out is dropped with its flow.
                var answered = false
                for attempt in 0..<5 where !answered {
                    let reply = try? await client.roundTrip(Array("again \(attempt)".utf8), timeout: .seconds(4))
                    answered = reply.map { String(decoding: $0, as: UTF8.self).hasPrefix("again ") } ?? false
                }
                #expect(answered, "the client was never answered after its flow expired")
                #expect(service.counters.flowsOpened.load(ordering: .relaxed) >= 2)
            }
        }
    }

    @Test func maxFlowsRefusesNewFlowsAndKeepsExistingOnes() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            try await withRelay(try udpConfig(servers: [backend.address], extra: ", max_flows: 2")) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                let first = try UDPTestClient(front)
                let second = try UDPTestClient(front)
                let third = try UDPTestClient(front)
                defer { first.close(); second.close(); third.close() }
                _ = try await withTimeout { try await first.roundTrip(Array("1".utf8)) }
                _ = try await withTimeout { try await second.roundTrip(Array("2".utf8)) }
                await #expect(throws: IOError.timedOut) {
                    _ = try await third.roundTrip(Array("3".utf8), timeout: .milliseconds(300))
                }
                // Counted when the relay reads the datagram, which a loaded machine may do after the client gave up.
                try await eventually("the third flow refused") {
                    service.counters.droppedFlowLimit.load(ordering: .relaxed) == 1
                }
                #expect(await service.store.refused == 1)
                // Existing flows are unharmed.
                #expect(try await withTimeout { try await first.roundTrip(Array("1 again".utf8)) } == Array("1 again".utf8))
            }
        }
    }

    /// Admission is synchronous: with the SessionStore actor kept busy the whole time, a thousand new
    /// clients still get their flows. Had any datagram awaited the actor, none would until it is free.
    @Test func burstOfAThousandNewClientsIsAdmittedWithoutWaitingForTheSessionStore() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            try await withRelay(try udpConfig(servers: [backend.address])) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                let gate = Gate()
                // The store is kept busy on a thread of its own (a default actor runs on its caller's preferred
                // executor): blocking one of the two shared cooperative threads would slow every test running
                // alongside.
                let occupied = Task(executorPreference: blockingExecutor) { await service.store.occupy(until: gate) }
                do {
                    try await eventually("the store busy") { gate.isEntered }
                    var clients: [UDPSocket] = []
                    defer { for client in clients { client.close() } }
                    let counters = service.counters
                    // In waves, so the listening sockets' receive buffers never overflow (a kernel drop is not
                    // the relay's doing).
                    for wave in 0..<20 {
                        for index in 0..<50 {
                            let client = try UDPSocket.connect(to: front, on: clientLoops.next())
                            clients.append(client)
                            try await client.send(Array("client \(wave * 50 + index)".utf8))
                        }
                        let expected = clients.count
                        try await eventually("\(expected) flows opened") {
                            counters.flowsOpened.load(ordering: .relaxed) >= expected
                        }
                    }
                    #expect(counters.flowsOpened.load(ordering: .relaxed) == 1000)
                    #expect(counters.droppedFlowLimit.load(ordering: .relaxed) == 0)
                    #expect(!gate.isOpen, "the store stayed busy throughout")
                    gate.open()
                    await occupied.value
                    #expect(await service.store.count == 1000)
                    #expect(await service.store.admitted == 1000)
                } catch {
                    gate.open()
                    await occupied.value
                    throw error
                }
            }
        }
    }

    /// A listener whose run fails is restarted by the supervisor with nothing left of the failed run: no
    /// reply task sends on its closed sockets (whose numbers the new run's sockets may have reused), and
    /// its flows no longer count against `max_flows`, so the same clients are admitted and answered again.
    @Test func restartedListenerLeavesNoFlowBehindAndReadmitsItsClients() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            try await withRelay(try udpConfig(servers: [backend.address], extra: ", max_flows: 2")) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                let server = try #require(relay.server.backendGroups["app"]?.servers.first)
                let first = try UDPTestClient(front)
                let second = try UDPTestClient(front)
                defer { first.close(); second.close() }
                #expect(try await withTimeout { try await first.roundTrip(Array("one".utf8)) } == Array("one".utf8))
                #expect(try await withTimeout { try await second.roundTrip(Array("two".utf8)) } == Array("two".utf8))
                let old = service.runningSockets
                #expect(old.count == 2)
                func sentOnOldSockets() -> Int { old.reduce(0) { $0 + $1.sendsTried.load(ordering: .relaxed) } }
                #expect(sentOnOldSockets() == 2)

                // A reply is on its way when the listener fails: the backend holds it until the new run is up.
                backend.holdReplies()
                try await first.socket.send(Array("late".utf8))
                try await eventually("the backend got the late datagram") { backend.requests.count == 3 }
                service.failNextReceive(with: TestFailure("injected receive failure"))
                try await second.socket.send(Array("fail".utf8))
                try await eventually("listener restarted") {
                    await relay.server.supervisor.restartCount(of: "dns") == 1 && !service.runningSockets.isEmpty
                }
                #expect(old.allSatisfy { $0.isClosed })
                #expect(server.inFlight.load(ordering: .relaxed) == 0, "a reply task of the failed run is still running")
                #expect(await service.store.count == 0, "the failed run's flows are still counted")
                backend.releaseReplies()
                try await eventually("the backend answered the late datagram") { backend.echoes.count == 3 }

                // The same two clients (max_flows 2) are admitted and answered by the new run.
                for (client, message) in [(first, "one again"), (second, "two again")] {
                    let reply = try? await client.roundTrip(Array(message.utf8), timeout: .seconds(10))
                    #expect(reply == Array(message.utf8), "not answered after the restart")
                }
                #expect(service.counters.droppedFlowLimit.load(ordering: .relaxed) == 0)
                #expect(await service.store.count == 2)
                #expect(sentOnOldSockets() == 2, "something sent on the failed run's sockets after it ended")
                #expect(relay.logs.lines.contains { $0.contains("closed the flows of the failed run") && $0.contains("flows=2") })
            }
        }
    }

    @Test func responsesClosesTheFlowAfterTheReply() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            try await withRelay(try udpConfig(servers: [backend.address], extra: ", responses: 1")) { relay in
                let service = try #require(relay.server.udpListeners["dns"])
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                for index in 0..<3 {
                    _ = try await withTimeout { try await client.roundTrip(Array("query \(index)".utf8)) }
                }
                #expect(service.counters.flowsOpened.load(ordering: .relaxed) == 3)
                try await eventually("every flow closed after its reply") { await service.store.count == 0 }
            }
        }
    }

    @Test func flowsOfADeadBackendMove() async throws {
        try await withTestServers { servers in
            let a = servers.add(try UDPEchoBackend())
            let b = servers.add(try UDPEchoBackend())
            try await withRelay(try udpConfig(servers: [a.address, b.address])) { relay in
                let front = try relay.address("dns")
                let service = try #require(relay.server.udpListeners["dns"])
                var clients: [UDPTestClient] = []
                defer { for client in clients { client.close() } }
                for index in 0..<6 {
                    let client = try UDPTestClient(front)
                    clients.append(client)
                    // A probe that timed out on a loaded machine can leave the group briefly without a server, and
                    // a datagram sent then is dropped (no_backend), as UDP allows: the client asks again.
                    var answered = false
                    var seen: [String] = []
                    for attempt in 0..<10 where !answered {
                        let message = Array("first \(index) \(attempt)".utf8)
                        do {
                            let reply = try await client.roundTrip(message, timeout: .seconds(2))
                            // A late echo of an earlier attempt is an answer too (it arrives while the next waits).
                            answered = String(decoding: reply, as: UTF8.self).hasPrefix("first \(index) ")
                            if !answered { seen.append("reply \(String(decoding: reply, as: UTF8.self))") }
                        } catch {
                            seen.append("error \(error)")
                        }
                    }
                    try #require(answered, "client \(index) was never answered while both servers lived: \(seen)")
                }
                let onA = a.flowCount
                #expect(onA > 0)
                // `a` dies; its port stays dead (`stop` reserves it), kept from tests running alongside.
                await a.stop()
                // The next datagram of a flow on `a` gets ICMP unreachable (lost, as UDP allows); the one
                // after moves the flow to `b`. Every client is answered within a few tries (each given a second,
                // so that a slow answer on a loaded machine does not count as lost).
                for (index, client) in clients.enumerated() {
                    var answered = false
                    for attempt in 0..<5 where !answered {
                        let message = Array("after \(index) \(attempt)".utf8)
                        let reply = try? await client.roundTrip(message, timeout: .seconds(1))
                        answered = reply.map { String(decoding: $0, as: UTF8.self).hasPrefix("after \(index) ") } ?? false
                    }
                    #expect(answered, "client \(index) was not answered after its server died")
                }
                #expect(service.counters.flowsMoved.load(ordering: .relaxed) == onA)
            }
        }
    }
}

extension SessionStore {
    /// Keeps this actor busy (blocks its executor, as a long critical section would) until `gate` opens.
    func occupy(until gate: Gate) {
        gate.block()
    }
}
