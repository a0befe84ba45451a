import Testing
@testable import RelayCore

/// The supervisor's rules with an injected clock, event by event: no task, no sleep. The actor's own tests
/// (SupervisorTests, SupervisorRestartTests) check that the shell carries the actions out.
@Suite struct SupervisorStateTests {
    typealias State = SupervisorState
    typealias Action = SupervisorState.Action

    let t0 = ContinuousClock.now
    /// 100 ms doubling up to 10 s; 3 restarts per 60 s.
    let policy = RestartPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(10), multiplier: 2,
                               maxRestarts: 3, window: .seconds(60))
    let drain = Duration.seconds(5)
    /// When a deadline fires after a shutdown or removal.
    var deadline: Duration { drain + SupervisorState.forcedCancelGrace }

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    /// A running supervisor with `names` started as ids 0, 1, ...
    func running(_ names: [String] = ["web"], policy: RestartPolicy? = nil) -> State {
        var state = State(names: names, policy: policy ?? self.policy, drainTimeout: drain)
        _ = state.start(stopRequested: false)
        return state
    }

    /// Fails `id` at `now` and, when a restart is scheduled, lets its backoff elapse; returns the actions of
    /// the failure.
    func failAndRestart(_ state: inout State, _ id: State.ChildID = 0, at now: ContinuousClock.Instant,
                        error: String = "boom") -> [Action] {
        let actions = state.childExited(id, .threw(error), now: now)
        if case .scheduleRestart? = actions.first, let attempt = state.children[id]?.attempt {
            #expect(state.restartBackoffElapsed(id) == [.start(id, attempt: attempt)])
        }
        return actions
    }

    // MARK: - Start

    @Test func startRunsEveryServiceWithAttemptZero_inTheOrderAdded() {
        var state = State(names: ["a", "b", "c"], policy: policy, drainTimeout: drain)
        #expect(state.start(stopRequested: false) == [.start(0, attempt: 0), .start(1, attempt: 0),
                                                      .start(2, attempt: 0)])
        #expect(state.isRunning)
        #expect(state.serviceNames == ["a", "b", "c"])
    }

    @Test func duplicateNamesAtInit_finishTheRunWithoutStartingAnything() {
        var state = State(names: ["a", "b", "a"], policy: policy, drainTimeout: drain)
        #expect(state.start(stopRequested: false) == [.finish(.invalidServices(.duplicateServiceName("a")))])
        #expect(state.lifecycle == .finished)
    }

    @Test func shutdownBeforeStart_forgetsEveryServiceAndFinishes() {
        var state = State(names: ["a", "b"], policy: policy, drainTimeout: drain)
        #expect(state.start(stopRequested: true) == [.forget(0, .neverStarted), .forget(1, .neverStarted),
                                                     .finish(.stoppedBeforeStart)])
        #expect(state.serviceNames.isEmpty)
    }

    @Test func runWithNoServicesKeepsRunning() {
        var state = State(names: [], policy: policy, drainTimeout: drain)
        #expect(state.start(stopRequested: false) == [])
        #expect(state.isRunning)
    }

    // MARK: - Restarts

    @Test func failingService_isRestartedWithAGrowingBackoff() {
        var state = running()
        #expect(failAndRestart(&state, at: at(0), error: "refused")
            == [.scheduleRestart(0, after: .milliseconds(100), failedAttempt: 0, error: "refused")])
        #expect(failAndRestart(&state, at: at(1_000))
            == [.scheduleRestart(0, after: .milliseconds(200), failedAttempt: 1, error: "boom")])
        #expect(failAndRestart(&state, at: at(2_000))
            == [.scheduleRestart(0, after: .milliseconds(400), failedAttempt: 2, error: "boom")])
        #expect(state.restartCount(of: "web") == 3)
        #expect(state.children[0]?.attempt == 3)
        #expect(state.serviceNames == ["web"])
    }

    @Test func backoffIsCappedAtMaxBackoff() {
        let capped = RestartPolicy(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(300), multiplier: 2,
                                   maxRestarts: 10, window: .seconds(60))
        var state = running(policy: capped)
        var backoffs: [Duration] = []
        for second in 0..<5 {
            if case let .scheduleRestart(_, backoff, _, _)? = failAndRestart(&state, at: at(second * 1_000)).first {
                backoffs.append(backoff)
            }
        }
        #expect(backoffs == [.milliseconds(100), .milliseconds(200), .milliseconds(300), .milliseconds(300),
                             .milliseconds(300)])
    }

    @Test func failingService_isNotStartedBeforeItsBackoffElapsed() {
        var state = running()
        _ = state.childExited(0, .threw("boom"), now: at(0))
        #expect(state.children[0]?.phase == .waitingToRestart)
        // A late report from the task that already ended changes nothing.
        #expect(state.childExited(0, .threw("boom"), now: at(1)) == [])
        #expect(state.restartCount(of: "web") == 1)
        #expect(state.restartBackoffElapsed(0) == [.start(0, attempt: 1)])
        #expect(state.restartBackoffElapsed(0) == [], "a second report does not start it twice")
    }

    @Test func tooManyRestartsInTheWindow_escalateNamingTheService() {
        var state = running(["steady", "broken"])
        for second in 0..<3 {
            _ = failAndRestart(&state, 1, at: at(second * 1_000), error: "kaput")
        }
        let error = SupervisorError.restartIntensityExceeded(service: "broken", restarts: 3, window: .seconds(60),
                                                             lastError: "kaput")
        #expect(state.childExited(1, .threw("kaput"), now: at(3_000))
            == [.escalate(1, error, attempt: 3), .signalShutdown(0, .supervisorStopping),
                .armDrainDeadline(after: deadline)])
        #expect(state.lifecycle == .shuttingDown(.escalated(error)))
        #expect(state.serviceNames == ["steady"])
        #expect(state.restartCount(of: "broken") == 3, "the escalating failure is not a restart")
        // The healthy service drains; then the run finishes with the error.
        #expect(state.childExited(0, .returned, now: at(3_100)) == [.forget(0, .stopped), .finish(.escalated(error))])
        #expect(state.lifecycle == .finished)
    }

    @Test func escalationOfTheOnlyService_finishesAtOnce() {
        var state = running(["broken"], policy: RestartPolicy(maxRestarts: 0))
        let error = SupervisorError.restartIntensityExceeded(service: "broken", restarts: 0, window: .seconds(60),
                                                             lastError: "kaput")
        #expect(state.childExited(0, .threw("kaput"), now: at(0))
            == [.escalate(0, error, attempt: 0), .finish(.escalated(error))])
    }

    @Test func restartsOutsideTheWindow_neitherEscalateNorGrowTheBackoff() {
        // One restart allowed per 80 ms; failures 150 ms apart never have another restart in their window.
        let tight = RestartPolicy(initialBackoff: .milliseconds(5), maxRestarts: 1, window: .milliseconds(80))
        var state = running(policy: tight)
        for step in 0..<6 {
            #expect(failAndRestart(&state, at: at(step * 150))
                == [.scheduleRestart(0, after: .milliseconds(5), failedAttempt: step, error: "boom")])
        }
        #expect(state.restartCount(of: "web") == 6)
        #expect(state.isRunning)
    }

    @Test func aRestartExactlyAWindowOldNoLongerCounts() {
        var state = running(policy: RestartPolicy(initialBackoff: .milliseconds(100), maxRestarts: 1,
                                                  window: .seconds(10)))
        _ = failAndRestart(&state, at: at(0))
        // At 9.999 s the restart at 0 still counts: a second failure escalates...
        var early = state
        #expect(early.childExited(0, .threw("boom"), now: at(9_999)).first.map {
            if case .escalate = $0 { true } else { false }
        } == true)
        // ...at 10 s it is out of the window: a restart with the initial backoff.
        #expect(state.childExited(0, .threw("boom"), now: at(10_000))
            == [.scheduleRestart(0, after: .milliseconds(100), failedAttempt: 1, error: "boom")])
    }

    @Test func serviceThatReturns_isNotRestarted() {
        var state = running(["migrate", "web"])
        #expect(state.childExited(0, .returned, now: at(0)) == [.forget(0, .finishedOnItsOwn(attempt: 0))])
        #expect(state.serviceNames == ["web"])
        #expect(state.restartCount(of: "migrate") == 0)
        #expect(state.isRunning)
    }

    @Test func lastServiceReturning_doesNotEndTheRun() {
        var state = running(["once"])
        #expect(state.childExited(0, .returned, now: at(0)) == [.forget(0, .finishedOnItsOwn(attempt: 0))])
        #expect(state.isRunning, "a service may be added later")
        #expect(state.serviceNames.isEmpty)
    }

    @Test func restartCountOutlivesTheService_untilTheNameIsAddedAgain() throws {
        var state = running(["web"])
        _ = failAndRestart(&state, at: at(0))
        _ = state.remove("web")
        #expect(state.restartCount(of: "web") == 1)
        _ = try state.add("web")
        #expect(state.restartCount(of: "web") == 0)
        #expect(state.restartCount(of: "never-added") == 0)
    }

    // MARK: - Shutdown

    @Test func shutdown_signalsEveryServiceInOrder_thenFinishesWhenTheLastStops() {
        var state = running(["a", "b"])
        #expect(state.shutdownRequested() == [.signalShutdown(0, .supervisorStopping),
                                              .signalShutdown(1, .supervisorStopping),
                                              .armDrainDeadline(after: deadline)])
        #expect(state.shutdownRequested() == [], "a second request changes nothing")
        #expect(state.childExited(1, .returned, now: at(10)) == [.forget(1, .stopped)])
        #expect(state.childExited(0, .returned, now: at(20)) == [.forget(0, .stopped), .finish(.stopped)])
        #expect(state.lifecycle == .finished)
        #expect(state.drainDeadlinePassed() == [], "a deadline after the end is a late report")
    }

    @Test func shutdownDuringBackoff_forgetsTheWaitingService_andFinishesAtOnce() {
        var state = running(["failing"])
        _ = state.childExited(0, .threw("down"), now: at(0))
        #expect(state.shutdownRequested() == [.signalShutdown(0, .supervisorStopping),
                                              .forget(0, .stoppedDuringBackoff), .finish(.stopped)])
        #expect(state.restartBackoffElapsed(0) == [], "the backoff timer's late report starts nothing")
    }

    @Test func serviceThatThrowsWhileStopping_isNotRestarted() {
        var state = running(["sloppy"])
        _ = state.shutdownRequested()
        #expect(state.childExited(0, .threw("unclean close"), now: at(0))
            == [.forget(0, .failedWhileStopping(error: "unclean close")), .finish(.stopped)])
        #expect(state.restartCount(of: "sloppy") == 0)
    }

    @Test func drainDeadline_cancelsTheServicesStillRunning() {
        var state = running(["stubborn", "polite", "slow"])
        _ = state.shutdownRequested()
        _ = state.childExited(1, .returned, now: at(10))
        #expect(state.drainDeadlinePassed() == [.cancelAll(stuck: [0, 2])])
        #expect(state.childExited(0, .threw("CancellationError()"), now: at(6_000))
            == [.forget(0, .stoppedAfterCancellation(error: "CancellationError()"))])
        #expect(state.childExited(2, .returned, now: at(6_001))
            == [.forget(2, .stoppedAfterCancellation(error: nil)), .finish(.stopped)])
    }

    @Test func drainDeadline_whileRunning_isIgnored() {
        var state = running()
        #expect(state.drainDeadlinePassed() == [])
        #expect(state.isRunning)
    }

    @Test func serviceAddedButNotStarted_isForgottenSilentlyOnShutdown() throws {
        var state = running(["a"])
        let (late, _) = try state.add("late")
        #expect(state.shutdownRequested() == [.signalShutdown(0, .supervisorStopping), .forget(late, .neverStarted),
                                              .armDrainDeadline(after: deadline)])
        #expect(state.requestsPending() == [], "nothing starts once shutdown began")
    }

    @Test func shutdownUsesTheLatestDrainTimeout() {
        var state = running()
        state.setDrainTimeout(.milliseconds(250))
        #expect(state.shutdownRequested().last == .armDrainDeadline(after: .milliseconds(1_250)))
    }

    // MARK: - Add and remove

    @Test func addWhileRunning_wakesTheRunLoop_whichStartsIt() throws {
        var state = running(["a"])
        let (id, actions) = try state.add("b")
        #expect(id == 1)
        #expect(actions == [.wakeRunLoop])
        #expect(state.serviceNames == ["a", "b"])
        #expect(state.requestsPending() == [.start(1, attempt: 0)])
        #expect(state.requestsPending() == [], "started once")
    }

    @Test func addBeforeRun_startsWithTheOthers() throws {
        var state = State(names: ["a"], policy: policy, drainTimeout: drain)
        let (id, actions) = try state.add("b")
        #expect(actions == [])
        #expect(state.start(stopRequested: false) == [.start(0, attempt: 0), .start(id, attempt: 0)])
    }

    @Test func addDuringShutdown_isRefused() {
        var state = running(["a"])
        _ = state.shutdownRequested()
        #expect(throws: SupervisorError.shuttingDown(service: "late")) { try state.add("late") }
        _ = state.childExited(0, .returned, now: at(0))
        #expect(state.lifecycle == .finished)
        #expect(throws: SupervisorError.shuttingDown(service: "late")) { try state.add("late") }
    }

    @Test func addingASupervisedName_isRefused() throws {
        var state = State(names: ["a"], policy: policy, drainTimeout: drain)
        #expect(throws: SupervisorError.duplicateServiceName("a")) { try state.add("a") }
        _ = state.start(stopRequested: false)
        #expect(throws: SupervisorError.duplicateServiceName("a")) { try state.add("a") }
    }

    @Test func removalOfARunningService_signalsIt_andArmsItsDeadline() {
        var state = running(["old", "keep"])
        #expect(state.remove("old") == [.signalShutdown(0, .removed), .wakeRunLoop])
        #expect(state.serviceNames == ["keep"], "a removed service drops out at once, even while it drains")
        #expect(state.requestsPending() == [.armRemovalDeadline(0, after: deadline)])
        #expect(state.requestsPending() == [], "armed once")
        // It stops within its drain time; it is not restarted even if it throws.
        #expect(state.childExited(0, .threw("closing"), now: at(10))
            == [.forget(0, .failedWhileStopping(error: "closing"))])
        #expect(state.removalDeadlinePassed(0) == [], "the deadline of a service that stopped is a late report")
        #expect(state.isRunning)
        #expect(state.restartCount(of: "old") == 0)
    }

    @Test func removedServiceOverrunningItsDrainTime_isCancelledAlone() {
        var state = running(["stubborn", "keep"])
        _ = state.remove("stubborn")
        _ = state.requestsPending()
        #expect(state.removalDeadlinePassed(0) == [.cancel(0)])
        #expect(state.childExited(0, .returned, now: at(6_000)) == [.forget(0, .stoppedAfterCancellation(error: nil))])
        #expect(state.isRunning)
        #expect(state.serviceNames == ["keep"])
    }

    @Test func removalDuringBackoff_forgetsTheServiceAtOnce() {
        var state = running(["failing"])
        _ = state.childExited(0, .threw("down"), now: at(0))
        #expect(state.remove("failing") == [.signalShutdown(0, .removed), .forget(0, .stoppedDuringBackoff)])
        #expect(state.restartBackoffElapsed(0) == [])
        #expect(state.children.isEmpty)
    }

    @Test func removalOfAServiceNotStartedYet_forgetsIt() throws {
        var state = running(["a"])
        let (id, _) = try state.add("b")
        #expect(state.remove("b") == [.signalShutdown(id, .removed), .forget(id, .neverStarted)])
        #expect(state.requestsPending() == [])
    }

    @Test func removalBeforeRun_forgetsTheService() {
        var state = State(names: ["a", "b"], policy: policy, drainTimeout: drain)
        #expect(state.remove("a") == [.forget(0, .removedBeforeRun)])
        #expect(state.start(stopRequested: false) == [.start(1, attempt: 0)])
    }

    @Test func removalOfAnUnknownName_isNil_andDuringShutdownIsNothing() {
        var state = running(["a"])
        #expect(state.remove("nope") == nil)
        _ = state.shutdownRequested()
        #expect(state.remove("a") == [])
    }

    @Test func removedNameCanBeAddedAgain_whileTheOldOneDrains() throws {
        var state = running(["web"])
        _ = state.remove("web")
        let (successor, _) = try state.add("web")
        #expect(successor == 1)
        #expect(state.requestsPending() == [.start(1, attempt: 0), .armRemovalDeadline(0, after: deadline)])
        // The old one's end and deadline concern the old one only.
        #expect(state.childExited(0, .returned, now: at(10)) == [.forget(0, .stopped)])
        #expect(state.removalDeadlinePassed(0) == [])
        #expect(state.serviceNames == ["web"])
        #expect(state.children[1]?.phase == .running)
    }

    @Test func shutdownWhileARemovedServiceDrains_waitsForIt() {
        var state = running(["old", "keep"])
        _ = state.remove("old")
        _ = state.requestsPending()
        #expect(state.shutdownRequested() == [.signalShutdown(0, .supervisorStopping),
                                              .signalShutdown(1, .supervisorStopping),
                                              .armDrainDeadline(after: deadline)])
        #expect(state.childExited(1, .returned, now: at(10)) == [.forget(1, .stopped)])
        #expect(state.childExited(0, .returned, now: at(20)) == [.forget(0, .stopped), .finish(.stopped)])
    }
}
