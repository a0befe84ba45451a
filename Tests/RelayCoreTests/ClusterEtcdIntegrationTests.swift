import Foundation
import RelayIO
import RelayProtocol
import TestSupport
import Testing
@testable import RelayCore

/// Three embedded nodes in etcd mode against a real etcd started by the test (lease TTL 2 s, so keepalives every
/// 667 ms): one leader, its scores everywhere, no probes from followers; a leader cut off from etcd steps down
/// within the TTL and never publishes again; the cluster recovers when etcd comes back.
@Suite(.serialized, .enabled(if: EtcdServer.isAvailable, EtcdServer.missingMessage))
struct ClusterEtcdIntegrationTests {
    static let ttl = Duration.seconds(2)

    static func config(node: String, endpoint: String, prefix: String, backends: [SocketAddress]) -> String {
        let servers = backends.map { "\"\($0)\"" }.joined(separator: ", ")
        return """
            {
              backends: { app: {
                servers: [\(servers)], connect_timeout: "300ms",
                probe: { kind: "tcp", interval: "200ms", timeout: "300ms", candidates: 10, rise: 1, fall: 1 },
              } },
              drain_timeout: "1s",
              io: { loops: 1 },
              cluster: { node_id: "\(node)", mode: "etcd",
                         etcd: { endpoints: ["\(endpoint)"], prefix: "\(prefix)", ttl: "2s" } },
            }
            """
    }

    static func uniquePrefix() -> String { "/relayd-test-\(KeysFile.hex(SecureRandom.bytes(count: 4)))/" }

    /// Starts n1, n2 and n3, node N talking to etcd at `endpoints[N]`, runs `body`, and stops them on every path.
    static func withCluster(endpoints: [String: String], prefix: String, backends: [SocketAddress],
                            _ body: @escaping @Sendable ([String: RunningRelay]) async throws -> Void) async throws {
        var relays: [String: RunningRelay] = [:]
        do {
            for node in ["n1", "n2", "n3"] {
                relays[node] = try RunningRelay(config(node: node, endpoint: endpoints[node]!, prefix: prefix,
                                                       backends: backends), level: .info)
            }
            let running = relays
            try await withTimeout(.seconds(90), "the etcd cluster test") { try await body(running) }
        } catch {
            for (node, relay) in relays.sorted(by: { $0.key < $1.key }) {
                Issue.record("\(node) log:\n\(relay.logTail(40))")
            }
            for relay in relays.values { _ = try? await relay.stop() }
            throw error
        }
        for relay in relays.values { try await relay.stop() }
    }

    /// The leader every node agrees on, or nil.
    static func agreedLeader(_ relays: [String: RunningRelay], among nodes: [String]? = nil) -> String? {
        let views = (nodes ?? Array(relays.keys)).map { relays[$0]!.server.cluster.current }
        guard let leader = views.first?.leader, views.allSatisfy({ $0.leader == leader }),
              relays[leader]?.server.cluster.current.isLeader == true else { return nil }
        return leader
    }

    static func describe(_ relays: [String: RunningRelay]) -> String {
        relays.sorted { $0.key < $1.key }.map { node, relay in
            let view = relay.server.cluster.current
            return "\(node): leader \(view.leader ?? "-") term \(view.term) probes \(view.probesLocally)"
        }.joined(separator: "; ")
    }

    /// The publication of group `app` stored in etcd.
    static func storedScores(_ etcd: EtcdServer, prefix: String, via relay: RunningRelay) async throws
        -> EtcdScorePublication?
    {
        let client = HTTPClient(endpoints: [etcd.clientAddress], loop: relay.server.loops.next())
        defer { client.close() }
        let call = EtcdGateway.range(prefix: prefix + "scores/")
        let reply = try await client.post(call.path, body: call.body, timeout: .seconds(2))
        let kvs = try EtcdGateway.decodeRange(reply.body).kvs
        return try kvs.first.map { try EtcdScorePublication.decode($0.value) }
    }

    @Test(.timeLimit(.minutes(2)))
    func oneLeader_followersAdoptItsScoresAndNeverProbe() async throws {
        try await withEtcd { etcd in
            try await withTestServers { servers in
                let accepted = CountBox()
                let live = servers.add(try ClusterStaticIntegrationTests.countingBackend(accepted))
                let prefix = Self.uniquePrefix()
                let endpoints = ["n1": etcd.clientURL, "n2": etcd.clientURL, "n3": etcd.clientURL]
                try await Self.withCluster(endpoints: endpoints, prefix: prefix, backends: [live.address]) { relays in
                    try await eventually("one leader for all: \(Self.describe(relays))") {
                        Self.agreedLeader(relays) != nil
                    }
                    let leader = try #require(Self.agreedLeader(relays))
                    // The score parts are the same everywhere; the raw latency average is as fresh as the last
                    // publication (every 667 ms here, while the leader probes every 200 ms), so it is only checked
                    // to be measured on every node.
                    var seen: [[String: [Double]]] = []
                    try await eventually("the same measured scores on every node: \(seen)") {
                        let scores = await [relays["n1"]!, relays["n2"]!, relays["n3"]!].asyncMap {
                            await ClusterStaticIntegrationTests.scores($0)
                        }
                        seen = scores
                        let measured = scores.allSatisfy { ($0[live.address.description]?[7] ?? -1) >= 0 }
                        let parts = scores.map { $0.mapValues { Array($0.prefix(7)) } }
                        return measured && parts[0] == parts[1] && parts[1] == parts[2]
                    }
                    // Every node picks its active set from the shared scores at once, not at the next evaluation (30 s).
                    try await eventually("the live server in every node's active set", within: .seconds(10)) {
                        relays.values.allSatisfy { relay in
                            relay.server.backendGroups["app"]!.selector.current.servers.contains { $0.address == live.address }
                        }
                    }
                    try await ClusterStaticIntegrationTests.onlyTheLeaderProbes(relays, leader: leader, server: live.address,
                                                                                accepted: accepted)
                    let stored = try #require(try await Self.storedScores(etcd, prefix: prefix, via: relays["n1"]!))
                    #expect(stored.leader == leader)
                    #expect(stored.term == relays[leader]!.server.cluster.current.term)
                    #expect(relays["n2"]!.server.cluster.current.members.filter(\.alive).count == 3)
                }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func leaderCutOffFromEtcdStepsDownWithinTheTTL_andNeverPublishesAfter() async throws {
        try await withEtcd { etcd in
            try await withTestServers { servers in
                let live = servers.add(try TestBackend.echo())
                // Each node reaches etcd through a relay of its own: stopping one cuts that node off alone.
                var proxies: [String: RunningRelay] = [:]
                var endpoints: [String: String] = [:]
                for node in ["n1", "n2", "n3"] {
                    let proxy = try RunningRelay("""
                        { listeners: [ { name: "etcd", protocol: "tcp", listen: "127.0.0.1:0", backend: "etcd" } ],
                          backends: { etcd: { servers: ["\(etcd.clientAddress)"], probe: { interval: "10s" } } },
                          drain_timeout: "0s" }
                        """, level: .info)
                    proxies[node] = proxy
                    endpoints[node] = "http://\(try proxy.address("etcd"))"
                }
                let prefix = Self.uniquePrefix()
                let proxiesRunning = proxies
                do {
                    try await Self.withCluster(endpoints: endpoints, prefix: prefix, backends: [live.address]) { relays in
                        try await eventually("one leader for all: \(Self.describe(relays))") {
                            Self.agreedLeader(relays) != nil
                        }
                        let leader = try #require(Self.agreedLeader(relays))
                        let oldTerm = relays[leader]!.server.cluster.current.term
                        try await proxiesRunning[leader]!.stop()
                        let cut = ContinuousClock.now
                        try await eventually("\(leader) steps down") { !relays[leader]!.server.cluster.current.isLeader }
                        let stepDown = ContinuousClock.now - cut
                        #expect(stepDown <= Self.ttl, "stepping down took \(stepDown)")
                        let published = relays[leader]!.server.cluster.publications.load(ordering: .relaxed)

                        let others = relays.keys.filter { $0 != leader }.sorted()
                        try await eventually("a new leader among \(others): \(Self.describe(relays))") {
                            Self.agreedLeader(relays, among: others).map { $0 != leader } ?? false
                        }
                        let successor = try #require(Self.agreedLeader(relays, among: others))
                        try await eventually("the successor's scores stored in etcd") {
                            (try? await Self.storedScores(etcd, prefix: prefix, via: relays["n1"]!))?.leader == successor
                        }
                        let stored = try #require(try await Self.storedScores(etcd, prefix: prefix, via: relays["n1"]!))
                        #expect(stored.term > oldTerm)
                        // Another TTL: the cut-off node never publishes again (it probes for itself instead).
                        try await Task.sleep(for: Self.ttl)
                        #expect(relays[leader]!.server.cluster.publications.load(ordering: .relaxed) == published)
                        #expect(!relays[leader]!.server.cluster.current.isLeader)
                        #expect(relays[leader]!.server.cluster.etcdErrors.load(ordering: .relaxed) > 0)
                    }
                } catch {
                    // The proxies' logs too: a proxy that does not stop is as much the failure as a node.
                    for (node, proxy) in proxies.sorted(by: { $0.key < $1.key }) {
                        Issue.record("\(node)'s etcd proxy log:\n\(proxy.logTail(40))")
                    }
                    for proxy in proxies.values { _ = try? await proxy.stop() }
                    throw error
                }
                for proxy in proxies.values { try await proxy.stop() }
            }
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func clusterRecoversWhenEtcdComesBack() async throws {
        try await withEtcd { etcd in
            try await withTestServers { servers in
                let live = servers.add(try TestBackend.echo())
                let prefix = Self.uniquePrefix()
                let endpoints = ["n1": etcd.clientURL, "n2": etcd.clientURL, "n3": etcd.clientURL]
                try await Self.withCluster(endpoints: endpoints, prefix: prefix, backends: [live.address]) { relays in
                    try await eventually("one leader for all: \(Self.describe(relays))") { Self.agreedLeader(relays) != nil }
                    let leader = try #require(Self.agreedLeader(relays))
                    try await etcd.kill()
                    let cut = ContinuousClock.now
                    try await eventually("nobody leads: \(Self.describe(relays))") {
                        relays.values.allSatisfy { !$0.server.cluster.current.isLeader }
                    }
                    #expect(ContinuousClock.now - cut <= Self.ttl, "\(leader) took \(ContinuousClock.now - cut)")
                    // Without a leader for a TTL, every node probes for itself (fail open).
                    try await eventually("every node probes: \(Self.describe(relays))") {
                        relays.values.allSatisfy { $0.server.cluster.current.probesLocally }
                    }
                    try await etcd.start()
                    try await eventually("one leader again: \(Self.describe(relays))", within: .seconds(30)) {
                        Self.agreedLeader(relays) != nil
                    }
                    let next = try #require(Self.agreedLeader(relays))
                    let follower = try #require(relays.keys.first { $0 != next })
                    let adopted = relays[follower]!.server.cluster.adoptions.load(ordering: .relaxed)
                    try await eventually("\(follower) adopts again and stops probing") {
                        relays[follower]!.server.cluster.adoptions.load(ordering: .relaxed) > adopted
                            && !relays[follower]!.server.cluster.current.probesLocally
                    }
                }
            }
        }
    }
}

extension Array where Element: Sendable {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}
