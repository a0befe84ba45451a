import RelayProtocol
import Testing
@testable import RelayCore

/// The LinkMonitor's measurements and rules with an injected clock. Defaults: heartbeats every 200 ms, 2 s
/// heartbeat timeout, loss over 50 heartbeats, score = 5 × loss% + 1 × RTT ms + priority, switch threshold 25,
/// throughput guard 500 kbps, down after 5 misses, adaptive redundancy above 2 % loss.
@Suite struct LinkMonitorStateTests {
    let interval = ms(200)

    func parameters(_ change: (inout MultipathParameters) -> Void) -> MultipathParameters {
        var parameters = MultipathParameters()
        change(&parameters)
        return parameters
    }

    // MARK: Measuring

    @Test func heartbeatsGoOutOnEveryLink_eachInterval_carryingTheirSendTime() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20])
        driver.run(until: ms(1_399))
        let sends = driver.actions { if case .sendHeartbeat = $0 { true } else { false } }
        #expect(sends.map(\.at) == [ms(1_000), ms(1_000), ms(1_200), ms(1_200)])
        #expect(sends.first?.action == .sendHeartbeat(
            link: 0, heartbeat: MultipathHeartbeat(link: 0, health: .probing, timestamp: ms(1_000))))
        #expect(driver.state.nextWakeup == ms(1_400))
    }

    // RFC 6298: the first sample sets smoothed = 10 and variance = 5; a 20 ms sample then gives
    // variance 0.75 × 5 + 0.25 × 10 = 6.25 and smoothed 0.875 × 10 + 0.125 × 20 = 11.25.
    @Test func rtt_isSmoothedAsRFC6298Says() {
        var state = LinkMonitorState(parameters: MultipathParameters(), links: [MultipathLinkSpec(name: "A")], now: 0)
        _ = state.tick(now: 0)
        #expect(state.heartbeatAnswered(link: 0, echoedTimestamp: 0, now: ms(10)) == [.linkUp(link: 0)])
        _ = state.tick(now: ms(200))
        _ = state.heartbeatAnswered(link: 0, echoedTimestamp: ms(200), now: ms(220))
        let status = state.status(of: 0)
        #expect(status.smoothedRTTMilliseconds == 11.25)
        #expect(status.rttVarianceMilliseconds == 6.25)
        #expect(status.health == .up)
        #expect(status.score == 11.25)
    }

    // Four of the first ten heartbeats go unanswered: 40 %. Ten answered ones later, the window of ten holds
    // none of those losses.
    @Test func loss_isTheShareLostOverTheLastLossWindowHeartbeats() {
        var driver = LinkMonitorDriver(parameters: parameters { $0.lossWindow = 10 }, rttMilliseconds: [10])
        driver.dropAnswer = { _, ordinal in ordinal <= 10 && ordinal % 3 == 1 }
        driver.run(until: ms(1_000) + 10 * interval + ms(100))
        #expect(driver.state.status(of: 0).lossPercent == 40)
        #expect(driver.state.status(of: 0).lost == 4)
        driver.run(for: 10 * interval)
        #expect(driver.state.status(of: 0).lossPercent == 0)
        #expect(driver.state.status(of: 0).score == 10)
    }

    // The RTT jumps from 10 to 300 ms: heartbeats pass their 200 ms deadline and count as lost, but each late
    // answer measures the RTT and shows the link alive, so the deadline grows and the link never goes down.
    @Test func slowerButAliveLink_learnsItsNewRTT_andIsNotMarkedDown() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10])
        driver.run(for: ms(2_000))
        driver.rtt[0] = ms(300)
        driver.run(for: ms(10_000))
        let status = driver.state.status(of: 0)
        #expect(driver.actions { if case .linkDown = $0 { true } else { false } }.isEmpty)
        #expect(status.lateAnswers > 0)
        #expect(status.health == .up)
        #expect((status.smoothedRTTMilliseconds ?? 0) > 290)
    }

    @Test func answerMatchingNoHeartbeat_isCountedAndIgnored() {
        var state = LinkMonitorState(parameters: MultipathParameters(), links: [MultipathLinkSpec(name: "A")], now: 0)
        _ = state.tick(now: 0)
        #expect(state.heartbeatAnswered(link: 0, echoedTimestamp: 5, now: ms(10)).isEmpty)
        #expect(state.heartbeatAnswered(link: 3, echoedTimestamp: 0, now: ms(10)).isEmpty)
        #expect(!state.heartbeatAnswered(link: 0, echoedTimestamp: 0, now: ms(10)).isEmpty)
        #expect(state.heartbeatAnswered(link: 0, echoedTimestamp: 0, now: ms(11)).isEmpty)
        #expect(state.unmatchedAnswers == 3)
        #expect(state.status(of: 0).answered == 1)
    }

    @Test func throughput_isBytesOverTheLastSecond() {
        var state = LinkMonitorState(parameters: MultipathParameters(), links: [MultipathLinkSpec(name: "A")], now: 0)
        _ = state.recordTraffic(link: 0, totalBytes: 1_000, now: 0)
        _ = state.recordTraffic(link: 0, totalBytes: 40_000, now: ms(500))
        #expect(state.status(of: 0).bytesPerSecond == 0)
        _ = state.recordTraffic(link: 0, totalBytes: 101_000, now: ms(1_000))
        #expect(state.status(of: 0).bytesPerSecond == 100_000)
        _ = state.recordTraffic(link: 0, totalBytes: 5, now: ms(2_000))
        #expect(state.status(of: 0).bytesPerSecond == 0)
    }

    // The heartbeat carries the link's measurements to the server: RTT in µs, loss in basis points, score in
    // thousandths. By the fifth heartbeat four outcomes are known and the second was lost: 25 %, so the score
    // is 5 × 25 + 12 = 137.
    @Test func heartbeat_reportsTheLinksMeasurements() throws {
        var driver = LinkMonitorDriver(parameters: parameters { $0.lossWindow = 4 }, rttMilliseconds: [12])
        driver.dropAnswer = { _, ordinal in ordinal == 2 }
        driver.run(until: ms(1_000) + 4 * interval)
        guard case .sendHeartbeat(_, let heartbeat) = try #require(driver.log.last?.action) else {
            Issue.record("the last action is not a heartbeat")
            return
        }
        #expect(heartbeat.health == .up)
        #expect(heartbeat.smoothedRTTMicroseconds == 12_000)
        #expect(heartbeat.lossBasisPoints == 2_500)
        #expect(heartbeat.scoreThousandths == 137_000)
    }

    // MARK: Switching

    @Test func firstActiveLink_isTheFirstByPriorityThenOrder() {
        #expect(LinkMonitorDriver(rttMilliseconds: [10, 10]).state.activeLink == 0)
        #expect(LinkMonitorDriver(rttMilliseconds: [10, 10, 10], priorities: [30, 0, 0]).state.activeLink == 1)
    }

    // Scores 44 against 20 (gain 24): kept. 45 against 20 (gain exactly 25): switched, at the answer that
    // completed the measurement, as the seed's ≥ says.
    @Test(arguments: [(44, false), (45, true)])
    func betterScore_switchesOnlyFromTheThreshold(activeRTT: UInt64, switches: Bool) {
        var driver = LinkMonitorDriver(rttMilliseconds: [activeRTT, 20])
        driver.run(for: ms(5_000))
        if switches {
            #expect(driver.switches.count == 1)
            #expect(driver.switches.first?.at == ms(1_000 + activeRTT))
            #expect(driver.switches.first?.reason == .betterScore(gain: 25))
            #expect(driver.state.activeLink == 1)
        } else {
            #expect(driver.switches.isEmpty)
            #expect(driver.state.activeLink == 0)
        }
    }

    // B improves from 20 to 10 ms: its smoothed RTT falls by 1/8 of the gap per answer, and the switch comes
    // at the first answer that brings the gain over 25 (40 − 15), not before.
    @Test func improvingLink_takesOverOnceItsGainReachesTheThreshold() {
        var driver = LinkMonitorDriver(rttMilliseconds: [40, 20])
        driver.run(for: ms(3_000))
        #expect(driver.switches.isEmpty)
        driver.rtt[1] = ms(10)
        driver.run(for: ms(3_000))
        let switched = driver.switches
        #expect(switched.count == 1)
        guard case .betterScore(let gain) = switched.first?.reason else {
            Issue.record("no switch for a better score")
            return
        }
        #expect(gain >= 25 && gain < 27)
        #expect(driver.state.status(of: 1).smoothedRTTMilliseconds! <= 15)
    }

    // The active link carries 800 kbps (> 500) when B improves from 100 to 20 ms: the switch B has earned is
    // held back, and reported once however many answers confirm it; when traffic falls to 80 kbps the switch
    // happens at the next throughput measurement (within a second and a tick).
    @Test func busyActiveLink_holdsTheSwitch_untilTrafficFallsBelowTheThreshold() throws {
        var driver = LinkMonitorDriver(rttMilliseconds: [60, 100])
        driver.trafficRate[0] = 100_000
        driver.run(for: ms(3_000))
        driver.rtt[1] = ms(20)
        driver.run(for: ms(5_000))
        #expect(driver.switches.isEmpty)
        let held = driver.actions { if case .switchHeld = $0 { true } else { false } }
        #expect(held.count == 1)
        guard case .switchHeld(let from, let to, let gain, let kbps) = try #require(held.first?.action) else { return }
        #expect((from, to) == (0, 1))
        #expect(gain >= 25)
        #expect(kbps >= 799 && kbps <= 801)
        driver.trafficRate[0] = 10_000
        let quiet = driver.now
        driver.run(for: ms(3_000))
        #expect(driver.switches.count == 1)
        guard case .betterScore(let switchedGain) = driver.switches.first?.reason else {
            Issue.record("no switch for a better score")
            return
        }
        #expect(switchedGain > 35 && switchedGain <= 40)
        #expect(driver.switches.first!.at <= quiet + ms(1_200))
    }

    // Priority is a penalty in score points: A at 60 ms against B at 10 ms + 30 priority is a gain of 20, too
    // little; without the priority the gain would be 50.
    @Test func priority_countsAgainstTheLinkInTheScore() {
        var penalised = LinkMonitorDriver(rttMilliseconds: [60, 10], priorities: [0, 30])
        penalised.run(for: ms(5_000))
        #expect(penalised.switches.isEmpty)
        #expect(penalised.state.score(of: 1) == 40)
        var equal = LinkMonitorDriver(rttMilliseconds: [60, 10])
        equal.run(for: ms(5_000))
        #expect(equal.switches.map(\.to) == [1])
    }

    // The active link dies between heartbeats at T. Its next heartbeats go out at most one interval later, each
    // counts as lost one interval after it left (its RTO is far below that), and the max_consecutive_fail-th
    // miss moves traffic in the same event: within max_consecutive_fail + 1 intervals of T, and not before
    // max_consecutive_fail − 1. Traffic above the throughput guard does not delay it.
    @Test(arguments: [1, 3, 5, 8])
    func deadActiveLink_failsOverWithinMaxConsecutiveFailPlusOneIntervals(maxFail: Int) throws {
        var driver = LinkMonitorDriver(parameters: parameters { $0.maxConsecutiveFail = maxFail },
                                       rttMilliseconds: [10, 20, 30])
        driver.trafficRate[0] = 1_000_000
        driver.run(until: ms(5_050))
        #expect(driver.state.activeLink == 0)
        let death = driver.now
        driver.rtt[0] = nil
        driver.run(for: UInt64(maxFail + 3) * interval)
        let failover = try #require(driver.switches.first)
        #expect(failover.reason == .failover)
        #expect((failover.from, failover.to) == (0, 1))
        #expect(failover.at <= death + UInt64(maxFail + 1) * interval)
        #expect(failover.at > death + UInt64(maxFail - 1) * interval)
        let down = driver.actions { if case .linkDown = $0 { true } else { false } }
        #expect(down.map(\.at) == [failover.at])
        #expect(down.first?.action == .linkDown(link: 0, misses: maxFail))
        #expect(driver.actions { $0 == .resolve(link: 0) }.map(\.at) == [failover.at])
        #expect(driver.state.status(of: 0).health == .down)
    }

    // The first choice never answers while another link does: traffic leaves it at its first miss (2 s, the
    // timeout, since it has no RTT yet) instead of waiting for five.
    @Test func deadFirstChoice_isLeftAtItsFirstMiss() {
        var driver = LinkMonitorDriver(rttMilliseconds: [nil, 20])
        driver.run(for: ms(4_000))
        #expect(driver.switches.map(\.at) == [ms(3_000)])
        #expect(driver.switches.first?.reason == .failover)
        #expect(driver.state.activeLink == 1)
    }

    @Test func downLink_comesBackUpOnItsNextAnswer_withoutTakingTrafficBack() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20])
        driver.run(for: ms(1_000))
        driver.rtt[0] = nil
        driver.run(for: ms(2_000))
        #expect(driver.state.activeLink == 1)
        driver.rtt[0] = ms(10)
        driver.run(for: ms(1_000))
        #expect(driver.actions { $0 == .linkUp(link: 0) }.count == 2)
        #expect(driver.state.status(of: 0).health == .up)
        // Its loss window still holds five misses: 5 × ~50 % × 5 keeps it far from 25 points better.
        #expect(driver.state.activeLink == 1)
    }

    // MARK: Redundancy

    // A loses one heartbeat in ten (10 % > 2 %); B is slower, so A stays active. Adaptive redundancy adds B
    // while the loss lasts and drops it once the window holds at most one loss in fifty (2 %, not above).
    @Test func adaptiveRedundancy_followsTheActiveLinksLoss() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 100, 150])
        driver.dropAnswer = { link, ordinal in link == 0 && ordinal % 10 == 5 }
        driver.run(for: ms(2_400))
        #expect(driver.state.sendTargets == [0, 1])
        #expect(driver.state.replyFanout == .twoBestLinks)
        #expect(driver.state.snapshot.isRedundant)
        driver.dropAnswer = { _, _ in false }
        driver.run(for: ms(12_000))
        #expect(driver.state.sendTargets == [0])
        #expect(driver.state.replyFanout == .oneLink)
        #expect(driver.state.activeLink == 0)
    }

    // At the start nothing is measured: adaptive redundancy covers the first heartbeat_timeout, then stops on
    // links that lose nothing.
    @Test func adaptiveRedundancy_coversTheFirstHeartbeatTimeoutAfterTheStart() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20])
        #expect(driver.state.sendTargets == [0, 1])
        driver.run(until: ms(3_000) - 1)
        #expect(driver.state.sendTargets == [0, 1])
        driver.run(until: ms(3_000))
        #expect(driver.state.sendTargets == [0])
        #expect(driver.actions { $0 == .sendTargetsChanged(targets: [0]) }.map(\.at) == [ms(3_000)])
    }

    // A single unanswered heartbeat on the active link turns adaptive redundancy on at once (the loss over the
    // window, 1 in 50, is not above 2 % yet), and the next answer turns it off.
    @Test func adaptiveRedundancy_coversTheActiveLinkFromItsFirstMiss() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20])
        // Busy, so that the miss does not move traffic for a better score.
        driver.trafficRate[0] = 1_000_000
        // A full loss window first, so that one miss is 2 % (not above the threshold).
        driver.run(for: ms(12_500))
        #expect(driver.state.sendTargets == [0])
        driver.dropAnswer = { link, ordinal in link == 0 && ordinal == 64 }
        driver.run(for: ms(600))
        let turnedOn = driver.actions { $0 == .sendTargetsChanged(targets: [0, 1]) }.map(\.at)
        let turnedOff = driver.actions { $0 == .sendTargetsChanged(targets: [0]) }.map(\.at)
        // On at the miss (one interval after the dropped heartbeat left, at 13.6 s), off at the next answer.
        #expect(turnedOn == [ms(13_800)])
        #expect(turnedOff.last == ms(13_810))
        #expect(driver.state.status(of: 0).lossPercent == 2)
        #expect(driver.state.sendTargets == [0])
        #expect(driver.state.activeLink == 0)
    }

    // After a failover the new link is unproven: both best remaining links carry traffic for heartbeat_timeout.
    // (A is busy, so its first misses do not move traffic for a better score before it is failed.)
    @Test func adaptiveRedundancy_coversTheFirstHeartbeatTimeoutAfterAFailover() throws {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20, 30])
        driver.trafficRate[0] = 1_000_000
        driver.run(for: ms(2_000))
        #expect(driver.state.sendTargets == [0])
        driver.rtt[0] = nil
        driver.run(for: ms(1_600))
        let failover = try #require(driver.switches.first?.at)
        let changes = driver.actions { if case .sendTargetsChanged = $0 { true } else { false } }
        #expect(changes.last?.at == failover)
        #expect(driver.state.sendTargets == [1, 2])
        driver.run(until: failover + ms(2_000))
        #expect(driver.state.sendTargets == [1])
        #expect(driver.actions { $0 == .sendTargetsChanged(targets: [1]) }.map(\.at) == [failover + ms(2_000)])
    }

    @Test func redundancyOff_neverDuplicates_andAlways_usesEveryLiveLink() {
        // A loses a third of its heartbeats (score 5 × 33 + 10 = 177) but B and C score 300 and 400: A stays.
        var off = LinkMonitorDriver(parameters: parameters { $0.redundancy = .off }, rttMilliseconds: [10, 300, 400])
        off.dropAnswer = { link, ordinal in link == 0 && ordinal % 3 == 0 }
        off.run(for: ms(5_000))
        #expect(off.state.sendTargets == [0])
        #expect(off.actions { if case .sendTargetsChanged(let targets) = $0 { targets.count > 1 } else { false } }
            .isEmpty)

        var always = LinkMonitorDriver(parameters: parameters { $0.redundancy = .always },
                                       rttMilliseconds: [10, 100, 150])
        #expect(always.state.sendTargets == [0, 1, 2])
        #expect(always.state.replyFanout == .everyLiveLink)
        always.run(for: ms(1_000))
        always.rtt[2] = nil
        always.run(for: ms(2_000))
        #expect(always.state.sendTargets == [0, 1])
    }

    @Test func generation_growsOnlyWhenTheSendTargetsChange() {
        var driver = LinkMonitorDriver(rttMilliseconds: [10, 20])
        driver.run(for: ms(2_000))
        let first = driver.state.generation
        driver.run(for: ms(3_000))
        #expect(driver.state.generation == first)
        driver.rtt[0] = nil
        driver.run(for: ms(2_000))
        #expect(driver.state.snapshot.generation > first)
        #expect(driver.state.snapshot.activeLink == 1)
        #expect(driver.state.snapshot.links.map(\.isActive) == [false, true])
    }

    // MARK: Names

    @Test func names_areResolvedEveryDNSRefresh_andANewAddressStartsMeasuringAfresh() {
        var driver = LinkMonitorDriver(parameters: parameters { $0.dnsRefresh = .seconds(1) }, rttMilliseconds: [10, 20])
        driver.run(for: ms(2_100))
        let resolves = driver.actions { if case .resolve = $0 { true } else { false } }
        #expect(resolves.map(\.at) == [ms(2_000), ms(2_000), ms(3_000), ms(3_000)])
        var state = driver.state
        #expect(state.status(of: 0).score != nil)
        _ = state.addressChanged(link: 0, now: driver.now)
        #expect(state.status(of: 0).health == .probing)
        #expect(state.status(of: 0).score == nil)
        #expect(state.activeLink == 0)
        #expect(state.nextWakeup == driver.now)
    }
}

/// The knobs' defaults and the messages that name a bad one.
@Suite struct MultipathParametersTests {
    @Test func defaults_areTheSeedsExampleValues() {
        let parameters = MultipathParameters()
        #expect(parameters.lossWeight == 5)
        #expect(parameters.rttWeight == 1)
        #expect(parameters.switchThreshold == 25)
        #expect(parameters.throughputThresholdKbps == 500)
        #expect(parameters.maxConsecutiveFail == 5)
        #expect(parameters.dnsRefresh == .seconds(600))
        #expect(parameters.heartbeatInterval == .milliseconds(200))
        #expect(parameters.heartbeatTimeout == .seconds(2))
        #expect(parameters.redundancy == .adaptive)
        #expect(parameters.redundancyLossThreshold == 2)
        #expect(parameters.validate().isEmpty)
    }

    @Test func everyUnworkableValue_isReportedWithItsKey() {
        var parameters = MultipathParameters()
        parameters.heartbeatInterval = .zero
        parameters.heartbeatTimeout = .seconds(-1)
        parameters.lossWindow = 0
        parameters.lossWeight = -1
        parameters.rttWeight = .nan
        parameters.switchThreshold = 0
        parameters.throughputThresholdKbps = 0
        parameters.maxConsecutiveFail = 0
        parameters.dnsRefresh = .zero
        parameters.redundancyLossThreshold = 101
        let issues = parameters.validate()
        #expect(issues.map(\.key) == [
            "heartbeat_interval", "heartbeat_timeout", "loss_window", "loss_weight", "rtt_weight", "switch_threshold",
            "throughput_threshold_kbps", "max_consecutive_fail", "dns_refresh", "redundancy_loss_threshold",
        ])
        #expect(issues.map(\.message).contains("switch_threshold must be > 0"))
        #expect(issues.map(\.message).contains("max_consecutive_fail must be ≥ 1"))
    }

    @Test func timeoutShorterThanTheInterval_andBothWeightsZero_areReported() {
        var parameters = MultipathParameters()
        parameters.heartbeatTimeout = .milliseconds(100)
        parameters.lossWeight = 0
        parameters.rttWeight = 0
        let issues = parameters.validate()
        #expect(issues.map(\.message) == [
            "heartbeat_timeout must be at least heartbeat_interval (200ms)",
            "loss_weight and rtt_weight cannot both be 0: every link would score the same",
        ])
    }

    @Test func links_needUniqueNamesAndSanePriorities() {
        let issues = MultipathParameters.validate(links: [
            MultipathLinkSpec(name: "a"), MultipathLinkSpec(name: ""), MultipathLinkSpec(name: "a"),
            MultipathLinkSpec(name: "b", priority: -1),
        ])
        #expect(issues.map(\.key) == ["links[1].name", "links[2].name", "links[3].priority"])
        #expect(issues[1].message == "links[2].name 'a' is already the name of links[0]")
        #expect(MultipathParameters.validate(links: []).map(\.key) == ["links"])
        let many = (0..<256).map { MultipathLinkSpec(name: "l\($0)") }
        #expect(MultipathParameters.validate(links: many).map(\.message)
            == ["links may list at most 255 links, not 256"])
    }
}
