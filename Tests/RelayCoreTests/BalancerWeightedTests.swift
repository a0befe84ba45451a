import RelayIO
import Testing
@testable import RelayCore

@Suite struct BalancerWeightedTests {
    @Test func followsNginxSmoothSequence() {
        let set = ActiveSet(servers: makeServers([5, 1, 1]), generation: 1)
        let balancer = SmoothWeightedBalancer()
        let period = [0, 0, 1, 0, 2, 0, 0]  // a a b a c a a
        #expect(balancer.positions(14, from: set) == period + period)
    }

    @Test func thousandPicksMatchWeightsExactly() {
        let set = ActiveSet(servers: makeServers([3, 2, 1]), generation: 1)
        let counts = SmoothWeightedBalancer().tally(1_000, from: set)
        // 166 full periods of 6, then a b a c.
        #expect(counts == [500, 333, 167])
    }

    @Test func republishedSetContinuesTheSequence() {
        let servers = makeServers(count: 3)
        let balancer = SmoothWeightedBalancer()
        var picks: [Int] = []
        // A new generation every two picks: restarting the counters would serve a, b, a, b, ... and starve c.
        for generation in 1...15 {
            let set = ActiveSet(servers: servers, generation: UInt64(generation))
            picks += balancer.positions(2, from: set)
        }
        #expect((0..<3).map { server in picks.count { $0 == server } } == [10, 10, 10])
        #expect(zip(picks, picks.dropFirst()).allSatisfy { $0 != $1 })
    }

    @Test func joiningServerDoesNotGiveOthersAnExtraTurn() {
        let servers = makeServers(count: 4)
        let balancer = SmoothWeightedBalancer()
        let before = ActiveSet(servers: Array(servers.prefix(3)), generation: 1)
        #expect(balancer.positions(2, from: before) == [0, 1])
        // c, whose turn it was, goes next; a reset would replay a and b first.
        let after = ActiveSet(servers: servers, generation: 2)
        #expect(balancer.positions(4, from: after) == [2, 3, 0, 1])
    }

    @Test func leavingServerLetsTheRestKeepTheirShares() {
        let servers = makeServers([5, 1, 1])
        let balancer = SmoothWeightedBalancer()
        _ = balancer.positions(3, from: ActiveSet(servers: servers, generation: 1))
        let remaining = ActiveSet(servers: [servers[0], servers[1]], generation: 2)
        let counts = balancer.tally(600, from: remaining)
        #expect(abs(counts[0] - 500) <= 1 && abs(counts[1] - 100) <= 1, "\(counts)")
    }

    @Test func excludedServerSitsOutTheRound() {
        let servers = makeServers([1, 1, 1])
        let set = ActiveSet(servers: servers, generation: 1)
        let balancer = SmoothWeightedBalancer()
        #expect(balancer.positions(4, from: set, excluding: [servers[0]]) == [1, 2, 1, 2])
        #expect(balancer.pick(from: set, client: nil, excluding: servers) == nil)
    }

    @Test func concurrentPicksKeepExactShares() async {
        let set = ActiveSet(servers: makeServers([3, 2, 1]), generation: 1)
        let balancer = SmoothWeightedBalancer()
        let counts = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask { balancer.tally(1_500, from: set) }
            }
            return await group.reduce(into: [0, 0, 0]) { total, part in
                for index in total.indices { total[index] += part[index] }
            }
        }
        // 6,000 picks are 1,000 whole periods whatever the interleaving, since every pick holds the lock.
        #expect(counts == [3_000, 2_000, 1_000])
    }
}
