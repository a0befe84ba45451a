import RelayIO
import Testing
@testable import RelayCore

@Suite struct BalancerLeastRequestsTests {
    private func set(_ weights: [Int], inFlight: [Int]) -> ActiveSet {
        activeSet(weights, inFlight: inFlight)
    }

    /// With two servers both are always drawn, so the less loaded always wins.
    @Test func ofTwoTheOneWithFewerRequestsWins() {
        let set = set([1, 1], inFlight: [4, 1])
        #expect(LeastRequestsBalancer(seed: 7).tally(200, from: set) == [0, 200])
    }

    /// Load is compared per unit of weight: 5 in flight on weight 3 (1.67) beats 2 on weight 1.
    @Test func loadIsPerUnitOfWeight() {
        let set = set([3, 1], inFlight: [5, 2])
        #expect(LeastRequestsBalancer(seed: 7).tally(100, from: set) == [100, 0])
    }

    /// The most loaded of several servers is never picked (it loses every draw it is in), and the rest share.
    @Test func theMostLoadedOfManyGetsNothing() {
        let set = set([1, 1, 1, 1], inFlight: [0, 0, 0, 9])
        let tally = LeastRequestsBalancer(seed: 11).tally(3000, from: set)
        #expect(tally[3] == 0)
        #expect(tally[0..<3].allSatisfy { $0 > 800 }, "\(tally)")
    }

    @Test func excludedServersAreSkipped() {
        let set = set([1, 1, 1], inFlight: [0, 5, 5])
        let picks = (0..<50).compactMap { _ in
            LeastRequestsBalancer(seed: 3).pick(from: set, client: nil, excluding: [set.servers[0]])
        }
        #expect(picks.allSatisfy { $0 !== set.servers[0] })
        #expect(LeastRequestsBalancer().pick(from: set, client: nil, excluding: set.servers) == nil)
    }
}
