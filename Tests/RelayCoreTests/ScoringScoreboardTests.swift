import Synchronization
import Testing
@testable import RelayCore

@Suite struct ScoringScoreboardTests {
    let a = scoringServer(9001), b = scoringServer(9002), c = scoringServer(9003)

    @Test func register_keepsStateOfServersThatStay_dropsRemoved_startsNewOnesUnknown() async {
        let board = Scoreboard(servers: [a, b])
        await board.recordProbe(a, success: true, latency: .milliseconds(100), error: nil)
        await board.recordProbe(b, success: false, latency: nil, error: "connection refused")
        let kept = await board.breakdown(of: a)
        #expect(kept?.measured == true)

        await board.register([c, a, c])
        #expect(await board.registered == [c, a])
        #expect(await board.breakdown(of: a) == kept)
        #expect(await board.breakdown(of: b) == nil)
        #expect(await board.breakdown(of: c)?.measured == false)

        await board.register([c, a, b])
        #expect(await board.breakdown(of: b)?.measured == false)
        #expect(await board.breakdowns().map(\.0) == [c, a, b])
    }

    @Test func probeOrder_isNeverProbedFirst_thenLeastRecentlyProbed() async {
        let board = Scoreboard(servers: [a, b, c])
        #expect(await board.probeOrder(limit: 10) == [a, b, c])
        await board.recordProbe(b, success: true, latency: .milliseconds(5), error: nil)
        #expect(await board.probeOrder(limit: 10) == [a, c, b])
        await board.recordProbe(c, success: false, latency: nil, error: "timed out")
        await board.recordProbe(a, success: true, latency: .milliseconds(5), error: nil)
        #expect(await board.probeOrder(limit: 10) == [b, c, a])
        #expect(await board.probeOrder(limit: 2) == [b, c])
        #expect(await board.probeOrder(limit: 0) == [])
    }

    @Test func latencyEstimate_isPublishedOnEveryUpdate() async {
        let board = Scoreboard(servers: [a, b])
        await board.recordProbe(a, success: true, latency: .milliseconds(20), error: nil)
        #expect(a.latencyEstimateNanos.load(ordering: .relaxed) == 20_000_000)
        await board.recordPassive(a, .firstByte(.milliseconds(300)))
        #expect(a.latencyEstimateNanos.load(ordering: .relaxed) == 300_000_000)
        #expect(b.latencyEstimateNanos.load(ordering: .relaxed) == 0)

        await board.register([b])
        await board.register([a, b])
        #expect(a.latencyEstimateNanos.load(ordering: .relaxed) == 0)
    }

    @Test func hardFailures_yieldOnFall_andOnTrafficRefusal_onlyOnTransitions() async {
        let board = Scoreboard(servers: [a, b])
        var failures = board.hardFailures.makeAsyncIterator()
        for _ in 0..<3 { await board.recordProbe(a, success: false, latency: nil, error: "connection refused") }
        #expect(await failures.next() == a)
        // a is already down: a fourth failure is no news. The next event is b's.
        await board.recordProbe(a, success: false, latency: nil, error: "connection refused")
        await board.recordPassive(b, .connectFailed("connect timed out"))
        #expect(await failures.next() == b)
        #expect(await board.breakdown(of: b)?.downReason == "traffic: connect timed out")
    }

    @Test func passiveSamples_feedTheirOwnAverages() async throws {
        let board = Scoreboard(servers: [a])
        await board.recordPassive(a, .connected(.milliseconds(2)))
        await board.recordPassive(a, .firstByte(.milliseconds(40)))
        let breakdown = try #require(await board.breakdown(of: a))
        #expect(breakdown.connectMs == 2)
        #expect(breakdown.ttfbMs == 40)
        #expect(breakdown.latencyMs == nil)
        #expect(breakdown.successRate == 1)
    }

    @Test func reportsAboutUnregisteredServers_areIgnored() async {
        let board = Scoreboard(servers: [a])
        await board.recordProbe(c, success: true, latency: .milliseconds(10), error: nil)
        await board.recordPassive(c, .connectFailed("connection refused"))
        #expect(await board.breakdown(of: c) == nil)
        #expect(c.latencyEstimateNanos.load(ordering: .relaxed) == 0)
        #expect(await board.breakdowns().count == 1)
    }
}
