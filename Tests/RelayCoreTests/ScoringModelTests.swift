import Foundation
import Testing
@testable import RelayCore

/// The scoring formulas, pinned to values computed by hand with the seed defaults: latency 50 → 800 ms for
/// 45 points, jitter 10 → 300 ms for 15, success × 40, penalty 5 · 1.8^(n−1) capped at 80 recovering 2.5 per
/// success, bonus +1 per 120 successes up to 10 reset after 5 failures.
@Suite struct ScoringModelTests {
    // MARK: - Latency and jitter parts

    // One probe sets the latency EWMA to the sample, so the part is the formula applied to the sample.
    // 425: 45 · (800 − 425) / (800 − 50) = 45 · 375 / 750 = 22.5
    // 200: 45 · 600 / 750 = 36;   50 and below: 45;   800 and above: 0
    @Test(arguments: [(10.0, 45.0), (50, 45), (200, 36), (425, 22.5), (800, 0), (1500, 0)])
    func latencyPart_isLinearFromBaseToMaxAcceptable(milliseconds: Double, points: Double) {
        var state = ServerScoreState()
        state.probeOK(milliseconds)
        #expect(nearly(state.defaultBreakdown.latency, points))
    }

    // Two probes 100 then 100 + j: jitter EWMA = |100 + j − 100| = j (first jitter sample).
    // j = 155: 15 · (300 − 155) / (300 − 10) = 15 · 145 / 290 = 7.5
    // j = 10: 15;   j = 300: 0;   j = 68: 15 · 232 / 290 = 12
    @Test(arguments: [(5.0, 15.0), (10, 15), (68, 12), (155, 7.5), (300, 0), (400, 0)])
    func jitterPart_isLinearFromBaseToMaxAcceptable(jitter: Double, points: Double) {
        var state = ServerScoreState()
        state.probeOK(100)
        state.probeOK(100 + jitter)
        #expect(nearly(state.probeJitterMs, jitter))
        #expect(nearly(state.defaultBreakdown.jitter, points))
    }

    @Test func firstLatencySample_leavesJitterUnset_andEarnsNoJitterPoints() {
        var state = ServerScoreState()
        state.probeOK(20)
        #expect(state.probeJitterMs == nil)
        #expect(state.defaultBreakdown.jitter == 0)
        #expect(state.defaultBreakdown.jitterMs == nil)
    }

    // Samples 100, 200, 50 ms, starting from the first:
    //   L1 = 100                        J unset
    //   L2 = 0.2·200 + 0.8·100 = 120    J2 = |200 − 100| = 100
    //   L3 = 0.2·50 + 0.8·120 = 106     J3 = 0.3·|50 − 120| + 0.7·100 = 21 + 70 = 91
    // Score: latency 45 · (800 − 106) / 750 = 41.64; jitter 15 · (300 − 91) / 290 = 3135 / 290 = 10.8103448…;
    // success 1 · 40 = 40; total 92.4503448…
    @Test func ewmaSequence_startsFromFirstSample() {
        var state = ServerScoreState()
        state.probeOK(100)
        #expect(nearly(state.probeLatencyMs, 100))
        state.probeOK(200)
        #expect(nearly(state.probeLatencyMs, 120))
        #expect(nearly(state.probeJitterMs, 100))
        state.probeOK(50)
        #expect(nearly(state.probeLatencyMs, 106))
        #expect(nearly(state.probeJitterMs, 91))

        let breakdown = state.defaultBreakdown
        #expect(nearly(breakdown.latency, 41.64))
        #expect(nearly(breakdown.jitter, 3135.0 / 290.0))
        #expect(nearly(breakdown.success, 40))
        #expect(nearly(breakdown.total, 41.64 + 3135.0 / 290.0 + 40))
    }

    // First outcome sets the rate: success → 1. Then failure 0.1·0 + 0.9·1 = 0.9, failure 0.81,
    // success 0.1 + 0.9·0.81 = 0.829. Starting with a failure gives 0, not the seed's prior of 0.5.
    @Test func successRate_startsFromFirstOutcome() {
        var state = ServerScoreState()
        state.probeOK(10)
        #expect(state.successRate == 1)
        state.probeFailed()
        #expect(nearly(state.successRate, 0.9))
        state.probeFailed()
        #expect(nearly(state.successRate, 0.81))
        state.probeOK(10)
        #expect(nearly(state.successRate, 0.829))
        #expect(nearly(state.defaultBreakdown.success, 0.829 * 40))

        var failing = ServerScoreState()
        failing.probeFailed()
        #expect(failing.successRate == 0)
    }

    @Test func failedProbe_latencyIsIgnored() {
        var state = ServerScoreState()
        state.recordProbe(success: false, latency: .milliseconds(900), error: "timeout", scoring: defaultScoring,
                          probe: defaultProbe)
        #expect(state.probeLatencyMs == nil)
        #expect(state.lastError == "timeout")
    }

    // MARK: - Penalty and bonus

    // 5 · 1.8^(n−1): n=1 5; n=2 9; n=3 16.2; n=4 29.16; n=5 52.488; n=6 94.4784 → capped at 80.
    @Test(arguments: [(1, 5.0), (2, 9), (3, 16.2), (4, 29.16), (5, 52.488), (6, 80), (20, 80)])
    func penalty_growsExponentiallyWithConsecutiveFailures_upToCap(failures: Int, penalty: Double) {
        var state = ServerScoreState()
        for _ in 0..<failures { state.probeFailed() }
        #expect(nearly(state.penalty, penalty))
        #expect(nearly(state.defaultBreakdown.penalty, penalty))
    }

    // 3 failures → 16.2; each success takes 2.5 off: 13.7, 11.2, … after 6 successes 16.2 − 15 = 1.2,
    // after 7 it would be −1.3, floored at 0.
    @Test func penalty_recoversPerSuccess_downToZero() {
        var state = ServerScoreState()
        for _ in 0..<3 { state.probeFailed() }
        state.probeOK(10)
        #expect(nearly(state.penalty, 13.7))
        state.probeOK(10)
        #expect(nearly(state.penalty, 11.2))
        for _ in 0..<4 { state.probeOK(10) }
        #expect(nearly(state.penalty, 1.2))
        state.probeOK(10)
        #expect(state.penalty == 0)
    }

    // 6 failures → 80; one success → 77.5; a new failure starts a streak of 1 (5 by the formula) but
    // must not lower what is left: still 77.5. Recomputing from the streak would make it 5.
    @Test func failureAfterPartialRecovery_neverLowersPenalty() {
        var state = ServerScoreState()
        for _ in 0..<6 { state.probeFailed() }
        state.probeOK(10)
        #expect(nearly(state.penalty, 77.5))
        state.probeFailed()
        #expect(state.consecutiveFailures == 1)
        #expect(nearly(state.penalty, 77.5))
    }

    // +1 at every 120th success in a row: 119 → 0, 120 → 1, 239 → 1, 240 → 2.
    @Test func historyBonus_earnsOnePointPer120ConsecutiveSuccesses() {
        var state = ServerScoreState()
        for _ in 0..<119 { state.probeOK(10) }
        #expect(state.bonus == 0)
        state.probeOK(10)
        #expect(state.bonus == 1)
        for _ in 0..<119 { state.probeOK(10) }
        #expect(state.bonus == 1)
        state.probeOK(10)
        #expect(state.bonus == 2)
        #expect(state.defaultBreakdown.bonus == 2)
    }

    @Test func historyBonus_survivesFourFailures_resetAfterFive() {
        var state = ServerScoreState()
        for _ in 0..<240 { state.probeOK(10) }
        for _ in 0..<4 { state.probeFailed() }
        #expect(state.bonus == 2)
        state.probeFailed()
        #expect(state.bonus == 0)
    }

    @Test func historyBonus_isCappedAtTen() {
        var state = ServerScoreState()
        for _ in 0..<(120 * 12) { state.probeOK(10) }
        #expect(state.bonus == 10)
    }

    // MARK: - Total

    // 1,200 probes at 1 ms: latency 45 + jitter 15 (jitter 0) + success 40 + bonus 10 = 110 → 100.
    @Test func total_isClampedAt100() {
        var state = ServerScoreState()
        for _ in 0..<1200 { state.probeOK(1) }
        let breakdown = state.defaultBreakdown
        #expect(breakdown.latency + breakdown.jitter + breakdown.success + breakdown.bonus == 110)
        #expect(breakdown.total == 100)
    }

    // One 1 ms probe then 6 failures: latency 45 + jitter 0 (one sample) + success 40 · 0.9^6 = 21.25764
    // − penalty 80 = −13.74 → 0.
    @Test func total_isClampedAtZero() {
        var state = ServerScoreState()
        state.probeOK(1)
        for _ in 0..<6 { state.probeFailed() }
        let breakdown = state.defaultBreakdown
        #expect(nearly(breakdown.success, 40 * pow(0.9, 6)))
        #expect(breakdown.latency + breakdown.success - breakdown.penalty < 0)
        #expect(breakdown.total == 0)
    }

    // Probes at 1 ms (two, so jitter is 0: 15 points) but replies take 300 ms: the effective latency is
    // max(1, 300) = 300 → 45 · (800 − 300) / 750 = 30, not the 45 the handshakes alone would earn.
    @Test func timeToFirstByte_dominatesQuickConnect() {
        var state = ServerScoreState()
        state.probeOK(1)
        state.probeOK(1)
        state.recordPassiveConnected(.milliseconds(1), scoring: defaultScoring)
        state.recordPassiveFirstByte(.milliseconds(300), scoring: defaultScoring)
        let breakdown = state.defaultBreakdown
        #expect(nearly(state.effectiveLatencyMs, 300))
        #expect(nearly(breakdown.latency, 30))
        #expect(nearly(breakdown.jitter, 15))
        #expect(nearly(breakdown.latencyMs, 1))
        #expect(nearly(breakdown.ttfbMs, 300))
        #expect(nearly(breakdown.connectMs, 1))
        #expect(state.latencyEstimateNanos == 300_000_000)
    }

    @Test func quickTimeToFirstByte_doesNotHideSlowProbes() {
        var state = ServerScoreState()
        state.probeOK(425)
        state.recordPassiveFirstByte(.milliseconds(5), scoring: defaultScoring)
        #expect(nearly(state.defaultBreakdown.latency, 22.5))
        #expect(state.latencyEstimateNanos == 425_000_000)
    }

    @Test func unknownServer_scoresZero_butIsNotMarkedDown() {
        let state = ServerScoreState()
        let breakdown = state.defaultBreakdown
        #expect(!state.isMeasured)
        #expect(!breakdown.measured)
        #expect(breakdown.total == 0)
        #expect([breakdown.latency, breakdown.jitter, breakdown.success, breakdown.penalty, breakdown.bonus]
            == [0, 0, 0, 0, 0])
        #expect(breakdown.healthy)
        #expect(state.latencyEstimateNanos == 0)
    }

    @Test func breakdown_roundTripsThroughJSON() throws {
        var state = ServerScoreState()
        state.probeOK(100)
        state.probeFailed("connect timed out")
        let breakdown = state.defaultBreakdown
        let decoded = try JSONDecoder().decode(ScoreBreakdown.self, from: JSONEncoder().encode(breakdown))
        #expect(decoded == breakdown)
        #expect(decoded.lastError == "connect timed out")
    }

    // MARK: - Health

    @Test func healthFalls_afterThreeConsecutiveFailures() {
        var state = ServerScoreState()
        state.probeOK(10)
        #expect(state.probeFailed() == .unchanged)
        #expect(state.probeFailed() == .unchanged)
        #expect(state.isHealthy)
        #expect(state.probeFailed() == .wentDown)
        #expect(!state.isHealthy)
        #expect(state.downReason == "3 consecutive failures")
        #expect(state.probeFailed() == .unchanged)
    }

    @Test func successBetweenFailures_restartsFallCount() {
        var state = ServerScoreState()
        state.probeFailed()
        state.probeFailed()
        state.probeOK(10)
        state.probeFailed()
        state.probeFailed()
        #expect(state.isHealthy)
    }

    @Test func healthRises_afterTwoConsecutiveSuccesses() {
        var state = ServerScoreState()
        for _ in 0..<3 { state.probeFailed() }
        #expect(state.probeOK(10) == .unchanged)
        #expect(!state.isHealthy)
        state.probeFailed()
        #expect(state.probeOK(10) == .unchanged)
        #expect(state.probeOK(10) == .cameUp)
        #expect(state.isHealthy)
        #expect(state.downReason == nil)
        #expect(state.lastError == "connection refused")
    }

    @Test func trafficRefusal_marksDownAtOnce_andOnlyProbesBringItBack() {
        var state = ServerScoreState()
        state.probeOK(10)
        #expect(state.recordPassiveRefused(error: "connection refused", scoring: defaultScoring) == .wentDown)
        #expect(!state.isHealthy)
        #expect(state.downReason == "traffic: connection refused")
        #expect(state.recordPassiveRefused(error: "connection refused", scoring: defaultScoring) == .unchanged)
        state.recordPassiveConnected(.milliseconds(1), scoring: defaultScoring)
        #expect(!state.isHealthy)
        #expect(state.probeOK(10) == .unchanged)
        #expect(state.probeOK(10) == .cameUp)
    }

    // 1 then 0, 0, 0: 0.9, 0.81, 0.729 — traffic moves the success rate but not the probe streaks.
    @Test func trafficFailures_lowerSuccessRate_butDoNotGrowPenalty() {
        var state = ServerScoreState()
        state.probeOK(10)
        for _ in 0..<3 { state.recordPassiveRefused(error: "connection refused", scoring: defaultScoring) }
        #expect(nearly(state.successRate, 0.729))
        #expect(state.penalty == 0)
        #expect(state.consecutiveFailures == 0)
        #expect(state.consecutiveSuccesses == 0)
    }

    @Test func unknownServer_isHealthyUntilEvidenceSaysOtherwise() {
        var state = ServerScoreState()
        #expect(state.isHealthy)
        state.probeFailed()
        state.probeFailed()
        #expect(state.isHealthy)
        state.probeFailed()
        #expect(!state.isHealthy)
    }
}
