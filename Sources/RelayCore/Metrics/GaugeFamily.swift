/// Gauges that share a name and differ by label values, such as open connections per listener.
///
/// Handles are looked up once at setup (`labels(...)`, under a lock) and kept by the caller, which then bumps
/// them without locking.
public final class GaugeFamily: MetricsCollector {
    /// The family name, such as `relayd_connections_active`.
    public let name: String
    /// The help text written on the `# HELP` line.
    public let help: String
    /// The handles by label values.
    private let series: LabeledSeries<Gauge>

    /// A family called `name` with the given label names (none for a single series).
    public init(_ name: String, help: String, labels: [String]) {
        self.name = name
        self.help = help
        series = LabeledSeries(name: name, labelNames: labels) { Gauge() }
    }

    /// The label names, in the order values are given.
    public var labelNames: [String] { series.labelNames }

    /// The gauge for these label values (one per label name), the same object on every call.
    public func labels(_ values: String...) -> Gauge {
        series.handle(values)
    }

    /// The gauge for these label values (one per label name), the same object on every call.
    public func labels(_ values: [String]) -> Gauge {
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

    /// Every series as a gauge family, sorted by label values.
    public func snapshot() -> MetricFamilySnapshot {
        let samples = series.series().map { MetricSample(labels: $0.labels, value: Double($0.handle.value)) }
        return MetricFamilySnapshot(name: name, type: .gauge, help: help, samples: samples)
    }

    /// The family as `snapshot()` gives it, for the registry.
    public func collect() async -> [MetricFamilySnapshot] {
        [snapshot()]
    }
}
