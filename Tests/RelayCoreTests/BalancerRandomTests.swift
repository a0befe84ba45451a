import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct BalancerRandomTests {
    @Test func equalWeightsSpreadEvenly() {
        let set = ActiveSet(servers: makeServers(count: 3), generation: 1)
        let counts = RandomBalancer(seed: 42).tally(60_000, from: set)
        // ±3% of 20,000 is more than five standard deviations (σ ≈ 115).
        #expect(counts.allSatisfy { abs($0 - 20_000) <= 600 }, "\(counts)")
    }

    @Test func weightsSetTheShares() {
        let set = ActiveSet(servers: makeServers([3, 1, 2]), generation: 1)
        let counts = RandomBalancer(seed: 7).tally(60_000, from: set)
        let expected = [30_000, 10_000, 20_000]
        #expect(zip(counts, expected).allSatisfy { abs($0 - $1) <= 600 }, "\(counts)")
    }

    @Test func excludedServerIsNeverDrawn() {
        let servers = makeServers(count: 3)
        let set = ActiveSet(servers: servers, generation: 1)
        let counts = RandomBalancer(seed: 3).tally(10_000, from: set, excluding: [servers[1]])
        #expect(counts[1] == 0)
        #expect(abs(counts[0] - 5_000) <= 300 && abs(counts[2] - 5_000) <= 300, "\(counts)")
    }

    @Test func unseededBalancersDrawDifferentSequences() {
        let set = ActiveSet(servers: makeServers(count: 10), generation: 1)
        #expect(RandomBalancer().positions(64, from: set) != RandomBalancer().positions(64, from: set))
    }

    @Test func generatorMatchesSplitMix64ReferenceAndStaysInRange() {
        let generator = SplitMix64(seed: 0)
        #expect(generator.next() == 0xE220_A839_7B1D_CDAF)
        #expect(generator.next() == 0x6E78_9E6A_A1B9_65F4)
        #expect((0..<1_000).allSatisfy { _ in generator.next(below: 1) == 0 })
        #expect((0..<10_000).allSatisfy { _ in generator.next(below: 3) < 3 })
        let bound = UInt64.max / 3 * 2  // rejection zone of about a third: exercises the retry loop
        #expect((0..<10_000).allSatisfy { _ in generator.next(below: bound) < bound })
    }
}
