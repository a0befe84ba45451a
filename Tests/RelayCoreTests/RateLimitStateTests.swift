import RelayIO
import Testing
@testable import RelayCore

private let second: UInt64 = 1_000_000_000

private func ip(_ text: String) -> IPKey {
    try! SocketAddress(ip: text, port: 0).ipKey
}

// `#expect` copies what it evaluates, so calls that mutate the state are made outside it.
@Suite struct RateLimitStateTests {
    @Test func withoutRulesEverythingPassesAndNothingIsTracked() {
        var state = RateLimitState(now: 0)
        let decisions = (0..<1000).map { _ in state.admitNew(ip("127.0.0.2"), now: 0) }
            + (0..<1000).map { _ in state.admitPacket(ip("127.0.0.2"), now: 0) }
        #expect(decisions.allSatisfy { $0 == .allowed })
        #expect(RateLimitScope.allCases.allSatisfy { state.trackedAddresses($0) == 0 && state.limitedCount($0) == 0 })
    }

    @Test func aClientOverItsOwnLimitSpendsNothingOfTheTotal() {
        let config = RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1)),
                                     total: RateLimit(rate: 10, interval: .seconds(1), burst: 3))
        var state = RateLimitState(config: config, now: 0)
        let flood = (0..<100).map { _ in state.admitNew(ip("127.0.0.2"), now: 0) }
        #expect(flood.first == .allowed)
        #expect(flood.dropFirst().allSatisfy { $0 == .limited(.perIP) })
        // One token of the three went to the flooder; the other two are there for the others.
        #expect(state.tokens(.total, of: ip("127.0.0.2"), now: 0) == 2)
        let others = [state.admitNew(ip("127.0.0.3"), now: 0), state.admitNew(ip("127.0.0.4"), now: 0),
                      state.admitNew(ip("127.0.0.5"), now: 0)]
        #expect(others == [.allowed, .allowed, .limited(.total)])
        // Refused by the total, the fifth address keeps its own token for when the total has room again.
        #expect(state.tokens(.perIP, of: ip("127.0.0.5"), now: 0) == 1)
        #expect(state.limitedCount(.perIP) == 99 && state.limitedCount(.total) == 1)
    }

    @Test func theTotalCapsManyAddressesTogether_andRefillsAtItsRate() {
        let config = RateLimitConfig(total: RateLimit(rate: 10, interval: .seconds(1), burst: 20))
        var state = RateLimitState(config: config, now: 0)
        var admitted = 0
        for client in 0..<1000 where state.admitNew(ip("10.0.\(client / 256).\(client % 256)"), now: 0) == .allowed {
            admitted += 1
        }
        #expect(admitted == 20)
        #expect(state.trackedAddresses(.perIP) == 0)
        #expect(state.admitNew(ip("10.9.9.9"), now: second / 10) == .allowed)
        #expect(state.admitNew(ip("10.9.9.9"), now: second / 10) == .limited(.total))
    }

    @Test func datagramsAreLimitedApartFromNewTraffic() {
        let config = RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1)),
                                     packetsPerIP: RateLimit(rate: 100, interval: .seconds(1), burst: 5))
        var state = RateLimitState(config: config, now: 0)
        let packets = (0..<10).map { _ in state.admitPacket(ip("127.0.0.2"), now: 0) }
        #expect(packets == Array(repeating: .allowed, count: 5) + Array(repeating: .limited(.packetsPerIP), count: 5))
        #expect(state.admitNew(ip("127.0.0.2"), now: 0) == .allowed)
        #expect(state.admitPacket(ip("127.0.0.3"), now: 0) == .allowed)
        #expect(state.trackedAddresses(.packetsPerIP) == 2 && state.trackedAddresses(.perIP) == 1)
        #expect(state.limitedCount(.packetsPerIP) == 5)
    }

    @Test func newRulesKeepTokens_dropRemovedScopes_andStartNewOnesFull() {
        var state = RateLimitState(config: RateLimitConfig(perIP: RateLimit(rate: 10, interval: .seconds(1))), now: 0)
        for _ in 0..<8 { _ = state.admitNew(ip("127.0.0.2"), now: 0) }
        state.apply(RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1), burst: 5),
                                    total: RateLimit(rate: 1, interval: .seconds(1), burst: 4)), now: 0)
        #expect(state.tokens(.perIP, of: ip("127.0.0.2"), now: 0) == 2)
        #expect(state.tokens(.total, of: ip("127.0.0.2"), now: 0) == 4)
        state.apply(RateLimitConfig(total: RateLimit(rate: 1, interval: .seconds(1), burst: 4)), now: 0)
        #expect(state.trackedAddresses(.perIP) == 0)
        #expect(state.tokens(.perIP, of: ip("127.0.0.2"), now: 0) == nil)
        let decisions = (0..<5).map { _ in state.admitNew(ip("127.0.0.2"), now: 0) }
        #expect(decisions == Array(repeating: .allowed, count: 4) + [.limited(.total)])
    }

    @Test func sweepForgetsIdleClientsOfEveryScope() {
        let config = RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1)),
                                     packetsPerIP: RateLimit(rate: 1, interval: .seconds(1)))
        var state = RateLimitState(config: config, maxTrackedAddresses: 8, now: 0)
        for client in 2..<6 {
            _ = state.admitNew(ip("127.0.0.\(client)"), now: 0)
            _ = state.admitPacket(ip("127.0.0.\(client)"), now: 0)
        }
        #expect(state.trackedAddresses(.perIP) == 4 && state.trackedAddresses(.packetsPerIP) == 4)
        let early = state.sweep(now: second - 1)
        let removed = state.sweep(now: second)
        #expect(early == 0 && removed == 8)
        #expect(state.trackedAddresses(.perIP) == 0 && state.trackedAddresses(.packetsPerIP) == 0)
    }
}

@Suite struct RateLimiterTests {
    @Test func batchOfDatagramsLosesExactlyThoseOverTheLimit() async throws {
        let limiter = RateLimiter(config: RateLimitConfig(packetsPerIP: RateLimit(rate: 1, interval: .seconds(1),
                                                                                  burst: 3)), now: 0)
        let batch = DatagramBatch(capacity: 8, slotSize: 16)
        let flooder = try SocketAddress(ip: "127.0.0.2", port: 4000)
        let quiet = try SocketAddress(ip: "127.0.0.3", port: 4000)
        for index in 0..<8 {
            let peer = index == 4 ? quiet : flooder
            _ = [UInt8(index)].withUnsafeBytes { batch.append($0, to: peer) }
        }
        let dropped = limiter.admitPackets(in: batch, now: 0)
        #expect(dropped == 4)
        #expect((0..<batch.count).map { batch[$0].bytes.first } == [0, 1, 2, 4])
        #expect(limiter.limited(.packetsPerIP) == 4)
        #expect(limiter.trackedAddresses(.packetsPerIP) == 2)
    }

    @Test func withoutAPacketLimitTheBatchIsLeftAlone() async throws {
        let limiter = RateLimiter(config: RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1))), now: 0)
        let batch = DatagramBatch(capacity: 4, slotSize: 16)
        for _ in 0..<4 {
            _ = [UInt8(1)].withUnsafeBytes { batch.append($0, to: try! SocketAddress(ip: "127.0.0.2", port: 1)) }
        }
        #expect(limiter.admitPackets(in: batch, now: 0) == 0)
        #expect(batch.count == 4)
        #expect(!limiter.limitsPackets)
        #expect(limiter.trackedAddresses(.packetsPerIP) == 0)
    }

    @Test func updateAppliesToTheNextAdmission() async throws {
        let limiter = RateLimiter(now: 0)
        let client = try SocketAddress(ip: "127.0.0.2", port: 1).ipKey
        #expect(limiter.admitNew(ip: client, now: 0) == .allowed)
        await limiter.update(RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1))), now: 0)
        #expect(limiter.admitNew(ip: client, now: 0) == .allowed)
        #expect(limiter.admitNew(ip: client, now: 0) == .limited(.perIP))
        await limiter.update(.none, now: 0)
        #expect(limiter.admitNew(ip: client, now: 0) == .allowed)
        #expect(limiter.limited(.perIP) == 1)
    }

    @Test func sweepWorksThroughAFloodsWorthOfIdleBucketsInChunks() async throws {
        let limiter = RateLimiter(config: RateLimitConfig(perIP: RateLimit(rate: 1, interval: .seconds(1))), now: 0)
        for client in 0..<10_000 {
            _ = limiter.admitNew(ip: ip("10.0.\(client / 256).\(client % 256)"), now: 0)
        }
        #expect(limiter.trackedAddresses(.perIP) == 10_000)
        #expect(await limiter.sweep(now: second) == 10_000)
        #expect(limiter.trackedAddresses(.perIP) == 0)
    }
}
