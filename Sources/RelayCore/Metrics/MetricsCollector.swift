/// Anything that contributes families to a `MetricsRegistry` scrape.
///
/// Collectors compute at scrape time: labeled families read their handles' atomics, closures ask actors
/// for scores or read `/proc`. A scrape awaits every collector, so `collect` should answer quickly.
public protocol MetricsCollector: Sendable {
    /// The families this collector contributes, as of now.
    func collect() async -> [MetricFamilySnapshot]
}
