import RelayIO
import Testing
@testable import RelayCore

@Suite struct BalancerLeastConnectionsTests {
    private func set(_ weights: [Int], inFlight: [Int]) -> ActiveSet {
        activeSet(weights, inFlight: inFlight)
    }

    @Test func picksTheServerWithFewestConnections() {
        let set = set([1, 1, 1], inFlight: [5, 2, 7])
        #expect(LeastConnectionsBalancer().positions(5, from: set) == [1, 1, 1, 1, 1])
    }

    @Test func rotatesAmongTiedServersOnly() {
        let set = set([1, 1, 1], inFlight: [0, 0, 5])
        #expect(LeastConnectionsBalancer().positions(6, from: set) == [0, 1, 0, 1, 0, 1])
    }

    @Test func equalServersShareLoadExactly() {
        let set = set([1, 1, 1, 1], inFlight: [3, 3, 3, 3])
        #expect(LeastConnectionsBalancer().tally(400, from: set) == [100, 100, 100, 100])
    }

    @Test(arguments: [(5, 0), (6, 1), (7, 1)])
    func dividesConnectionsByWeight(heavyInFlight: Int, expected: Int) {
        // Weight 3 with 5 in flight (1.67) beats weight 1 with 2 (2); 6 ties (2 = 2) and the tie rotates,
        // so check the second pick; 7 (2.33) loses.
        let set = set([3, 1], inFlight: [heavyInFlight, 2])
        let picks = LeastConnectionsBalancer().positions(2, from: set)
        #expect(picks[1] == expected, "\(picks)")
    }

    @Test func connectionsSettleInProportionToWeight() {
        let set = set([2, 1, 1], inFlight: [0, 0, 0])
        let balancer = LeastConnectionsBalancer()
        for _ in 0..<400 {
            balancer.pick(from: set, client: nil, excluding: [])?.inFlight.add(1, ordering: .relaxed)
        }
        #expect(set.servers.map { $0.inFlight.load(ordering: .relaxed) } == [200, 100, 100])
    }

    @Test func excludedLeastLoadedGivesTheNextLeast() {
        let set = set([1, 1, 1], inFlight: [1, 4, 2])
        let balancer = LeastConnectionsBalancer()
        #expect(balancer.positions(3, from: set, excluding: [set.servers[0]]) == [2, 2, 2])
        #expect(balancer.pick(from: set, client: nil, excluding: set.servers) == nil)
    }
}
