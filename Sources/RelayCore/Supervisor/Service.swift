/// A long-lived component (listener, health prober, admin server...) run by the `Supervisor`.
///
/// `run(_:)` should keep going until `context.shutdown` fires, then finish in-flight work within
/// `context.drainTimeout` and return. Throwing means "I failed": the supervisor restarts the service after
/// a backoff. Returning while nobody asked it to stop means "I am done": it is not restarted.
/// A service must also stop when its task is cancelled; that is how the supervisor ends a service that
/// overruns its drain time.
public protocol Service: Sendable {
    /// Unique within a supervisor; names the service in logs, in `remove(_:)` and in restart accounting.
    var name: String { get }

    /// Runs the service. Called again (with `context.attempt` one higher) after each restart.
    func run(_ context: ServiceContext) async throws
}
