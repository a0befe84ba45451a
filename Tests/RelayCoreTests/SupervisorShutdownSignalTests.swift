import Testing
import TestSupport
@testable import RelayCore

@Suite struct SupervisorShutdownSignalTests {
    @Test func wakesEveryWaiter() async throws {
        let signal = ShutdownSignal()
        let started = CountBox()
        let woken = Recorder<Int>()
        try await withTimeout(.seconds(20), "all waiters") {
            // A task group, so that a failure cancels the waiters (which ends their wait) instead of leaving them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        started.increment()
                        await signal.wait()
                        woken.record(index)
                    }
                }
                // Every waiter is on its way in; those that have not parked yet must return too.
                try await eventually("all 50 waiters started") { started.count == 50 }
                #expect(woken.count == 0)
                signal.trigger()
                try await group.waitForAll()
            }
        }
        #expect(Set(woken.all) == Set(0..<50))
        #expect(signal.isTriggered)
    }

    @Test func waitReturnsAtOnceWhenAlreadyTriggered() async throws {
        let signal = ShutdownSignal()
        signal.trigger()
        try await withTimeout(.seconds(1), "wait on a triggered signal") { await signal.wait() }
    }

    @Test func waitReturnsEarlyWhenTaskIsCancelled() async throws {
        let signal = ShutdownSignal()
        let started = CountBox()
        let waiter = Task {
            started.increment()
            await signal.wait()
        }
        defer { waiter.cancel() }
        // Cancelled on its way into the wait or parked in it, the waiter must return.
        try await eventually("the waiter started") { started.count == 1 }
        waiter.cancel()
        try await withTimeout(.seconds(5), "cancelled waiter") { await waiter.value }
        #expect(!signal.isTriggered)
    }

    @Test func callbacksFireExactlyOnce() async throws {
        let signal = ShutdownSignal()
        let calls = Recorder<Int>()
        for index in 0..<3 {
            signal.onTrigger { calls.record(index) }
        }
        #expect(calls.count == 0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { signal.trigger() } }
        }
        signal.trigger()
        #expect(calls.all == [0, 1, 2], "each callback runs once, in registration order")
    }

    @Test func callbackAddedAfterTriggerRunsAtOnce() {
        let signal = ShutdownSignal()
        signal.trigger()
        let calls = Recorder<Int>()
        let registration = signal.onTrigger { calls.record(1) }
        #expect(calls.all == [1])
        registration.cancel()
        signal.trigger()
        #expect(calls.all == [1])
    }

    @Test func cancelledCallbackNeverRuns() {
        let signal = ShutdownSignal()
        let calls = Recorder<String>()
        let dropped = signal.onTrigger { calls.record("dropped") }
        signal.onTrigger { calls.record("kept") }
        dropped.cancel()
        dropped.cancel()
        signal.trigger()
        #expect(calls.all == ["kept"])
    }

    @Test func callbackRacingTriggerRunsExactlyOnce() async {
        for _ in 0..<200 {
            let signal = ShutdownSignal()
            let calls = Recorder<Int>()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { signal.onTrigger { calls.record(1) } }
                group.addTask { signal.trigger() }
            }
            #expect(calls.count == 1)
        }
    }

    @Test func waiterRacingTriggerAlwaysReturns() async throws {
        try await withTimeout(.seconds(10), "racing waiters") {
            for _ in 0..<200 {
                let signal = ShutdownSignal()
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { await signal.wait() }
                    group.addTask { signal.trigger() }
                }
            }
        }
    }
}
