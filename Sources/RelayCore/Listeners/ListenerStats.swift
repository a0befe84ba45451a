/// What a TCP listener's connections did, for the metrics and the admin API. The forwarding path bumps these
/// handles with relaxed atomics: once per chunk for bytes, once per connection for the rest.
public final class ListenerStats: Sendable {
    /// Bytes received from clients.
    public let bytesIn = Counter()
    /// Bytes sent to clients.
    public let bytesOut = Counter()
    /// Lifetime of finished connections, from accept to close.
    public let duration = Histogram(buckets: Histogram.durationBuckets)
    /// Finished connections by how they ended (`AccessLogEntry.end`).
    public let ended: [String: Counter]
    /// Connections refused because no server of the group accepted them.
    public var noBackend: Counter { ended["no_backend"]! }

    /// The ways a connection can end, as counted.
    public static let endings = ["closed", "error", "cancelled", "no_backend"]

    public init() {
        var ended: [String: Counter] = [:]
        for ending in Self.endings { ended[ending] = Counter() }
        self.ended = ended
    }

    /// Counts one finished connection.
    func finished(end: String, duration: Duration) {
        ended[end]?.increment()
        self.duration.observe(duration)
    }
}
