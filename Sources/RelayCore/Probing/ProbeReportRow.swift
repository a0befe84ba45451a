import RelayProtocol

/// One row of `relayd probe`: what `count` probes of one server found.
public struct ProbeReportRow: Sendable, Equatable {
    /// The backend group.
    public var backend: String
    /// The server's address.
    public var server: String
    /// Answered its last probe and is not marked down.
    public var healthy: Bool
    /// `up` or `down`.
    public var state: String
    /// Probe latency EWMA, milliseconds (nil: no successful probe).
    public var latencyMs: Double?
    /// Probe jitter EWMA, milliseconds (nil: fewer than two successful probes).
    public var jitterMs: Double?
    /// Share of probes that succeeded (EWMA), 0...1.
    public var successRate: Double
    /// The score, 0...100, with the group's scoring parameters.
    public var score: Double
    /// Why the last failed probe failed (nil when every probe succeeded).
    public var error: String?
    /// Probes sent.
    public var probes: Int

    /// The row as a JSON object with every key, `null` for what was not measured (so scripts can rely on the
    /// keys), in alphabetical order as `relayd probe --json` has always written them.
    public var json: JSONValue {
        .object([
            ("backend", .string(backend)), ("error", .optional(error)), ("healthy", .bool(healthy)),
            ("jitter_ms", .optional(jitterMs)), ("latency_ms", .optional(latencyMs)), ("probes", .number(probes)),
            ("score", .number(score)), ("server", .string(server)), ("state", .string(state)),
            ("success_rate", .number(successRate)),
        ])
    }
}
