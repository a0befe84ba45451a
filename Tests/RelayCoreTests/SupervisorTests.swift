import RelayIO
import Testing
import TestSupport
@testable import RelayCore

// MARK: - Lifecycle

@Suite struct SupervisorTests {
    @Test func startsEveryServiceWithAttemptZero() async throws {
        let starts = Recorder<String>()
        let services: [any Service] = ["a", "b", "c"].map { name in
            ClosureService(name) { context in
                starts.record("\(name):\(context.attempt)")
                await context.shutdown.wait()
            }
        }
        let supervisor = makeSupervisor(services)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("all three services started") { starts.count == 3 }
            #expect(Set(starts.all) == ["a:0", "b:0", "c:0"])
            #expect(await supervisor.serviceNames == ["a", "b", "c"])
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func contextCarriesDrainTimeoutAndServiceLogger() async throws {
        let log = LogCapture()
        let seen = Recorder<Duration>()
        let service = ClosureService("web") { context in
            seen.record(context.drainTimeout)
            context.logger.info("hello from the service")
            await context.shutdown.wait()
        }
        let supervisor = makeSupervisor([service], drainTimeout: .milliseconds(750), log: log)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("service started") { seen.count == 1 }
            #expect(seen.all == [.milliseconds(750)])
            // The service logs after recording what it saw: wait for the line rather than race it.
            try await eventually("the service's log line") {
                log.lines.contains { $0.contains("msg=\"hello from the service\" service=web") }
            }
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func shutdownBeforeRunReturnsPromptlyWithoutStartingServices() async throws {
        let starts = Recorder<Int>()
        let supervisor = makeSupervisor([idleService("a", starts: starts)])
        supervisor.shutdown()
        try await withTimeout(.seconds(2), "run() after shutdown()") { try await supervisor.run() }
        #expect(starts.count == 0)
        #expect(await supervisor.serviceNames.isEmpty)
    }

    @Test func gracefulShutdownWaitsForDrainingService() async throws {
        let events = Recorder<String>()
        let service = ClosureService("slow") { context in
            events.record("started")
            await context.shutdown.wait()
            events.record("draining")
            // A drain that takes time is the behaviour under test.
            try await Task.sleep(for: .milliseconds(150))
            events.record(Task.isCancelled ? "cancelled" : "drained")
        }
        let supervisor = makeSupervisor([service], drainTimeout: .seconds(20))
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("service started") { events.count == 1 }
            let shutdownAt = ContinuousClock.now
            supervisor.shutdown()
            try await waitForRun(run, within: .seconds(30))
            let elapsed = ContinuousClock.now - shutdownAt
            #expect(events.all == ["started", "draining", "drained"])
            #expect(elapsed >= .milliseconds(150))
            #expect(elapsed < .seconds(20), "run() should return once the service has drained, not at the drain timeout")
        }
    }

    @Test func cancelsServiceThatIgnoresShutdownAfterDrainTimeout() async throws {
        let log = LogCapture()
        let events = Recorder<String>()
        let stubborn = ClosureService("stubborn") { _ in
            events.record("started")
            do {
                // A service that ignores shutdown is the behaviour under test.
                try await Task.sleep(for: .seconds(60))
                events.record("slept")
            } catch {
                events.record("cancelled")
                throw error
            }
        }
        let polite = ClosureService("polite") { context in
            await context.shutdown.wait()
            events.record("polite stopped")
        }
        // Long enough that the polite service stops within it on a loaded machine (it only has to wake up).
        let drain = Duration.seconds(2)
        let supervisor = makeSupervisor([stubborn, polite], drainTimeout: drain, log: log)
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("stubborn service started") { events.all.contains("started") }
            let shutdownAt = ContinuousClock.now
            supervisor.shutdown()
            try await waitForRun(run, within: .seconds(10))
            let elapsed = ContinuousClock.now - shutdownAt
            #expect(events.all.contains("cancelled"))
            #expect(events.all.contains("polite stopped"))
            #expect(!events.all.contains("slept"))
            #expect(elapsed >= drain + Supervisor.forcedCancelGrace)
            #expect(log.lines.contains {
                $0.contains("level=warn") && $0.contains("cancelling them") && $0.contains("services=stubborn")
            })
            #expect(!log.lines.contains { $0.contains("cancelling them") && $0.contains("polite") })
        }
    }

    @Test func shutdownTwiceIsHarmless() async throws {
        let supervisor = makeSupervisor([idleService("a")])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("service listed") { await supervisor.serviceNames == ["a"] }
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { supervisor.shutdown() } }
            }
            supervisor.shutdown()
            try await waitForRun(run)
            supervisor.shutdown()
        }
    }

    @Test func cancellingRunStopsServicesWithoutRestartingThem() async throws {
        let events = Recorder<String>()
        let service = ClosureService("web") { context in
            events.record("started \(context.attempt)")
            do {
                // A service that ignores shutdown is the behaviour under test.
                try await Task.sleep(for: .seconds(60))
            } catch {
                events.record("cancelled")
                throw error
            }
        }
        let supervisor = makeSupervisor([service])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("service started") { events.count == 1 }
            run.cancel()
            try await waitForRun(run)
            #expect(events.all == ["started 0", "cancelled"])
            #expect(await supervisor.restartCount(of: "web") == 0)
        }
    }

    @Test func serviceThatReturnsIsNotRestarted() async throws {
        let log = LogCapture()
        let starts = Recorder<Int>()
        let oneShot = ClosureService("migrate") { context in
            starts.record(context.attempt)
        }
        let supervisor = makeSupervisor([oneShot, idleService("web")], log: log)
        try await withRunningSupervisor(supervisor) { run in
            // That it is never restarted is `SupervisorStateTests`' business; here, that it is gone and logged.
            try await eventually("one-shot service gone") { await supervisor.serviceNames == ["web"] }
            #expect(starts.all == [0])
            #expect(await supervisor.restartCount(of: "migrate") == 0)
            #expect(log.lines.contains {
                $0.contains("level=info") && $0.contains("finished on its own") && $0.contains("service=migrate")
            })
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func addStartsServiceWhileRunning() async throws {
        let starts = Recorder<Int>()
        let supervisor = makeSupervisor([idleService("a")])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("supervisor running") { await supervisor.serviceNames == ["a"] }
            try await supervisor.add(idleService("b", starts: starts))
            try await eventually("added service started") { starts.count == 1 }
            #expect(await supervisor.serviceNames == ["a", "b"])
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func serviceAddedBeforeRunStartsWithTheOthers() async throws {
        let starts = Recorder<Int>()
        let supervisor = makeSupervisor([idleService("a")])
        try await supervisor.add(idleService("b", starts: starts))
        #expect(await supervisor.serviceNames == ["a", "b"])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("service added before run started") { starts.count == 1 }
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func removeStopsOneServiceGracefullyWithoutRestart() async throws {
        let events = Recorder<String>()
        let removable = ClosureService("old") { context in
            events.record("old started \(context.attempt)")
            await context.shutdown.wait()
            events.record("old stopped")
        }
        let keeper = ClosureService("keep") { context in
            await context.shutdown.wait()
            events.record("keep stopped")
        }
        let supervisor = makeSupervisor([removable, keeper])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("old started") { events.all.contains("old started 0") }
            await supervisor.remove("old")
            #expect(await supervisor.serviceNames == ["keep"])
            try await eventually("old stopped") { events.all.contains("old stopped") }
            #expect(events.all == ["old started 0", "old stopped"], "removed service must not restart, others keep running")
            #expect(await supervisor.restartCount(of: "old") == 0)
            supervisor.shutdown()
            try await waitForRun(run)
            #expect(events.all.last == "keep stopped")
        }
    }

    @Test func removedNameCanBeAddedAgain() async throws {
        let starts = Recorder<Int>()
        let supervisor = makeSupervisor([idleService("web")])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("running") { await supervisor.serviceNames == ["web"] }
            await supervisor.remove("web")
            try await supervisor.add(idleService("web", starts: starts))
            try await eventually("replacement started") { starts.count == 1 }
            #expect(await supervisor.serviceNames == ["web"])
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func removedServiceThatIgnoresShutdownIsCancelled() async throws {
        let events = Recorder<String>()
        let stubborn = ClosureService("stubborn") { _ in
            events.record("started")
            do {
                // A service that ignores shutdown is the behaviour under test.
                try await Task.sleep(for: .seconds(60))
            } catch {
                events.record("cancelled")
            }
        }
        let keeper = ClosureService("keep") { context in
            await context.shutdown.wait()
            events.record(Task.isCancelled ? "keep cancelled" : "keep stopped")
        }
        let supervisor = makeSupervisor([stubborn, keeper], drainTimeout: .milliseconds(50))
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("stubborn started") { events.all.contains("started") }
            await supervisor.remove("stubborn")
            try await eventually("removed service cancelled") { events.all.contains("cancelled") }
            #expect(!events.all.contains("keep stopped"), "other services must keep running")
            supervisor.shutdown()
            try await waitForRun(run)
            #expect(events.all.last == "keep stopped")
        }
    }

    @Test func rejectsDuplicateNamesGivenAtInit() async throws {
        let supervisor = makeSupervisor([idleService("a"), idleService("b"), idleService("a")])
        await #expect(throws: SupervisorError.duplicateServiceName("a")) {
            try await withTimeout { try await supervisor.run() }
        }
    }

    @Test func rejectsAddingDuplicateName() async throws {
        let supervisor = makeSupervisor([idleService("a")])
        await #expect(throws: SupervisorError.duplicateServiceName("a")) {
            try await supervisor.add(idleService("a"))
        }
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("running") { await supervisor.serviceNames == ["a"] }
            await #expect(throws: SupervisorError.duplicateServiceName("a")) {
                try await supervisor.add(idleService("a"))
            }
            supervisor.shutdown()
            try await waitForRun(run)
        }
    }

    @Test func rejectsAddAfterShutdown() async throws {
        let supervisor = makeSupervisor([idleService("a")])
        try await withRunningSupervisor(supervisor) { run in
            try await eventually("running") { await supervisor.serviceNames == ["a"] }
            supervisor.shutdown()
            await #expect(throws: SupervisorError.shuttingDown(service: "late")) {
                try await supervisor.add(idleService("late"))
            }
            try await waitForRun(run)
            await #expect(throws: SupervisorError.shuttingDown(service: "late")) {
                try await supervisor.add(idleService("late"))
            }
        }
    }
}
