/// One server's score, part by part, with the raw measurements behind it: what `relayd probe`, the admin
/// API and the logs show, and what the Selector ranks by (`total`).
///
/// Parts are in points (latency 0…45, jitter 0…15, success 0…40 with the default parameters); raw values
/// are nil while nothing has been measured for them. Encodes with the field names below; nil values are
/// left out.
public struct ScoreBreakdown: Sendable, Equatable, Codable {
    /// Latency part, from the effective latency `max(latencyMs, ttfbMs)`.
    public var latency: Double
    /// Jitter part, from the probe jitter; 0 until two latency samples exist.
    public var jitter: Double
    /// Success part: success rate × its maximum.
    public var success: Double
    /// Failure penalty in force, subtracted from the total.
    public var penalty: Double
    /// History bonus earned by long success streaks, added to the total.
    public var bonus: Double
    /// `latency + jitter + success − penalty + bonus`, clamped to 0…100; 0 for an unknown server.
    public var total: Double
    /// Probe latency EWMA in milliseconds.
    public var latencyMs: Double?
    /// Probe jitter EWMA in milliseconds.
    public var jitterMs: Double?
    /// Success-rate EWMA, 0…1, from probes and traffic.
    public var successRate: Double?
    /// Traffic's time-to-first-byte EWMA in milliseconds.
    public var ttfbMs: Double?
    /// Traffic's connect-time EWMA in milliseconds (shown, not scored).
    public var connectMs: Double?
    /// Probe failures in a row.
    public var consecutiveFailures: Int
    /// Whether the server is up (hysteresis on probes; down at once on a traffic failure).
    public var healthy: Bool
    /// False for an unknown server (nothing measured yet): its zero total means "no evidence", not "bad".
    public var measured: Bool
    /// The most recent probe or traffic failure, kept after recovery.
    public var lastError: String?
    /// Why the server is down (`3 consecutive failures`, `traffic: connection refused`); nil while it is up.
    public var downReason: String?
}
