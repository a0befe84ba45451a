import Testing
@testable import RelayCore

/// The Selector actor over a real Scoreboard: what it publishes, and eviction through `hardFailures`.
@Suite struct ScoringSelectorTests {
    let a = scoringServer(9001), b = scoringServer(9002), c = scoringServer(9003), d = scoringServer(9004)
    let t0 = ContinuousClock.now

    /// Two identical probes per server (jitter 0 → 15 points, success 40): latency parts 45 (10 ms),
    /// 45 · 600 / 750 = 36 (200 ms), 24 (400 ms), 12 (600 ms) → totals 100, 91, 79, 67.
    func measuredBoard() async -> Scoreboard {
        let board = Scoreboard(servers: [a, b, c, d])
        for (server, milliseconds) in [(a, 10), (b, 200), (c, 400), (d, 600)] {
            for _ in 0..<2 {
                await board.recordProbe(server, success: true, latency: .milliseconds(milliseconds), error: nil)
            }
        }
        return board
    }

    @Test func publishesEachSwitch_andEvictsWhatTheScoreboardReportsDown() async {
        let board = await measuredBoard()
        let totals = await board.breakdowns().map(\.1.total)
        #expect(totals.count == 4 && zip(totals, [100, 91, 79, 67]).allSatisfy { nearly($0, $1) })
        let log = LogCapture()
        let selector = Selector(logger: Logger(level: .info, sink: .capture(log)))
        #expect(selector.current.generation == 0)

        let initial = await selector.evaluate(scoreboard: board, now: t0)
        #expect(initial == .switched(old: [], new: [a, b, c], reason: "initial"))
        #expect(selector.current.servers == [a, b, c])
        #expect(selector.current.generation == 1)

        for _ in 0..<3 { await board.recordProbe(a, success: false, latency: nil, error: "connection refused") }
        var failures = board.hardFailures.makeAsyncIterator()
        let failed = await failures.next()
        #expect(failed == a)
        let eviction = await selector.evict(a, scoreboard: board, now: t0 + .seconds(1))
        #expect(eviction == .switched(old: [a, b, c], new: [b, c, d],
                                      reason: "evicted web/127.0.0.1:9001 (3 consecutive failures)"))
        #expect(selector.current.servers == [b, c, d])
        #expect(selector.current.generation == 2)
        #expect(await selector.switches == 2)
        #expect(log.lines.contains { $0.contains("msg=\"active set switched\"") && $0.contains("generation=2") })
    }

    @Test func unknownServers_areNeverSelected() async {
        let board = Scoreboard(servers: [a, b])
        let selector = Selector(parameters: { var p = SelectorParameters(); p.minScore = 0; return p }())
        #expect(await selector.evaluate(scoreboard: board, now: t0) == .keep(reason: "no eligible server"))
        #expect(selector.current.servers.isEmpty)
        #expect(await selector.switches == 0)
    }

    @Test func evaluationAfterScoreChange_keepsInsideDebounce_switchesAfter() async {
        let board = await measuredBoard()
        let selector = Selector()
        await selector.evaluate(scoreboard: board, now: t0)
        #expect(await selector.evaluate(scoreboard: board, now: t0 + .seconds(5)) == .keep(reason: "unchanged"))
        // c fails twice (still up: fall is 3): success 0.81 · 40 = 32.4, penalty 9 → 24 + 15 + 32.4 − 9 = 62.4,
        // now behind d (67). [a, b, d] averages 258 / 3 = 86 against 253.4 / 3 = 84.47: +1.5 < 5 → kept.
        for _ in 0..<2 { await board.recordProbe(c, success: false, latency: nil, error: "connect timed out") }
        #expect(await selector.evaluate(scoreboard: board, now: t0 + .seconds(10))
            == .keep(reason: "debounced: improvement 1.5 < 5"))
        #expect(await selector.evaluate(scoreboard: board, now: t0 + .seconds(60))
            == .switched(old: [a, b, c], new: [a, b, d], reason: "debounce elapsed"))
        #expect(selector.current.servers == [a, b, d])
    }
}
