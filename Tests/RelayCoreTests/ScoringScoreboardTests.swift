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

    /// Summed where traffic runs, a batch moves each average as the same samples one by one would, when they are
    /// equal; and the sums are taken once.
    @Test func summedSamples_moveTheAveragesAsTheSamplesOneByOne() async throws {
        let one = Scoreboard(servers: [a])
        let summed = Scoreboard(servers: [b])
        for board in [one, summed] {
            let server = board === one ? a : b
            await board.recordPassive(server, .connected(.milliseconds(10)))
            await board.recordPassive(server, .answered(success: true, firstByte: .milliseconds(100)))
        }
        for _ in 0..<5 {
            await one.recordPassive(a, .connected(.milliseconds(2)))
            await one.recordPassive(a, .answered(success: false, firstByte: .milliseconds(40)))
            await one.recordPassive(a, .answered(success: false, firstByte: nil))
        }
        let tally = PassiveTally()
        for _ in 0..<5 {
            #expect(tally.add(.connected(.milliseconds(2))))
            #expect(tally.add(.answered(success: false, firstByte: .milliseconds(40))))
            #expect(tally.add(.answered(success: false, firstByte: nil)))
        }
        #expect(!tally.add(.connectFailed("refused")))
        let sums = tally.take()
        #expect(sums.connected == 5 && sums.firstBytes == 5 && sums.answeredWell == 0 && sums.answeredBadly == 10)
        #expect(sums.connectNanos == 10_000_000 && sums.firstByteNanos == 200_000_000)
        #expect(tally.take().isEmpty)
        await summed.recordPassive([(b, sums)])
        let expected = try #require(await one.breakdown(of: a))
        let got = try #require(await summed.breakdown(of: b))
        #expect(abs(got.connectMs! - expected.connectMs!) < 1e-9)
        #expect(abs(got.ttfbMs! - expected.ttfbMs!) < 1e-9)
        // Five successes and ten failures in this batch: the same count of steps, at their mean.
        let rate = try #require(got.successRate)
        #expect(rate < 0.9 && rate > 0.1)
        #expect(b.latencyEstimateNanos.load(ordering: .relaxed) == UInt64(got.ttfbMs! * 1e6))
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
