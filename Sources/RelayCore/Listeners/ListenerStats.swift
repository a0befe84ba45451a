/// What a TCP listener's connections did, for the metrics and the admin API. The forwarding path bumps these
/// handles with relaxed atomics: once per chunk for bytes, once per connection for the rest.
public final class ListenerStats: Sendable {
    /// Bytes received from clients.
    public let bytesIn = Counter()
    /// Bytes sent to clients.
    public let bytesOut = Counter()
    /// Lifetime of finished connections, from accept to close.
    public let duration = Histogram(buckets: Histogram.durationBuckets)
    /// PROXY protocol headers read from trusted proxies (`accept_proxy`).
    public let proxyHeaders = Counter()
    /// Finished connections by how they ended, in `ConnectionEnd.allCases` order.
    private let endings: [Counter]

    public init() {
        endings = ConnectionEnd.allCases.map { _ in Counter() }
    }

    /// Finished connections that ended as `end`.
    public func ended(_ end: ConnectionEnd) -> Counter {
        endings[Int(end.code) - 1]
    }

    /// Counts one finished connection.
    func finished(end: ConnectionEnd, duration: Duration) {
        ended(end).increment()
        self.duration.observe(duration)
    }
}
