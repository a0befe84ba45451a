import RelayIO
import Testing
import TestSupport
@testable import RelayCore

private let second: UInt64 = 1_000_000_000
private let millisecond: UInt64 = 1_000_000

// `#expect` copies what it evaluates, so calls that mutate the table are made outside it.
@Suite(.computeBound) struct RateLimitTableTests {
    @Test func aFloodingKeyDoesNotSpendAnotherKeysTokens() {
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 5, interval: .seconds(1), burst: 10), maxKeys: 16)
        var flooder = 0
        for _ in 0..<10_000 where table.take(1, now: 0) { flooder += 1 }
        var other = 0
        for _ in 0..<20 where table.take(2, now: 0) { other += 1 }
        #expect(flooder == 10)
        #expect(other == 10)
        // Each gets its own refill: 5 more a second, the flooder's refusals notwithstanding.
        for _ in 0..<1000 { _ = table.take(1, now: second / 2) }
        #expect(table.tokens(of: 2, now: second) == 5)
        // The flooder had 2.5 back at 0.5 s and took 2: the half left and 2.5 more make 3.
        #expect(table.tokens(of: 1, now: second) == 3)
    }

    @Test func trackedKeysStayWithinTheCap_underAMillionDistinctKeys() {
        // A spoofed-source flood: a million addresses, one datagram each, a microsecond apart. The table never
        // holds more than its cap; the key evicted was last seen 65 ms earlier, and its one spent token came
        // back after 20 ms (50 a second), so every eviction let go of a bucket already full again.
        let cap = 65_536
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 50, interval: .seconds(1), burst: 100), maxKeys: cap)
        var largest = 0
        for key in 0..<1_000_000 {
            _ = table.take(key, now: UInt64(key) * 1_000)
            largest = max(largest, table.count)
        }
        #expect(largest == cap)
        #expect(table.count == cap)
        #expect(table.evictedEarly == 0)
        // The newest keys are the ones kept.
        #expect(table.tracks(999_999) && table.tracks(1_000_000 - cap) && !table.tracks(1_000_000 - cap - 1))
    }

    @Test func aFloodingKeyKeepsItsEmptyBucket_whileSpoofedKeysChurnThroughTheTable() {
        // The clock stands still, so no bucket refills: a key that lost its bucket to eviction would get a
        // fresh burst. The flooder sends between every few spoofed keys, stays the most recently used and is
        // never evicted, so it gets its burst once, however many keys pass through a table of 1,024.
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 1, interval: .seconds(1), burst: 10), maxKeys: 1024)
        let flooder = -1
        var flooderAdmitted = 0
        for key in 0..<1_000_000 {
            _ = table.take(key, now: 0)
            if key % 100 == 0, table.take(flooder, now: 0) { flooderAdmitted += 1 }
        }
        #expect(flooderAdmitted == 10)
        #expect(table.tracks(flooder))
        #expect(table.count == 1024)
        // Every spoofed key evicted had used its only token: evicted before its bucket refilled.
        #expect(table.evictedEarly == 1_000_000 + 1 - 1024)
    }

    @Test func theLeastRecentlyUsedKeyIsEvictedFirst() {
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 1, interval: .seconds(1)), maxKeys: 3)
        for key in [1, 2, 3] { _ = table.take(key, now: 0) }
        // A refused attempt counts as use too.
        _ = table.take(1, now: 0)
        _ = table.take(4, now: 0)
        #expect(table.keysOldestFirst == [3, 1, 4])
        _ = table.take(5, now: 0)
        #expect(table.keysOldestFirst == [1, 4, 5])
    }

    @Test func sweepForgetsRefilledBuckets_oldestFirst_andStopsAtOneStillRefilling() {
        let limit = RateLimit(rate: 1, interval: .seconds(1), burst: 2)
        var table = RateLimitTable<Int>(limit: limit, maxKeys: 16)
        _ = table.take(1, now: 0)                 // 1 of 2 left: full at 1 s
        _ = table.take(2, now: 0)
        _ = table.take(2, now: 0)                 // empty: full at 2 s
        _ = table.take(3, now: 100 * millisecond) // full at 1.1 s
        var removed = table.sweep(now: 999 * millisecond)
        #expect(removed == 0)
        // Key 1 is full; key 2 is not, so the sweep stops there, although key 3 behind it is full too.
        removed = table.sweep(now: 1_500 * millisecond)
        #expect(removed == 1)
        #expect(table.keysOldestFirst == [2, 3])
        removed = table.sweep(now: 2 * second)
        #expect(removed == 2)
        #expect(table.count == 0)
        // A forgotten key starts again full.
        #expect(table.tokens(of: 2, now: 2 * second) == 2)
    }

    @Test func sweepStopsAtItsLimit() {
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 1, interval: .seconds(1)), maxKeys: 100)
        for key in 0..<100 { _ = table.take(key, now: 0) }
        let first = table.sweep(now: 10 * second, limit: 30)
        let rest = table.sweep(now: 10 * second)
        #expect(first == 30 && rest == 70)
        #expect(table.count == 0)
    }

    @Test func anEmptiedTableFillsAgainLikeANewOne() {
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 1, interval: .seconds(1)), maxKeys: 2)
        for key in 0..<5 { _ = table.take(key, now: 0) }
        _ = table.sweep(now: 5 * second)
        for key in 10..<13 { _ = table.take(key, now: 5 * second) }
        #expect(table.keysOldestFirst == [11, 12])
    }

    @Test func newLimitKeepsEachKeysTokens() {
        var table = RateLimitTable<Int>(limit: RateLimit(rate: 10, interval: .seconds(1), burst: 10), maxKeys: 4)
        for _ in 0..<4 { _ = table.take(1, now: 0) }
        table.setLimit(RateLimit(rate: 1, interval: .seconds(1), burst: 3), now: 0)
        #expect(table.tokens(of: 1, now: 0) == 3)
        table.setLimit(RateLimit(rate: 1, interval: .seconds(1), burst: 100), now: 0)
        #expect(table.tokens(of: 1, now: 0) == 3)
        #expect(table.tokens(of: 2, now: 0) == 100)
    }

    @Test func ipKeysOfTwoAddressesAreApart() throws {
        var table = RateLimitTable<IPKey>(limit: RateLimit(rate: 1, interval: .seconds(1)), maxKeys: 4)
        let a = try SocketAddress(ip: "127.0.0.2", port: 1000).ipKey
        let samePortElsewhere = try SocketAddress(ip: "127.0.0.2", port: 2000).ipKey
        let b = try SocketAddress(ip: "127.0.0.3", port: 1000).ipKey
        let outcomes = [table.take(a, now: 0), table.take(samePortElsewhere, now: 0), table.take(b, now: 0)]
        #expect(outcomes == [true, false, true])
    }
}
