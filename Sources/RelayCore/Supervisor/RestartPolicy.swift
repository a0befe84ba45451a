/// How the supervisor restarts a service that throws, and when it gives up.
///
/// The n-th restart inside the current `window` waits `initialBackoff × multiplier^n` (capped at
/// `maxBackoff`), so a service that fails once in a while comes back quickly and one that keeps failing
/// does not spin. Restarts older than `window` are forgotten. If a service would need more than
/// `maxRestarts` restarts inside `window`, the failure is treated as permanent: the supervisor escalates
/// (stops everything and throws `SupervisorError.restartIntensityExceeded`), the way an OTP supervisor
/// does, because a daemon that is half up is worse than one that exits and gets restarted by its own
/// supervisor (systemd, Kubernetes).
public struct RestartPolicy: Sendable, Equatable {
    /// Wait before the first restart inside a window.
    public var initialBackoff: Duration = .milliseconds(100)
    /// Upper bound on any single wait, however many restarts came before.
    public var maxBackoff: Duration = .seconds(10)
    /// Growth factor between consecutive waits; 1 means a constant wait. Values below 1 are treated as 1.
    public var multiplier: Double = 2
    /// More than this many restarts of one service inside `window` escalates. 0 escalates on the first
    /// failure.
    public var maxRestarts: Int = 5
    /// Sliding period over which restarts are counted, both for `maxRestarts` and for the backoff exponent.
    public var window: Duration = .seconds(60)

    public init(initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(10),
                multiplier: Double = 2, maxRestarts: Int = 5, window: Duration = .seconds(60)) {
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.multiplier = multiplier
        self.maxRestarts = maxRestarts
        self.window = window
    }

    /// The wait before a restart when `restartsInWindow` restarts of the same service already happened
    /// inside the window: `initialBackoff × multiplier^restartsInWindow`, capped at `maxBackoff`, never
    /// negative.
    func backoff(restartsInWindow: Int) -> Duration {
        let cap = max(maxBackoff, .zero)
        let initial = min(max(initialBackoff, .zero), cap)
        let factor = multiplier.isFinite ? max(multiplier, 1) : 1
        guard restartsInWindow > 0, factor > 1, initial > .zero else { return initial }
        // Grow the factor step by step and stop as soon as the cap is reached, so a large exponent can
        // neither overflow `Duration` nor reach floating-point infinity.
        let capSeconds = cap.secondsValue
        let initialSeconds = initial.secondsValue
        var scale = 1.0
        for _ in 0..<restartsInWindow {
            scale *= factor
            if initialSeconds * scale >= capSeconds { return cap }
        }
        return initial * scale
    }
}
