import Foundation
import RelayIO
import RelayProtocol
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

/// Sends `messages` through a session with `front`, `batch` at a time (each batch's echoes are awaited before
/// the next goes), and returns what came back, in order; ends with `finish`. Batches bound the bursts on the
/// plain-UDP side (relay to server and back), where a datagram that overflows a socket buffer is simply lost:
/// that leg is UDP, and the protocol's guarantees end at the relay.
func echoThroughSession(_ front: SocketAddress, _ messages: [[UInt8]], batch: Int = 100,
                        configuration: ReliableUDPClientConfiguration = ReliableTestKeys.client()) async throws
    -> [[UInt8]]
{
    try await ReliableUDPClient.connect(to: front, configuration: configuration, on: clientLoops.next()) { client in
        var received: [[UInt8]] = []
        for start in stride(from: 0, to: messages.count, by: batch) {
            let part = messages[start..<min(start + batch, messages.count)]
            for message in part { try await client.send(message) }
            for _ in part {
                guard let message = try await client.receive() else { return received }
                received.append(message.bytes)
            }
        }
        try await client.finish(timeout: .seconds(30))
        return received
    }
}

// A session awaits messages without a deadline of its own: the time limit ends a test whose message never came
// (the plain-UDP leg to the backend has no retransmission) instead of leaving the run hanging.
@Suite(.timeLimit(.minutes(5))) struct ReliableUDPListenerTests {
    @Test func messagesGoToTheServerAndItsRepliesComeBackInOrder() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            try await withRelay(try reliableConfig(servers: [backend.address])) { relay in
                let front = try relay.address("rudp")
                let messages = (0..<100).map { Array("message \($0)".utf8) }
                let echoed = try await withTimeout(.seconds(30)) { try await echoThroughSession(front, messages) }
                #expect(echoed == messages)
                #expect(backend.requests.count == 100)
                let listener = try #require(relay.server.reliableListeners["rudp"])
                #expect(listener.counters.handshakes(.established) == 1)
                #expect(listener.counters.messagesUp.load(ordering: .relaxed) == 100)
                #expect(listener.counters.messagesDown.load(ordering: .relaxed) == 100)
                try await eventually("the session to end") { await listener.store.count == 0 }
                #expect(listener.counters.sessionsClosed(.normal, byClient: true) == 1)
            }
        }
    }

    @Test(.computeBound) func tenThousandMessagesEachWayArriveOnceAndInOrderOverALossyLink() async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            try await withRelay(try reliableConfig(servers: [backend.address]), level: .info) { relay in
                let link = servers.add(try ImpairedLink(to: try relay.address("rudp"), up: .harsh(seed: 7),
                                                        down: .harsh(seed: 11)))
                let messages = (0..<10_000).map { Array("m\($0)".utf8) }
                let echoed = try await withTimeout(.seconds(240)) { try await echoThroughSession(link.address, messages) }
                #expect(echoed.count == messages.count)
                #expect(echoed == messages, "out of order, duplicated or lost messages")
                // Exactly once to the server too: the relay forwards each message once.
                #expect(backend.requests.count == 10_000)
                #expect(link.dropped.load(ordering: .relaxed) > 1000)
                #expect(link.duplicated.load(ordering: .relaxed) > 100)
                let counters = try #require(relay.server.reliableListeners["rudp"]).counters
                #expect(counters.retransmitted.load(ordering: .relaxed) > 0)
                #expect(counters.duplicates.load(ordering: .relaxed) + counters.droppedReplayed.load(ordering: .relaxed) > 0)
            }
        }
    }

    @Test(.computeBound, arguments: [1, 1200, 65_507])
    func messagesOfEverySizeArriveIntact(size: Int) async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            try await withRelay(try reliableConfig(servers: [backend.address]), level: .info) { relay in
                let link = servers.add(try ImpairedLink(to: try relay.address("rudp"), up: .harsh(seed: 3),
                                                        down: .harsh(seed: 5)))
                // One at a time: a message is one datagram to the server and back, and five 64 KiB datagrams at
                // once could overflow a socket buffer on the plain-UDP side, which no reliability covers.
                let messages = (0..<5).map { index in (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }
                let echoed = try await withTimeout(.seconds(120)) {
                    try await ReliableUDPClient.connect(to: link.address, configuration: ReliableTestKeys.client(),
                                                        on: clientLoops.next()) { client in
                        var echoed: [[UInt8]] = []
                        for message in messages {
                            try await client.send(message)
                            guard let reply = try await client.receive() else { break }
                            echoed.append(reply.bytes)
                        }
                        try await client.finish()
                        return echoed
                    }
                }
                #expect(echoed == messages)
            }
        }
    }

    @Test func aWrongKeyIsRefusedWithTheReason() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            try await withRelay(try reliableConfig(servers: [backend.address])) { relay in
                let front = try relay.address("rudp")
                for configuration in [ReliableTestKeys.client("alice", key: ReliableTestKeys.key(77)),
                                      ReliableTestKeys.client("mallory")] {
                    let error = await #expect(throws: ReliableUDPClientError.self) {
                        try await withTimeout { try await echoThroughSession(front, [[1]], configuration: configuration) }
                    }
                    #expect(error == .refused(.badAuth, clientID: configuration.clientID, retryAfterSeconds: 0))
                    #expect(error?.description == "refused: bad key for client '\(configuration.clientID)'")
                }
                let listener = try #require(relay.server.reliableListeners["rudp"])
                #expect(listener.counters.handshakes(.badAuth) == 2)
                #expect(await listener.store.count == 0)
                #expect(backend.requests.count == 0)
            }
        }
    }

    @Test func replayedForgedAndTruncatedPacketsAreDroppedAndCounted() async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            try await withRelay(try reliableConfig(servers: [backend.address])) { relay in
                let listener = try #require(relay.server.reliableListeners["rudp"])
                let link = servers.add(try ImpairedLink(to: try relay.address("rudp")))
                try await ReliableUDPClient.connect(to: link.address, configuration: ReliableTestKeys.client(),
                                                    on: clientLoops.next()) { client in
                    try await client.send(Array("first".utf8))
                    #expect(try await client.receive()?.bytes == Array("first".utf8))
                    let data = try #require(link.capturedFromClient.last { $0.count > 6 && $0[5] == 16 })
                    let counters = listener.counters
                    let before = (counters.droppedReplayed.load(ordering: .relaxed),
                                  counters.droppedBadTag.load(ordering: .relaxed),
                                  counters.droppedMalformed.load(ordering: .relaxed))
                    // Replayed: the same DATA again, three times.
                    for _ in 0..<3 { link.injectToServer(data) }
                    // Forged and truncated packets carry packet numbers never used, or the replay check (done first,
                    // costing no cryptography) would catch them: a flipped bit in the sealed payload, a number
                    // changed under the tag, a cut inside the tag, and a packet shorter than any session packet.
                    func renumbered(_ packet: [UInt8], _ offset: UInt32) -> [UInt8] {
                        let number = packet[16..<20].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } + offset
                        var copy = packet
                        copy.replaceSubrange(16..<20, with: withUnsafeBytes(of: number.bigEndian, Array.init))
                        return copy
                    }
                    var flipped = data
                    flipped[flipped.count - 20] ^= 0x01
                    link.injectToServer(renumbered(flipped, 500))
                    link.injectToServer(renumbered(flipped, 1000))
                    link.injectToServer(renumbered(data, 2000))
                    link.injectToServer(Array(renumbered(data, 3000).dropLast(5)))
                    link.injectToServer(Array(data.prefix(40)))
                    try await eventually("the bad packets to be counted") {
                        counters.droppedReplayed.load(ordering: .relaxed) - before.0 >= 3
                            && counters.droppedBadTag.load(ordering: .relaxed) - before.1 >= 2
                            && counters.droppedMalformed.load(ordering: .relaxed)
                                + counters.droppedBadTag.load(ordering: .relaxed) - before.1 - before.2 >= 4
                    }
                    // None reached the server, and the session goes on.
                    try await client.send(Array("second".utf8))
                    #expect(try await client.receive()?.bytes == Array("second".utf8))
                    #expect(backend.requests.count == 2)
                    try await client.finish()
                }
            }
        }
    }

    @Test func garbageOfEverySizeGetsNoReply() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            try await withRelay(try reliableConfig(servers: [backend.address]), level: .info) { relay in
                let front = try relay.address("rudp")
                let socket = try UDPSocket.connect(to: front, on: clientLoops.next())
                defer { socket.close() }
                var generator = SystemRandomNumberGenerator()
                for size in 1...1500 {
                    var garbage = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    // Every other one starts like a packet (magic, version, a type a client must not send or a
                    // session packet of no session), to get past the first check.
                    if size >= 6, size % 2 == 0 {
                        garbage.replaceSubrange(0..<5, with: [0x52, 0x4C, 0x59, 0x55, 0x01])
                        garbage[5] = [2, 3, 4, 5, 16, 17, 18, 19, 20, 99][size / 2 % 10]
                    }
                    _ = garbage.withUnsafeBytes { try? socket.sendNow($0) }
                    // Paced so that the listener's socket buffer is not what drops them (the pace is not under test).
                    if size % 50 == 0 { try await Task.sleep(for: .milliseconds(5)) }
                }
                // A real HELLO last: its CHALLENGE is the first and only datagram to come back, once everything
                // before it was handled.
                // The kernel may drop datagrams of a burst this size, the HELLO too: it is sent again after a second
                // without an answer. Whatever comes back must be a CHALLENGE.
                let hello = ReliableHello(clientNonce: SecureRandom.bytes(count: 32), clientID: "alice").encode(paddedSize: 128)
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
                defer { buffer.deallocate() }
                var hellos = 0
                var count = 0
                while count == 0, hellos < 20 {
                    _ = hello.withUnsafeBytes { try? socket.sendNow($0) }
                    hellos += 1
                    count = (try? await socket.receive(into: buffer, deadline: EventLoop.now() + 1_000_000_000))?.0 ?? 0
                }
                #expect(count == ReliableWire.challengeSize)
                #expect(buffer[5] == ReliablePacketType.challenge.rawValue, "a reply to garbage came back")
                let counters = try #require(relay.server.reliableListeners["rudp"]).counters
                let dropped = counters.dropCounts.reduce(0) { $0 + $1.1 }
                    + counters.handshakes(.malformed) + counters.handshakes(.badCookie)
                // Counted, each as one drop (the kernel may drop some of a burst this size before relayd sees them).
                #expect(dropped > 750 && dropped <= 1500, "\(dropped) of 1,500 counted")
                #expect(counters.handshakes(.challenged) >= 1 && counters.handshakes(.challenged) <= hellos)
            }
        }
    }

    @Test func noAnswerToAHandshakePacketIsLargerThanIt() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            // A rate limit that refuses the third HELLO, so REFUSED "rate limited" is measured too.
            let config = try reliableConfig(servers: [backend.address],
                                            extra: ", rate_limit: { per_ip: { rate: 1, interval: \"1h\", burst: 2 } }")
            try await withRelay(config) { relay in
                let front = try relay.address("rudp")
                let socket = try UDPSocket.connect(to: front, on: clientLoops.next())
                defer { socket.close() }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
                defer { buffer.deallocate() }
                func ask(_ packet: [UInt8]) async throws -> [UInt8] {
                    _ = packet.withUnsafeBytes { try? socket.sendNow($0) }
                    let (count, _, _) = try await socket.receive(into: buffer, deadline: EventLoop.now() + 20_000_000_000)
                    return Array(buffer[0..<count])
                }
                // Another version's HELLO: REFUSED unsupported version, smaller again.
                var other = ReliableHello(clientNonce: SecureRandom.bytes(count: 32), clientID: "alice").encode(paddedSize: 128)
                other[4] = 9
                let unsupported = try await ask(other)
                #expect(unsupported.count <= other.count && unsupported[22] == ReliableRefusalReason.unsupportedVersion.rawValue)
                var hello = ReliableHello(clientNonce: SecureRandom.bytes(count: 32), clientID: "alice").encode(paddedSize: 128)
                let challenge = try await ask(hello)
                #expect(challenge.count <= hello.count && challenge[5] == ReliablePacketType.challenge.rawValue)
                // A RESPONSE with a wrong proof: REFUSED bad auth, smaller than the RESPONSE.
                var handshake = ReliableClientHandshake(
                    clientID: "alice", key: ReliableTestKeys.key(50), clientNonce: Array(hello[6..<38]),
                    serverAddress: ReliablePeerAddress([0]), cryptography: ReliableStandardCryptography())
                _ = handshake.start(now: 0)
                guard case .send(let response) = handshake.handleDatagram(challenge, now: 1) else {
                    Issue.record("no RESPONSE to the CHALLENGE")
                    return
                }
                let refusal = try await ask(response)
                #expect(refusal.count <= response.count && refusal[5] == ReliablePacketType.refused.rawValue)
                // The third HELLO is over the rate limit: REFUSED rate limited, no larger than the smallest HELLO.
                hello = ReliableHello(clientNonce: SecureRandom.bytes(count: 32), clientID: "alice").encode(paddedSize: 128)
                let limited = try await ask(hello)
                #expect(limited.count <= hello.count)
                #expect(limited.count == ReliableWire.refusedSize && limited[22] == ReliableRefusalReason.rateLimited.rawValue)
            }
        }
    }

    @Test func aFullListenerRefusesNewClientsAndKeepsItsSessions() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            try await withRelay(try reliableConfig(servers: [backend.address], extra: ", max_sessions: 1")) { relay in
                let front = try relay.address("rudp")
                try await ReliableUDPClient.connect(to: front, configuration: ReliableTestKeys.client("alice"),
                                                    on: clientLoops.next()) { first in
                    try await first.send(Array("before".utf8))
                    #expect(try await first.receive()?.bytes == Array("before".utf8))
                    let error = await #expect(throws: ReliableUDPClientError.self) {
                        try await withTimeout { try await echoThroughSession(front, [[1]], configuration: ReliableTestKeys.client("bob")) }
                    }
                    #expect(error?.description == "refused: server full")
                    for index in 0..<20 {
                        try await first.send(Array("after \(index)".utf8))
                        #expect(try await first.receive()?.bytes == Array("after \(index)".utf8))
                    }
                    try await first.finish()
                }
                let counters = try #require(relay.server.reliableListeners["rudp"]).counters
                #expect(counters.handshakes(.serverFull) == 1)
            }
        }
    }

    @Test func aFloodFromOneAddressStopsAtItsPacketLimitWhileAnotherClientKeepsItsLatency() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            let config = try reliableConfig(
                servers: [backend.address],
                extra: ", rate_limit: { packets_per_ip: { rate: 1000, interval: \"1s\", burst: 1000 } }")
            try await withRelay(config, level: .info) { relay in
                let front = try relay.address("rudp")
                let floodStart = ContinuousClock.now
                let flooder = try UDPSocket.bind(try SocketAddress(ip: "127.0.0.2", port: 0), on: clientLoops.next())
                defer { flooder.close() }
                try await ReliableUDPClient.connect(to: front, configuration: ReliableTestKeys.client(),
                                                    on: clientLoops.next()) { client in
                    /// Median round trip of 100 messages, one at a time.
                    @Sendable func medianRoundTrip(_ label: String) async throws -> UInt64 {
                        var latencies: [UInt64] = []
                        for index in 0..<100 {
                            let sentAt = try await client.send(Array("\(label) \(index)".utf8))
                            let reply = try #require(try await client.receive())
                            #expect(reply.bytes == Array("\(label) \(index)".utf8))
                            latencies.append(reply.receivedAt - sentAt)
                        }
                        return latencies.sorted()[50]
                    }
                    let quiet = try await medianRoundTrip("quiet")
                    let done = Gate()
                    let flooded = try await withThrowingTaskGroup(of: UInt64?.self) { tasks in
                        tasks.addTask {
                            // Session packets of no session, about 32,000 a second (32 times the limit), from
                            // 127.0.0.2 while the client on 127.0.0.1 measures.
                            var packet = [UInt8](repeating: 0xAB, count: 100)
                            packet.replaceSubrange(0..<6, with: [0x52, 0x4C, 0x59, 0x55, 0x01, 0x10])
                            var sent = 0
                            while !done.isOpen, sent < 2_000_000 {
                                for _ in 0..<64 { _ = packet.withUnsafeBytes { try? flooder.sendNow($0, to: front) } }
                                sent += 64
                                try await flooder.loop.sleep(for: .milliseconds(2))
                            }
                            return nil
                        }
                        tasks.addTask {
                            defer { done.open() }
                            // Let the flood use up its burst first.
                            try await eventually("the flood to be limited") {
                                relay.server.reliableListeners["rudp"]?.rateLimiter.limited(.packetsPerIP) ?? 0 > 1000
                            }
                            return try await medianRoundTrip("flooded")
                        }
                        var result: UInt64 = 0
                        for try await value in tasks { if let value { result = value } }
                        return result
                    }
                    try await client.finish()
                    // The flood is dropped before any work beyond a table lookup: the other client's median round
                    // trip stays within a few times the quiet one (both are tens of microseconds to a few ms).
                    #expect(flooded < 4 * quiet + 20_000_000, "median round trip \(quiet / 1000) µs quiet, \(flooded / 1000) µs flooded")
                }
                let listener = try #require(relay.server.reliableListeners["rudp"])
                #expect(listener.counters.droppedRateLimited.load(ordering: .relaxed) > 1000)
                // What passed the limit: the burst, and what refilled (1,000 a second) while the flood lasted.
                let floodSeconds = Double((ContinuousClock.now - floodStart).components.seconds) + 1
                #expect(Double(listener.counters.droppedUnknownSession.load(ordering: .relaxed)) <= 1000 + 1000 * floodSeconds)
            }
        }
    }

    @Test func theSessionFollowsItsClientToANewAddress() async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            try await withRelay(try reliableConfig(servers: [backend.address])) { relay in
                let link = servers.add(try ImpairedLink(to: try relay.address("rudp")))
                try await ReliableUDPClient.connect(to: link.address, configuration: ReliableTestKeys.client(),
                                                    on: clientLoops.next()) { client in
                    try await client.send(Array("here".utf8))
                    #expect(try await client.receive()?.bytes == Array("here".utf8))
                    try link.rebind()
                    for index in 0..<10 {
                        try await client.send(Array("there \(index)".utf8))
                        #expect(try await client.receive()?.bytes == Array("there \(index)".utf8))
                    }
                    try await client.finish()
                }
                let counters = try #require(relay.server.reliableListeners["rudp"]).counters
                #expect(counters.rebindings.load(ordering: .relaxed) == 1)
                #expect(counters.handshakes(.established) == 1)
            }
        }
    }

    @Test func idleSessionsExpire() async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            try await withRelay(try reliableConfig(servers: [backend.address], extra: ", idle_timeout: \"2s\"")) { relay in
                let listener = try #require(relay.server.reliableListeners["rudp"])
                let link = servers.add(try ImpairedLink(to: try relay.address("rudp")))
                // The echo must come back within the idle timeout: the backend is up first.
                try await relay.waitForActiveServers("app")
                try await ReliableUDPClient.connect(to: link.address, configuration: ReliableTestKeys.client(),
                                                    on: clientLoops.next()) { client in
                    #expect(client.parameters.idleTimeoutMilliseconds == 2000)
                    try await client.send(Array("hello".utf8))
                    #expect(try await client.receive()?.bytes == Array("hello".utf8))
                    // The client falls silent: nothing of it reaches the relay any more.
                    link.impair(up: LinkImpairment(loss: 1), down: LinkImpairment.none)
                    // Its keep-alive PING unanswered, the relay ends the session as a retransmission timeout
                    // (docs/reliable-udp.md: idle with data unacknowledged); either way, for silence.
                    try await eventually("the relay to close the idle session") {
                        listener.counters.sessionsClosed(.idleTimeout, byClient: false)
                            + listener.counters.sessionsClosed(.retransmissionTimeout, byClient: false) == 1
                    }
                    #expect(await listener.store.count == 0)
                }
            }
        }
    }

    @Test func aRestartOfTheListenerLosesNoOtherListenersTraffic() async throws {
        try await withTestServers { servers in
            let backend = servers.add(try UDPEchoBackend())
            let udpListen = try freeUDPAddress()
            let config = try reliableConfig(
                servers: [backend.address],
                otherListeners: "{ name: \"plain\", protocol: \"udp\", listen: \"\(udpListen)\", backend: \"app\" },")
            try await withRelay(config, level: .info) { relay in
                let service = try #require(relay.server.reliableListeners["rudp"])
                let front = try relay.address("rudp")
                let plain = try UDPTestClient(try relay.address("plain"))
                defer { plain.close() }
                #expect(try await plain.roundTrip(Array("before".utf8)) == Array("before".utf8))
                let error = await #expect(throws: ReliableUDPClientError.self) {
                    try await ReliableUDPClient.connect(to: front, configuration: ReliableTestKeys.client(),
                                                        on: clientLoops.next()) { client in
                        try await client.send(Array("one".utf8))
                        #expect(try await client.receive()?.bytes == Array("one".utf8))
                        service.failNextReceive(with: TestFailure("injected receive failure"))
                        try await client.send(Array("fail".utf8))
                        // The failed run closes its sessions with CLOSE "internal error".
                        while try await client.receive() != nil {}
                        if let end = client.end { throw ReliableUDPClientError.closed(end.reason, byServer: end.byServer) }
                    }
                }
                #expect(error == .closed(.internalError, byServer: true))
                // The plain UDP listener answered throughout, and the restarted listener takes new sessions.
                #expect(try await plain.roundTrip(Array("during".utf8)) == Array("during".utf8))
                try await eventually("listener restarted") {
                    await relay.server.supervisor.restartCount(of: "rudp") == 1 && service.isRunning
                }
                let echoed = try await withTimeout { try await echoThroughSession(front, [Array("again".utf8)]) }
                #expect(echoed == [Array("again".utf8)])
                #expect(try await plain.roundTrip(Array("after".utf8)) == Array("after".utf8))
            }
        }
    }
}
