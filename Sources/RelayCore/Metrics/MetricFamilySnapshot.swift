import RelayProtocol

/// A metric family as it stands at scrape time: what every collector returns and the registry renders.
public struct MetricFamilySnapshot: Sendable {
    /// The family name; sample names are this plus each sample's suffix.
    public var name: String
    /// The family type.
    public var type: PrometheusMetricType
    /// The help text.
    public var help: String
    /// The samples, in the order they are written.
    public var samples: [MetricSample]

    public init(name: String, type: PrometheusMetricType, help: String, samples: [MetricSample] = []) {
        self.name = name
        self.type = type
        self.help = help
        self.samples = samples
    }

    /// A histogram family with one series per entry: for each, a `_bucket` sample per bound (with `le`
    /// added after the series' labels) and the `+Inf` bucket, then `_sum` and `_count`.
    public static func histogram(_ name: String, help: String,
                                 series: [([(String, String)], HistogramSnapshot)]) -> MetricFamilySnapshot
    {
        var samples: [MetricSample] = []
        samples.reserveCapacity(series.reduce(0) { $0 + $1.1.cumulativeCounts.count + 2 })
        for (labels, snapshot) in series {
            for (index, cumulative) in snapshot.cumulativeCounts.enumerated() {
                let bound = index < snapshot.upperBounds.count ? snapshot.upperBounds[index] : .infinity
                samples.append(MetricSample(labels: labels + [("le", PrometheusWriter.format(bound))],
                                            value: Double(cumulative), suffix: "_bucket"))
            }
            samples.append(MetricSample(labels: labels, value: snapshot.sum, suffix: "_sum"))
            samples.append(MetricSample(labels: labels, value: Double(snapshot.count), suffix: "_count"))
        }
        return MetricFamilySnapshot(name: name, type: .histogram, help: help, samples: samples)
    }
}
