import Testing
import TestSupport
@testable import RelayCore

// Fixtures shared by the Supervisor*Tests suites.

/// A service whose behaviour is a closure, so each test spells out what its service does.
struct ClosureService: Service {
    let name: String
    let body: @Sendable (ServiceContext) async throws -> Void

    init(_ name: String, _ body: @escaping @Sendable (ServiceContext) async throws -> Void) {
        self.name = name
        self.body = body
    }

    func run(_ context: ServiceContext) async throws {
        try await body(context)
    }
}

/// A service that runs until told to stop, recording each start.
func idleService(_ name: String, starts: Recorder<Int>? = nil) -> ClosureService {
    ClosureService(name) { context in
        starts?.record(context.attempt)
        await context.shutdown.wait()
    }
}

/// A restart policy with short waits, so restart tests take milliseconds.
let fastPolicy = RestartPolicy(initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(50), multiplier: 2,
                               maxRestarts: 10, window: .seconds(10))

func makeSupervisor(_ services: [any Service], policy: RestartPolicy = fastPolicy,
                    drainTimeout: Duration = .seconds(2), log: LogCapture = LogCapture()) -> Supervisor {
    Supervisor(services: services, policy: policy, drainTimeout: drainTimeout,
               logger: Logger(level: .debug, sink: .capture(log)))
}

/// Starts `run()` in the background.
func startRunning(_ supervisor: Supervisor) -> Task<Void, any Error> {
    Task { try await supervisor.run() }
}

/// Waits (bounded) for a background `run()` to end, rethrowing what it threw.
func waitForRun(_ run: Task<Void, any Error>, within limit: Duration = .seconds(20)) async throws {
    try await withTimeout(limit, "Supervisor.run()") { try await run.value }
}


/// Runs `supervisor` in the background for `body`, and afterwards, whether `body` returned or threw, shuts it
/// down and waits (bounded) for `run()` to end, so that no test leaves services running. `body` gets the
/// background run, to wait for it when the test checks how it ends; waiting again afterwards is harmless.
func withRunningSupervisor(_ supervisor: Supervisor, _ body: (Task<Void, any Error>) async throws -> Void)
    async throws
{
    let run = startRunning(supervisor)
    do {
        try await body(run)
    } catch {
        supervisor.shutdown()
        if (try? await waitForRun(run)) == nil {
            run.cancel()
            _ = try? await waitForRun(run, within: .seconds(5))
        }
        throw error
    }
    supervisor.shutdown()
    try await waitForRun(run)
}
