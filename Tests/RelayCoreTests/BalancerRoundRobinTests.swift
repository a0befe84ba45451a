import RelayIO
import Testing
@testable import RelayCore

@Suite struct BalancerRoundRobinTests {
    @Test func cyclesThroughTheSetInOrder() {
        let set = ActiveSet(servers: makeServers(count: 3), generation: 1)
        let balancer = RoundRobinBalancer()
        #expect(balancer.positions(9, from: set) == [0, 1, 2, 0, 1, 2, 0, 1, 2])
    }

    @Test func excludedServerPassesItsTurnToTheNext() {
        let servers = makeServers(count: 3)
        let set = ActiveSet(servers: servers, generation: 1)
        let balancer = RoundRobinBalancer()
        #expect(balancer.positions(6, from: set, excluding: [servers[1]]) == [0, 2, 2, 0, 2, 2])
        #expect(balancer.positions(3, from: set, excluding: [servers[0], servers[2]]) == [1, 1, 1])
    }

    @Test func concurrentPicksShareExactly() async {
        let set = ActiveSet(servers: makeServers(count: 3), generation: 1)
        let balancer = RoundRobinBalancer()
        let counts = await withTaskGroup(of: [Int].self) { group in
            for _ in 0..<4 {
                group.addTask { balancer.tally(3_000, from: set) }
            }
            return await group.reduce(into: [0, 0, 0]) { total, part in
                for index in total.indices { total[index] += part[index] }
            }
        }
        #expect(counts == [4_000, 4_000, 4_000])
    }
}
