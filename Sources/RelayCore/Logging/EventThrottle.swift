import RelayIO

/// `EventThrottleState` behind a lock, for events raised on any thread.
public final class EventThrottle: Sendable {
    private let state: SanitizerVisibleMutex<EventThrottleState>

    public init(limit: Int, window: Duration) {
        state = SanitizerVisibleMutex(EventThrottleState(limit: limit, window: window))
    }

    /// Decides for one event now (monotonic clock of the event loops).
    public func event(now: UInt64 = EventLoop.now()) -> EventThrottleState.Decision {
        state.withLock { $0.event(now: now) }
    }

    /// See `EventThrottleState.flush(now:)`.
    public func flush(now: UInt64 = EventLoop.now()) -> Int {
        state.withLock { $0.flush(now: now) }
    }
}
