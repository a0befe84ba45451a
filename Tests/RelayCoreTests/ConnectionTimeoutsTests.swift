import Testing
@testable import RelayCore

/// The sweep's decision for one connection, pass by pass, with a clock given by the test.
@Suite struct ConnectionTimeoutsTests {
    private let ms: UInt64 = 1_000_000

    @Test func idleConnectionExpiresOnceItsCountsStoodStillForTheTimeout() {
        let timeouts = ConnectionTimeouts(idle: .milliseconds(400), firstByte: .zero)
        var watch = ConnectionTimeouts.Watch(since: 0)
        // Traffic until 100 ms, then nothing.
        #expect(timeouts.check(now: 100 * ms, accepted: 0, up: 2, down: 1, watch: &watch) == nil)
        #expect(watch == ConnectionTimeouts.Watch(chunks: 3, since: 100 * ms))
        #expect(timeouts.check(now: 300 * ms, accepted: 0, up: 2, down: 1, watch: &watch) == nil)
        #expect(timeouts.check(now: 499 * ms, accepted: 0, up: 2, down: 1, watch: &watch) == nil)
        #expect(timeouts.check(now: 500 * ms, accepted: 0, up: 2, down: 1, watch: &watch) == .idle)
    }

    @Test func anyChunkEitherWayRestartsTheIdleClock() {
        let timeouts = ConnectionTimeouts(idle: .milliseconds(400), firstByte: .zero)
        var watch = ConnectionTimeouts.Watch(since: 0)
        var down: UInt64 = 0
        // A chunk from the server every 300 ms for 3 s: never idle for 400 ms.
        for step in 1...10 {
            down += 1
            #expect(timeouts.check(now: UInt64(step) * 300 * ms, accepted: 0, up: 0, down: down, watch: &watch) == nil)
        }
    }

    @Test func zeroIdleTimeoutNeverExpires() {
        var watch = ConnectionTimeouts.Watch(since: 0)
        let hour: UInt64 = 3_600_000 * ms
        #expect(ConnectionTimeouts.off.check(now: 100 * hour, accepted: 0, up: 0, down: 0, watch: &watch) == nil)
        #expect(!ConnectionTimeouts.off.isEnabled)
    }

    @Test func silentClientExpiresAfterFirstByteTimeout_evenWhileTheServerTalks() {
        let timeouts = ConnectionTimeouts(idle: .seconds(600), firstByte: .milliseconds(300))
        var watch = ConnectionTimeouts.Watch(since: 1000 * ms)
        #expect(timeouts.check(now: 1200 * ms, accepted: 1000 * ms, up: 0, down: 5, watch: &watch) == nil)
        #expect(timeouts.check(now: 1300 * ms, accepted: 1000 * ms, up: 0, down: 6, watch: &watch) == .clientTimeout)
    }

    @Test func clientWhoseBytesWaitUnreadIsNotTimedOut() {
        let timeouts = ConnectionTimeouts(idle: .zero, firstByte: .milliseconds(300))
        var watch = ConnectionTimeouts.Watch(since: 0)
        var asked = 0
        let verdict = timeouts.check(now: 400 * ms, accepted: 0, up: 0, down: 0, watch: &watch) {
            asked += 1
            return true
        }
        #expect(verdict == nil)
        #expect(asked == 1)
        // Not asked before the timeout could pass, nor once the client has sent.
        _ = timeouts.check(now: 100 * ms, accepted: 0, up: 0, down: 0, watch: &watch) { asked += 1; return true }
        _ = timeouts.check(now: 900 * ms, accepted: 0, up: 1, down: 0, watch: &watch) { asked += 1; return true }
        #expect(asked == 1)
    }

    @Test func clientThatSentOnceIsNeverAFirstByteTimeout() {
        let timeouts = ConnectionTimeouts(idle: .zero, firstByte: .milliseconds(300))
        var watch = ConnectionTimeouts.Watch(since: 0)
        #expect(timeouts.check(now: 10_000 * ms, accepted: 0, up: 1, down: 0, watch: &watch) == nil)
    }

    @Test func sweepPeriodIsAQuarterOfTheShortestTimeout_between50msAnd1s() {
        #expect(ConnectionTimeouts(idle: .seconds(600), firstByte: .zero).sweepPeriod == .seconds(1))
        #expect(ConnectionTimeouts(idle: .seconds(600), firstByte: .seconds(2)).sweepPeriod == .milliseconds(500))
        #expect(ConnectionTimeouts(idle: .milliseconds(100), firstByte: .zero).sweepPeriod == .milliseconds(50))
        #expect(ConnectionTimeouts.off.sweepPeriod == .seconds(1))
    }

    @Test func endingCodesFollowTheCaseOrder() {
        for (index, end) in ConnectionEnd.allCases.enumerated() {
            #expect(Int(end.code) == index + 1)
        }
    }
}
