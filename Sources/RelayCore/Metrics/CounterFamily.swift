/// Counters that share a name and differ by label values, such as bytes relayed per listener and direction.
///
/// Handles are looked up once at setup (`labels(...)`, under a lock) and kept by the caller, which then bumps
/// them without locking. The name must end in `_total`, the Prometheus convention for counters.
public final class CounterFamily: MetricsCollector {
    /// The family name, such as `relayd_bytes_total`.
    public let name: String
    /// The help text written on the `# HELP` line.
    public let help: String
    /// The handles by label values.
    private let series: LabeledSeries<Counter>

    /// A family called `name` with the given label names (none for a single series).
    public init(_ name: String, help: String, labels: [String]) {
        precondition(name.hasSuffix("_total"), "counter name \(name) should end in _total")
        self.name = name
        self.help = help
        series = LabeledSeries(name: name, labelNames: labels) { Counter() }
    }

    /// The label names, in the order values are given.
    public var labelNames: [String] { series.labelNames }

    /// The counter for these label values (one per label name), the same object on every call.
    public func labels(_ values: String...) -> Counter {
        series.handle(values)
    }

    /// The counter for these label values (one per label name), the same object on every call.
    public func labels(_ values: [String]) -> Counter {
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

    /// Every series as a counter family, sorted by label values.
    public func snapshot() -> MetricFamilySnapshot {
        let samples = series.series().map { MetricSample(labels: $0.labels, value: Double($0.handle.value)) }
        return MetricFamilySnapshot(name: name, type: .counter, help: help, samples: samples)
    }

    /// The family as `snapshot()` gives it, for the registry.
    public func collect() async -> [MetricFamilySnapshot] {
        [snapshot()]
    }
}
