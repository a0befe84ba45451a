import Foundation
import RelayIO
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

/// Config text for the reload tests: listener `main` in front of `servers`, plus the echo listeners named
/// in `extra` (each on its own port-0 address).
private func reloadConfig(servers: [SocketAddress], extra: [String], drain: String = "30s") -> String {
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    let extraListeners = extra.map { "{ name: \"\($0)\", protocol: \"echo\", listen: \"127.0.0.1:0\" }," }
        .joined(separator: "\n")
    return """
        {
          listeners: [
            { name: "main", listen: "127.0.0.1:0", backend: "app" },
            \(extraListeners)
          ],
          backends: { app: { servers: [\(list)], balance: "round_robin",
                             probe: { interval: "200ms", timeout: "300ms" },
                             selector: { evaluation_interval: "200ms", debounce: "0s" } } },
          drain_timeout: "\(drain)",
          io: { loops: 2 },
        }
        """
}

/// One echo round trip on a fresh connection; throws on any failure.
private func echoOnce(_ address: SocketAddress, _ text: String) async throws {
    let client = try await TestClient.connect(address)
    defer { client.close() }
    try await client.send(text)
    let echoed = try await client.read(exactly: text.utf8.count)
    guard echoed == Array(text.utf8) else { throw EchoMismatch(sent: text, received: echoed) }
}

/// What the load of short connections saw.
private final class LoadStats: Sendable {
    private let state = SanitizerVisibleMutex<(stopped: Bool, done: Int, failures: [String])>((false, 0, []))
    var stopped: Bool { state.withLock { $0.stopped } }
    var done: Int { state.withLock { $0.done } }
    var failures: [String] { state.withLock { $0.failures } }
    func stop() { state.withLock { $0.stopped = true } }
    func succeeded() { state.withLock { $0.done += 1 } }
    func failed(_ reason: String) { state.withLock { $0.failures.append(reason) } }
}

private struct EchoMismatch: Error {
    let sent: String
    let received: [UInt8]
}

@Suite struct ReloadIntegrationTests {
    /// The acceptance test: steady short connections and a few long ones while the config is
    /// reloaded ten times, swapping the backends each time, adding one listener and removing another, with a
    /// bad config tried between the good ones.
    @Test func tenReloadsUnderLoad_dropNothing_andRefuseBadConfigs() async throws {
        try await withTestServers { servers in
            let setA = [servers.add(try TestBackend.echo()), servers.add(try TestBackend.echo())]
            let setB = [servers.add(try TestBackend.echo()), servers.add(try TestBackend.echo())]
            let addressesA = setA.map(\.listener.localAddress)
            let addressesB = setB.map(\.listener.localAddress)
            try await withReloadableRelay(reloadConfig(servers: addressesA, extra: ["side0"]), limit: .seconds(60)) { relay, path in
                let main = try relay.address("main")
                try await echoOnce(main, "warm-up")

                // Long connections: three through `main` (to set A, which is swapped out) and one on `side0`,
                // a listener the first reload removes.
                var long: [TestClient] = []
                for _ in 0..<3 { long.append(try await TestClient.connect(main)) }
                long.append(try await TestClient.connect(try relay.address("side0")))
                for (index, client) in long.enumerated() {
                    try await client.send("long-\(index)")
                    #expect(try await client.read(exactly: "long-\(index)".utf8.count) == Array("long-\(index)".utf8))
                }

                // Steady short connections for the whole test, from workers that end with it, however it ends.
                let stats = LoadStats()
                try await withThrowingTaskGroup(of: Void.self) { load in
                    for worker in 0..<3 {
                        load.addTask {
                            var round = 0
                            while !stats.stopped, !Task.isCancelled, round < 100_000 {
                                round += 1
                                do {
                                    try await echoOnce(main, "w\(worker)-\(round)")
                                    stats.succeeded()
                                } catch {
                                    stats.failed("worker \(worker) round \(round): \(error)")
                                }
                            }
                        }
                    }

                    var previousSide = "side0"
                    for round in 1...10 {
                        // Short connections go through between reloads, whatever the machine's pace.
                        let doneBefore = stats.done
                        try await eventually("short connections before reload \(round)") { stats.done >= doneBefore + 3 }
                        // A bad config between good ones is refused and changes nothing.
                        let bad = round % 2 == 0
                            ? "{ listeners: [ { name: \"main\", listen: \"127.0.0.1:0\", backend: \"nowhere\" } ] }"
                            : "{ listeners: [ oops"
                        try bad.write(toFile: path, atomically: true, encoding: .utf8)
                        let generationBefore = relay.server.generation
                        let refused = await relay.server.reload()
                        #expect(!refused.applied)
                        #expect(relay.server.generation == generationBefore)

                        let side = "side\(round)"
                        let addresses = round % 2 == 1 ? addressesB : addressesA
                        try reloadConfig(servers: addresses, extra: [side]).write(toFile: path, atomically: true,
                                                                                  encoding: .utf8)
                        let result = await relay.server.reload()
                        #expect(result.applied, "round \(round): \(result.message)")
                        #expect(result.plan?.changedGroups == ["app"])
                        #expect(result.plan?.addedListeners == [side])
                        #expect(result.plan?.removedListeners == [previousSide])
                        #expect(relay.server.generation == round + 1)

                        // The added listener serves at once; the removed one takes no new connection.
                        try await echoOnce(try relay.address(side), "new-\(side)")
                        #expect(relay.server.address(of: previousSide) == nil)
                        previousSide = side
                    }
                    let doneBefore = stats.done
                    try await eventually("short connections after the last reload") { stats.done >= doneBefore + 3 }
                    stats.stop()
                    try await load.waitForAll()
                }

                let failed = stats.failures
                #expect(failed.isEmpty, "failed short connections: \(failed.prefix(5))")
                #expect(stats.done > 30)
                print("reload test: \(stats.done) short connections through 10 reloads, \(failed.count) failed")

                // Every long connection is intact after ten reloads (including the one on a removed listener).
                for (index, client) in long.enumerated() {
                    try await client.send("still-\(index)")
                    #expect(try await client.read(exactly: "still-\(index)".utf8.count) == Array("still-\(index)".utf8))
                    client.close()
                }

                // The last good config (round 10) points `main` at set A: new connections go there only.
                let before = setB.map { $0.connections.count }
                let finalBefore = setA.map { $0.connections.count }.reduce(0, +)
                for index in 0..<8 { try await echoOnce(main, "final-\(index)") }
                #expect(setB.map { $0.connections.count } == before)
                #expect(setA.map { $0.connections.count }.reduce(0, +) == finalBefore + 8)
                #expect(relay.server.reloadHistory.failed == 10)
                #expect(relay.server.reloadHistory.succeeded == 10)
            }
        }
    }

    /// Servers that stay in a group keep their scores through a reload that changes the group.
    @Test func reloadKeepsScoresOfServersThatStay() async throws {
        try await withTestServers { servers in
            let first = servers.add(try TestBackend.echo())
            let second = servers.add(try TestBackend.echo())
            let one = first.listener.localAddress
            let two = second.listener.localAddress
            try await withReloadableRelay(reloadConfig(servers: [one], extra: [])) { relay, path in
                let group = try #require(relay.server.backendGroups["app"])
                try await eventually("the first server measured") {
                    await group.scoreboard.breakdowns().first?.1.measured == true
                }
                let server = try #require(group.servers.first)
                let before = try #require(await group.scoreboard.state(of: server))
                #expect(before.isMeasured)

                try reloadConfig(servers: [one, two], extra: []).write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await relay.server.reload().applied)
                let successor = try #require(relay.server.backendGroups["app"])
                #expect(successor !== group)
                #expect(successor.servers.first === server, "the handle of a server that stays is kept")
                let carried = try #require(await successor.scoreboard.state(of: server))
                #expect(carried.isMeasured && carried.consecutiveSuccesses >= before.consecutiveSuccesses)
                #expect(successor.selector.current.servers.contains(server), "it stays in the active set")
            }
        }
    }

    /// The admin API can be turned on and off by a reload, and a new token applies at once.
    @Test func reloadStartsAndStopsTheAdminAPI() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let base = reloadConfig(servers: [backend.listener.localAddress], extra: [])
            try await withReloadableRelay(base) { relay, path in
                #expect(relay.server.adminAddress == nil)
                let withAdmin = base.replacingOccurrences(of: "drain_timeout:", with: "admin: { listen: \"127.0.0.1:0\" }, drain_timeout:")
                try withAdmin.write(toFile: path, atomically: true, encoding: .utf8)
                let started = await relay.server.reload()
                #expect(started.applied && started.plan?.adminChanged == true)
                let admin = try #require(relay.server.adminAddress)
                #expect(try await http(admin, "/healthz").status == 200)

                let token = "a-token-of-twenty-chars"
                try withAdmin.replacingOccurrences(of: "127.0.0.1:0\" }", with: "127.0.0.1:0\", token: \"\(token)\" }")
                    .write(toFile: path, atomically: true, encoding: .utf8)
                let tokened = await relay.server.reload()
                #expect(tokened.applied && tokened.plan?.adminChanged == false)
                #expect(relay.server.adminAddress == admin, "a new token does not rebind")
                #expect(try await http(admin, "/stats").status == 401)
                #expect(try await http(admin, "/stats", token: token).status == 200)

                try base.write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await relay.server.reload().applied)
                #expect(relay.server.adminAddress == nil)
                // The old port is closed (the drain takes a moment).
                try await eventually("the old admin port closed", poll: .milliseconds(20)) {
                    guard let client = try? await TestClient.connect(admin) else { return true }
                    client.close()
                    return false
                }
            }
        }
    }

    /// A reload changes the log level of every component at once, and warns about what needs a restart.
    @Test func reloadChangesTheLogLevel_andNamesWhatNeedsARestart() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let base = reloadConfig(servers: [backend.listener.localAddress], extra: [])
            try await withReloadableRelay(base) { relay, path in
                try await echoOnce(try relay.address("main"), "before")
                #expect(relay.logs.lines.contains { $0.contains("level=debug") })
                try base.replacingOccurrences(of: "io: { loops: 2 }", with: "io: { loops: 1 }, log: { level: \"warn\" }")
                    .write(toFile: path, atomically: true, encoding: .utf8)
                let result = await relay.server.reload()
                #expect(result.applied && result.plan?.needsRestart == ["io"])
                #expect(relay.logs.lines.contains { $0.contains("needs") || $0.contains("restart") })
                let count = relay.logs.lines.count
                try await echoOnce(try relay.address("main"), "after")
                // Once the relay has let go of the connection, everything it had to say about it is logged.
                let main = try #require(relay.server.tcpListeners["main"])
                try await eventually("the relay done with the connection") { main.tracker.active == 0 }
                let later = relay.logs.lines.dropFirst(count)
                #expect(!later.contains { $0.contains("level=debug") || $0.contains("level=info") })
                #expect(relay.server.config.io.loops == 2, "io keeps its running value")
            }
        }
    }

    /// A UDP listener keeps its socket through a reload that points it at another group.
    @Test func udpListenerSwitchesGroupsInPlace() async throws {
        try await withTestServers { servers in
            let first = servers.add(try UDPEchoBackend())
            let second = servers.add(try UDPEchoBackend())
            // The same listen address in both configs, so that the reload updates the listener in place.
            let listen = try freeUDPAddress()
            try await withReloadableRelay(try udpConfig(listen: listen, servers: [first.address])) { relay, path in
                let front = try relay.address("dns")
                let early = try UDPTestClient(front)
                defer { early.close() }
                #expect(try await early.roundTrip(Array("one".utf8)) == Array("one".utf8))
                try udpConfig(listen: listen, servers: [second.address]).write(toFile: path, atomically: true,
                                                                               encoding: .utf8)
                let result = await relay.server.reload()
                #expect(result.applied && result.plan?.updatedListeners == ["dns"])
                #expect(relay.server.address(of: "dns") == front)
                // The open flow stays on its server; a new client goes to the new group.
                #expect(try await early.roundTrip(Array("two".utf8)) == Array("two".utf8))
                let late = try UDPTestClient(front)
                defer { late.close() }
                #expect(try await late.roundTrip(Array("three".utf8)) == Array("three".utf8))
                #expect(first.flowCount == 1)
                #expect(second.flowCount == 1)
            }
        }
    }

    /// A reload whose new listener cannot bind changes nothing.
    @Test func bindFailure_refusesTheWholeReload() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let taken = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: clientLoops.next(),
                                        reusePort: false)
            defer { taken.close() }
            try await withReloadableRelay(reloadConfig(servers: [backend.listener.localAddress], extra: [])) { relay, path in
                let text = reloadConfig(servers: [], extra: [])
                    .replacingOccurrences(of: "listeners: [", with: "listeners: [ { name: \"busy\", protocol: \"echo\", listen: \"\(taken.localAddress)\" },")
                    .replacingOccurrences(of: "servers: []", with: "servers: [\"127.0.0.1:1\"]")
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let result = await relay.server.reload()
                #expect(!result.applied)
                #expect(result.message.contains("busy"))
                #expect(relay.server.generation == 1)
                #expect(relay.server.address(of: "busy") == nil)
                #expect(relay.server.config.backends["app"]?.servers.count == 1)
                try await echoOnce(try relay.address("main"), "unchanged")
            }
        }
    }
}
