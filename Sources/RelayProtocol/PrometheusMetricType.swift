/// The kind of a metric family, as written on its `# TYPE` line.
///
/// Summaries are left out on purpose: relayd exports histograms, which Prometheus can aggregate across
/// instances, and never quantiles computed in the process.
public enum PrometheusMetricType: String, Sendable, CaseIterable {
    /// A value that only goes up (resets to zero on restart); its name ends in `_total`.
    case counter
    /// A value that goes up and down.
    case gauge
    /// Observations counted into cumulative buckets, written as `_bucket`, `_sum` and `_count` samples.
    case histogram
    /// A value whose kind is not declared.
    case untyped
}
