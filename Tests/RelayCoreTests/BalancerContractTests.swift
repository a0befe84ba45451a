import RelayIO
import Testing
import TestSupport
@testable import RelayCore

/// What every balancer promises, whatever its algorithm.
@Suite(.computeBound) struct BalancerContractTests {
    private static let client = ipKey("192.0.2.10")

    @Test(arguments: BalancerKind.allCases)
    func emptySetGivesNil(kind: BalancerKind) {
        let balancer = makeBalancer(kind)
        #expect(balancer.pick(from: .empty, client: nil, excluding: []) == nil)
        #expect(balancer.pick(from: .empty, client: Self.client, excluding: []) == nil)
    }

    @Test(arguments: BalancerKind.allCases)
    func allExcludedGivesNil(kind: BalancerKind) {
        let servers = makeServers([1, 3, 2])
        let set = ActiveSet(servers: servers, generation: 1)
        let balancer = makeBalancer(kind)
        #expect(balancer.pick(from: set, client: nil, excluding: servers) == nil)
        #expect(balancer.pick(from: set, client: Self.client, excluding: servers.reversed()) == nil)
    }

    @Test(arguments: BalancerKind.allCases)
    func singleServerIsAlwaysPicked(kind: BalancerKind) {
        let set = ActiveSet(servers: makeServers(count: 1), generation: 1)
        let balancer = makeBalancer(kind)
        #expect(balancer.positions(20, from: set) == Array(repeating: 0, count: 20))
        #expect(balancer.positions(20, from: set, client: Self.client) == Array(repeating: 0, count: 20))
    }

    @Test(arguments: BalancerKind.allCases)
    func neverPicksAnExcludedServer(kind: BalancerKind) {
        var generator = SeededGenerator(seed: 21)
        let servers = makeServers((0..<20).map { $0 % 4 + 1 })
        let set = ActiveSet(servers: servers, generation: 1)
        let balancer = makeBalancer(kind)
        let clients = randomIPv4Keys(500, seed: 22)
        for client in clients {
            let excluded = servers.filter { _ in Bool.random(using: &generator) }
            let picked = balancer.pick(from: set, client: Bool.random(using: &generator) ? client : nil,
                                       excluding: excluded)
            if excluded.count == servers.count {
                #expect(picked == nil)
            } else {
                #expect(picked.map { servers.contains($0) && !excluded.contains($0) } == true)
            }
        }
    }

    @Test(arguments: BalancerKind.allCases, [(1_000, 1), (2, 1_000)])
    func copesWithLargeSetsAndLargeWeights(kind: BalancerKind, shape: (servers: Int, weight: Int)) {
        let servers = makeServers(Array(repeating: shape.weight, count: shape.servers))
        for (index, server) in servers.enumerated() {
            server.inFlight.store(index % 7, ordering: .relaxed)
            server.latencyEstimateNanos.store(UInt64(index % 5) * 1_000_000, ordering: .relaxed)
        }
        let set = ActiveSet(servers: servers, generation: 1)
        let excluded = Array(servers.dropLast())
        let balancer = makeBalancer(kind)
        #expect(balancer.pick(from: set, client: nil, excluding: []) != nil)
        #expect(balancer.pick(from: set, client: Self.client, excluding: []) != nil)
        #expect(balancer.pick(from: set, client: Self.client, excluding: excluded) === servers.last)
    }

    @Test(arguments: BalancerKind.allCases)
    func concurrentPicksAcrossSetChangesStayInTheSet(kind: BalancerKind) async {
        let servers = makeServers([1, 2, 3, 1, 2])
        let balancer = makeBalancer(kind)
        let clients = randomIPv4Keys(64, seed: 23)
        let bad = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var bad = 0
                    for round in 0..<50 {
                        // Workers publish sets of their own, with growing generations, while the others pick.
                        let size = 2 + (round + worker) % 4
                        let set = ActiveSet(servers: Array(servers.prefix(size)), generation: UInt64(round * 4 + worker))
                        for pick in 0..<10 {
                            let client = pick % 2 == 0 ? clients[(round + pick) % clients.count] : nil
                            let excluded = pick % 3 == 0 ? [servers[0]] : []
                            guard let server = balancer.pick(from: set, client: client, excluding: excluded),
                                  servers.contains(server), !excluded.contains(server) else {
                                bad += 1
                                continue
                            }
                        }
                    }
                    return bad
                }
            }
            return await group.reduce(0, +)
        }
        #expect(bad == 0)
    }

    @Test func kindsUseTheConfigSpellings() {
        #expect(BalancerKind.allCases.map(\.rawValue)
            == ["round_robin", "weighted", "least_connections", "random", "p2c_ewma", "hash", "least_requests"])
        #expect(makeBalancer(.roundRobin) is RoundRobinBalancer)
        #expect(makeBalancer(.weighted) is SmoothWeightedBalancer)
        #expect(makeBalancer(.leastConnections) is LeastConnectionsBalancer)
        #expect(makeBalancer(.random) is RandomBalancer)
        #expect(makeBalancer(.p2cEWMA) is P2CEWMABalancer)
        #expect(makeBalancer(.hash) is ConsistentHashBalancer)
    }
}
