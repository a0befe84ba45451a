import Foundation
import Testing

/// Threads for compute-bound tests, one per core; never shut down (the test process ends with them).
let computeThreads = ComputeThreads(count: max(2, ProcessInfo.processInfo.activeProcessorCount), name: "compute")

/// Runs a test that computes for a long time without awaiting (a fuzz loop, a distribution over a hundred
/// thousand picks, a 50 MB config) on threads of its own instead of the cooperative threads every test shares.
///
/// `swift test` runs tests in parallel on Swift's cooperative pool: one thread per core, two on our CI
/// machine. A synchronous test keeps its thread until it ends, so a few long ones at once leave none for the
/// relays that integration tests run alongside, whose tasks and actors then wait seconds to be scheduled:
/// probes time out, flows expire, a relay misses its own timers. Under this trait the test runs, as the same
/// task, on a preferred executor with threads of its own, which the kernel shares fairly with everything else.
/// Apply it to a suite to cover all of its tests.
public struct ComputeBoundTrait: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(computeThreads) {
            try await function()
        }
    }
}

extension Trait where Self == ComputeBoundTrait {
    /// The test computes for long stretches without awaiting: run it off the shared cooperative threads.
    public static var computeBound: Self { Self() }
}
