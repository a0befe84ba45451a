import Testing
@testable import RelayCore

@Suite struct EventThrottleTests {
    private let second: UInt64 = 1_000_000_000

    @Test func letsTheLimitThroughPerWindowAndCountsTheRest() {
        var throttle = EventThrottleState(limit: 3, window: .seconds(1))
        let decisions = (0..<10).map { throttle.event(now: 5 * second + UInt64($0)) }
        #expect(decisions.prefix(3).allSatisfy { $0 == .emit(suppressedBefore: 0) })
        #expect(decisions.dropFirst(3).allSatisfy { $0 == .suppress })
        #expect(throttle.suppressed == 7)
    }

    @Test func firstEventOfTheNextWindowCarriesTheSuppressedCount() {
        var throttle = EventThrottleState(limit: 1, window: .seconds(1))
        #expect(throttle.event(now: 0) == .emit(suppressedBefore: 0))
        #expect(throttle.event(now: 10) == .suppress)
        #expect(throttle.event(now: second - 1) == .suppress)
        #expect(throttle.event(now: second) == .emit(suppressedBefore: 2))
        #expect(throttle.event(now: second + 1) == .suppress)
    }

    @Test func flushReportsOnlyAfterTheWindowEnds_andOnce() {
        var throttle = EventThrottleState(limit: 1, window: .seconds(1))
        _ = throttle.event(now: 0)
        _ = throttle.event(now: 1)
        _ = throttle.event(now: 2)
        #expect(throttle.flush(now: second / 2) == 0)
        #expect(throttle.flush(now: second) == 2)
        #expect(throttle.flush(now: 2 * second) == 0)
        #expect(throttle.event(now: 2 * second) == .emit(suppressedBefore: 0))
    }
}
