/// The median, 95th and 99th percentiles of a histogram, for the admin API's JSON stats.
///
/// Estimated from the buckets by `HistogramSnapshot.quantile(_:)`, so they are only as fine as the buckets:
/// a p99 of `0.25` means "somewhere in the bucket up to 250 ms, interpolated". Nil (left out of the JSON) when
/// there are no observations.
public struct HistogramPercentiles: Sendable, Equatable, Codable {
    /// How many observations the percentiles are drawn from, so a reader can tell 3 samples from 3 million.
    public var count: UInt64
    /// The median.
    public var p50: Double?
    /// The 95th percentile.
    public var p95: Double?
    /// The 99th percentile.
    public var p99: Double?

    public init(count: UInt64, p50: Double?, p95: Double?, p99: Double?) {
        self.count = count
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
    }

    /// The percentiles of `snapshot`.
    public init(_ snapshot: HistogramSnapshot) {
        self.init(count: snapshot.count, p50: snapshot.quantile(0.5), p95: snapshot.quantile(0.95),
                  p99: snapshot.quantile(0.99))
    }
}
