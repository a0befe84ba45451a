import Testing
@testable import RelayCore

/// The Selector's rules with an injected clock: defaults are 3 servers, minimum score 15, debounce 60 s,
/// improvement threshold 5.
@Suite struct ScoringSelectorStateTests {
    let a = scoringServer(9001), b = scoringServer(9002), c = scoringServer(9003)
    let d = scoringServer(9004), e = scoringServer(9005)
    let t0 = ContinuousClock.now

    func at(_ seconds: Int) -> ContinuousClock.Instant { t0 + .seconds(seconds) }

    /// A selector whose set is [a, b, c] (scores 90, 80, 70), chosen at t0.
    func started() -> SelectorState {
        var state = SelectorState()
        state.evaluate(candidates: [(a, 90, true), (b, 80, true), (c, 70, true), (d, 60, true)], now: t0)
        return state
    }

    @Test func firstEvaluation_switchesToTopThree() {
        var state = SelectorState()
        let decision = state.evaluate(candidates: [(d, 60, true), (b, 80, true), (a, 90, true), (c, 70, true)],
                                      now: t0)
        #expect(decision == .switched(old: [], new: [a, b, c], reason: "initial"))
        #expect(state.current == [a, b, c])
        #expect(state.generation == 1)
        #expect(state.lastSwitch == t0)
    }

    // d rises to 80 (ties with b; b wins by id): proposal [a, b, d] averages 250/3 = 83.3 against the current
    // members' 240/3 = 80: +3.3 < 5, 10 s into the 60 s debounce → kept.
    @Test func smallImprovement_insideDebounce_isSuppressed() {
        var state = started()
        let decision = state.evaluate(candidates: [(a, 90, true), (b, 80, true), (c, 70, true), (d, 80, true)],
                                      now: at(10))
        #expect(decision == .keep(reason: "debounced: improvement 3.3 < 5"))
        #expect(state.current == [a, b, c])
        #expect(state.generation == 1)
    }

    @Test func smallImprovement_afterDebounce_isTaken() {
        var state = started()
        let decision = state.evaluate(candidates: [(a, 90, true), (b, 80, true), (c, 70, true), (d, 80, true)],
                                      now: at(60))
        #expect(decision == .switched(old: [a, b, c], new: [a, b, d], reason: "debounce elapsed"))
        #expect(state.generation == 2)
        #expect(state.lastSwitch == at(60))
    }

    // d at 85: (90 + 85 + 80) / 3 = 85 against 80: exactly 5 ≥ 5 → switch inside the debounce.
    @Test func improvementAtThreshold_switchesInsideDebounce() {
        var state = started()
        let decision = state.evaluate(candidates: [(a, 90, true), (b, 80, true), (c, 70, true), (d, 85, true)],
                                      now: at(1))
        #expect(decision == .switched(old: [a, b, c], new: [a, d, b], reason: "improvement 5 ≥ 5"))
    }

    // The current members are compared at their scores now: a and b dropped to 60, so the current set
    // averages (60 + 60 + 70) / 3 = 63.3, and [c, d, e] at 70, 68, 66 averages 68: +4.7 < 5 → kept.
    @Test func improvement_usesCurrentMembersScoresNow() {
        var state = started()
        let decision = state.evaluate(
            candidates: [(a, 60, true), (b, 60, true), (c, 70, true), (d, 68, true), (e, 66, true)], now: at(1))
        #expect(decision == .keep(reason: "debounced: improvement 4.7 < 5"))
    }

    @Test func evictsDeadServer_evenInsideDebounce() {
        var state = started()
        let decision = state.evaluate(
            candidates: [(a, 90, true), (b, 80, true), (c, 70, false), (d, 60, true), (e, 50, true)], now: at(1),
            downReasons: [c: "3 consecutive failures"])
        #expect(decision == .switched(old: [a, b, c], new: [a, b, d],
                                      reason: "evicted web/127.0.0.1:9003 (3 consecutive failures)"))
        #expect(state.generation == 2)
    }

    @Test func evictsServerMissingFromCandidates_evenInsideDebounce() {
        var state = started()
        let decision = state.evaluate(candidates: [(a, 90, true), (b, 80, true), (d, 60, true)], now: at(1))
        #expect(decision == .switched(old: [a, b, c], new: [a, b, d], reason: "evicted web/127.0.0.1:9003 (removed)"))
    }

    // c dies while e (95) is now the best and d (75) beats b (50): only c's slot changes hands (to e); b
    // stays until the debounce or a large enough improvement says otherwise.
    @Test func eviction_keepsOtherMembers_andFillsOnlyTheFreedSlot() {
        var state = started()
        let decision = state.evaluate(
            candidates: [(a, 90, true), (b, 50, true), (c, 70, false), (d, 75, true), (e, 95, true)], now: at(1))
        #expect(decision.didSwitch)
        #expect(state.current == [e, a, b])
    }

    @Test func explicitEviction_removesServerAtOnce_evenIfScoresStillLookHealthy() {
        var state = started()
        let stale: [SelectorState.Candidate] = [(a, 90, true), (b, 80, true), (c, 70, true), (d, 60, true)]
        let decision = state.evict(c, now: at(1), candidates: stale, cause: "traffic: connection refused")
        #expect(decision == .switched(old: [a, b, c], new: [a, b, d],
                                      reason: "evicted web/127.0.0.1:9003 (traffic: connection refused)"))
        #expect(state.evict(e, now: at(2), candidates: [])
            == .keep(reason: "web/127.0.0.1:9005 is not in the active set"))
        #expect(state.generation == 2)
    }

    // b is healthy but under the minimum (14.9 < 15); c is exactly at it.
    @Test func serversBelowMinScore_orUnhealthy_areNeverSelected() {
        var state = SelectorState()
        state.evaluate(candidates: [(a, 90, true), (b, 14.9, true), (c, 15, true), (d, 99, false)], now: t0)
        #expect(state.current == [a, c])
    }

    @Test func nothingEligible_keepsHealthyMembers_thenEmptiesWhenNoneIsHealthy() {
        var state = SelectorState()
        #expect(state.evaluate(candidates: [(a, 10, true), (b, 5, true)], now: t0)
            == .keep(reason: "no eligible server"))
        #expect(state.current.isEmpty)
        #expect(state.generation == 0)

        state = started()
        #expect(state.evaluate(candidates: [(a, 10, true), (b, 10, true), (c, 10, true)], now: at(1))
            == .keep(reason: "no eligible server, keeping 3 healthy member(s)"))

        let decision = state.evaluate(candidates: [(a, 10, true), (b, 10, false), (c, 10, true)], now: at(2))
        #expect(decision.didSwitch)
        #expect(state.current == [a, c])

        #expect(state.evaluate(candidates: [(a, 10, false), (b, 10, false), (c, 10, false)], now: at(3)).didSwitch)
        #expect(state.current.isEmpty)
        #expect(state.evaluate(candidates: [(a, 10, false)], now: at(4)) == .keep(reason: "no eligible server"))
    }

    @Test func emptySet_isFilledAtOnce_evenInsideDebounce() {
        var state = started()
        state.evaluate(candidates: [(a, 90, false), (b, 80, false), (c, 70, false)], now: at(1))
        #expect(state.current.isEmpty)
        let decision = state.evaluate(candidates: [(a, 90, false), (d, 40, true)], now: at(2))
        #expect(decision == .switched(old: [], new: [d], reason: "active set was empty"))
    }

    @Test func tiesAreBrokenById_whateverTheCandidateOrder() {
        var forward = SelectorState(), backward = SelectorState()
        let tied: [SelectorState.Candidate] = [(a, 80, true), (b, 80, true), (c, 80, true), (d, 80, true)]
        forward.evaluate(candidates: tied, now: t0)
        backward.evaluate(candidates: Array(tied.reversed()), now: t0)
        #expect(forward.current == [a, b, c])
        #expect(backward.current == [a, b, c])
    }

    @Test func sameMembersInAnotherOrder_isNotASwitch() {
        var state = started()
        let decision = state.evaluate(candidates: [(a, 70, true), (b, 80, true), (c, 95, true), (d, 60, true)],
                                      now: at(120))
        #expect(decision == .keep(reason: "unchanged"))
        #expect(state.current == [a, b, c])
        #expect(state.generation == 1)
    }

    // Only a was eligible at first; b and c (70, 60) lower the average, yet free slots are filled at once.
    @Test func freeSlots_areFilledAtOnce_evenInsideDebounce() {
        var state = SelectorState()
        state.evaluate(candidates: [(a, 90, true), (b, 10, true), (c, 10, true)], now: t0)
        #expect(state.current == [a])
        let decision = state.evaluate(candidates: [(a, 90, true), (b, 70, true), (c, 60, true)], now: at(5))
        #expect(decision == .switched(old: [a], new: [a, b, c], reason: "filled 2 free slot(s)"))
    }

    @Test func forcedSwitch_restartsDebounce() {
        var state = started()
        state.evaluate(candidates: [(a, 90, true), (b, 80, true), (c, 70, false), (d, 60, true), (e, 50, true)],
                       now: at(50))
        // Set [a, b, d] at t = 50; e climbing to 62 (+0.7) must wait until t = 110, not t = 60.
        let candidates: [SelectorState.Candidate] = [(a, 90, true), (b, 80, true), (d, 60, true), (e, 62, true)]
        #expect(!state.evaluate(candidates: candidates, now: at(70)).didSwitch)
        #expect(state.evaluate(candidates: candidates, now: at(110)).didSwitch)
        #expect(state.current == [a, b, e])
    }
}
