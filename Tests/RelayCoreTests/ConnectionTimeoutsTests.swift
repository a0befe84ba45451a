import Testing
import TestSupport
import RelayIO
@testable import RelayCore

/// The timeout decision for one connection, look by look, with a clock given by the test.
@Suite struct ConnectionTimeoutsTests {
    private let ms: UInt64 = 1_000_000

    /// Runs the looks a listener would take, from `firstCheck` on, with `chunks(now)` giving the connection's
    /// counts (up, down) at each look; returns how it ended and when, or nil when it was still open at `until`.
    private func simulate(_ timeouts: ConnectionTimeouts, accepted: UInt64 = 0, until: UInt64,
                          chunks: (UInt64) -> (UInt64, UInt64)) -> (ConnectionEnd, UInt64)? {
        var watch = ConnectionTimeouts.Watch(since: accepted)
        var next = timeouts.firstCheck(accepted: accepted)
        while let now = next, now <= until {
            let (up, down) = chunks(now)
            switch timeouts.check(now: now, accepted: accepted, up: up, down: down, watch: &watch) {
            case let .expire(end): return (end, now)
            case let .checkAgain(at: later):
                #expect(later > now)
                next = later
            case .done: return nil
            }
        }
        return nil
    }

    @Test func idleConnectionExpiresBetweenTheTimeoutAndAQuarterMore_afterItsLastByte() {
        let timeouts = ConnectionTimeouts(idle: .milliseconds(400), firstByte: .zero)
        for lastByte: UInt64 in [0, 1, 99, 100, 101, 250, 333, 1_000] {
            // One chunk each millisecond until the last byte.
            let ended = simulate(timeouts, until: 10_000 * ms) { now in (min(now / ms, lastByte), 0) }
            let (end, at) = try! #require(ended)
            #expect(end == .idle)
            #expect(at >= lastByte * ms + 400 * ms, "closed before the timeout after a last byte at \(lastByte) ms")
            #expect(at <= lastByte * ms + 500 * ms, "closed late after a last byte at \(lastByte) ms")
        }
    }

    @Test func aChunkEveryThirdOfTheTimeoutKeepsItOpen_withFourLooksPerTimeout() {
        let timeouts = ConnectionTimeouts(idle: .milliseconds(900), firstByte: .zero)
        var looks = 0
        let ended = simulate(timeouts, until: 9_000 * ms) { now in
            looks += 1
            return (now / (300 * ms), 0)
        }
        #expect(ended == nil)
        #expect(looks <= 4 * 10 + 1)
    }

    @Test func zeroIdleTimeoutNeverLooks() {
        #expect(ConnectionTimeouts.off.firstCheck(accepted: 0) == nil)
        #expect(!ConnectionTimeouts.off.isEnabled)
        var watch = ConnectionTimeouts.Watch(since: 0)
        #expect(ConnectionTimeouts.off.check(now: 3_600_000 * ms, accepted: 0, up: 0, down: 0, watch: &watch) == .done)
    }

    @Test func silentClientExpiresAtTheFirstByteTimeout_evenWhileTheServerTalks() {
        let timeouts = ConnectionTimeouts(idle: .seconds(600), firstByte: .milliseconds(300))
        #expect(timeouts.firstCheck(accepted: 1_000 * ms) == 1_300 * ms)
        let ended = simulate(timeouts, accepted: 1_000 * ms, until: 10_000 * ms) { now in (0, now / ms) }
        #expect(ended?.0 == .clientTimeout)
        #expect(ended?.1 == 1_300 * ms)
    }

    @Test func clientWhoseBytesWaitUnreadIsNotTimedOut_andIsLookedAtAgainSoon() {
        let timeouts = ConnectionTimeouts(idle: .zero, firstByte: .milliseconds(300))
        var watch = ConnectionTimeouts.Watch(since: 0)
        var asked = 0
        let decision = timeouts.check(now: 300 * ms, accepted: 0, up: 0, down: 0, watch: &watch) {
            asked += 1
            return true
        }
        #expect(decision == .checkAgain(at: 375 * ms))
        #expect(asked == 1)
        // Not asked before the timeout, nor once the client has sent.
        _ = timeouts.check(now: 100 * ms, accepted: 0, up: 0, down: 0, watch: &watch) { asked += 1; return true }
        #expect(timeouts.check(now: 900 * ms, accepted: 0, up: 1, down: 0, watch: &watch) { asked += 1; return true } == .done)
        #expect(asked == 1)
    }

    @Test func clientThatSpokeWithIdleOffIsNoLongerWatched() {
        let timeouts = ConnectionTimeouts(idle: .zero, firstByte: .milliseconds(300))
        var watch = ConnectionTimeouts.Watch(since: 0)
        #expect(timeouts.check(now: 300 * ms, accepted: 0, up: 1, down: 0, watch: &watch) == .done)
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

@Suite struct TimeoutScheduleTests {
    @Test func popsDueEntriesEarliestFirst_andKeepsTheRest() {
        var schedule = TimeoutSchedule()
        var generator = SeededGenerator(seed: 5)
        var entries: [(UInt64, UInt64)] = []
        for id in 0..<500 as Range<UInt64> {
            let due = UInt64.random(in: 0..<10_000, using: &generator)
            entries.append((due, id))
            schedule.schedule(id, at: due)
        }
        let due = schedule.popDue(now: 4_999)
        let expected = entries.filter { $0.0 <= 4_999 }.sorted { $0.0 < $1.0 }.map(\.0)
        #expect(due.count == expected.count)
        let dueTimes = due.map { id in entries.first { $0.1 == id }!.0 }
        #expect(dueTimes == expected)
        #expect(schedule.count == 500 - due.count)
        #expect((schedule.earliest ?? 0) > 4_999)
        #expect(schedule.popDue(now: 4_999).isEmpty)
    }

    @Test func compactKeepsOnlyTheLiveEntries_inOrder() {
        var schedule = TimeoutSchedule()
        for id in 0..<100 as Range<UInt64> { schedule.schedule(id, at: 1_000 - id) }
        schedule.compact([(id: 7, due: 30), (id: 3, due: 10), (id: 9, due: 20)])
        #expect(schedule.count == 3)
        #expect(schedule.popDue(now: .max) == [3, 9, 7])
    }
}

@Suite struct ConnectionTrackerTimeoutTests {
    @Test(.computeBound) func scheduleStaysProportionalToOpenConnections_underChurn() throws {
        let tracker = ConnectionTracker(maxConnections: 0, maxPerIP: 0)
        let peer = try SocketAddress(ip: "127.0.0.1", port: 4000)
        let timeouts = ConnectionTimeouts(idle: .seconds(600), firstByte: .zero)
        let idle = Task<Void, Never> {}
        var now: UInt64 = 1_000_000_000
        var open: [ConnectionTracker.Ticket] = []
        for round in 0..<20 {
            for _ in 0..<1_000 {
                guard case let .success(ticket) = tracker.admit(peer) else { Issue.record("refused"); return }
                tracker.attach(idle, activity: ConnectionActivity(accepted: now, timeouts: timeouts), to: ticket)
                open.append(ticket)
            }
            // All but 10 of each round's connections end; the sweep runs as the clock moves on.
            for ticket in open.suffix(990) { tracker.finish(ticket) }
            open.removeLast(990)
            now += 10_000_000_000
            tracker.sweepTimeouts(now: now)
            #expect(tracker.scheduledTimeoutChecks <= 2 * tracker.active + 1024 + 1_000, "round \(round)")
        }
        #expect(tracker.active == 200)
        // Nothing moved for 600 s: every open connection is closed as idle within a quarter more.
        now += 750_000_000_000
        #expect(tracker.sweepTimeouts(now: now) == 200)
    }
}
