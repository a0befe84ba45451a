import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct BalancerP2CEWMATests {
    private func set(latencyMillis: [UInt64], inFlight: [Int], weights: [Int]? = nil) -> ActiveSet {
        let servers = makeServers(weights ?? Array(repeating: 1, count: latencyMillis.count))
        for (index, server) in servers.enumerated() {
            server.latencyEstimateNanos.store(latencyMillis[index] * 1_000_000, ordering: .relaxed)
            server.inFlight.store(inFlight[index], ordering: .relaxed)
        }
        return ActiveSet(servers: servers, generation: 1)
    }

    @Test func slowServerOfTwoIsNeverPicked() {
        // Drawing with replacement would pick the slow one whenever both draws hit it: a quarter of the time.
        let set = set(latencyMillis: [300, 1], inFlight: [3, 3])
        let counts = P2CEWMABalancer(seed: 1).tally(10_000, from: set)
        #expect(counts == [0, 10_000])
    }

    @Test func slowServerOfThreeGetsNothingWhileLoadsAreEqual() {
        // The spec bound is under 10%. Exactly: every pair of distinct candidates holds a fast server,
        // which costs less than the slow one at equal load, so the slow one's expected share is 0.
        // With replacement it would be P(both draws slow) = (1/3)² = 1/9 ≈ 11.1%, over the bound.
        let set = set(latencyMillis: [1, 300, 1], inFlight: [2, 2, 2])
        let counts = P2CEWMABalancer(seed: 2).tally(30_000, from: set)
        #expect(counts[1] < 3_000)
        #expect(counts[1] == 0)
        // The fast ones split the rest: each wins its pair with the slow one (1/3) and half of their own (1/6).
        #expect(abs(counts[0] - 15_000) <= 600 && abs(counts[2] - 15_000) <= 600, "\(counts)")
    }

    @Test func fastServerWithHugeLoadLosesToIdleSlowerOne() {
        // 1 ms × 1,001 against 10 ms × 1.
        let set = set(latencyMillis: [1, 10], inFlight: [1_000, 0])
        #expect(P2CEWMABalancer(seed: 3).tally(1_000, from: set) == [0, 1_000])
    }

    @Test func weightDividesTheCost() {
        // 10 ms / 4 = 2.5 beats 5 ms / 1 at equal load.
        let set = set(latencyMillis: [10, 5], inFlight: [0, 0], weights: [4, 1])
        #expect(P2CEWMABalancer(seed: 4).tally(1_000, from: set) == [1_000, 0])
    }

    @Test(arguments: [(0, Set([0])), (1, Set([0, 1])), (4, Set([1]))])
    func unsampledServerIsOptimisticButNotFree(newInFlight: Int, winners: Set<Int>) {
        // The new server is costed at the smallest sample in the set (5 ms, not 0): 5 × 1 beats 5 × 2,
        // 5 × 2 ties with 5 × 2 (either wins), 5 × 5 loses to 5 × 2.
        let set = set(latencyMillis: [0, 5, 50], inFlight: [newInFlight, 1, 0])
        let picks = P2CEWMABalancer(seed: 5).positions(200, from: set, excluding: [set.servers[2]])
        #expect(Set(picks) == winners)
    }

    @Test func withoutAnySampleLoadDecides() {
        let set = set(latencyMillis: [0, 0], inFlight: [7, 6])
        #expect(P2CEWMABalancer(seed: 6).tally(500, from: set) == [0, 500])
    }

    @Test func equalServersShareTheLoad() {
        let set = set(latencyMillis: [2, 2], inFlight: [0, 0])
        let counts = P2CEWMABalancer(seed: 8).tally(10_000, from: set)
        #expect(abs(counts[0] - 5_000) <= 300, "\(counts)")
    }

    @Test func loneEligibleServerIsPickedWhateverItCosts() {
        let set = set(latencyMillis: [1, 900], inFlight: [0, 50])
        #expect(P2CEWMABalancer(seed: 9).tally(100, from: set, excluding: [set.servers[0]]) == [0, 100])
        #expect(P2CEWMABalancer(seed: 9).pick(from: set, client: nil, excluding: set.servers) == nil)
    }
}
