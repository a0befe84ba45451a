/// What the supervisor hands a service each time it starts it.
public struct ServiceContext: Sendable {
    /// Fires when this service should stop gracefully: the whole supervisor is shutting down, or the
    /// service was removed. The same signal is used across restarts of one service.
    public let shutdown: ShutdownSignal
    /// How long the service may spend finishing in-flight work after `shutdown` fires before the
    /// supervisor cancels its task.
    public let drainTimeout: Duration
    /// Already carries `service=<name>`, so every line the service logs says who wrote it.
    public let logger: Logger
    /// 0 on the first start, n on the n-th restart; lets a service log or vary what it does on retries.
    public let attempt: Int

    /// Builds a context; the supervisor does this, and tests use it to run a service on its own.
    public init(shutdown: ShutdownSignal, drainTimeout: Duration, logger: Logger, attempt: Int = 0) {
        self.shutdown = shutdown
        self.drainTimeout = drainTimeout
        self.logger = logger
        self.attempt = attempt
    }
}
