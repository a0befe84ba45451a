import Testing
@testable import RelayCore

private let second: UInt64 = 1_000_000_000

// `#expect` copies what it evaluates, so calls that mutate a bucket are made outside it.
@Suite struct RateLimitBucketTests {
    @Test func fullBucketAdmitsItsBurstInARowThenRefuses() {
        let limit = RateLimit(rate: 50, interval: .seconds(1), burst: 100)
        var bucket = TokenBucket(full: limit, now: 0)
        var admitted = 0
        for _ in 0..<150 where bucket.take(limit, now: 0) { admitted += 1 }
        #expect(admitted == 100)
        #expect(bucket.tokens(limit, now: 0) == 0)
    }

    @Test func burstDefaultsToRate() {
        #expect(RateLimit(rate: 7, interval: .seconds(1)).burst == 7)
    }

    @Test func refillIsExactForARateThatDoesNotDivideTheInterval() {
        // 3 a second: a token every 333,333,333.33 ns. Exact credit gives the third token at 1 s sharp, where
        // a per-token period rounded to whole nanoseconds would drift by a nanosecond every three tokens.
        let limit = RateLimit(rate: 3, interval: .seconds(1), burst: 3)
        var bucket = TokenBucket(full: limit, now: 0)
        for _ in 0..<3 { _ = bucket.take(limit, now: 0) }
        #expect(bucket.tokens(limit, now: 333_333_333) == 0)
        #expect(bucket.tokens(limit, now: 333_333_334) == 1)
        #expect(bucket.tokens(limit, now: 999_999_999) == 2)
        #expect(bucket.tokens(limit, now: second) == 3)
    }

    @Test func manySmallRefillsAddUpToExactlyRateTimesElapsed() {
        // Taking every token as soon as it exists, over uneven steps, takes exactly floor(3 × t / 1 s) by any t:
        // no fraction of a token is lost between refills.
        let limit = RateLimit(rate: 3, interval: .seconds(1), burst: 3)
        var bucket = TokenBucket(full: limit, now: 0)
        for _ in 0..<3 { _ = bucket.take(limit, now: 0) }
        var taken: UInt64 = 0
        var now: UInt64 = 0
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        for _ in 0..<20_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            now += 1 + (state >> 33) % 9_000_000
            while bucket.take(limit, now: now) { taken += 1 }
            #expect(taken == 3 * now / second)
        }
        #expect(now > 60 * second)
    }

    @Test func neverHoldsMoreThanItsBurst_evenAfterHoursIdle() {
        let limit = RateLimit(rate: 50, interval: .seconds(1), burst: 100)
        var bucket = TokenBucket(full: limit, now: 0)
        for _ in 0..<100 { _ = bucket.take(limit, now: 0) }
        #expect(bucket.tokens(limit, now: 10 * 3600 * second) == 100)
        #expect(bucket.isFull(limit, now: 2 * second))
        #expect(!bucket.isFull(limit, now: 2 * second - 1))
    }

    @Test func largestRuleAndLongestIdleDoNotOverflow() {
        let limit = RateLimit(rate: RateLimit.maxRate, interval: RateLimit.maxInterval, burst: RateLimit.maxBurst)
        var bucket = TokenBucket(full: limit, now: 0)
        for _ in 0..<1000 { _ = bucket.take(limit, now: 0) }
        #expect(bucket.tokens(limit, now: UInt64.max / 2) == RateLimit.maxBurst)
        #expect(bucket.tokens(limit, now: UInt64.max) == RateLimit.maxBurst)
    }

    @Test func aClockReadingBeforeTheLastUpdateAddsNothing() {
        let limit = RateLimit(rate: 1, interval: .seconds(1), burst: 1)
        var bucket = TokenBucket(full: limit, now: 10 * second)
        let first = bucket.take(limit, now: 10 * second)
        // Another thread read the clock earlier but took the lock later.
        let early = bucket.take(limit, now: 9 * second)
        #expect(first && !early)
        #expect(bucket.updated == 10 * second)
        #expect(bucket.tokens(limit, now: 11 * second - 1) == 0)
        #expect(bucket.tokens(limit, now: 11 * second) == 1)
    }

    @Test func refundGivesBackOneTokenUpToTheBurst() {
        let limit = RateLimit(rate: 1, interval: .seconds(1), burst: 2)
        var bucket = TokenBucket(full: limit, now: 0)
        _ = bucket.take(limit, now: 0)
        bucket.refund(limit)
        bucket.refund(limit)
        #expect(bucket.tokens(limit, now: 0) == 2)
    }

    @Test func rescaleKeepsTheTokensUpToTheNewBurst() {
        let old = RateLimit(rate: 50, interval: .seconds(1), burst: 100)
        var bucket = TokenBucket(full: old, now: 0)
        for _ in 0..<60 { _ = bucket.take(old, now: 0) }
        var smaller = bucket
        smaller.rescale(from: old, to: RateLimit(rate: 10, interval: .milliseconds(100), burst: 20), now: 0)
        #expect(smaller.tokens(RateLimit(rate: 10, interval: .milliseconds(100), burst: 20), now: 0) == 20)
        let slower = RateLimit(rate: 5, interval: .seconds(10), burst: 1000)
        bucket.rescale(from: old, to: slower, now: 0)
        #expect(bucket.tokens(slower, now: 0) == 40)
        // 5 per 10 s: the next token after 2 s.
        #expect(bucket.tokens(slower, now: 2 * second - 1) == 40)
        #expect(bucket.tokens(slower, now: 2 * second) == 41)
    }

    @Test func aFractionOfATokenSurvivesARescale() {
        // Half a token earned under 50/s is still half a token under 100 per 2 s (the same rate).
        let old = RateLimit(rate: 50, interval: .seconds(1), burst: 1)
        var bucket = TokenBucket(full: old, now: 0)
        _ = bucket.take(old, now: 0)
        let new = RateLimit(rate: 100, interval: .seconds(2), burst: 1)
        bucket.rescale(from: old, to: new, now: 10_000_000)
        #expect(bucket.tokens(new, now: 20_000_000 - 1) == 0)
        #expect(bucket.tokens(new, now: 20_000_000) == 1)
    }
}
