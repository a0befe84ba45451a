/// Lets at most `limit` events through per `window` and counts the rest, so a flood of the same event
/// (refused connections, a resource that ran out) costs a bounded number of log lines.
///
/// Pure and clock-free: the caller passes the time. The count of suppressed events is handed back with
/// the first event let through after them, or by `flush` when the window they fell in has passed, so the
/// caller can log "N more suppressed" once.
public struct EventThrottleState: Sendable, Equatable {
    /// What to do with one event.
    public enum Decision: Sendable, Equatable {
        /// Log it; `suppressedBefore` events were dropped since the last one logged.
        case emit(suppressedBefore: Int)
        /// Drop it (counted).
        case suppress
    }

    /// Events let through per window.
    public let limit: Int
    /// Window length, in nanoseconds.
    public let window: UInt64
    /// Start of the current window (monotonic ns); nil before the first event.
    private var windowStart: UInt64?
    /// Events let through in the current window.
    private var emitted = 0
    /// Events dropped since the last one let through (or the last flush).
    public private(set) var suppressed = 0

    public init(limit: Int, window: Duration) {
        precondition(limit > 0, "a throttle must let something through")
        self.limit = limit
        self.window = max(1, window.nanosecondsClamped)
    }

    /// Decides for one event at `now`.
    public mutating func event(now: UInt64) -> Decision {
        if windowStart.map({ now &- $0 >= window }) ?? true {
            windowStart = now
            emitted = 0
        }
        guard emitted < limit else {
            suppressed += 1
            return .suppress
        }
        emitted += 1
        defer { suppressed = 0 }
        return .emit(suppressedBefore: suppressed)
    }

    /// The events suppressed in a window that has ended by `now` and not yet reported (then forgotten);
    /// 0 while the window they fell in is still open.
    public mutating func flush(now: UInt64) -> Int {
        guard suppressed > 0, let start = windowStart, now &- start >= window else { return 0 }
        defer { suppressed = 0 }
        return suppressed
    }
}
