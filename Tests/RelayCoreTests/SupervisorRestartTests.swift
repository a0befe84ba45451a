import Testing
import TestSupport
@testable import RelayCore

@Suite struct SupervisorRestartTests {
    @Test func restartsFailingServiceWithIncreasingAttempt() async throws {
        let log = LogCapture()
        let attempts = Recorder<Int>()
        let flaky = ClosureService("flaky") { context in
            attempts.record(context.attempt)
            if context.attempt < 2 { throw TestFailure("connection refused") }
            await context.shutdown.wait()
        }
        let supervisor = makeSupervisor([flaky], log: log)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("third attempt started") { attempts.count == 3 }
            #expect(attempts.all == [0, 1, 2])
            #expect(await supervisor.restartCount(of: "flaky") == 2)
            #expect(await supervisor.serviceNames == ["flaky"])
            let warnings = log.lines.filter { $0.contains("level=warn") && $0.contains("restarting") }
            #expect(warnings.count == 2)
            #expect(warnings.first.map {
                $0.contains("service=flaky") && $0.contains("error=\"connection refused\"") && $0.contains("attempt=0")
                    && $0.contains("backoff=5ms")
            } == true)
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    /// The backoffs themselves are `SupervisorStateTests`' business; this checks that the actor waits them out.
    @Test func backoffGrowsBetweenAttempts() async throws {
        let policy = RestartPolicy(initialBackoff: .milliseconds(20), maxBackoff: .seconds(1), multiplier: 2,
                                   maxRestarts: 10, window: .seconds(60))
        let starts = Recorder<ContinuousClock.Instant>()
        let failing = ClosureService("failing") { context in
            starts.record(.now)
            if context.attempt < 2 { throw TestFailure("boom") }
            await context.shutdown.wait()
        }
        let supervisor = makeSupervisor([failing], policy: policy)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("three attempts") { starts.count == 3 }
            supervisor.shutdown()
            try await waitForRun(run)

            let times = starts.all
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            // Sleeps never end early, so the lower bounds hold however loaded the machine is; a constant
            // backoff would give ~20 ms gaps and fail the second.
            let expected: [Duration] = [.milliseconds(20), .milliseconds(40)]
            for (gap, minimum) in zip(gaps, expected) {
                #expect(gap >= minimum, "gap \(gap) should be at least \(minimum)")
            }
            #expect(gaps.reduce(.zero, +) < .seconds(10))
        }
    }

    @Test func backoffIsExponentialAndCapped() {
        let policy = RestartPolicy(initialBackoff: .milliseconds(100), maxBackoff: .seconds(1), multiplier: 3)
        #expect(policy.backoff(restartsInWindow: 0) == .milliseconds(100))
        #expect(policy.backoff(restartsInWindow: 1) == .milliseconds(300))
        #expect(policy.backoff(restartsInWindow: 2) == .milliseconds(900))
        #expect(policy.backoff(restartsInWindow: 3) == .seconds(1))
        #expect(policy.backoff(restartsInWindow: 10_000) == .seconds(1))
        let flat = RestartPolicy(initialBackoff: .milliseconds(50), multiplier: 0.5)
        #expect(flat.backoff(restartsInWindow: 4) == .milliseconds(50), "multipliers below 1 must not shrink the wait")
    }

    @Test func defaultPolicyMatchesDocumentation() {
        let policy = RestartPolicy()
        #expect(policy.initialBackoff == .milliseconds(100))
        #expect(policy.maxBackoff == .seconds(10))
        #expect(policy.multiplier == 2)
        #expect(policy.maxRestarts == 5)
        #expect(policy.window == .seconds(60))
    }

    @Test func escalatesAfterTooManyRestarts() async throws {
        let log = LogCapture()
        let attempts = Recorder<Int>()
        let broken = ClosureService("broken") { context in
            attempts.record(context.attempt)
            throw TestFailure("kaput")
        }
        let policy = RestartPolicy(initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(20), maxRestarts: 2,
                                   window: .seconds(10))
        let supervisor = makeSupervisor([broken, idleService("steady")], policy: policy, log: log)
        await #expect(throws: SupervisorError.restartIntensityExceeded(service: "broken", restarts: 2,
                                                                       window: .seconds(10), lastError: "kaput")) {
            try await withTimeout { try await supervisor.run() }
        }
        #expect(attempts.all == [0, 1, 2])
        #expect(await supervisor.restartCount(of: "broken") == 2)
        #expect(log.lines.contains {
            $0.contains("level=error") && $0.contains("service=broken") && $0.contains("error=kaput")
        })
    }

    @Test func signalsOtherServicesOnEscalation() async throws {
        let events = Recorder<String>()
        let broken = ClosureService("broken") { _ in
            throw TestFailure("kaput")
        }
        let steady = ClosureService("steady") { context in
            events.record("started")
            await context.shutdown.wait()
            // A drain that takes time is the behaviour under test.
            try await Task.sleep(for: .milliseconds(50))
            events.record(Task.isCancelled ? "cancelled" : "drained")
        }
        let policy = RestartPolicy(initialBackoff: .milliseconds(5), maxRestarts: 1, window: .seconds(10))
        let supervisor = makeSupervisor([steady, broken], policy: policy, drainTimeout: .seconds(2))
        let error = await #expect(throws: SupervisorError.self) {
            try await withTimeout { try await supervisor.run() }
        }
        guard case let .restartIntensityExceeded(service, restarts, _, _)? = error else {
            Issue.record("unexpected error \(String(describing: error))")
            return
        }
        #expect(service == "broken")
        #expect(restarts == 1)
        #expect(events.all == ["started", "drained"], "the healthy service is stopped gracefully, not killed")
    }

    /// The window's arithmetic is `SupervisorStateTests`' business; this checks that the actor reads the clock.
    @Test func restartsOutsideTheWindowAreForgotten() async throws {
        let attempts = Recorder<Int>()
        let occasional = ClosureService("occasional") { context in
            attempts.record(context.attempt)
            if context.attempt < 2 {
                // Failures spaced wider than the window are the behaviour under test.
                try await Task.sleep(for: .milliseconds(60))
                throw TestFailure("hiccup")
            }
            await context.shutdown.wait()
        }
        // One restart allowed per 30 ms; failures come at least 60 ms apart, so none escalates.
        let policy = RestartPolicy(initialBackoff: .milliseconds(5), maxRestarts: 1, window: .milliseconds(30))
        let supervisor = makeSupervisor([occasional], policy: policy)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("third attempt started") { attempts.count == 3 }
            #expect(await supervisor.restartCount(of: "occasional") == 2)
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func shutdownEndsBackoffEarly() async throws {
        let log = LogCapture()
        let attempts = Recorder<Int>()
        let failing = ClosureService("failing") { context in
            attempts.record(context.attempt)
            throw TestFailure("down")
        }
        let policy = RestartPolicy(initialBackoff: .seconds(30), maxBackoff: .seconds(30))
        let supervisor = makeSupervisor([failing], policy: policy, log: log)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("restart scheduled") { log.lines.contains { $0.contains("restarting after backoff") } }
            let shutdownAt = ContinuousClock.now
            supervisor.shutdown()
            try await waitForRun(run)
            #expect(ContinuousClock.now - shutdownAt < .seconds(15), "shutdown waited out the 30 s backoff")
            #expect(attempts.all == [0])
        }
    }

    @Test func backoffDoesNotDelayOtherServices() async throws {
        let starts = Recorder<Int>()
        let failing = ClosureService("failing") { _ in throw TestFailure("down") }
        let policy = RestartPolicy(initialBackoff: .seconds(30), maxBackoff: .seconds(30))
        let supervisor = makeSupervisor([failing], policy: policy)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("restart pending") { await supervisor.restartCount(of: "failing") == 1 }
            try await supervisor.add(idleService("fresh", starts: starts))
            try await eventually("new service started during the other's 30 s backoff", within: .seconds(15)) {
                starts.count == 1
            }
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func serviceThatThrowsDuringShutdownIsNotRestarted() async throws {
        let log = LogCapture()
        let attempts = Recorder<Int>()
        let sloppy = ClosureService("sloppy") { context in
            attempts.record(context.attempt)
            await context.shutdown.wait()
            throw TestFailure("unclean close")
        }
        let supervisor = makeSupervisor([sloppy], log: log)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("started") { attempts.count == 1 }
            supervisor.shutdown()
            try await waitForRun(run)
            #expect(attempts.all == [0])
            #expect(log.lines.contains { $0.contains("failed while stopping") && $0.contains("error=\"unclean close\"") })
        }
    }

    @Test func errorDescriptionsAreActionableSingleLines() {
        let escalation = SupervisorError.restartIntensityExceeded(service: "web", restarts: 5, window: .seconds(60),
                                                                  lastError: "bind failed:\naddress in use")
        #expect(escalation.description == "service 'web' keeps failing: restarted 5 times within 1m and failed again "
            + "(last error: bind failed: address in use); fix the cause, or allow more restarts in the restart policy")
        #expect(!SupervisorError.duplicateServiceName("web").description.contains("\n"))
        #expect(SupervisorError.duplicateServiceName("web").description.contains("'web'"))
        #expect(SupervisorError.shuttingDown(service: "web").description.contains("shutting down"))
    }

    @Test func durationsPrintAsTheConfigWritesThem() {
        #expect(DurationParser.format(.milliseconds(250)) == "250ms")
        #expect(DurationParser.format(.milliseconds(1500)) == "1.5s")
        #expect(DurationParser.format(.seconds(60)) == "1m")
        #expect(DurationParser.format(.zero) == "0s")
    }
}
