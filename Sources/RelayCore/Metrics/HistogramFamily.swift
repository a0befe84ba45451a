/// Histograms that share a name and bounds and differ by label values, such as connect time per backend.
///
/// Handles are looked up once at setup (`labels(...)`, under a lock) and kept by the caller, which then
/// observes without locking. `le` is reserved: the output adds it to every bucket.
public final class HistogramFamily: MetricsCollector {
    /// The family name, such as `relayd_backend_connect_seconds`.
    public let name: String
    /// The help text written on the `# HELP` line.
    public let help: String
    /// The upper bounds every histogram of the family uses.
    public let buckets: [Double]
    /// The handles by label values.
    private let series: LabeledSeries<Histogram>

    /// A family called `name` with the given label names (none for a single series) and bucket bounds
    /// (finite, strictly increasing; `+Inf` is implicit).
    public init(_ name: String, help: String, labels: [String], buckets: [Double]) {
        // Checked here, not only on first use, so bad bounds fail at setup.
        _ = Histogram(buckets: buckets)
        self.name = name
        self.help = help
        self.buckets = buckets
        series = LabeledSeries(name: name, labelNames: labels, reserved: ["le"]) { Histogram(buckets: buckets) }
    }

    /// The label names, in the order values are given.
    public var labelNames: [String] { series.labelNames }

    /// The histogram for these label values (one per label name), the same object on every call.
    public func labels(_ values: String...) -> Histogram {
        series.handle(values)
    }

    /// The histogram for these label values (one per label name), the same object on every call.
    public func labels(_ values: [String]) -> Histogram {
        series.handle(values)
    }

    /// Removes the series for these label values from the output (a listener or server that is gone).
    public func remove(_ values: String...) {
        series.remove(values)
    }

    /// Removes the series for these label values from the output (a listener or server that is gone).
    public func remove(_ values: [String]) {
        series.remove(values)
    }

    /// Every series as a histogram family (buckets, sum and count), sorted by label values.
    public func snapshot() -> MetricFamilySnapshot {
        .histogram(name, help: help, series: series.series().map { ($0.labels, $0.handle.snapshot()) })
    }

    /// The family as `snapshot()` gives it, for the registry.
    public func collect() async -> [MetricFamilySnapshot] {
        [snapshot()]
    }
}
