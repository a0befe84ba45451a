/// Counters of one backend group that outlive a config reload: a group replaced by its successor hands these
/// on, so a reload does not reset what Prometheus sees.
public final class BackendGroupStats: Sendable {
    /// Time to connect to a server, for every successful backend connection of the group.
    public let connectDuration = Histogram(buckets: Histogram.latencyBuckets)
    /// Backend connect attempts that failed (refused, timed out, unreachable).
    public let connectFailures = Counter()
    /// Active probes that passed.
    public let probeSuccesses = Counter()
    /// Active probes that failed.
    public let probeFailures = Counter()
    /// Probes that could not run because relayd itself was out of sockets, memory or ports (not scored).
    public let probeLocalErrors = Counter()
    /// Pool dials that could not start for the same reason (no back-off from the server).
    public let poolDialLocalErrors = Counter()
    /// How long each probe took (until its answer, or its timeout).
    public let probeDuration = Histogram(buckets: Histogram.latencyBuckets)

    public init() {}
}
