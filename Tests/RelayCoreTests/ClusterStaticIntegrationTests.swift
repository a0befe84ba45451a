import Foundation
import RelayIO
import RelayProtocol
import TestSupport
import Testing
@testable import RelayCore

/// Three embedded nodes in static mode, with fast timings (heartbeat 200 ms, dead_after 2 s: with 1 s a follower
/// of a loaded parallel run sometimes heard no heartbeat for that long and rightly probed for itself): election of the
/// smallest id, re-election when it goes silent, one set of scores everywhere, probes only from the leader.
@Suite(.serialized) struct ClusterStaticIntegrationTests {
    static let heartbeat = Duration.milliseconds(200)
    static let deadAfter = Duration.seconds(2)

    static func keyFile() throws -> String {
        try temporaryFile("CLUSTER " + KeysFile.hex(SecureRandom.bytes(count: 32)) + "\n", suffix: ".key")
    }

    static func config(node: String, addresses: [String: SocketAddress], keyFile: String,
                       backends: [SocketAddress]) -> String {
        let peers = addresses.filter { $0.key != node }.sorted { $0.key < $1.key }
            .map { "\"\($0.key)@\($0.value)\"" }.joined(separator: ", ")
        let servers = backends.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {
              backends: { app: {
                servers: [\(servers)], connect_timeout: "300ms",
                probe: { kind: "tcp", interval: "200ms", timeout: "300ms", candidates: 10, rise: 1, fall: 1 },
              } },
              drain_timeout: "1s",
              io: { loops: 1 },
              cluster: {
                node_id: "\(node)", mode: "static",
                static: { listen: "\(addresses[node]!)", peers: [\(peers)], key_file: "\(keyFile)",
                          heartbeat: "200ms", dead_after: "2s" },
              },
            }
            """
    }

    /// Starts n1, n2 and n3 and runs `body` with them (by id); stops them all on every path.
    static func withCluster(backends: [SocketAddress],
                            _ body: @escaping @Sendable ([String: RunningRelay]) async throws -> Void) async throws {
        let keyFile = try keyFile()
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        var addresses: [String: SocketAddress] = [:]
        for node in ["n1", "n2", "n3"] { addresses[node] = try freeUDPAddress() }
        var relays: [String: RunningRelay] = [:]
        do {
            for node in ["n1", "n2", "n3"] {
                relays[node] = try RunningRelay(config(node: node, addresses: addresses, keyFile: keyFile,
                                                       backends: backends), level: .info)
            }
            let running = relays
            try await withTimeout(.seconds(60), "the cluster test") { try await body(running) }
        } catch {
            for (node, relay) in relays.sorted(by: { $0.key < $1.key }) {
                Issue.record("\(node) log:\n\(relay.logTail(40))")
            }
            for relay in relays.values { _ = try? await relay.stop() }
            throw error
        }
        for relay in relays.values { try await relay.stop() }
    }

    static func leaders(_ relays: [String: RunningRelay]) -> [String: String?] {
        relays.mapValues { $0.server.cluster.current.leader }
    }

    /// The score parts of group `app`, by server address.
    static func scores(_ relay: RunningRelay) async -> [String: [Double]] {
        guard let group = relay.server.backendGroups["app"] else { return [:] }
        var out: [String: [Double]] = [:]
        for (server, parts) in await group.scoreboard.breakdowns() {
            out[server.address.description] = [parts.total, parts.latency, parts.jitter, parts.success, parts.penalty,
                                               parts.bonus, parts.healthy ? 1 : 0, parts.latencyMs ?? -1]
        }
        return out
    }

    /// A backend that counts every connection it accepts, probes included (`TestBackend.connections` counts only
    /// those that bring data). On a loopback address of its own: a test running beside this one may keep probing
    /// a 127.0.0.1 port whose backend it stopped, and the kernel may give that port to this backend.
    static func countingBackend(_ accepted: CountBox) throws -> TestBackend {
        try TestBackend(ip: "127.0.0.66") { _ in accepted.increment() }
    }

    /// The leader's probe results for `server` so far.
    static func leaderProbes(_ relay: RunningRelay, of server: SocketAddress) async -> UInt64 {
        guard let group = relay.server.backendGroups["app"] else { return 0 }
        return await group.scoreboard.published().servers.first { $0.address == server.description }?.probes ?? 0
    }

    /// While the leader makes five more probes of `server`, no follower probes, and the backend accepts no more
    /// connections than those probes, give or take a few: one in flight at either end, and connections of earlier
    /// probes that a starved backend accepts late (the kernel completed them in its backlog). Two followers probing
    /// as well would add ten.
    static func onlyTheLeaderProbes(_ relays: [String: RunningRelay], leader: String, server: SocketAddress,
                                    accepted: CountBox) async throws {
        let followers = relays.keys.filter { $0 != leader }.sorted()
        let followerProbes = followers.map { probeCount(relays[$0]!) }
        let acceptedBefore = accepted.count
        let before = await leaderProbes(relays[leader]!, of: server)
        var after = before
        try await eventually("five more probes by \(leader)") {
            after = await leaderProbes(relays[leader]!, of: server)
            return after >= before + 5
        }
        let seen = accepted.count - acceptedBefore
        #expect(followers.map { probeCount(relays[$0]!) } == followerProbes, "a follower probed")
        #expect(seen > 0 && seen <= Int(after - before) + 4,
                "the backend accepted \(seen) connections while the leader probed it \(after - before) times")
    }

    static func probeCount(_ relay: RunningRelay) -> Int {
        guard let stats = relay.server.backendGroups["app"]?.stats else { return 0 }
        return Int(stats.probeSuccesses.value + stats.probeFailures.value)
    }

    @Test(.timeLimit(.minutes(2)))
    func smallestIdLeads_followersAdoptItsScoresAndNeverProbe() async throws {
        try await withTestServers { servers in
            let accepted = CountBox()
            let live = servers.add(try Self.countingBackend(accepted))
            let dead = try PortReservation(.tcp)
            defer { dead.release() }
            try await Self.withCluster(backends: [live.address, dead.address]) { relays in
                try await eventually("n1 leads everywhere: \(Self.leaders(relays))") {
                    Self.leaders(relays).values.allSatisfy { $0 == "n1" }
                }
                #expect(relays["n1"]!.server.cluster.current.isLeader)
                #expect(!relays["n2"]!.server.cluster.current.probesLocally)
                #expect(relays["n3"]!.server.cluster.current.members.map(\.nodeID) == ["n3", "n1", "n2"])

                // The leader's scores (the live server up, the dead one down) reach both followers unchanged.
                try await eventually("n1's scores measured") {
                    let scores = await Self.scores(relays["n1"]!)
                    return scores[live.address.description]?[6] == 1 && scores[dead.address.description]?[6] == 0
                }
                var seen: [[String: [Double]]] = []
                // Score parts and health are the same everywhere; the raw latency average is as fresh as the last
                // heartbeat, so it is only checked to be measured on every node.
                try await eventually("the same scores on every node: \(seen)") {
                    seen = [await Self.scores(relays["n1"]!), await Self.scores(relays["n2"]!),
                            await Self.scores(relays["n3"]!)]
                    let measured = seen.allSatisfy { ($0[live.address.description]?[7] ?? -1) >= 0 }
                    let parts = seen.map { $0.mapValues { Array($0.prefix(7)) } }
                    return measured && parts[0] == parts[1] && parts[1] == parts[2]
                }

                // Every node picks its active set from the shared scores at once, not at the next evaluation (30 s).
                try await eventually("the live server in every node's active set", within: .seconds(10)) {
                    relays.values.allSatisfy { relay in
                        relay.server.backendGroups["app"]!.selector.current.servers.contains { $0.address == live.address }
                    }
                }
                // Only the leader probes: the backend sees its probes and no others.
                #expect(relays["n2"]!.server.cluster.adoptions.load(ordering: .relaxed) > 0)
                try await Self.onlyTheLeaderProbes(relays, leader: "n1", server: live.address, accepted: accepted)
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func silentLeaderIsReplacedWithinDeadAfterPlusOneHeartbeat_andTakesOverAgainWhenBack() async throws {
        try await withTestServers { servers in
            let live = servers.add(try TestBackend.echo())
            try await Self.withCluster(backends: [live.address]) { relays in
                try await eventually("n1 leads everywhere: \(Self.leaders(relays))") {
                    Self.leaders(relays).values.allSatisfy { $0 == "n1" }
                }
                let n1 = try #require(relays["n1"]!.server.clusterManager)
                await n1.setPartitioned(true)
                let cut = ContinuousClock.now
                try await eventually("n2 leads n2 and n3: \(Self.leaders(relays))") {
                    relays["n2"]!.server.cluster.current.isLeader && relays["n3"]!.server.cluster.current.leader == "n2"
                }
                let failover = ContinuousClock.now - cut
                // dead_after + one heartbeat (ClusterStateTests checks the bound exactly), plus room for the
                // scheduling of a machine running the whole suite at once.
                #expect(failover <= Self.deadAfter + Self.heartbeat + .seconds(1), "failover took \(failover)")
                #expect(relays["n2"]!.server.cluster.current.term >= relays["n1"]!.server.cluster.current.term)
                let probesBefore = Self.probeCount(relays["n2"]!)
                try await eventually("n2 probes now") { Self.probeCount(relays["n2"]!) > probesBefore }
                let n3Probes = Self.probeCount(relays["n3"]!)
                try await eventually("n2 probes on") { Self.probeCount(relays["n2"]!) > probesBefore + 3 }
                #expect(Self.probeCount(relays["n3"]!) == n3Probes, "n3 probed while following n2")

                await n1.setPartitioned(false)
                try await eventually("n1 leads everywhere again: \(Self.leaders(relays))") {
                    Self.leaders(relays).values.allSatisfy { $0 == "n1" }
                        && !relays["n2"]!.server.cluster.current.isLeader
                }
                // n1 learns the term n2 reached from n2's next heartbeat, and leads past it.
                try await eventually("n1's term past n2's: \(relays.mapValues { $0.server.cluster.current.term })") {
                    relays["n1"]!.server.cluster.current.term >= relays["n2"]!.server.cluster.current.term
                        && relays["n3"]!.server.cluster.current.term == relays["n1"]!.server.cluster.current.term
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func gracefulStopHandsTheLeadOverAtOnce() async throws {
        try await withTestServers { servers in
            let live = servers.add(try TestBackend.echo())
            try await Self.withCluster(backends: [live.address]) { relays in
                try await eventually("n1 leads everywhere") { Self.leaders(relays).values.allSatisfy { $0 == "n1" } }
                let stopped = ContinuousClock.now
                try await relays["n1"]!.stop()
                try await eventually("n2 leads") {
                    relays["n2"]!.server.cluster.current.isLeader && relays["n3"]!.server.cluster.current.leader == "n2"
                }
                // The goodbye heartbeat: no waiting for dead_after.
                #expect(ContinuousClock.now - stopped < Self.deadAfter)
            }
        }
    }
}
