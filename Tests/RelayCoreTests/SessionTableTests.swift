import Synchronization
import Testing
@testable import RelayCore

/// A session whose last activity the test sets by hand.
private final class FakeSession: Sendable {
    let lastActivity: Atomic<UInt64>
    init(lastActivity: UInt64 = 0) { self.lastActivity = Atomic(lastActivity) }
    var last: UInt64 { lastActivity.load(ordering: .relaxed) }
}

private let second: UInt64 = 1_000_000_000

// `#expect` copies what it evaluates, so calls that mutate the table are made outside it.
@Suite struct SessionTableTests {
    @Test func admitsUpToTheLimitAndCountsTheRefused() {
        var table = SessionTable<FakeSession>(limit: 2)
        let sessions = (0..<4).map { _ in FakeSession() }
        let admitted = sessions.map { table.admit($0) }
        #expect(admitted == [true, true, false, false])
        #expect(table.count == 2)
        #expect(table.admitted == 2)
        #expect(table.refused == 2)
        #expect(table.contains(sessions[0]) && !table.contains(sessions[2]))
    }

    @Test func removingASessionMakesRoomForANewOne() {
        var table = SessionTable<FakeSession>(limit: 1)
        let first = FakeSession()
        let second = FakeSession()
        let outcomes = [table.admit(first), table.admit(second), table.remove(first), table.remove(first),
                        table.admit(second)]
        // Admitted, refused, removed, not found the second time, admitted in the room made.
        #expect(outcomes == [true, false, true, false, true])
        #expect(table.count == 1)
    }

    @Test func admittingAnOpenSessionAgainIsANoOp() {
        var table = SessionTable<FakeSession>(limit: 1)
        let session = FakeSession()
        let outcomes = [table.admit(session), table.admit(session)]
        #expect(outcomes == [true, true])
        #expect(table.count == 1 && table.admitted == 1 && table.refused == 0)
    }

    @Test func expiresOnlySessionsIdleForTheWholeTimeout() {
        var table = SessionTable<FakeSession>(limit: 10)
        let stale = FakeSession(lastActivity: 10 * second)
        let borderline = FakeSession(lastActivity: 15 * second)
        let fresh = FakeSession(lastActivity: 19 * second)
        for session in [stale, borderline, fresh] { _ = table.admit(session) }
        let expired = table.expire(now: 20 * second, idleFor: 5 * second) { $0.last }
        #expect(Set(expired.map(ObjectIdentifier.init)) == [ObjectIdentifier(stale), ObjectIdentifier(borderline)])
        #expect(table.all.map(ObjectIdentifier.init) == [ObjectIdentifier(fresh)])
        #expect(table.expired == 2)
        let again = table.expire(now: 20 * second, idleFor: 5 * second) { $0.last }
        #expect(again.isEmpty)
    }

    @Test func activityAfterNowIsNotIdle() {
        var table = SessionTable<FakeSession>(limit: 10)
        // Touched by a loop after the expiry check read the clock: an unsigned `now - last` would wrap.
        _ = table.admit(FakeSession(lastActivity: 20 * second + 1))
        let expired = table.expire(now: 20 * second, idleFor: 5 * second) { $0.last }
        #expect(expired.isEmpty)
        #expect(table.count == 1)
    }

    @Test func idleForZeroExpiresEverySession() {
        var table = SessionTable<FakeSession>(limit: 10)
        for last in [0, 5 * second, 30 * second] { _ = table.admit(FakeSession(lastActivity: last)) }
        let expired = table.expire(now: 10 * second, idleFor: 0) { $0.last }
        #expect(expired.count == 3)
        #expect(table.count == 0 && table.expired == 3)
    }

    @Test func removeAllEmptiesTheTableWithoutCountingExpiry() {
        var table = SessionTable<FakeSession>(limit: 2)
        let before = [table.admit(FakeSession()), table.admit(FakeSession()), table.admit(FakeSession())]
        #expect(before == [true, true, false])
        let removed = table.removeAll()
        #expect(removed.count == 2)
        #expect(table.count == 0 && table.expired == 0)
        // The room is back at once: what a restarted listener's clients need.
        let after = [table.admit(FakeSession()), table.admit(FakeSession())]
        #expect(after == [true, true])
    }

    @Test func aLowerLimitClosesNothingButRefusesUntilBelowIt() {
        var table = SessionTable<FakeSession>(limit: 3)
        let sessions = (0..<3).map { _ in FakeSession() }
        for session in sessions { _ = table.admit(session) }
        table.setLimit(1)
        #expect(table.count == 3)
        let overLimit = table.admit(FakeSession())
        table.remove(sessions[0])
        table.remove(sessions[1])
        let atLimit = table.admit(FakeSession())
        table.remove(sessions[2])
        let belowLimit = table.admit(FakeSession())
        #expect([overLimit, atLimit, belowLimit] == [false, false, true])
        #expect(table.limit == 1)
    }
}
