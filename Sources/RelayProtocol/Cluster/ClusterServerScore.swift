/// One backend server's score as a cluster leader publishes it: the parts of the score (for display) and the
/// probe-derived measurements a follower adopts in place of probing the server itself.
///
/// A wire value with no I/O: `ClusterHeartbeat` carries it in static mode, and the etcd publication carries the
/// same fields as JSON. The server is named by its address (`ip:port`) because every node reads the same config,
/// so the address is what identifies "the same server" across nodes.
public struct ClusterServerScore: Sendable, Equatable {
    /// The server's address, `127.0.0.1:9001` or `[::1]:9001`.
    public var address: String
    /// Whether the leader considers the server up.
    public var healthy: Bool
    /// False while the leader has measured nothing about it (its zero total means "no evidence").
    public var measured: Bool
    /// The leader's total score, 0…100, for display; a follower recomputes its own from the adopted measurements.
    public var total: Double
    /// Latency part, for display.
    public var latency: Double
    /// Jitter part, for display.
    public var jitter: Double
    /// Success part, for display.
    public var success: Double
    /// Failure penalty in force: adopted.
    public var penalty: Double
    /// History bonus: adopted.
    public var bonus: Double
    /// Probe latency EWMA in milliseconds: adopted.
    public var latencyMs: Double?
    /// Probe jitter EWMA in milliseconds: adopted.
    public var jitterMs: Double?
    /// Success-rate EWMA, 0…1: adopted as the starting point for the follower's own traffic outcomes.
    public var successRate: Double?
    /// Probe failures in a row: adopted.
    public var consecutiveFailures: Int
    /// Probe successes in a row: adopted.
    public var consecutiveSuccesses: Int
    /// Probe results the leader has recorded for this server; a follower that saw the server fail under its own
    /// traffic waits for newer probe results before it believes the server is back.
    public var probes: UInt64
    /// Why the server is down, when it is (at most 200 bytes on the wire).
    public var downReason: String?
    /// The most recent failure the leader saw (at most 200 bytes on the wire).
    public var lastError: String?

    public init(address: String, healthy: Bool, measured: Bool, total: Double = 0, latency: Double = 0,
                jitter: Double = 0, success: Double = 0, penalty: Double = 0, bonus: Double = 0,
                latencyMs: Double? = nil, jitterMs: Double? = nil, successRate: Double? = nil,
                consecutiveFailures: Int = 0, consecutiveSuccesses: Int = 0, probes: UInt64 = 0,
                downReason: String? = nil, lastError: String? = nil) {
        self.address = address
        self.healthy = healthy
        self.measured = measured
        self.total = total
        self.latency = latency
        self.jitter = jitter
        self.success = success
        self.penalty = penalty
        self.bonus = bonus
        self.latencyMs = latencyMs
        self.jitterMs = jitterMs
        self.successRate = successRate
        self.consecutiveFailures = consecutiveFailures
        self.consecutiveSuccesses = consecutiveSuccesses
        self.probes = probes
        self.downReason = downReason
        self.lastError = lastError
    }
}
