import RelayProtocol
import Testing
@testable import RelayCore

/// A cluster follower's scores: the leader's probe-derived state adopted, its own traffic still counted, and a
/// server its own traffic cannot reach evicted at once and kept out until the leader has probed it again.
@Suite struct ScoringAdoptionTests {
    /// What a leader that probed a server `probes` times publishes about it.
    func leaderState(probes: Int, failures: Int = 0) -> (ServerScoreState, ClusterServerScore) {
        var state = ServerScoreState()
        for index in 0..<probes { state.probeOK(Double(10 + index)) }
        for _ in 0..<failures { state.probeFailed() }
        let parts = state.defaultBreakdown
        return (state, ClusterServerScore(
            address: "127.0.0.1:9001", healthy: parts.healthy, measured: parts.measured, total: parts.total,
            penalty: parts.penalty, bonus: parts.bonus, latencyMs: state.probeLatencyMs, jitterMs: state.probeJitterMs,
            successRate: state.successRate, consecutiveFailures: state.consecutiveFailures,
            consecutiveSuccesses: state.consecutiveSuccesses, probes: UInt64(probes + failures),
            downReason: state.downReason, lastError: state.lastError))
    }

    @Test func adoptedStateScoresAsTheLeaders() {
        let (leader, published) = leaderState(probes: 5)
        var follower = ServerScoreState()
        #expect(follower.adopt(published, probe: defaultProbe) == .unchanged)
        #expect(follower.defaultBreakdown == leader.defaultBreakdown)
    }

    @Test func ownTrafficStillCounts_theSlowAnswersOfThisNodeRaiseItsLatency() {
        let (_, published) = leaderState(probes: 5)
        var follower = ServerScoreState()
        follower.recordPassiveFirstByte(.milliseconds(700), scoring: defaultScoring)
        follower.adopt(published, probe: defaultProbe)
        #expect(follower.ttfbMs == 700)
        #expect(follower.effectiveLatencyMs == 700)
        #expect(follower.defaultBreakdown.latency < 10)
    }

    @Test func leaderSaysDown_followerEvictsAtOnce() {
        var follower = ServerScoreState()
        follower.adopt(leaderState(probes: 3).1, probe: defaultProbe)
        let (_, down) = leaderState(probes: 3, failures: 3)
        #expect(follower.adopt(down, probe: defaultProbe) == .wentDown)
        #expect(!follower.isHealthy)
        #expect(follower.downReason == "3 consecutive failures")
    }

    @Test func serverThisNodeCannotReachStaysDownUntilTheLeaderProbedItRiseTimesMore() {
        let probe = ProbeParameters()  // rise 2
        var follower = ServerScoreState()
        follower.adopt(leaderState(probes: 4).1, probe: probe)
        #expect(follower.recordPassiveRefused(error: "connection refused", scoring: defaultScoring) == .wentDown)
        // The leader's next publications still say healthy, from probes made before this node's failure: kept down.
        #expect(follower.adopt(leaderState(probes: 4).1, probe: probe) == .unchanged)
        #expect(follower.adopt(leaderState(probes: 5).1, probe: probe) == .unchanged)
        #expect(!follower.isHealthy)
        // Two newer probe results, both successes: back up.
        #expect(follower.adopt(leaderState(probes: 6).1, probe: probe) == .cameUp)
        #expect(follower.isHealthy && follower.downReason == nil)
    }

    @Test func scoreboardAdoptionEvictsThroughTheHardFailureStream() async {
        let server = scoringServer(9001)
        let board = Scoreboard(servers: [server])
        let failures = await board.subscribeToHardFailures()
        #expect(await board.adopt(ClusterGroupScores(group: "web", servers: [leaderState(probes: 2).1])) == 1)
        await board.adopt(ClusterGroupScores(group: "web", servers: [leaderState(probes: 2, failures: 3).1,
                                                                      ClusterServerScore(address: "10.0.0.1:1",
                                                                                         healthy: true, measured: true)]))
        var iterator = failures.makeAsyncIterator()
        #expect(await iterator.next() == server)
        let published = await board.published()
        #expect(published.servers.map(\.address) == ["127.0.0.1:9001"])
        #expect(published.servers.first?.healthy == false)
    }
}
